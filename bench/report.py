"""The machine the figures were taken on, and small Markdown helpers shared by every part."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from collections.abc import Iterable, Sequence


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> str:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return "unknown"


def _postgres_version(database_url: str) -> str:
    try:
        out = subprocess.run(  # noqa: S603 - fixed argv, no shell
            ["psql", database_url, "-Atc", "show server_version"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine(database_url: str) -> list[tuple[str, str]]:
    import django

    return [
        ("CPU", f"{_cpu_model()}, {os.cpu_count()} cores"),
        ("Memory", _memory_gib()),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("Django", django.get_version()),
        ("PostgreSQL", _postgres_version(database_url)),
    ]


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table; numbers are right-aligned."""
    rows = [[_cell(v) for v in row] for row in rows]
    align = [
        "---:" if rows and all(_numeric(r[i]) for r in rows) else "---" for i in range(len(header))
    ]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value).replace("|", "\\|")


def _numeric(text: str) -> bool:
    return text.replace(",", "").replace(".", "").replace("×", "").replace("–", "").isdigit()


def percentiles(samples_ms: Sequence[float]) -> tuple[float, float]:
    """Median and 95th percentile (nearest rank) of a list of milliseconds."""
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return statistics.median(ordered), p95


def verdict(ok: bool) -> str:
    return "met" if ok else "missed"
