"""The direction of imports between apps (pyproject.toml's import-linter contracts, run by
`make lint` and CI) holds, and covers every app of the project: a new app outside the
contracts could import anything and be imported by anything."""

import subprocess
import sys
import tomllib
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def _contract(contract_id: str) -> dict:
    return next(c for c in CONFIG["contracts"] if c["id"] == contract_id)


def _project_apps() -> set[str]:
    """The apps whose code is the project's: at the top of the repository, not installed
    packages (CI's virtualenv, ``.venv``, sits inside the repository too)."""
    return {
        c.name
        for c in apps.get_app_configs()
        if Path(c.path).is_relative_to(ROOT) and Path(c.path).relative_to(ROOT).parts[0] == c.name
    }


def _layered() -> set[str]:
    return {app.strip() for layer in _contract("layers")["layers"] for app in layer.split("|")}


def test_the_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(  # noqa: S603 - fixed argv
        [str(lint), "--no-logo", "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_app_of_the_project_has_a_layer():
    project = _project_apps()
    assert "schools" in project and "readiness" in project
    assert project - _layered() == set(), "give each app its place in the layers contract"
    assert _layered() - project == {"config"}
    assert set(CONFIG["root_packages"]) == project | {"config", "bench"}


def test_schools_is_at_the_bottom_and_nothing_imports_the_benchmark():
    assert _contract("layers")["layers"][-1] == "schools"
    bench = _contract("bench")
    assert bench["forbidden_modules"] == ["bench"]
    assert set(bench["source_modules"]) == _project_apps() | {"config"}
