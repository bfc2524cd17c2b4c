"""Render a run report in headless Chromium and save a full-page PNG screenshot.

    python benchmarks/report_screenshot.py RUN_DIR [--out shot.png] [--width 1200]

Needs the Debian package ``chromium`` (``apt-get install -y chromium chromium-driver``). The page
height is measured first (:func:`ff_neuro.analysis.browser.layout`), so the screenshot holds the
whole report, not only the first screen. ``tests/analysis/test_report_browser.py`` runs the same
functions (and skips when Chromium is absent).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ff_neuro.analysis.browser import BrowserError, screenshot


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
    try:
        png = screenshot(
            html, args.out or args.run_dir / "report" / "screenshot.png", args.width, args.height
        )
    except BrowserError as e:
        sys.exit(str(e))
    print(png)


if __name__ == "__main__":
    main()
