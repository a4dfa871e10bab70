"""Keyset pages (schools.pagination.KeysetPaginator): every row once, in order, in both
directions, for every sort of the inventory, at the cost of the first page (issue 17).

Walked over devices whose sort values repeat (the same status, school, time), so a cursor
that only carried the first sort value, or rounded a time, would skip or repeat rows.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.auditlog import record
from core.models import AuditEvent, Kind
from equity.inventory.filters import SORTS
from equity.inventory.models import Device
from schools.pagination import KeysetPaginator
from schools.scoping import unscoped
from tests.factories import DeviceFactory, SchoolFactory


def _walk(queryset, per_page):
    """Every page forward, then every page back from the last: the rows of each walk."""
    paginator = KeysetPaginator(queryset, per_page)
    pages = [paginator.page()]
    while pages[-1].has_next():
        pages.append(paginator.page(after=pages[-1].next_cursor))
    forward = [row.pk for page in pages for row in page]
    starts = [page.start_index() for page in pages]
    backward_pages = [pages[-1]]
    while backward_pages[-1].has_previous():
        backward_pages.append(paginator.page(before=backward_pages[-1].previous_cursor))
    backward = [row.pk for page in reversed(backward_pages) for row in page]
    return forward, backward, starts, [p.start_index() for p in reversed(backward_pages)]


@pytest.mark.parametrize("sort", sorted(SORTS))
def test_every_row_once_in_the_lists_order_both_ways(sort, district):
    # Asset tags are unique in a district: two districts, so the tags (and times) repeat.
    schools = [SchoolFactory(district=district, name="Cedar"), SchoolFactory(name="Maple")]
    same_time = timezone.now()
    for i in range(23):
        DeviceFactory(school=schools[i % 2], asset_tag=f"T-{i // 2:02d}", status="in_stock")
    Device.unscoped.update(updated_at=same_time)
    Device.unscoped.filter(pk__in=list(Device.unscoped.values_list("pk", flat=True)[:5])).update(
        updated_at=same_time + timedelta(microseconds=400)
    )
    devices = unscoped(Device).select_related("school").order_by(*SORTS[sort][1])
    expected = list(devices.values_list("pk", flat=True))
    forward, backward, starts, back_starts = _walk(devices, 5)
    assert forward == expected
    assert backward == expected
    assert starts == [1, 6, 11, 16, 21] == back_starts


def test_a_deep_page_reads_no_offset_and_counts_nothing(district):
    DeviceFactory.create_batch(12, school=SchoolFactory(district=district))
    paginator = KeysetPaginator(unscoped(Device).order_by("asset_tag", "pk"), 5)
    second = paginator.page(after=paginator.page().next_cursor)
    with CaptureQueriesContext(connection) as ctx:
        third = paginator.page(after=second.next_cursor)
    assert len(third) == 2 and not third.has_next()
    (query,) = [q["sql"].upper() for q in ctx.captured_queries]
    assert "OFFSET" not in query and "COUNT(" not in query


def test_times_keep_their_microseconds(district, district_admin):
    for _ in range(7):
        record(Kind.EXPORT, district=district, user=district_admin, detail="x")
    at = timezone.now().replace(microsecond=123456)
    AuditEvent.objects.filter(district=district).update(at=at)
    first_three = list(AuditEvent.objects.values_list("pk", flat=True)[:3])
    AuditEvent.objects.filter(pk__in=first_three).update(at=at + timedelta(microseconds=300))
    events = AuditEvent.objects.filter(district=district).order_by("-at", "-pk")
    forward, backward, _s, _b = _walk(events, 2)
    assert forward == backward == list(events.values_list("pk", flat=True))


@pytest.mark.parametrize("cursor", ["", "x", "eyJ2IjogMX0", "eyJ2IjogW10sICJuIjogMH0", "%%%"])
def test_a_cursor_it_cannot_read_is_the_first_page(cursor, district):
    DeviceFactory.create_batch(3, school=SchoolFactory(district=district))
    paginator = KeysetPaginator(unscoped(Device).order_by("asset_tag", "pk"), 2)
    first = [d.pk for d in paginator.page()]
    assert [d.pk for d in paginator.page(after=cursor)] == first
    assert [d.pk for d in paginator.page(before=cursor)] == first


@pytest.mark.django_db
def test_a_count_stops_at_its_cap_and_says_there_were_more(maple):
    from schools.models import StaffMember
    from schools.pagination import count_at_most
    from tests.factories import StaffMemberFactory

    StaffMemberFactory.create_batch(5, school=maple)
    staff = StaffMember.objects.filter(school=maple)
    exact = count_at_most(staff, cap=5)
    assert exact == 5 and not exact.more
    capped = count_at_most(staff, cap=3)
    assert capped == 3 and capped.more
