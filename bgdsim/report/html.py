"""The HTML of a report: one self-contained page (CSS inline, figures as inline SVG, no
script, nothing fetched), every piece of text escaped (a log is untrusted input)."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["definition_list", "esc", "figure", "number", "page", "section", "table"]

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; background: #fff; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { border-bottom: 1px solid #ddd; }
.sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: .5em 0 1.5em; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 2px 8px; text-align: right; }
th { background: #f3f3f3; } td.l, th.l { text-align: left; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; }
dt { font-weight: 600; } dd { margin: 0; font-variant-numeric: tabular-nums; }
pre { background: #f7f7f7; padding: .8em; overflow-x: auto; font-size: 12px; }
figure { margin: 1em 0; } figure svg { width: 100%; max-width: 960px; height: auto; }
figcaption { color: #555; font-size: 13px; }
.scroll { max-height: 32em; overflow-y: auto; }
.bad { color: #b00020; font-weight: 600; }
"""

_XML_HEAD = re.compile(r"<\?xml[^>]*>\s*(<!DOCTYPE[^>]*>\s*)?", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_REF = re.compile(r'(\bid="|url\(#|href="#)')


def esc(value: Any) -> str:
    """Any value as escaped HTML text."""
    return html.escape(str(value), quote=True)


def number(value: Any, digits: int = 4) -> str:
    """A number as the run summary prints it (``0.01234``, ``inf``), escaped."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return esc(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}g}" if math.isfinite(value) else esc(str(value))


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], left: int = 0) -> str:
    """An HTML table; the first ``left`` columns are text (left-aligned)."""
    cls = [' class="l"' if i < left else "" for i in range(len(headers))]
    head = "".join(f"<th{c}>{esc(h)}</th>" for c, h in zip(cls, headers, strict=True))
    body = "".join(
        "<tr>"
        + "".join(f"<td{c}>{number(v)}</td>" for c, v in zip(cls, row, strict=True))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def definition_list(items: Iterable[tuple[str, Any]]) -> str:
    """``term: value`` pairs (values formatted as numbers where they are numbers)."""
    inner = "".join(f"<dt>{esc(k)}</dt><dd>{number(v)}</dd>" for k, v in items)
    return f"<dl>{inner}</dl>"


def figure(svg: str, caption: str, prefix: str) -> str:
    """An inline SVG (its XML header and RDF metadata removed, its ids prefixed so that
    several figures never share one) with an escaped caption."""
    svg = _METADATA.sub("", _XML_HEAD.sub("", svg))
    svg = _REF.sub(lambda m: f"{m.group(1)}{prefix}-", svg)
    return f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>"


def section(title: str, body: str, anchor: str) -> str:
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{body}</section>'


def page(title: str, subtitle: str, sections: Sequence[str]) -> str:
    """The whole document: no script, no external resource."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f'<h1>{esc(title)}</h1><p class="sub">{esc(subtitle)}</p>'
        + "".join(sections)
        + "</body></html>\n"
    )
