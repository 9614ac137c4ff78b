"""The planners' Excel workbook (openpyxl): summary, regions, occupations, cells, skills, scenarios,
backtest accuracy and a read-me, in French or English.

Every sheet has a frozen, bold header row, filters, number formats (persons ``# ##0``, ratios
``0.0 %``, probabilities ``0.00``) and the ratings coloured (shortage red, balance yellow, surplus
blue). Written through :func:`lmforecast.io.atomic_path`: a failure leaves no half-written file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from lmforecast.io import atomic_path
from lmforecast.report.labels import SHEETS, WORD_COLUMNS, column, units, word

FILLS = {"shortage": "F5B7B1", "pénurie": "F5B7B1", "balance": "FCF3CF", "équilibre": "FCF3CF",
         "surplus": "AED6F1", "excédent": "AED6F1"}


def _format(name: str) -> str:
    base = name.removesuffix("_q10").removesuffix("_q90")
    if base.startswith("p_shortage") or base in ("mean_predicted", "observed_frequency", "coverage_80",
                                                 "sign_accuracy"):
        return "0.00"
    if any(w in base for w in ("ratio", "share")):
        return "0.0%"
    if base in ("openings_rate", "vacancies_per_jobseeker", "mase", "wape"):
        return "0.000"
    if base == "gap_wape":  # a percentage already
        return "0.0"
    return "#,##0"


def _sheet(workbook, title: str, frame: pd.DataFrame, language: str) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = workbook.create_sheet(title[:31])
    frame = frame.copy()
    for name in WORD_COLUMNS:
        if name in frame.columns:
            frame[name] = frame[name].map(lambda v: word(str(v), language) if isinstance(v, str) else v)
    headers = [column(c, language) for c in frame.columns]
    ws.append(headers)
    for row in frame.itertuples(index=False):
        ws.append([None if isinstance(v, float) and v != v else (v.item() if hasattr(v, "item") else v) for v in row])
    bold = Font(bold=True)
    for j, name in enumerate(frame.columns, start=1):
        cell = ws.cell(row=1, column=j)
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        letter = get_column_letter(j)
        numeric = pd.api.types.is_numeric_dtype(frame[name]) and name not in ("year", "cutoff", "rank", "horizon_year")
        if numeric:
            fmt = _format(name)
            for cells in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cells[0].number_format = fmt
        if name in WORD_COLUMNS:
            for cells in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                colour = FILLS.get(str(cells[0].value))
                if colour:
                    cells[0].fill = PatternFill("solid", start_color=colour, end_color=colour)
        width = max(len(str(headers[j - 1])), *(len(str(v)) for v in frame[name].head(200))) if len(frame) else 12
        ws.column_dimensions[letter].width = min(max(10, width + 2), 48)
    ws.freeze_panes = "A2"
    if len(frame):
        ws.auto_filter.ref = ws.dimensions


def write_workbook(sheets: Mapping[str, pd.DataFrame], readme: list[tuple[str, str]], path: str | os.PathLike,
                   language: str = "en") -> Path:
    """Write the workbook atomically; return its path.

    Parameters
    ----------
    sheets : ``{sheet key: table}`` in order; keys of :data:`lmforecast.report.labels.SHEETS`
        get translated titles (others are used as they are).
    readme : ``(topic, text)`` rows of the read-me sheet (already in ``language``).
    path : ``.xlsx`` destination.
    language : ``en`` or ``fr``.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    index = 1 if language == "fr" else 0
    workbook = Workbook()
    workbook.remove(workbook.active)
    for key, frame in sheets.items():
        title = SHEETS[key][index] if key in SHEETS else key
        _sheet(workbook, title, frame, language)
    ws = workbook.create_sheet(SHEETS["readme"][index])
    ws.append(["", ""])
    ws.cell(row=1, column=1, value="Lisez-moi" if language == "fr" else "Read me").font = Font(bold=True, size=14)
    for topic, text in readme:
        ws.append([topic, text])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
        ws.cell(row=ws.max_row, column=2).alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 120
    ws.freeze_panes = "A2"
    units_ws = workbook.create_sheet("Units" if language == "en" else "Unités")
    units_ws.append(["Column" if language == "en" else "Colonne", "Units" if language == "en" else "Unités"])
    seen = set()
    for frame in sheets.values():
        for name in frame.columns:
            if name not in seen and units(name):
                seen.add(name)
                units_ws.append([column(name, language), units(name, language)])
    units_ws.freeze_panes = "A2"
    destination = Path(path)
    with atomic_path(destination) as tmp:
        workbook.save(tmp)
    return destination
