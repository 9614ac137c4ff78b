"""Other grains and short histories: the outside validator's protocol on panels derived from the real ones.

Question
--------
Hidden panels come at other grains (annual, quarterly) and with short histories. Does every model
config still run, and does the recommended forecaster stay within 2 % of naive's MASE, when the
real panels of ``../shared/data`` are turned into such panels?

How
---
``../shared/tools/validate_forecasts.py`` (the outside check; not part of this project and not
copied here) writes a panel in the raw data contract, builds it with ``lmforecast.build_panel``,
composes each ``conf/model/<name>.yaml`` with Hydra (``data=custom``) and scores fit/predict in
its own rolling-origin loop. This script imports it and swaps in four derived panels through its
panel writers (``au`` and ``ilo``), so the scoring is the validator's own:

* ``au_annual``: AU IVI seasonally adjusted, annual means 2006-2024 (19 points); one year ahead at
  2019..2023, five years at 2012..2019;
* ``au_quarterly``: the same, quarterly means 2006-Q1..2024-Q4; four quarters ahead at the first
  quarter of 2020..2023, twenty at 2012..2019;
* ``au_short``: AU IVI monthly from 2016-01 only (three to eight years before the cutoff); 12
  months ahead at January 2018..2024, 60 at January 2019 and 2020;
* ``ilo_short``: ILO unemployment rates from 2011 only (five to ten points); two years ahead at
  2016..2021, five at 2016..2018;
* ``au_gappy``: AU IVI monthly with gaps, as registers and surveys have them (seeded): 5 % of the
  values missing at random, each state missing three consecutive months once in each of 2010-2023,
  and one series in ten starting only in 2014-01; the validator's windows (12 months ahead at
  January 2021..2024, 60 at January 2012..2020). Missing actuals are not scored.

Run ``python benchmarks/bench_grains.py [--models a,b,...] [--sets ...]`` from the repository
root (~15 min on 2 cores with the default models). Writes ``benchmarks/results/bench_grains.{json,md}``.
Needs ``../shared`` beside the checkout.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
VALIDATOR = REPO / ".." / "shared" / "tools" / "validate_forecasts.py"
RESULTS = REPO / "benchmarks" / "results"
#: the default models: every family of conf/model (the per-series statsmodels ones, Prophet and
#: the LightGBM variants that share lightgbm's point forecast are left out for time)
MODELS = ("recommended", "naive", "seasonal_naive", "fixed_share", "shares", "trend", "multi_year_change",
          "historical_mean", "ridge", "ridge_reconciled", "lightgbm", "lightgbm_small")
SETS = ("au_annual", "au_quarterly", "au_short", "ilo_short", "au_gappy")


def load_validator():
    """The outside validator as a module (``SystemExit`` naming the path when ``../shared`` is absent)."""
    if not VALIDATOR.exists():
        raise SystemExit(f"bench_grains needs the outside validator at {VALIDATOR.resolve()}")
    spec = importlib.util.spec_from_file_location("validate_forecasts", VALIDATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def au_frame(validator) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """AU IVI seasonally adjusted, states x ANZSCO sub-major groups, as the validator reads it.

    Returns ``(frame, regions, occupations)``: ``frame`` has ``time, region, occupation, value``
    (job ads per month).
    """
    import glob

    path = glob.glob(f"{validator.DATA}/au-ivi/*.xlsx")[0]
    wide = pd.read_excel(path, sheet_name="Seasonally Adjusted")
    wide = wide[(wide.Level == 3) & (wide.State != "AUST")]
    frame = wide.melt(id_vars=["Level", "ANZSCO_CODE", "Title", "State"], var_name="time", value_name="value")
    frame["time"] = pd.to_datetime(frame.time)
    frame["region"] = "AU-" + frame.State.astype(str)
    frame["occupation"] = frame.ANZSCO_CODE.astype(str)
    frame["value"] = pd.to_numeric(frame.value, errors="coerce").clip(lower=0)
    regions = pd.DataFrame({"code": sorted(frame.region.unique())}).assign(name=lambda r: r.code)
    occupations = sorted(frame.occupation.unique())
    occupations = pd.DataFrame({"code": occupations, "name": occupations, "parent": [c[0] for c in occupations]})
    return frame[["time", "region", "occupation", "value"]], regions, occupations


def _period_means(frame: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Means of the monthly values per period start (``"QS"`` or ``"YS"``), complete years 2006-2024."""
    out = frame.assign(time=frame.time.dt.to_period(freq[0]).dt.start_time)
    out = out.groupby(["time", "region", "occupation"], as_index=False)["value"].mean()
    return out[out.time < "2025-01-01"]


