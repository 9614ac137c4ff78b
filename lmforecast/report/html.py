"""The self-contained HTML report: works offline (plotly.js embedded once, no CDN, no network).

plotly.js (4.8 MB) is embedded gzip-compressed and base64-encoded (2.0 MB) and inflated by the
browser's ``DecompressionStream`` (Chrome/Edge 80+, Firefox 113+, Safari 16.4+); the figures' scripts
wait for it. A browser without it shows the tables and a note instead of the charts.

Sections: key figures, heatmap of the gap ratio (region x occupation), top shortages and
surpluses with intervals, fan charts of openings vs supply, skills in shortage, scenarios vs
baseline, backtest accuracy of the models and of the gap, assumptions. Written atomically.
"""

from __future__ import annotations

import functools
import html
import json
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from lmforecast.io import write_text_atomic
from lmforecast.report.labels import WORD_COLUMNS, column, word

STYLE = """body{font-family:Segoe UI,Helvetica,Arial,sans-serif;margin:0 auto;max-width:1200px;padding:0 20px;color:#222}
h1{border-bottom:3px solid #c0392b;padding-bottom:6px}h2{margin-top:36px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 7px;text-align:right}
th{background:#f4f4f4}td.t{text-align:left}.shortage{background:#f5b7b1}.surplus{background:#aed6f1}
.balance{background:#fcf3cf}.note{color:#555;font-size:13px}.kpi{display:inline-block;margin:6px 18px 6px 0}
.kpi b{font-size:22px;display:block}"""


def table_html(frame: pd.DataFrame, language: str = "en", max_rows: int = 40) -> str:
    """A small HTML table with translated headers, rounded numbers and coloured ratings."""
    head = "".join(f"<th>{html.escape(column(c, language))}</th>" for c in frame.columns)
    rows = []
    # itertuples keeps each column's dtype (iterrows would turn the counts of a mixed row into floats)
    for values in frame.head(max_rows).itertuples(index=False):
        cells = []
        for name, value in zip(frame.columns, values):
            if isinstance(value, str) or value is None:
                text = word(value, language) if name in WORD_COLUMNS else (value or "")
                css = f' class="t {value}"' if name == "rating" else ' class="t"'
                cells.append(f"<td{css}>{html.escape(str(text))}</td>")
            elif pd.isna(value):
                cells.append("<td></td>")
            elif "ratio" in name or "share" in name:
                cells.append(f"<td>{value:+.1%}</td>" if "ratio" in name else f"<td>{value:.1%}</td>")
            elif name.startswith("p_shortage") or name in ("mean_predicted", "observed_frequency", "coverage_80",
                                                          "sign_accuracy"):
                cells.append(f"<td>{value:.2f}</td>")
            elif name in ("year", "rank", "cutoff", "horizon_year"):
                cells.append(f"<td>{int(value)}</td>")
            elif name in ("n", "n_sign"):
                cells.append(f"<td>{int(value):,}</td>")
            else:
                cells.append(f"<td>{value:,.0f}</td>" if abs(value) >= 10 else f"<td>{value:.3g}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


FIGURE_SCRIPT = "text/x-plotly-figure"

LOADER = """<script>(async function(){
const text=atob(document.getElementById("plotly-gz").textContent.trim());
const bytes=new Uint8Array(text.length);for(let i=0;i<text.length;i++){bytes[i]=text.charCodeAt(i);}
const code=await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
const lib=document.createElement("script");lib.text=code;document.head.appendChild(lib);
for(const held of document.querySelectorAll('script[type="%s"]')){
const run=document.createElement("script");run.text=held.textContent;held.replaceWith(run);}
})().catch(function(){for(const note of document.querySelectorAll(".plotly-graph-div")){
note.textContent=%s;}});
</script>"""

OLD_BROWSER_NOTE = {
    "en": "(This chart needs a browser from 2023 or later: Chrome, Edge, Firefox or Safari.)",
    "fr": "(Ce graphique demande un navigateur de 2023 ou plus récent : Chrome, Edge, Firefox ou Safari.)",
}


@functools.lru_cache(maxsize=1)
def compressed_plotlyjs() -> str:
    """plotly.js of the installed plotly, gzip-compressed (deterministic, mtime 0) and base64-encoded.

    Computed once per process (about 0.4 s): a run writing several reports compresses it once.
    """
    import base64
    import gzip

    from plotly.offline import get_plotlyjs

    return base64.b64encode(gzip.compress(get_plotlyjs().encode("utf-8"), compresslevel=9, mtime=0)).decode("ascii")


def hold_figure_scripts(fragment: str) -> str:
    """A figure fragment whose inline ``<script>`` waits for plotly.js (see :data:`LOADER`)."""
    return fragment.replace("<script>", f'<script type="{FIGURE_SCRIPT}">').replace(
        '<script type="text/javascript">', f'<script type="{FIGURE_SCRIPT}">')


def write_html(title: str, sections: Sequence[tuple[str, Sequence[str]]], path: str | os.PathLike,
               language: str = "en") -> Path:
    """Write the page atomically; return its path.

    Parameters
    ----------
    title : page title.
    sections : ``(heading, [HTML fragments])``: figures from
        :func:`lmforecast.plotting.figures_html`, tables from :func:`table_html`, text.
    path : ``.html`` destination.
    language : ``lang`` attribute of the page.
    """
    body = []
    for heading, parts in sections:
        body.append(f"<h2>{html.escape(heading)}</h2>")
        body.extend(hold_figure_scripts(part) for part in parts)
    page = (f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
            f"<body><h1>{html.escape(title)}</h1>{''.join(body)}"
            f'<script id="plotly-gz" type="application/octet-stream">{compressed_plotlyjs()}</script>'
            f"{LOADER % (FIGURE_SCRIPT, json.dumps(OLD_BROWSER_NOTE.get(language, OLD_BROWSER_NOTE['en'])))}"
            "</body></html>")
    return write_text_atomic(path, page)
