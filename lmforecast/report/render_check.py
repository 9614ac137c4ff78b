"""Render an HTML report in headless Chromium: a screenshot that is not blank, no console error.

Run by ``tests/test_report_html.py`` and usable by hand::

    python -m lmforecast.report.render_check reports/skill_gap_morocco.html

Chromium comes from Debian's package (``apt-get install -y chromium``; ``.ci/run`` installs it).
The page must work offline: Chromium runs with networking features off and a fresh profile.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars")


def find_chromium() -> str | None:
    """Path of a Chromium executable (``chromium``, ``chromium-browser``, ``google-chrome``), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def render(page: str | os.PathLike, width: int = 1280, height: int = 2400, timeout: int = 120) -> dict:
    """Screenshot ``page`` and collect its console errors.

    Returns
    -------
    ``{"screenshot": Path, "distinct_colours": int, "non_white_share": float, "console_errors": [str]}``:
    colours and share of non-white pixels of the screenshot; console errors are the lines Chromium
    logs at level ERROR for the page (``--enable-logging=stderr --v=0``: ``CONSOLE`` messages).

    Raises
    ------
    FileNotFoundError when no Chromium is installed; RuntimeError when it fails.
    """
    from PIL import Image

    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError("no chromium on PATH: apt-get update && apt-get install -y chromium")
    page = Path(page).resolve()
    with tempfile.TemporaryDirectory() as profile:
        shot = Path(profile) / "screenshot.png"
        cmd = [chromium, *FLAGS, f"--user-data-dir={profile}/user", f"--window-size={width},{height}",
               "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000", f"--screenshot={shot}",
               page.as_uri()]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if not shot.exists():
            raise RuntimeError(f"chromium wrote no screenshot (exit {done.returncode}): {done.stderr[-2000:]}")
        image = Image.open(shot).convert("RGB")
        small = image.resize((width // 4, height // 4))
        pixels = list(small.get_flattened_data()) if hasattr(small, "get_flattened_data") else list(small.getdata())
        colours = len(set(pixels))
        non_white = sum(1 for p in pixels if sum(p) < 750) / len(pixels)
        keep = Path(tempfile.gettempdir()) / f"{page.stem}_screenshot.png"
        shutil.copyfile(shot, keep)
    errors = [line for line in done.stderr.splitlines()
              if "CONSOLE" in line and ("ERROR" in line.upper() or "Uncaught" in line)]
    return {"screenshot": keep, "distinct_colours": colours, "non_white_share": non_white, "console_errors": errors}


if __name__ == "__main__":
    result = render(sys.argv[1])
    print(result)
    sys.exit(1 if result["console_errors"] or result["non_white_share"] < 0.02 else 0)
