"""The run report in a real headless browser (Chromium): its layout as the browser computes it, and
a full-page screenshot.

Needs the Debian package ``chromium`` (``apt-get install -y chromium chromium-driver``); nothing in
ff_neuro needs it otherwise. Every call starts Chromium with a new, empty profile directory and the
network features off, so it touches nothing outside that directory.

  * :func:`layout` – page height, the main column's box and, per section, its rendered text and the
    boxes of its tables (what a reader sees: text hidden by CSS is not in it);
  * :func:`screenshot` – a PNG of the whole page (its height measured first).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--disable-dev-shm-usage",
    "--force-device-scale-factor=1",
]
TIMEOUT_S = 120

# Runs in the page once it is laid out; the result goes base64-encoded into the title, which
# --dump-dom prints (base64: no character of the JSON can be changed by the DOM serialiser).
PROBE = """<script>(function(){
  const box = e => { const r = e.getBoundingClientRect(); return {left: r.left, right: r.right,
    top: r.top + scrollY, bottom: r.bottom + scrollY, width: r.width, height: r.height}; };
  const out = {height: document.documentElement.scrollHeight,
               main: box(document.querySelector('main')), sections: {}};
  for (const s of document.querySelectorAll('section')) {
    out.sections[s.id] = {box: box(s), text: s.innerText,
                          tables: [...s.querySelectorAll('table')].map(box)};
  }
  const json = JSON.stringify(out);
  document.title = 'LAYOUT=' + btoa(unescape(encodeURIComponent(json)));
})();</script>"""


class BrowserError(RuntimeError):
    """Chromium ran but did not produce what was asked."""


def find_browser() -> str | None:
    """The path of an installed Chromium (or Chrome), else None."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(browser: str, args: list[str], profile: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [browser, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=3000", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def layout(html: str | Path, width: int = 1200, browser: str | None = None) -> dict:
    """The report ``html`` as Chromium lays it out at ``width`` px: {"height", "main": box,
    "sections": {id: {"box", "text", "tables": [box, ...]}}}, boxes in page pixels
    (left, right, top, bottom, width, height)."""
    browser = browser or find_browser()
    if browser is None:
        raise BrowserError("no chromium found: apt-get install -y chromium chromium-driver")
    html = Path(html).resolve()  # a file URI needs an absolute path
    probe = html.parent / f".layout_probe_{html.stem}.html"
    probe.write_text(html.read_text().replace("</body>", PROBE + "</body>"))
    try:
        with tempfile.TemporaryDirectory(prefix="ff_neuro_chromium_") as profile:
            res = _run(
                browser, [f"--window-size={width},1000", "--dump-dom", probe.as_uri()], profile
            )
    finally:
        probe.unlink(missing_ok=True)
    m = re.search(r"<title>LAYOUT=([A-Za-z0-9+/=]+)</title>", res.stdout)
    if not m:
        raise BrowserError(f"chromium returned no layout for {html} (exit {res.returncode})")
    return json.loads(base64.b64decode(m.group(1)).decode("utf-8"))


def screenshot(
    html: str | Path, png: str | Path, width: int = 1200, height: int | None = None
) -> Path:
    """Save a PNG of ``html`` at ``width`` px, ``height`` px high (default: the whole page)."""
    browser = find_browser()
    if browser is None:
        raise BrowserError("no chromium found: apt-get install -y chromium chromium-driver")
    html, png = Path(html), Path(png)
    h = height or layout(html, width, browser)["height"]
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="ff_neuro_chromium_") as profile:
        res = _run(
            browser,
            [
                f"--window-size={width},{h}",
                f"--screenshot={png.resolve()}",
                html.resolve().as_uri(),
            ],
            profile,
        )
    if not png.is_file():
        raise BrowserError(f"chromium wrote no screenshot for {html} (exit {res.returncode})")
    return png
