"""Building blocks of gankit's self-contained HTML pages (run reports, comparisons, study reports).

A page is one file: figures are embedded as base64 PNG ``data:`` URIs, the style and the few lines of
script are inline, nothing is fetched from the network. Every piece returns an HTML string; ``page``
wraps them. Text is escaped here, so callers pass plain strings.

Example::

    from gankit.report import html
    body = [html.heading("Losses"), html.figure(fig, "D and G losses"), html.table(["k", "v"], [["a", 1]])]
    html.write_page("report.html", "run 00003", body)
"""

from __future__ import annotations

import base64
import html as _html
import io
import json
from pathlib import Path
from typing import Any, Iterable, Sequence

from gankit.errors import GankitError

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1100px;
       color: #1d1d1f; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; } figcaption { color: #555; font-size: 0.9em; }
img { max-width: 100%; image-rendering: pixelated; }
pre { background: #f6f8fa; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.note { color: #555; font-size: 0.9em; }
.finding { border-left: 4px solid #c0392b; padding: 0.3em 0.8em; margin: 0.6em 0; background: #fdf2f1; }
.finding.ok { border-color: #27ae60; background: #f0faf3; }
.slider { margin: 1em 0; } .slider input { width: 60%; vertical-align: middle; }
"""

# One small script drives every slider: an <input type=range> shows the n-th frame of its group.
_SCRIPT = """
document.querySelectorAll('.slider').forEach(function (box) {
  var frames = box.querySelectorAll('.frame'), input = box.querySelector('input'),
      label = box.querySelector('.slider-label'), labels = JSON.parse(box.dataset.labels);
  function show(i) {
    frames.forEach(function (f, j) { f.style.display = (j === i) ? '' : 'none'; });
    label.textContent = labels[i]; box.dataset.shown = String(i);
  }
  input.addEventListener('input', function () { show(parseInt(input.value, 10)); });
  show(parseInt(input.value, 10));
});
"""


def escape(text: Any) -> str:
    return _html.escape(str(text), quote=True)


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def figure_png(fig: Any, dpi: int = 90) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buf.getvalue()


def image(png: bytes | str | Path, alt: str, css_class: str = "") -> str:
    """An embedded ``<img>`` from PNG bytes or a PNG file."""
    if not isinstance(png, bytes):
        png = Path(png).read_bytes()
    cls = f' class="{escape(css_class)}"' if css_class else ""
    return f'<img{cls} alt="{escape(alt)}" src="{png_data_uri(png)}">'


def figure(fig_or_png: Any, caption: str) -> str:
    """A captioned figure from a matplotlib figure, PNG bytes or a PNG path."""
    png = fig_or_png if isinstance(fig_or_png, (bytes, str, Path)) else figure_png(fig_or_png)
    return f"<figure>{image(png, caption)}<figcaption>{escape(caption)}</figcaption></figure>"


def heading(text: str, level: int = 2, anchor: str | None = None) -> str:
    ident = f' id="{escape(anchor)}"' if anchor else ""
    return f"<h{level}{ident}>{escape(text)}</h{level}>"


def paragraph(text: str, css_class: str = "") -> str:
    cls = f' class="{escape(css_class)}"' if css_class else ""
    return f"<p{cls}>{escape(text)}</p>"


def preformatted(text: str) -> str:
    return f"<pre>{escape(text)}</pre>"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f'<td class="num">{value:.4g}</td>'
    if isinstance(value, int) and not isinstance(value, bool):
        return f'<td class="num">{value}</td>'
    return f"<td>{escape('' if value is None else value)}</td>"


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], css_class: str = "") -> str:
    """A table; floats print with 4 significant digits, everything else as text."""
    cls = f' class="{escape(css_class)}"' if css_class else ""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def slider(frames: Sequence[str], labels: Sequence[str], name: str, start: int | None = None) -> str:
    """Frames (HTML snippets, e.g. images) shown one at a time by a range input; ``labels`` name each.

    The box carries ``data-shown`` (the index on screen) and the class ``slider`` with ``id=name``, so a
    browser test can move the input and check what changed.
    """
    if not frames or len(frames) != len(labels):
        raise ValueError("slider: needs one label per frame and at least one frame")
    start = len(frames) - 1 if start is None else start
    items = "".join(f'<div class="frame">{f}</div>' for f in frames)
    return (f'<div class="slider" id="{escape(name)}" data-labels="{escape(json.dumps(list(map(str, labels))))}">'
            f'<label>{escape(name)}: <input type="range" min="0" max="{len(frames) - 1}" value="{start}"> '
            f'<span class="slider-label"></span></label>{items}</div>')


def callout(title: str, lines: Sequence[str], ok: bool = False) -> str:
    """A boxed finding: a bold title and its lines (red border; green with ``ok``)."""
    cls = "finding ok" if ok else "finding"
    text = "".join(f"<br>{escape(line)}" for line in lines)
    return f'<div class="{cls}"><strong>{escape(title)}</strong>{text}</div>'


def details(summary: str, inner: str) -> str:
    """A collapsed block (``<details>``): ``summary`` shows, ``inner`` (HTML) opens on a click."""
    return f"<details><summary>{escape(summary)}</summary>{inner}</details>"


def page(title: str, body: Iterable[str], subtitle: str = "") -> str:
    """A whole self-contained HTML document."""
    sub = f'<p class="note">{escape(subtitle)}</p>' if subtitle else ""
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
            f"<h1>{escape(title)}</h1>{sub}{''.join(body)}<script>{_SCRIPT}</script></body></html>\n")


def check_out(path: str | Path) -> Path:
    """``path`` if a page can be written there: an ``.html`` name, not a folder, no file on the way to it
    (a one-line :class:`GankitError` otherwise). Call it before the work that the page needs."""
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise GankitError(f"{path}: a report is an .html file; give --out a name ending in .html")
    if path.exists() and path.is_dir():
        raise GankitError(f"{path}: is a folder; give --out a file name ending in .html")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise GankitError(f"{path}: cannot write there ({parent} is a file); choose another --out")
            break
    return path


def write_page(path: str | Path, title: str, body: Iterable[str], subtitle: str = "") -> Path:
    """Write :func:`page` atomically to ``path`` (an ``.html`` file whose folder exists or can be made)."""
    path = check_out(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(page(title, body, subtitle), encoding="utf-8")
        tmp.replace(path)
    except (NotADirectoryError, FileExistsError) as e:
        raise GankitError(f"{path}: cannot write there ({e.strerror}); choose another --out") from None
    return path