def gappy(frame: pd.DataFrame, seed: int = 20251) -> pd.DataFrame:
    """``frame`` (monthly ``time, region, occupation, value``) with the gaps of set ``au_gappy`` (rows removed).

    5 % of the rows at random, a block of three consecutive months per state in each year 2010-2023
    (its start drawn in January..October), and every row before 2014-01 of one series in ten.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    drop = rng.random(len(frame)) < 0.05
    for region in sorted(frame.region.unique()):
        for year in range(2010, 2024):
            start = pd.Timestamp(year=year, month=int(rng.integers(1, 11)), day=1)
            months = pd.date_range(start, periods=3, freq="MS")
            drop |= ((frame.region == region) & frame.time.isin(months)).to_numpy()
    keys = frame[["region", "occupation"]].drop_duplicates().sort_values(["region", "occupation"])
    late = keys.sample(frac=0.1, random_state=seed)
    late_rows = frame.set_index(["region", "occupation"]).index.isin(pd.MultiIndex.from_frame(late))
    drop |= late_rows & (frame.time < "2014-01-01").to_numpy()
    return frame.loc[~drop]


def writer(validator, name: str):
    """A replacement for the validator's ``au(out, sheet, long)`` / ``ilo(out, long)`` that writes set ``name``.

    Returns ``(writer, validator panel name)``; the writer returns what the validator's own do:
    ``(freq, target, cutoffs, horizon, season length, country)``.
    """
    if name == "ilo_short":
        original = validator.ilo

        def ilo_short(out, long):
            result = original(out, long)
            path = Path(out) / "supply.csv"
            table = pd.read_csv(path, dtype=str, keep_default_na=False)  # codes such as "00" stay text
            table[table.period.astype(int) >= 2011].to_csv(path, index=False)
            cutoffs = pd.to_datetime([f"{y}-01-01" for y in (range(2016, 2019) if long else range(2016, 2022))])
            return result[0], result[1], cutoffs, result[3], result[4], result[5]
        return ilo_short, "ilo"

    def au_derived(out, sheet, long):
        frame, regions, occupations = au_frame(validator)
        if name == "au_short":
            validator._write(out, frame[frame.time >= "2016-01-01"], "vacancies", "demand", "%Y-%m", regions,
                             occupations)
            cutoffs = pd.date_range("2019-01-01" if long else "2018-01-01", "2020-01-01" if long else "2024-01-01",
                                    freq="12MS")
            return "MS", "vacancies", cutoffs, 60 if long else 12, 12, "AU"
        if name == "au_gappy":
            validator._write(out, gappy(frame), "vacancies", "demand", "%Y-%m", regions, occupations)
            cutoffs = pd.date_range("2012-01-01" if long else "2021-01-01", "2020-01-01" if long else "2024-01-01",
                                    freq="12MS")
            return "MS", "vacancies", cutoffs, 60 if long else 12, 12, "AU"
        if name == "au_annual":
            validator._write(out, _period_means(frame, "YS"), "vacancies", "demand", "%Y", regions, occupations)
            years = range(2012, 2020) if long else range(2019, 2024)
            return "YS", "vacancies", pd.to_datetime([f"{y}-01-01" for y in years]), 5 if long else 1, 1, "AU"
        if name == "au_quarterly":
            quarterly = _period_means(frame, "QS")
            period = quarterly.time.dt.year.astype(str) + "-Q" + quarterly.time.dt.quarter.astype(str)
            pd.DataFrame({"period": period, "region": quarterly.region, "occupation": quarterly.occupation,
                          "measure": "vacancies", "value": quarterly.value.round(4), "source": "validation"}).dropna(
                subset=["value"]).to_csv(f"{out}/demand.csv", index=False)
            regions.to_csv(f"{out}/regions.csv", index=False)
            occupations.to_csv(f"{out}/occupations.csv", index=False)
            years = range(2012, 2020) if long else range(2020, 2024)
            return "QS", "vacancies", pd.to_datetime([f"{y}-01-01" for y in years]), 20 if long else 4, 4, "AU"
        raise ValueError(f"unknown set {name!r}; known: {', '.join(SETS)}")
    return au_derived, "au_sa"


def run_set(validator, name: str, long: bool, models) -> pd.DataFrame:
    """The validator's table for one derived set and horizon (its ``run``, with the panel swapped)."""
    replacement, panel_name = writer(validator, name)
    attribute = "ilo" if panel_name == "ilo" else "au"
    original = getattr(validator, attribute)
    setattr(validator, attribute, replacement)
    try:
        with tempfile.TemporaryDirectory() as scratch, contextlib.chdir(scratch):
            os.symlink(REPO / "conf", Path(scratch) / "conf")  # the validator reads conf/ from the cwd
            return validator.run(panel_name, long, list(models))
    finally:
        setattr(validator, attribute, original)


