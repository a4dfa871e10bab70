"""The scale data itself: how long `seed_scale` took and what it built (timed by bench/__main__)."""

from __future__ import annotations

from .report import table


def render(results: dict[int, dict]) -> str:
    rows = []
    for size, r in sorted(results.items()):
        minutes, seconds = divmod(round(r["seconds"]), 60)
        rows.append(
            [
                size,
                r["schools"],
                r["staff"],
                r["devices"],
                r["device_events"],
                f"{r['database_bytes'] / 2**30:.2f} GiB",
                f"{minutes} min {seconds:02d} s",
            ]
        )
    return "\n".join(
        [
            "## Scale data (`seed_scale`)",
            "",
            table(
                ["students", "schools", "staff", "devices", "events", "database", "seed time"],
                rows,
            ),
        ]
    )
