"""A tiny, dependency-free HTML writer for the run report: one self-contained page, PNGs inlined as
base64 data URIs, every text escaped."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:1.5em 2em 4em;background:#fff}
h1{margin:.2em 0 .1em;font-size:1.7em} h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
.sub{color:#666;margin:0 0 1em} nav{background:#f3f5f8;padding:.6em 1em;border-radius:6px}
nav a{margin-right:1.2em;text-decoration:none;color:#1f5fa8;white-space:nowrap}
figure{margin:1.2em 0;text-align:center} figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.9em;max-width:900px;margin:.4em auto 0;text-align:left}
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}
th,td{border:1px solid #ddd;padding:.3em .7em;text-align:left} th{background:#f3f5f8}
td.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f6f8fa;padding:1em;overflow-x:auto;font-size:.85em;border-radius:6px}
p.note{color:#666;font-size:.9em} h3{margin:1.4em 0 .3em;font-size:1.1em}
table.metrics td:last-child{color:#555;font-size:.9em;min-width:22em}
table.metrics td:first-child{font-weight:600}
ul.refs{color:#555;font-size:.85em;margin-top:.2em}
"""


def esc(x) -> str:
    return html.escape(str(x), quote=True)


def img_tag(png: Path, alt: str) -> str:
    data = base64.b64encode(Path(png).read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{esc(alt)}">'


def figure(png: Path, caption: str) -> str:
    return f"<figure>{img_tag(png, caption)}<figcaption>{esc(caption)}</figcaption></figure>"


def table(rows: Iterable[Sequence], header: Sequence[str], cls: str | None = None) -> str:
    def cell(v, tag="td"):
        num = isinstance(v, (int, float)) and not isinstance(v, bool)
        return f"<{tag}{' class=num' if num and tag == 'td' else ''}>{esc(v)}</{tag}>"

    head = "".join(cell(h, "th") for h in header)
    body = "".join("<tr>" + "".join(cell(v) for v in r) + "</tr>" for r in rows)
    attr = f' class="{esc(cls)}"' if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def paragraph(text: str, cls: str | None = None) -> str:
    return f"<p{f' class={cls}' if cls else ''}>{esc(text)}</p>"


def preformatted(text: str) -> str:
    return f"<pre>{esc(text)}</pre>"


@dataclass
class Section:
    id: str
    title: str
    parts: list[str] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)

    def add_figure(self, png: Path, caption: str) -> None:
        self.figures.append(Path(png))
        self.parts.append(figure(png, caption))

    def render(self) -> str:
        return f'<section id="{esc(self.id)}"><h2>{esc(self.title)}</h2>{"".join(self.parts)}</section>'


def page(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    nav = "".join(f'<a href="#{esc(s.id)}">{esc(s.title)}</a>' for s in sections)
    body = "".join(s.render() for s in sections)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
        f'<body><main><h1>{esc(title)}</h1><p class="sub">{esc(subtitle)}</p><nav>{nav}</nav>{body}'
        f"</main></body></html>\n"
    )