def _markdown(payload: dict) -> str:
    lines = ["# bench_grains: other grains and short histories (the outside validator on derived panels)", "",
             f"{payload['finished']}; models: {', '.join(payload['models'])}. MASE, 80 % coverage and direction "
             "are the validator's; `MASE / naive` against its own naive forecast. An error cell means the model "
             "stopped.", ""]
    for key, rows in payload["tables"].items():
        lines += [f"## {key}", "", "| model | MASE | MASE / naive | 80 % coverage | direction | seconds | error |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
        for r in rows:
            cells = [r["model"]] + [("" if pd.isna(r[c]) else f"{r[c]:.3f}") for c in
                                    ("MASE", "MASE_vs_naive", "cov80", "direction", "seconds")] + [r["error"] or ""]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += [f"Reproduce: `{payload['command']}`.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see module docstring); returns the exit status."""
    from lmforecast.io import write_text_atomic

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated conf/model names")
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    parser.add_argument("--out", type=Path, default=RESULTS / "bench_grains.json")
    args = parser.parse_args(argv)
    models = [m for m in args.models.split(",") if m]
    unknown = [m for m in models if not (REPO / "conf" / "model" / f"{m}.yaml").exists()]
    if unknown:
        parser.error(f"no conf/model/<name>.yaml for {unknown}")
    validator, tables, start = load_validator(), {}, time.time()
    for name in args.sets:
        for long in (False, True):
            key = f"{name} {'long' if long else 'short'}"
            print(f"[bench_grains] {key} ({time.time() - start:.0f} s)", file=sys.stderr, flush=True)
            table = run_set(validator, name, long, models)
            tables[key] = json.loads(table.to_json(orient="records"))
    payload = {"benchmark": "bench_grains", "models": models, "tables": tables,
               "command": "python benchmarks/bench_grains.py" + "".join(f" {a}" for a in (argv or sys.argv[1:])),
               "finished": datetime.now(UTC).isoformat(timespec="seconds"), "wall_s": round(time.time() - start)}
    write_text_atomic(args.out, json.dumps(payload, indent=1) + "\n")
    write_text_atomic(args.out.with_suffix(".md"), _markdown(payload))
    print(_markdown(payload))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
