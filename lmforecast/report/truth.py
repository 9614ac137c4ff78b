"""Scoring a report against a known truth (the synthetic generator's ``truth/report_truth.csv``).

Three checks, as the skill-gap issue sets them: the sign of the gap is right for the cells whose
true |gap ratio| exceeds 10 %; the 80 % intervals contain the truth for 70-90 % of cells; national
openings and new supply are within 5 % of the truth every year.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from lmforecast import panel as P
from lmforecast.report.annual import YEAR

KEYS = [YEAR, P.REGION, P.OCCUPATION]


def read_report_truth(path: str | os.PathLike) -> pd.DataFrame:
    """The truth table (``year, region, occupation, job_openings, new_supply, gap, gap_ratio ...``)."""
    return pd.read_csv(path, dtype={P.REGION: str, P.OCCUPATION: str})


def truth_scores(cells: pd.DataFrame, truth: pd.DataFrame, national: pd.DataFrame | None = None,
                 min_ratio: float = 0.10) -> dict[str, float]:
    """Scores of a report's cell table against the truth.

    Parameters
    ----------
    cells : one row per year x region x occupation with ``gap``, ``gap_q10``, ``gap_q90``,
        ``job_openings``, ``new_supply`` (persons per year; the report's central values and bounds).
    truth : :func:`read_report_truth`.
    national : the report's national roll-up (``year``, ``job_openings``, ``new_supply``: medians
        of the national path sums, what the report shows); None = the sums of the cells' values.
    min_ratio : cells whose true |gap ratio| exceeds this enter the sign check.

    Returns
    -------
    ``{"report_truth/sign_accuracy": share, "/n_sign": cells, "/coverage_80": share,
    "/n": cells, "/gap_wape": %, "/openings_error_<year>": %, "/supply_error_<year>": %,
    "/max_national_error": %}`` (errors signed, central minus truth, in % of the truth).
    """
    merged = cells.merge(truth[KEYS + ["job_openings", "new_supply", "gap", "gap_ratio"]],
                         on=KEYS, suffixes=("", "_truth"))
    if merged.empty:
        raise ValueError("no (year, region, occupation) of the report matches the truth table")
    clear = merged["gap_ratio_truth"].abs() > min_ratio
    sign = np.sign(merged.loc[clear, "gap"]) == np.sign(merged.loc[clear, "gap_truth"])
    inside = (merged["gap_truth"] >= merged["gap_q10"]) & (merged["gap_truth"] <= merged["gap_q90"])
    out = {"report_truth/sign_accuracy": float(sign.mean()), "report_truth/n_sign": float(clear.sum()),
           "report_truth/coverage_80": float(inside.mean()), "report_truth/n": float(len(merged)),
           "report_truth/gap_wape": float(100 * (merged["gap"] - merged["gap_truth"]).abs().sum()
                                          / merged["job_openings_truth"].sum())}
    truth_national = truth.groupby(YEAR)[["job_openings", "new_supply"]].sum().add_suffix("_truth")
    if national is None:
        national = merged.groupby(YEAR)[["job_openings", "new_supply"]].sum()
    else:
        national = national[national[YEAR].astype(str).str.isdigit()].assign(
            **{YEAR: lambda f: f[YEAR].astype(int)}).set_index(YEAR)[["job_openings", "new_supply"]]
    national = national.join(truth_national, how="inner")
    worst = 0.0
    for year, row in national.iterrows():
        for name, label in (("job_openings", "openings"), ("new_supply", "supply")):
            error = 100 * (row[name] - row[f"{name}_truth"]) / row[f"{name}_truth"]
            out[f"report_truth/{label}_error_{int(year)}"] = float(error)
            worst = max(worst, abs(error))
    out["report_truth/max_national_error"] = worst
    return out


def truth_scores_from_file(cells: pd.DataFrame, path: str | os.PathLike | None,
                           national: pd.DataFrame | None = None) -> dict[str, float]:
    """:func:`truth_scores` against the file at ``path``; ``{}`` when there is no such file."""
    if not path or not Path(path).exists():
        return {}
    truth = read_report_truth(path)
    missing = [c for c in ("job_openings", "new_supply", "gap", "gap_ratio") if c not in truth.columns]
    if missing:
        logging.getLogger("lmforecast").warning(
            "truth file %s has no %s: not a skill-gap report truth (truth/report_truth.csv); not scored", path, missing)
        return {}
    return truth_scores(cells, truth, national)
