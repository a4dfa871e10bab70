"""`make bench` / `python -m bench`: seed a district per size, measure every part, write the table.

    python -m bench --sizes 1000 1000000            # the full run (docs/benchmarks.md)
    python -m bench --sizes 1000 20000 --parts pages --reuse

For each size it creates (or, with --reuse, keeps) the PostgreSQL database
``<name>_bench_<size>`` next to the one ``DATABASE_URL`` names, migrates it and runs
``seed_scale --students <size>`` (timed), then runs each part in its own process against
that database (``python -m bench.<part> --size N``) and finally writes docs/benchmarks.md
from every part's ``render``. SQLite cannot be measured: COPY and the plans are PostgreSQL's.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from . import report

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_URL = "postgres://pillarwise:pillarwise@127.0.0.1:5432/pillarwise"
PARTS = [
    "seed", "imports", "readiness", "pages", "every_page", "exports", "digests", "api", "load",
    "google_sync", "rostering",
]  # fmt: skip
MEASURED_ONCE = {"load", "google_sync", "every_page"}  # at the largest size only
# Parts that measure every size in one run, taking turns (BENCH_DATABASE_URLS): a slow
# minute of the machine falls on both sizes of a comparison rather than on one.
INTERLEAVED = {"every_page"}


def database_url_for(base_url: str, size: int) -> str:
    parts = urlsplit(base_url)
    name = parts.path.lstrip("/") or "pillarwise"
    return urlunsplit(parts._replace(path=f"/{name}_bench_{size}"))


def _maintenance_url(base_url: str) -> str:
    return urlunsplit(urlsplit(base_url)._replace(path="/postgres"))


def _psql(url: str, sql: str) -> str:
    out = subprocess.run(  # noqa: S603 - fixed argv, no shell
        ["psql", url, "-v", "ON_ERROR_STOP=1", "-Atc", sql],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def _manage(url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def prepare(base_url: str, size: int, schools: int | None, reuse: bool) -> dict:
    """A migrated database seeded with `size` students; the seed's wall time."""
    url = database_url_for(base_url, size)
    name = urlsplit(url).path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        sys.exit(f"unusable database name {name!r}: letters, digits and underscores only")
    exists = _psql(
        _maintenance_url(base_url),
        f"select 1 from pg_database where datname='{name}'",  # noqa: S608 - checked above
    )
    seeded_file = RESULTS / f"seed-{size}.json"
    if reuse and exists and seeded_file.exists():
        print(f"-- reusing {name}", flush=True)
        _manage(url, "migrate", "--noinput", "-v", "0")
        return json.loads(seeded_file.read_text())
    if exists:
        if reuse:  # a seed stopped half way leaves a database but never its record
            print(
                f"-- {name} exists but {seeded_file.relative_to(ROOT)} (written when a seed "
                "finishes) does not: seeding it again",
                flush=True,
            )
        _psql(_maintenance_url(base_url), f'drop database "{name}" with (force)')
    _psql(_maintenance_url(base_url), f'create database "{name}"')
    _manage(url, "migrate", "--noinput", "-v", "0")
    args = ["seed_scale", "--students", str(size)]
    if schools:
        args += ["--schools", str(schools)]
    print(f"-- seeding {size:,} students into {name}", flush=True)
    started = time.perf_counter()
    _manage(url, *args)
    seconds = time.perf_counter() - started
    figures = {"seconds": seconds, "students": size}
    counts = _psql(
        url,
        "select (select count(*) from schools_school), (select count(*) from equity_device),"
        " (select count(*) from equity_deviceevent), (select count(*) from schools_staffmember),"
        " (select pg_database_size(current_database()))",
    )
    for key, value in zip(
        ["schools", "devices", "device_events", "staff", "database_bytes"],
        counts.split("|"),
        strict=True,
    ):
        figures[key] = int(value)
    RESULTS.mkdir(parents=True, exist_ok=True)
    seeded_file.write_text(json.dumps(figures, indent=2) + "\n")
    return figures


def run_part(part: str, base_url: str, size: int, sizes: list[int]) -> dict:
    out = RESULTS / f"{part}-{size}.json"
    env = {**os.environ, "DATABASE_URL": database_url_for(base_url, size)}
    if part in INTERLEAVED:
        env["BENCH_DATABASE_URLS"] = json.dumps({s: database_url_for(base_url, s) for s in sizes})
    print(f"-- {part} at {size:,} students", flush=True)
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", f"bench.{part}", "--size", str(size), "--out", str(out)],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return json.loads(out.read_text())


def write(out: Path, base_url: str, sizes: list[int], results: dict[str, dict[int, dict]]) -> None:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`); do not edit by hand. What each figure",
        "means and the goals it is held to are in docs/scale.md.",
        "",
        f"Taken {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at sizes "
        + ", ".join(f"{s:,}" for s in sizes)
        + " students.",
        "",
        "## Machine",
        "",
        report.table(["", ""], report.machine(base_url)),
        "",
        "## How to reproduce",
        "",
        "```sh",
        "PILLARWISE_CI_SERVICES_ONLY=1 bash .ci/run   # PostgreSQL and Redis, if not running",
        "make bench SIZES='" + " ".join(str(s) for s in sizes) + "'",
        "```",
        "",
    ]
    for part in PARTS:
        if part in results:
            module = importlib.import_module(f"bench.{part}")
            lines += [module.render(results[part]).rstrip(), ""]
    out.write_text("\n".join(lines))
    print(f"-- wrote {out}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 1_000_000])
    parser.add_argument("--schools", type=int, help="schools per district (default: by size)")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=PARTS)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep databases already seeded; parts not rerun keep their last figures",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    base_url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not base_url.startswith(("postgres://", "postgresql://")):
        sys.exit("make bench measures PostgreSQL: set DATABASE_URL to a postgres:// URL.")
    sizes = sorted(set(args.sizes))
    results: dict[str, dict[int, dict]] = {}
    for size in sizes:
        seeded = prepare(base_url, size, args.schools, args.reuse)
        if "seed" in args.parts:
            results.setdefault("seed", {})[size] = seeded
        for part in args.parts:
            if part == "seed" or (part in MEASURED_ONCE and size != sizes[-1]):
                continue
            results.setdefault(part, {})[size] = run_part(part, base_url, size, sizes)
    if args.reuse:  # parts not rerun keep the figures of their last run at these sizes
        for part in PARTS:
            if part in results or part == "seed":
                continue
            kept = {s: RESULTS / f"{part}-{s}.json" for s in sizes}
            if part in MEASURED_ONCE:
                kept = {sizes[-1]: kept[sizes[-1]]}
            if all(f.exists() for f in kept.values()):
                results[part] = {s: json.loads(f.read_text()) for s, f in kept.items()}
    write(args.out, base_url, sizes, results)


if __name__ == "__main__":
    main()
