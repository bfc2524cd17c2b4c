"""Render a run report in headless Chromium and save a full-page PNG screenshot.

    python benchmarks/report_screenshot.py RUN_DIR [--out shot.png] [--width 1200]

Needs the Debian packages ``chromium`` (and ``chromium-driver`` for other browser tests); CI does
not depend on it. The page height is measured first (``--dump-dom`` of a script that writes
document.body.scrollHeight), so the screenshot holds the whole report, not only the first screen.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    "--disable-dev-shm-usage",
    "--force-device-scale-factor=1",
]


def find_browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    sys.exit("no chromium found: apt-get install -y chromium chromium-driver")


def page_height(browser: str, html: Path, width: int, profile: str) -> int:
    """document.body.scrollHeight of ``html`` at ``width`` px, measured by a probe page in an iframe-free way."""
    probe = html.parent / ".height_probe.html"
    probe.write_text(
        html.read_text().replace(
            "</body>",
            "<script>document.title='H='+document.documentElement.scrollHeight</script></body>",
        )
    )
    try:
        out = subprocess.run(
            [
                browser,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={width},1000",
                "--virtual-time-budget=3000",
                "--dump-dom",
                probe.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    finally:
        probe.unlink(missing_ok=True)
    m = re.search(r"<title>H=(\d+)</title>", out)
    return int(m.group(1)) if m else 4000


def screenshot(html: Path, png: Path, width: int = 1200, height: int | None = None) -> Path:
    browser = find_browser()
    with tempfile.TemporaryDirectory() as profile:
        h = height or page_height(browser, html, width, profile)
        png.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                browser,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={width},{h}",
                "--virtual-time-budget=3000",
                f"--screenshot={png.resolve()}",
                html.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    if not png.is_file():
        sys.exit(f"chromium wrote no screenshot for {html}")
    return png


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "run_dir",
        type=Path,
        help="run directory holding report/index.html (ff-neuro report RUN_DIR)",
    )
    ap.add_argument("--out", type=Path, help="PNG path (default RUN_DIR/report/screenshot.png)")
    ap.add_argument("--width", type=int, default=1200)
    ap.add_argument("--height", type=int, help="fixed height in px (default: the whole page)")
    args = ap.parse_args()
    html = args.run_dir / "report" / "index.html"
    if not html.is_file():
        sys.exit(f"{html} not found: run `ff-neuro report {args.run_dir}` first")
    png = screenshot(
        html, args.out or args.run_dir / "report" / "screenshot.png", args.width, args.height
    )
    print(png)


if __name__ == "__main__":
    main()
