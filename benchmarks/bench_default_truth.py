"""Default data against the generator's truth: each candidate of the recommended forecaster alone, and the choice.

Question
--------
On the default synthetic data (``lmforecast run``'s data, seed 20251), which of
:func:`~lmforecast.models.recommended.default_candidates` is right five years out against the
generator's truth, and which does the recommended forecaster choose at its inner origins? The
issue's targets are the national total of each measure within 5 % of the truth every year
2026-2030 and the right sign of the five-year change for 90 % of the region x occupation cells
whose true change exceeds 10 % (``tests/test_default_truth.py`` asserts them for the recommended
forecaster).

For each measure with a truth file (``employment``, ``vacancies``, ``jobseekers``) and each model
(every default candidate fitted alone, then the recommended forecaster), fitted on all the data
and projected 60 months:

* ``national_error_pct``: national total (annual means summed over cells) against the truth, by
  year 2026..2030, in %;
* ``sign_right``: share of the cells whose true 2030 level moved more than 10 % from the last
  observed year whose forecast moved the same way;
* ``cell_mase_by_year``: mean over cells of the absolute error of each forecast period against the
  truth divided by the cell's in-sample mean absolute change between consecutive observations
  (one month, or one quarter for employment): a MASE against the truth;
* for the recommended forecaster, its choice per horizon year (``choice_``).

The truth is read only here, after the fits: nothing of it reaches a model.

Run ``python benchmarks/bench_default_truth.py`` from the repository root (~2 min on 2 cores;
the default data are generated into a temporary folder). Writes
``benchmarks/results/bench_default_truth.{json,md}``; ``--min-history-share S`` scores the
recommended forecaster's choice only at inner origins with at least that share of the history
(written to ``bench_default_truth_mhs<S>.{json,md}``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "bench_default_truth.json"
MEASURES = ("employment", "vacancies", "jobseekers")
YEARS = list(range(2026, 2031))
HORIZON = 60


def _log(message: str) -> None:
    print(f"[bench_default_truth {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def default_data(raw_parent: Path):
    """The default data built into a panel, and the truth (demand and supply) as one long frame."""
    from lmforecast.build import build_panel
    from lmforecast.datasets.morocco import ensure_default_data

    raw = ensure_default_data(raw_parent / "morocco")
    panel = build_panel(raw, progress=False)
    truth = pd.concat([pd.read_csv(raw / "truth" / name, dtype={"region": str, "occupation": str, "period": str})
                       for name in ("demand_truth.csv", "supply_truth.csv")], ignore_index=True)
    truth["time"] = pd.to_datetime(truth["period"], format="mixed")
    return panel, truth


def score(point, panel, truth: pd.DataFrame, measure: str) -> dict:
    """National error by year, sign accuracy of the five-year change and cell MASE by year (module docstring)."""
    from lmforecast import panel as P

    forecast = point.to_series().rename("forecast")
    true = truth[truth["measure"] == measure].set_index(["time", "region", "occupation"])["value"].rename("truth")
    cells = forecast.to_frame().join(true, how="inner").reset_index()
    cells["year"] = cells["time"].dt.year
    annual = cells.groupby(["year", "region", "occupation"])[["forecast", "truth"]].mean()
    national = annual.groupby(level="year").sum()
    errors = (100 * (national["forecast"] / national["truth"] - 1)).reindex(YEARS)
    history = panel[measure]
    last = history.isel(time=slice(-P.season_length(panel.attrs["freq"]), None)).mean("time").to_series().rename("last")
    end = annual.xs(YEARS[-1], level="year").join(last, how="inner")
    end = end[end["last"] > 0]
    true_change, forecast_change = end["truth"] / end["last"] - 1, end["forecast"] / end["last"] - 1
    moved = true_change.abs() > 0.10
    # the scale: mean absolute change between consecutive *observed* values (a quarterly measure in a
    # monthly panel has values every third month)
    steps = history.transpose("region", "occupation", "time").values.reshape(-1, history.sizes["time"])
    scale = np.array([np.mean(np.abs(np.diff(row[np.isfinite(row)]))) if np.isfinite(row).sum() > 1 else np.nan
                      for row in steps])
    scale = pd.Series(scale, index=pd.MultiIndex.from_product(
        [history["region"].values, history["occupation"].values], names=["region", "occupation"]), name="scale")
    cells = cells.join(scale, on=["region", "occupation"])
    cells = cells[cells["scale"] > 0]
    cells["scaled"] = (cells["forecast"] - cells["truth"]).abs() / cells["scale"]
    return {"national_error_pct": [round(float(e), 1) for e in errors],
            "sign_right": float(np.mean(np.sign(true_change[moved]) == np.sign(forecast_change[moved]))),
            "cells_moved": int(moved.sum()),
            "cell_mase_by_year": [round(float(v), 3) for v in cells.groupby("year")["scaled"].mean().reindex(YEARS)]}


def run(panel, truth: pd.DataFrame, measures=MEASURES, min_history_share: float = 0.0) -> dict:
    """Every default candidate alone and the recommended forecaster, scored against the truth.

    ``min_history_share`` is passed to the recommended forecaster (:class:`AutoForecaster`).
    """
    from lmforecast import panel as P
    from lmforecast.models.recommended import default_candidates, default_forecaster

    out = {}
    n_occupations = panel.sizes[P.OCCUPATION]
    for measure in measures:
        models = dict(default_candidates(panel.attrs["freq"], n_occupations=n_occupations))
        models.pop("ridge", None)  # a first-year specialist: never a five-year candidate
        models["recommended"] = default_forecaster(panel.attrs["freq"]).set_params(min_history_share=min_history_share)
        out[measure] = {}
        for name, model in models.items():
            start = time.perf_counter()
            model.fit(panel, measure)
            point = model.predict(HORIZON, (0.5,)).sel(quantile=0.5, drop=True)
            record = score(point, panel, truth, measure)
            record["seconds"] = round(time.perf_counter() - start, 1)
            if name == "recommended":
                record["choice"] = {str(k): v for k, v in model.choice_.items()}
            out[measure][name] = record
            _log(f"{measure} {name}: national {record['national_error_pct']} %, sign {record['sign_right']:.3f}")
    return out


def _markdown(result: dict) -> str:
    lines = ["# bench_default_truth: the default data against the generator's truth, five years out", "",
             f"{result['finished']}. Each default candidate fitted alone on all the data, and the recommended "
             "forecaster (which chooses among them at its inner origins). Targets: national error within 5 % "
             "every year; sign right for 90 % of the cells moving > 10 %.", ""]
    for measure, models in result["measures"].items():
        lines += [f"## {measure}", "", "| model | national error % 2026..2030 | sign right | cell MASE vs truth "
                  "2026..2030 |", "| --- | --- | ---: | --- |"]
        for name, r in models.items():
            lines.append(f"| {name} | {', '.join(f'{e:+.1f}' for e in r['national_error_pct'])} | "
                         f"{r['sign_right']:.3f} | {', '.join(f'{v:.2f}' for v in r['cell_mase_by_year'])} |")
        choice = models["recommended"].get("choice", {})
        lines += ["", f"Recommended choice per horizon year: `{json.dumps(choice)}`.", ""]
    lines += [f"Reproduce: `{result['command']}`.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see module docstring); returns the exit status."""
    from lmforecast.io import write_text_atomic

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measures", nargs="+", choices=MEASURES, default=list(MEASURES))
    parser.add_argument("--min-history-share", type=float, default=0.0,
                        help="AutoForecaster(min_history_share=...) for the recommended row (default 0)")
    parser.add_argument("--out", type=Path, default=None,
                        help="results JSON (default results/bench_default_truth.json, or _mhs<share>.json)")
    args = parser.parse_args(argv)
    out = args.out or (DEFAULT_OUT if args.min_history_share == 0 else
                       DEFAULT_OUT.with_name(f"bench_default_truth_mhs{args.min_history_share:g}.json"))
    with tempfile.TemporaryDirectory(prefix="bench-default-truth-") as tmp:
        panel, truth = default_data(Path(tmp))
        measures = run(panel, truth, args.measures, args.min_history_share)
    result = {"command": "python benchmarks/bench_default_truth.py" + "".join(f" {a}" for a in (argv or sys.argv[1:])),
              "measures": measures, "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    write_text_atomic(out, json.dumps(result, indent=2, sort_keys=True) + "\n")
    write_text_atomic(out.with_suffix(".md"), _markdown(result))
    print(_markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
