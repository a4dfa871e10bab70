import json

import pytest
from django.core.management import call_command

from rostering.models import RosterSource, SourceKind

from .roster_data import base_roster, bundle


@pytest.fixture
def roster():
    return base_roster()


@pytest.fixture
def sync(district, maple, cedar, tmp_path, capsys):
    """Run sync_roster on a bundle (zip bytes) or another source; (exit code, JSON)."""

    def _sync(source="oneroster-csv", data: bytes | None = None, *, apply=False):
        args = ["sync_roster", "--district", district.slug, "--json"]
        if source == "oneroster-csv":
            path = tmp_path / "roster.zip"
            path.write_bytes(data)
            args += ["--source", source, str(path)]
        else:
            args += ["--source", source]
        if apply:
            args.append("--apply")
        code = 0
        try:
            call_command(*args)
        except SystemExit as exc:
            code = exc.code
        out, err = capsys.readouterr()
        return code, json.loads(out), err

    return _sync


@pytest.fixture
def csv_source(district):
    return RosterSource.objects.create(
        district=district,
        kind=SourceKind.ONEROSTER_CSV,
        student_key="identifier",
        touch_codes="504",
    )


__all__ = ["bundle"]
