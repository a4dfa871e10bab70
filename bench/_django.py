"""Set Django up inside a measuring process, and the command-line shape every part shares."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup() -> None:
    """Production settings (DEBUG off) plus what an in-process test client needs."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()


def section_main(measure: Callable[[int], dict]) -> None:
    """`python -m bench.<part> --size N [--out FILE]`: measure and write the figures as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, required=True, help="students in the seeded district")
    parser.add_argument("--out", type=Path, help="write the JSON here (default: stdout)")
    args = parser.parse_args()
    setup()
    result = measure(args.size)
    text = json.dumps(result, indent=2, default=str)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    else:
        print(text)
