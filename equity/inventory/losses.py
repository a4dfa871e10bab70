"""The loss report: devices lost or stolen per year, by circumstance (left on transit,
stolen, damaged, other) and by the place written when the loss was reported, for one
school or a district. Counts come from the device history (``DeviceEvent`` of kind lost or
stolen), one query whatever the number of schools; a device reported twice in a
year counts once per year. Years are calendar years in the district's time zone.

Loss events are a few thousand a year in a large district, and counting them on each view
(the years in the district's zone, the trimmed places, the distinct devices) cost a district
admin's page 100 ms at a million students. Device history is written once and never changed
or deleted, so the report of a set of schools changes only when a loss event is added
there: ``loss_report`` keeps it in the cache under the events' change stamp (how many, the
sum and the largest of their ids: a new event changes the count, whichever order
transactions commit in), read index-only from ``event_losses`` (docs/imports.md)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db.models import Case, Count, Max, Sum, Value, When
from django.db.models.functions import ExtractYear, Lower, Trim
from django.utils import timezone

from .models import Circumstance, DeviceEvent, EventKind

LOSS_KINDS = (EventKind.LOST, EventKind.STOLEN)
# The table lists this many places per year; the CSV lists every one.
PLACES_SHOWN = 10
CSV_HEADER = ["year", "school", "circumstance", "place", "devices"]
NOT_SAID = "Not said"
CACHE_SECONDS = 24 * 3600  # a stamp that changes with every new loss: kept as long as it holds


def _label(circumstance: str) -> str:
    return dict(Circumstance.choices).get(circumstance, NOT_SAID)


def loss_events(schools):
    """Loss and theft events at ``schools`` (a queryset of schools, scoped to the reader).

    An event is the reader's when it happened at one of the reader's schools (the scoped
    manager's ``concerns``); ``schools`` says exactly that, so the events are read through
    the door, narrowed by it. The scoped manager would add its district test through the
    device, a join of every device of the district (a million rows, three times per report:
    3.4 s at a million students) to find a few thousand losses."""
    return DeviceEvent.unscoped.filter(school__in=schools, kind__in=LOSS_KINDS)


@dataclass
class LossReport:
    years: list[int]
    by_circumstance: dict[int, dict[str, int]]  # year -> circumstance -> devices
    places: dict[int, list[tuple[str, str, int]]]  # year -> (place, circumstance, devices)
    totals: dict[int, int]

    @property
    def circumstances(self) -> list[tuple[str, str]]:
        seen = {c for year in self.by_circumstance.values() for c in year}
        ordered = [c for c in Circumstance.values if c in seen]
        return [(c, _label(c)) for c in ordered + ([""] if "" in seen else [])]

    def rows(self) -> list[tuple[int, list[int], int]]:
        keys = [c for c, _ in self.circumstances]
        return [
            (year, [self.by_circumstance[year].get(c, 0) for c in keys], self.totals[year])
            for year in self.years
        ]

    @property
    def place_tables(self) -> list[tuple[int, list[tuple[str, str, int]]]]:
        return [(year, self.places.get(year, [])) for year in self.years]

    def chart(self) -> dict:
        """Bars per year, one series per circumstance (oldest year first)."""
        years = sorted(self.years)
        return {
            "type": "bar",
            "labels": [str(y) for y in years],
            "datasets": [
                {"label": label, "data": [self.by_circumstance[y].get(c, 0) for y in years]}
                for c, label in self.circumstances
            ],
        }


def loss_report(schools) -> LossReport:
    """The report's figures for ``schools``: from the cache while no loss event was added
    at them (one query, the change stamp), else counted (``count_losses``, one more)."""
    try:
        where = str(schools.query)
    except EmptyResultSet:  # no school at all: nothing to count or keep
        return count_losses(schools)
    stamp = loss_events(schools).aggregate(n=Count("pk"), total=Sum("pk"), last=Max("pk"))
    text = repr((where, timezone.get_current_timezone_name(), stamp))
    key = "equity:losses:" + hashlib.sha256(text.encode()).hexdigest()
    report = cache.get(key)
    if report is None:
        report = count_losses(schools)
        cache.set(key, report, CACHE_SECONDS)
    return report


def count_losses(schools) -> LossReport:
    """The report's figures for ``schools``, counted (one query).

    The distinct (year, circumstance, place, device) of the losses are read once and the
    three tables counted from them here: a district's losses are a few thousand rows a
    year, and each grouped query of its own read them all again."""
    said = Case(When(place="", then=Value(None)), default=Lower(Trim("place")))
    losses = set(
        loss_events(schools)
        .annotate(year=ExtractYear("at"), where=said)
        .values_list("year", "circumstance", "where", "device_id")
        .order_by()
        .distinct()
    )
    devices_by_circumstance: dict[tuple[int, str], set[int]] = defaultdict(set)
    devices_by_year: dict[int, set[int]] = defaultdict(set)
    devices_by_place: dict[tuple[int, str, str], set[int]] = defaultdict(set)
    for year, circumstance, where, device in losses:
        devices_by_circumstance[year, circumstance].add(device)
        devices_by_year[year].add(device)
        if where is not None:
            devices_by_place[year, where, circumstance].add(device)
    by_circumstance: dict[int, dict[str, int]] = defaultdict(dict)
    for (year, circumstance), devices in devices_by_circumstance.items():
        by_circumstance[year][circumstance] = len(devices)
    totals = {year: len(devices) for year, devices in devices_by_year.items()}
    places: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    ranked = sorted(
        ((year, -len(devices), where, c) for (year, where, c), devices in devices_by_place.items()),
        key=lambda r: (-r[0], r[1], r[2], r[3]),
    )
    for year, minus_devices, where, circumstance in ranked:
        if len(places[year]) < PLACES_SHOWN:
            places[year].append((where, _label(circumstance), -minus_devices))
    years = sorted(totals, reverse=True)
    return LossReport(years, by_circumstance, dict(places), totals)


def csv_rows(schools):
    """Every (year, school, circumstance, place) with its devices, streamed."""
    rows = (
        loss_events(schools)
        .annotate(year=ExtractYear("at"), where=Lower(Trim("place")))
        .values("year", "school__name", "circumstance", "where")
        .annotate(devices=Count("device", distinct=True))
        .order_by("-year", "school__name", "circumstance", "where")
    )
    for row in rows.iterator(chunk_size=2000):
        yield [
            row["year"],
            row["school__name"],
            _label(row["circumstance"]),
            row["where"],
            row["devices"],
        ]
