"""The register as a CSV file, out and in: the same columns both ways, so a district
moves its spreadsheet in once and can take the register back out at any time.

Import is all or nothing: every row is checked by the same form as the page (so the same
messages), names are matched case-insensitively to existing entries (which are updated),
and nothing is written unless every row passes."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from core.auditlog import record
from core.models import Kind
from schools.scoping import outside_scope
from schools.signals import evidence_changed

from .forms import AppFieldsForm
from .models import App, DataCategory, Decision, DpaStatus, WcagLevel

# (header, model field). Choice columns accept the stored value or its label.
COLUMNS = [
    ("Name", "name"),
    ("Vendor", "vendor"),
    ("Website", "website"),
    ("Purpose", "purpose"),
    ("Grades", "grades"),
    ("Subjects", "subjects"),
    ("Student data", "data_collected"),
    ("District sign-in", "district_sign_in"),
    ("COPPA consent needed", "coppa_consent"),
    ("DPA status", "dpa_status"),
    ("DPA signed on", "dpa_signed_on"),
    ("DPA expires on", "dpa_expires_on"),
    ("DPA link", "dpa_url"),
    ("DPA standard", "dpa_standard"),
    ("Accessibility report", "accessibility_url"),
    ("WCAG level", "wcag_level"),
    ("Decision", "decision"),
    ("Decision reason", "decision_reason"),
    ("Conditions", "conditions"),
]
HEADER = [h for h, _ in COLUMNS]
REQUIRED = {"Name"}
MAX_ROWS = 5000
YES = {"yes", "y", "true", "1", "x"}
NO = {"no", "n", "false", "0", ""}


def export_rows(apps):
    labels = dict(DataCategory.choices)
    for app in apps:
        yield [
            app.name,
            app.vendor,
            app.website,
            app.purpose,
            app.grades,
            app.subjects,
            "; ".join(str(labels.get(c, c)) for c in app.data_collected or []),
            "yes" if app.district_sign_in else "no",
            "yes" if app.coppa_consent else "no",
            app.get_dpa_status_display(),
            app.dpa_signed_on,
            app.dpa_expires_on,
            app.dpa_url,
            app.dpa_standard,
            app.accessibility_url,
            app.wcag_level,
            app.get_decision_display(),
            app.decision_reason,
            app.conditions,
        ]


@dataclass
class RowError:
    line: int
    column: str
    message: str


class _ImportForm(AppFieldsForm):
    """The page's fields, plus the decision columns a spreadsheet already holds."""

    class Meta(AppFieldsForm.Meta):
        fields = [*AppFieldsForm.Meta.fields, "decision", "decision_reason", "conditions"]


def _choice(text: str, choices) -> str:
    """A choice cell: its stored value or its label, any case."""
    wanted = text.strip().lower()
    for value, label in choices:
        if wanted in (str(value).lower(), str(label).lower()):
            return value
    return text.strip()


def _categories(text: str) -> list[str] | str:
    parts = [p.strip() for p in text.replace(",", ";").split(";") if p.strip()]
    values = [_choice(p, DataCategory.choices) for p in parts]
    unknown = [p for p, v in zip(parts, values, strict=True) if v not in DataCategory.values]
    return f"!{', '.join(unknown)}" if unknown else values


def _row_data(row: dict[str, str]) -> tuple[dict, list[tuple[str, str]]]:
    data, errors = {}, []
    for header, field in COLUMNS:
        cell = (row.get(header) or "").strip()
        if field in ("district_sign_in", "coppa_consent"):
            if cell.lower() not in YES | NO:
                errors.append((header, "Write yes or no."))
            if cell.lower() in YES:
                data[field] = "on"
        elif field == "data_collected":
            values = _categories(cell)
            if isinstance(values, str):
                errors.append((header, f"Unknown kinds of data: {values[1:]}."))
            else:
                data[field] = values
        elif field == "dpa_status":
            data[field] = _choice(cell, DpaStatus.choices) if cell else DpaStatus.NONE
        elif field == "wcag_level":
            data[field] = _choice(cell, WcagLevel.choices) if cell else ""
        elif field == "decision":
            data[field] = _choice(cell, Decision.choices) if cell else Decision.IN_REVIEW
        else:
            data[field] = cell
    return data, errors


def _read(raw: bytes) -> tuple[list[dict[str, str]], list[RowError]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [RowError(1, "", "The file is not UTF-8 text: save it as CSV UTF-8.")]
    if "\x00" in text:
        return [], [RowError(1, "", "The file is not a CSV file.")]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = REQUIRED - set(header)
    if missing:
        return [], [RowError(1, "", f"The header row has no {', '.join(sorted(missing))} column.")]
    unknown = [h for h in header if h and h not in HEADER]
    if unknown:
        return [], [
            RowError(1, "", f"Unknown columns: {', '.join(unknown)}. Use: {', '.join(HEADER)}.")
        ]
    reader.fieldnames = header
    rows = []
    try:
        for row in reader:
            if len(rows) >= MAX_ROWS:
                return [], [RowError(1, "", f"The file has more than {MAX_ROWS} rows.")]
            rows.append(row)
    except csv.Error as exc:
        return [], [RowError(reader.line_num, "", f"The file cannot be read as CSV: {exc}.")]
    return rows, []


def import_register(*, district, raw: bytes, user) -> tuple[int, int, list[RowError]]:
    """Check every row, then write them all in one transaction: (created, updated, errors).
    With any error nothing is written."""
    rows, errors = _read(raw)
    if errors:
        return 0, 0, errors
    if not rows:
        return 0, 0, [RowError(2, "", "The file has no rows under its header.")]
    labels = {field: header for header, field in COLUMNS}
    with outside_scope():
        existing = {
            a.lname: a for a in App.objects.filter(district=district).annotate(lname=Lower("name"))
        }
    forms, seen = [], {}
    for line, row in enumerate(rows, start=2):
        data, cell_errors = _row_data(row)
        errors += [RowError(line, header, message) for header, message in cell_errors]
        key = data.get("name", "").strip().lower()
        if key in seen:
            errors.append(RowError(line, "Name", f"The same app is on line {seen[key]}."))
            continue
        seen[key] = line
        instance = existing.get(key)
        with outside_scope():
            form = _ImportForm(data, instance=instance, district=district)
            valid = form.is_valid()
        if not valid:
            for field, messages in form.errors.items():
                column = labels.get(field, "")
                errors += [RowError(line, column, m) for m in messages]
        forms.append((form, instance is None))
    if errors:
        return 0, 0, errors
    now = timezone.now()
    created = updated = 0
    with transaction.atomic():
        for form, new in forms:
            app = form.save(commit=False)
            if "decision" in form.changed_data or new and app.decision != Decision.IN_REVIEW:
                app.decided_by, app.decided_at = user, now
            app.save()
            created, updated = created + new, updated + (not new)
        record(
            Kind.APP_REGISTER,
            user=user,
            district=district,
            detail=f"imported: {created} added, {updated} updated",
        )
        evidence_changed.send(sender=App, district_ids=[district.pk])
    return created, updated, []
