"""The device year's rules: handout and collection scans, acceptance, charges and repeat
cases. Each refusal leaves nothing written."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from equity.inventory import services
from equity.inventory.models import (
    Assignment,
    DeviceEvent,
    DeviceStatus,
    EventKind,
    ReturnCondition,
)
from equity.year import selectors as year_selectors
from equity.year import services as year_services
from equity.year.models import Acceptance, AcceptanceMethod, Charge, ChargeStatus, StationEvent
from tests.factories import (
    DeviceAgreementFactory,
    DeviceFactory,
    DeviceModelFactory,
    PriceListEntryFactory,
    StationEventFactory,
    StudentFactory,
    open_assignment,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def handout(cedar):
    return StationEventFactory(school=cedar, kind="handout", name="Grade 6 handout", grades=[6])


@pytest.fixture
def collection(cedar):
    return StationEventFactory(school=cedar, kind="collection", name="June collection")


def nothing_written():
    return not Assignment.objects.exists() and not DeviceEvent.objects.exists()


# --- handout ---------------------------------------------------------------------------


def test_a_scanned_pair_is_assigned_and_counted(handout, cedar, tech):
    student = StudentFactory(school=cedar, grade=6, local_id="600001")
    StudentFactory(school=cedar, grade=6)
    StudentFactory(school=cedar, grade=7)  # not this day's grade
    device = DeviceFactory(school=cedar, asset_tag="CB-6001")
    assert year_selectors.handout_progress(handout)["handed"] == 0

    done = year_services.handout_scan(
        event=handout, student_id=" 600001 ", asset_tag="cb-6001", by=tech
    )

    assert done.assignment.handout_event == handout
    assert done.assignment.student == student and done.assignment.device == device
    device.refresh_from_db()
    assert device.status == DeviceStatus.ASSIGNED
    assert DeviceEvent.objects.get(device=device).kind == EventKind.CHECK_OUT
    progress = year_selectors.handout_progress(handout)
    assert (progress["handed"], progress["expected"], progress["left"]) == (1, 2, 1)
    waiting = year_selectors.students_without_device(handout, limit=10)
    assert [s.grade for s in waiting] == [6] and student not in waiting


@pytest.mark.parametrize(
    "case, field, message",
    [
        ("other_school_student", "student_id", "No student with ID"),
        ("unknown_student", "student_id", "No student with ID"),
        ("left_student", "student_id", "no longer enrolled"),
        ("other_school_device", "asset_tag", "No device with asset tag"),
        ("in_repair", "asset_tag", "in repair"),
        ("expired", "asset_tag", "auto-update expiration"),
        ("assigned", "asset_tag", "already checked out"),
        ("needs_touch", "asset_tag", "needs a touchscreen"),
        ("hotspot", "asset_tag", "hotspot"),
        ("student_has_one", "student_id", "already has a device"),
    ],
)
def test_a_wrong_scan_is_refused_with_its_reason_and_nothing_changes(
    case, field, message, handout, cedar, maple, tech
):
    student = StudentFactory(school=cedar, grade=6, local_id="S1")
    device = DeviceFactory(school=cedar, asset_tag="T1")
    before = None
    if case == "other_school_student":
        student.local_id = "S0"
        student.save()
        StudentFactory(school=maple, local_id="S1")
    elif case == "unknown_student":
        student.delete()
    elif case == "left_student":
        student.active = False
        student.save()
    elif case == "other_school_device":
        device.asset_tag = "T0"
        device.save()
        DeviceFactory(school=maple, asset_tag="T1")
    elif case == "in_repair":
        device.status = DeviceStatus.IN_REPAIR
        device.save()
    elif case == "expired":
        device.model.auto_update_expiration = date(2020, 1, 1)
        device.model.save()
    elif case == "assigned":
        open_assignment(cedar, device=device, grade=6)
    elif case == "needs_touch":
        student.needs_touch = True
        student.save()
    elif case == "hotspot":
        device.model.kind = "hotspot"
        device.model.save()
    elif case == "student_has_one":
        open_assignment(cedar, student=student)
    before = (Assignment.objects.count(), DeviceEvent.objects.count())

    with pytest.raises(ValidationError) as exc:
        year_services.handout_scan(event=handout, student_id="S1", asset_tag="T1", by=tech)

    assert field in exc.value.error_dict
    assert message in " ".join(exc.value.messages)
    assert (Assignment.objects.count(), DeviceEvent.objects.count()) == before
    assert not Assignment.objects.filter(handout_event=handout).exists()


def test_a_touchscreen_device_goes_to_a_student_who_needs_touch(handout, cedar, tech):
    StudentFactory(school=cedar, grade=6, local_id="T-NEEDS", needs_touch=True)
    touch = DeviceModelFactory(district=cedar.district, touchscreen=True)
    DeviceFactory(school=cedar, asset_tag="TOUCH-1", model=touch)
    done = year_services.handout_scan(
        event=handout, student_id="T-NEEDS", asset_tag="TOUCH-1", by=tech
    )
    assert done.assignment.is_open


def test_a_collection_day_refuses_handout_scans(collection, cedar, tech):
    StudentFactory(school=cedar, local_id="S1")
    DeviceFactory(school=cedar, asset_tag="T1")
    with pytest.raises(ValidationError):
        year_services.handout_scan(event=collection, student_id="S1", asset_tag="T1", by=tech)
    assert nothing_written()


def test_a_repeat_case_is_flagged_but_still_gets_a_device(handout, cedar, tech):
    student = StudentFactory(school=cedar, grade=6, local_id="R1")
    for _ in range(2):
        lost = open_assignment(cedar, student=student).device
        services.device_report_missing(device=lost, by=tech, circumstance="other")
    DeviceFactory(school=cedar, asset_tag="NEW-1")
    done = year_services.handout_scan(event=handout, student_id="R1", asset_tag="NEW-1", by=tech)
    assert done.incidents == 2
    assert done.assignment.is_open


def _race(targets):
    barrier = threading.Barrier(len(targets))
    outcomes = []

    def run(call):
        from django.db import connections

        from schools.scoping import scopes_disabled

        try:
            with scopes_disabled():
                barrier.wait()
                call()
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return sorted(outcomes)


@pytest.mark.django_db(transaction=True)
def test_two_stations_cannot_hand_one_device_to_two_students(cedar, tech):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent writers need PostgreSQL (CI runs it)")
    event = StationEventFactory(school=cedar, kind="handout")
    DeviceFactory(school=cedar, asset_tag="RACE-1")
    StudentFactory(school=cedar, local_id="A1")
    StudentFactory(school=cedar, local_id="B1")
    outcomes = _race(
        [
            lambda sid=sid: year_services.handout_scan(
                event=event, student_id=sid, asset_tag="RACE-1", by=tech
            )
            for sid in ("A1", "B1")
        ]
    )
    assert outcomes == ["ok", "refused"]
    assert Assignment.objects.filter(device__asset_tag="RACE-1").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_stations_cannot_give_one_student_two_devices(cedar, tech):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent writers need PostgreSQL (CI runs it)")
    event = StationEventFactory(school=cedar, kind="handout")
    DeviceFactory(school=cedar, asset_tag="RACE-A")
    DeviceFactory(school=cedar, asset_tag="RACE-B")
    student = StudentFactory(school=cedar, local_id="ONE")
    outcomes = _race(
        [
            lambda tag=tag: year_services.handout_scan(
                event=event, student_id="ONE", asset_tag=tag, by=tech
            )
            for tag in ("RACE-A", "RACE-B")
        ]
    )
    assert outcomes == ["ok", "refused"]
    assert Assignment.objects.filter(student=student).count() == 1
    # The refused device was rolled back with its scan: still in stock, no history.
    statuses = sorted(
        DeviceStatus(s).value for s in DeviceEvent.objects.values_list("device__status", flat=True)
    )
    assert statuses == [DeviceStatus.ASSIGNED]


# --- collection ------------------------------------------------------------------------


def test_collection_records_condition_and_closes_the_assignment(collection, cedar, tech):
    assignment = open_assignment(cedar, grade=7)
    tag = assignment.device.asset_tag
    assert year_selectors.collection_progress(collection) == {
        "back": 0,
        "out": 1,
        "expected": 1,
        "percent": 0,
    }

    done = year_services.collection_scan(
        event=collection, asset_tag=tag, condition=ReturnCondition.GOOD, by=tech
    )

    assignment.refresh_from_db()
    assert not assignment.is_open
    assert assignment.condition_on_return == ReturnCondition.GOOD
    assert assignment.collection_event == collection
    assert done.device.status == DeviceStatus.IN_STOCK
    assert year_selectors.collection_progress(collection)["back"] == 1
    assert year_selectors.not_returned(collection) == []


def test_a_damaged_device_needs_a_note_and_goes_to_repair_with_a_charge(collection, cedar, tech):
    assignment = open_assignment(cedar)
    tag = assignment.device.asset_tag
    PriceListEntryFactory(district=cedar.district, kind="screen", amount=Decimal("80.00"))
    PriceListEntryFactory(district=cedar.district, kind="charger", amount=Decimal("25.00"))

    with pytest.raises(ValidationError) as exc:
        year_services.collection_scan(event=collection, asset_tag=tag, condition="damaged", by=tech)
    assert "note" in exc.value.error_dict
    assert assignment.device.assignments.filter(checked_in_at__isnull=True).exists()

    done = year_services.collection_scan(
        event=collection,
        asset_tag=tag,
        condition="damaged",
        damage_kind="screen",
        charger_missing=True,
        note="Cracked corner",
        by=tech,
    )
    assignment.refresh_from_db()
    assert assignment.charger_missing and assignment.return_note == "Cracked corner"
    assert done.device.status == DeviceStatus.IN_REPAIR
    assert sorted((c.kind, c.amount, c.status) for c in Charge.objects.all()) == [
        ("charger", Decimal("25.00"), ChargeStatus.DUE),
        ("screen", Decimal("80.00"), ChargeStatus.DUE),
    ]


def test_a_device_not_out_is_refused_at_collection(collection, cedar, tech):
    DeviceFactory(school=cedar, asset_tag="HOME-1")
    with pytest.raises(ValidationError, match="not checked out"):
        year_services.collection_scan(event=collection, asset_tag="HOME-1", by=tech)
    assert not DeviceEvent.objects.exists()


def test_not_returned_groups_by_grade_and_homeroom(cedar, tech):
    event = StationEventFactory(school=cedar, kind="collection", grades=[6, 7])
    open_assignment(cedar, grade=6, homeroom="6A")
    open_assignment(cedar, grade=6, homeroom="6A")
    open_assignment(cedar, grade=7, homeroom="7B")
    open_assignment(cedar, grade=8, homeroom="8C")  # not this day's grades
    groups = [
        (g["student__grade"], g["student__homeroom"], g["n"])
        for g in year_selectors.not_returned_groups(event)
    ]
    assert groups == [(6, "6A", 2), (7, "7B", 1)]
    rows = list(year_selectors.not_returned_rows(event))
    assert [r[:2] for r in rows] == [(6, "6A"), (6, "6A"), (7, "7B")]


def test_a_day_refuses_grades_its_school_does_not_teach(cedar):
    with pytest.raises(ValidationError) as exc:
        StationEvent.objects.create(
            school=cedar, kind="handout", name="x", day=date.today(), grades=[2]
        )
    assert "grades" in exc.value.error_dict


# --- acceptance ------------------------------------------------------------------------


def test_signed_at_the_station_keeps_the_png_and_the_version(cedar):
    DeviceAgreementFactory(district=cedar.district, version=1)
    current = DeviceAgreementFactory(district=cedar.district, version=2)
    assignment = open_assignment(cedar)
    acceptance = year_services.accept_signed(assignment=assignment, signature=PNG, signer="student")
    acceptance.refresh_from_db()
    assert acceptance.accepted and acceptance.method == AcceptanceMethod.SIGNED
    assert acceptance.agreement == current
    assert bytes(acceptance.signature) == PNG
    with pytest.raises(ValidationError):
        year_services.accept_signed(assignment=assignment, signature=PNG, signer="student")


def test_a_signature_must_be_a_png(cedar):
    DeviceAgreementFactory(district=cedar.district)
    assignment = open_assignment(cedar)
    with pytest.raises(ValidationError):
        year_services.decode_signature("data:text/html;base64,PGI+")
    with pytest.raises(ValidationError):
        year_services.accept_signed(assignment=assignment, signature=b"GIF89a...", signer="family")
    assert not Acceptance.objects.filter(accepted_at__isnull=False).exists()
    # The model itself refuses an accepted signature that is not a PNG.
    acceptance = year_services.acceptance_for(assignment)
    acceptance.method, acceptance.signature = "signed", b"not a png"
    acceptance.accepted_at = timezone.now()
    with pytest.raises(ValidationError):
        acceptance.save()


def test_accepted_later_by_link_without_an_account(cedar):
    DeviceAgreementFactory(district=cedar.district)
    assignment = open_assignment(cedar)
    acceptance = year_services.acceptance_for(assignment)
    assert not acceptance.accepted
    assert year_services.acceptance_for(assignment) == acceptance  # one per assignment
    done = year_services.accept_by_link(token=acceptance.token, signer="family")
    assert done.accepted and done.method == AcceptanceMethod.LINK and done.signer == "family"
    assert year_selectors.acceptance_by_token("unknown") is None
    with pytest.raises(ValidationError):
        year_services.accept_by_link(token="unknown", signer="family")


def test_without_an_agreement_there_is_nothing_to_accept(cedar):
    assignment = open_assignment(cedar)
    with pytest.raises(ValidationError, match="no device agreement"):
        year_services.acceptance_for(assignment)


# --- charges ---------------------------------------------------------------------------


def test_the_price_comes_from_the_models_line_else_the_default(cedar, tech):
    special = DeviceModelFactory(district=cedar.district)
    PriceListEntryFactory(district=cedar.district, kind="screen", amount=Decimal("50.00"))
    PriceListEntryFactory(
        district=cedar.district, kind="screen", device_model=special, amount=Decimal("120.00")
    )
    plain = open_assignment(cedar)
    fancy = open_assignment(cedar, device=DeviceFactory(school=cedar, model=special))
    assert year_selectors.price_for(plain.device, "screen") == Decimal("50.00")
    assert year_selectors.price_for(fancy.device, "screen") == Decimal("120.00")
    assert year_selectors.price_for(plain.device, "loss") is None
    with pytest.raises(ValidationError, match="no price"):
        year_services.charge_assess(
            device=plain.device, student=plain.student, kind="loss", by=tech
        )
    assert not Charge.objects.exists()


def test_a_qualifying_student_is_waived_at_once_and_others_pay(cedar, tech):
    PriceListEntryFactory(district=cedar.district, kind="loss", amount=Decimal("250.00"))
    waived = open_assignment(cedar, fee_waiver=True)
    due = open_assignment(cedar)
    a = year_services.charge_assess(
        device=waived.device, student=waived.student, kind="loss", by=tech
    )
    b = year_services.charge_assess(device=due.device, student=due.student, kind="loss", by=tech)
    assert a.status == ChargeStatus.WAIVED and a.resolved_at and "waiver" in a.resolution_note
    assert b.status == ChargeStatus.DUE
    year_services.charge_resolve(charge=b, status="paid", by=tech, note="Cash at the office")
    b.refresh_from_db()
    assert b.status == ChargeStatus.PAID and b.resolved_by == tech
    with pytest.raises(ValidationError, match="already paid"):
        year_services.charge_resolve(charge=b, status="waived", by=tech, note="no")


def test_a_waiver_needs_a_reason(cedar, tech):
    PriceListEntryFactory(district=cedar.district, kind="loss")
    a = open_assignment(cedar)
    charge = year_services.charge_assess(device=a.device, student=a.student, kind="loss", by=tech)
    with pytest.raises(ValidationError):
        year_services.charge_resolve(charge=charge, status="waived", by=tech, note="  ")
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.DUE


def test_repeat_cases_count_losses_and_damage_in_the_last_12_months(cedar, tech):
    repeat = StudentFactory(school=cedar, local_id="REP")
    once = StudentFactory(school=cedar, local_id="ONCE")
    old = StudentFactory(school=cedar, local_id="OLD")
    lost = open_assignment(cedar, student=repeat).device
    services.device_report_missing(device=lost, by=tech, circumstance="other")
    damaged = open_assignment(cedar, student=repeat).device
    services.device_check_in(device=damaged, by=tech, condition="damaged", note="x")
    services.device_check_in(device=open_assignment(cedar, student=once).device, by=tech,
                             condition="damaged")  # fmt: skip
    long_ago = timezone.now() - timedelta(days=400)
    for _ in range(2):
        device = open_assignment(cedar, student=old).device
        services.device_report_missing(device=device, by=tech, circumstance="other", at=long_ago)
    assert year_selectors.repeat_cases(cedar) == [(repeat, 2)]
