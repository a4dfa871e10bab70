"""Readiness at scale (``seed_scale``): the district job, run once after every other app's
builder has written its rows, as a new district would get it (``--no-readiness`` skips it).

The command calls it by name (``FINISHERS``), as it calls each app's builder: readiness
reads the other apps, and the schools app, where the command lives, imports none of them.
"""

from __future__ import annotations

import time

from schools.scale import ScaleContext

from . import services
from .models import RunKind


def build(ctx: ScaleContext) -> None:
    started = time.perf_counter()
    run = services.run_now(district_id=ctx.district.pk, kind=RunKind.COMMAND)
    status = getattr(run, "status", "done")
    ctx.out(f"readiness: {status} in {time.perf_counter() - started:.1f} s")
