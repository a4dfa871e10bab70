"""Pillarwise's benchmark suite: `make bench` (see bench/__main__.py and docs/benchmarks.md).

Each measured part is a module of this package with two functions:

- ``measure(size: int) -> dict``: runs in its own process with Django set up against the
  database seeded for ``size`` students (``DATABASE_URL`` points at it) and returns
  JSON-serialisable figures. Run by hand with ``python -m bench.<part> --size N``.
- ``render(results: dict[int, dict]) -> str``: pure Python, no Django; turns the figures of
  every size into the Markdown that goes into docs/benchmarks.md.

Timings live here, never in the test suite; the tests keep the shape (query counts,
streaming) instead.
"""
