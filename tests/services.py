"""Real parts the suite needs: present on CI (which installs them), optional on a laptop.

On CI (the CI variable is set) a missing part fails the run instead of skipping, so a green
CI can never mean "the browser tests quietly did not run".
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))


def need(condition: bool, what: str) -> None:
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required on CI but missing")
    pytest.skip(f"{what} is not available on this machine")


def need_chromium() -> None:
    need(CHROMIUM.exists() or bool(shutil.which(str(CHROMIUM))), f"Chromium at {CHROMIUM}")
