"""The loss report: devices lost or stolen per year, by circumstance (left on transit,
stolen, damaged, other) and by the place written when the loss was reported, for one
school or a district. Counts come from the device history (``DeviceEvent`` of kind lost or
stolen), one grouped query whatever the number of schools; a device reported twice in a
year counts once per year. Years are calendar years in the district's time zone."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count
from django.db.models.functions import ExtractYear, Lower, Trim

from .models import Circumstance, DeviceEvent, EventKind

LOSS_KINDS = (EventKind.LOST, EventKind.STOLEN)
# The table lists this many places per year; the CSV lists every one.
PLACES_SHOWN = 10
CSV_HEADER = ["year", "school", "circumstance", "place", "devices"]
NOT_SAID = "Not said"


def _label(circumstance: str) -> str:
    return dict(Circumstance.choices).get(circumstance, NOT_SAID)


def loss_events(schools):
    """Loss and theft events at ``schools`` (a queryset of schools)."""
    return DeviceEvent.objects.filter(school__in=schools, kind__in=LOSS_KINDS)


def _grouped(events, *fields):
    return (
        events.annotate(year=ExtractYear("at"))
        .values("year", *fields)
        .annotate(devices=Count("device", distinct=True))
        .order_by("-year", *fields)
    )


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
    """The report's figures for ``schools`` (two queries)."""
    events = loss_events(schools)
    by_circumstance: dict[int, dict[str, int]] = defaultdict(dict)
    totals: dict[int, int] = defaultdict(int)
    for row in _grouped(events, "circumstance"):
        by_circumstance[row["year"]][row["circumstance"]] = row["devices"]
    for row in (
        events.annotate(year=ExtractYear("at"))
        .values("year")
        .annotate(devices=Count("device", distinct=True))
    ):
        totals[row["year"]] = row["devices"]
    places: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    place_rows = (
        events.exclude(place="")
        .annotate(year=ExtractYear("at"), where=Lower(Trim("place")))
        .values("year", "where", "circumstance")
        .annotate(devices=Count("device", distinct=True))
        .order_by("-year", "-devices", "where")
    )
    for row in place_rows:
        if len(places[row["year"]]) < PLACES_SHOWN:
            places[row["year"]].append((row["where"], _label(row["circumstance"]), row["devices"]))
    years = sorted(totals, reverse=True)
    return LossReport(years, by_circumstance, dict(places), dict(totals))


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
