"""Gap backtest: the same report made at past cutoffs, compared with what the data then showed.

At each cutoff (a year end) the model is refitted on the data up to it, its joint paths are
drawn and the report's openings, supply and gap are computed for the following years, exactly as
for the projection (:func:`lmforecast.report.core.compute_paths`). The same rules applied to the
*observed* employment, graduates and jobseekers of those years give the gap "the data then
showed". Trainees are left out on both sides (they are programme inputs, not forecasts).

Scores: sign accuracy on the cells whose observed |gap ratio| exceeds 10 %, the error of the gap
(MAE, and WAPE in % of observed openings), the coverage of the 80 % interval, and the
reliability of P(shortage) (predicted probability bins vs the observed frequency of a shortage).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import xarray as xr

from lmforecast import panel as P
from lmforecast.errors import ConfigError
from lmforecast.report.annual import YEAR
from lmforecast.report.core import Measures, _complete_years, compute_paths
from lmforecast.report.gap import PATH, summarise
from lmforecast.report.supply import SupplyAssumptions

log = logging.getLogger("lmforecast")
BINS = np.linspace(0, 1, 11)


@dataclass
class TrackRecord:
    """Results of :func:`gap_backtest`.

    Attributes
    ----------
    cells : one row per cutoff x year x region x occupation: predicted ``gap`` (median),
        ``gap_q10``, ``gap_q90``, ``p_shortage``, ``job_openings`` and observed ``gap_observed``,
        ``gap_ratio_observed``, ``job_openings_observed``; ``horizon_year`` (1 = the year after the cutoff).
    scores : one row per cutoff and one ``all``: ``sign_accuracy``, ``n_sign``, ``gap_mae``
        (persons per year), ``gap_wape`` (% of observed openings), ``coverage_80``, ``n``.
    by_horizon : the same scores per horizon year (all cutoffs).
    reliability : P(shortage) bins: ``bin``, ``n``, ``mean_predicted``, ``observed_frequency``.
    cutoffs : the cutoff years.
    """

    cells: pd.DataFrame
    scores: pd.DataFrame
    by_horizon: pd.DataFrame
    reliability: pd.DataFrame
    cutoffs: list[int] = field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        """Flat ``{"gap_backtest/<score>": value}`` of the ``all`` row (for MLflow)."""
        row = self.scores.set_index("cutoff").loc["all"]
        return {f"gap_backtest/{k}": float(v) for k, v in row.items() if np.isfinite(v)}


def default_cutoffs(panel: xr.Dataset, n: int = 2, years_ahead: int = 5, min_train_years: int = 3) -> list[int]:
    """Cutoff years: ``years_ahead`` years before the last complete year, and the ``n - 1`` before.

    A short panel (cutoff leaving under ``min_train_years`` of training) gets the latest cutoffs
    that leave that much training and at least one year of actuals.

    >>> import pandas as pd, xarray as xr
    >>> ds = xr.Dataset(coords={"time": pd.date_range("2010-01-01", "2025-12-01", freq="MS")}, attrs={"freq": "MS"})
    >>> default_cutoffs(ds)
    [2019, 2020]
    """
    years = _complete_years(panel)
    if not years:
        return []
    first, last = min(years), max(years)
    wanted = [last - years_ahead - k for k in range(n)]
    feasible = [c for c in wanted if c - first + 1 >= min_train_years]
    later = [c for c in range(last - 1, first - 1, -1) if c - first + 1 >= min_train_years and c not in feasible]
    chosen = feasible + later[: max(0, n - len(feasible))]
    return sorted(chosen)


def _observed_forecast(panel: xr.Dataset, measures: Sequence[str], start: pd.Timestamp) -> xr.Dataset:
    """The observed values after ``start`` in the shape of a forecast with one sample path."""
    variables = {}
    later = panel.sel({P.TIME: slice(start, None)})
    for m in measures:
        variables[f"{m}_paths"] = later[m].expand_dims({PATH: [0]}, axis=-1).assign_attrs(panel[m].attrs)
    return xr.Dataset(variables, attrs={"freq": panel.attrs["freq"]})


def _scores(frame: pd.DataFrame, min_ratio: float = 0.10) -> dict[str, float]:
    ok = frame.dropna(subset=["gap", "gap_observed"])
    clear = ok[ok["gap_ratio_observed"].abs() > min_ratio]
    error = ok["gap"] - ok["gap_observed"]
    return {"sign_accuracy": float((np.sign(clear["gap"]) == np.sign(clear["gap_observed"])).mean())
            if len(clear) else np.nan,
            "n_sign": int(len(clear)), "gap_mae": float(error.abs().mean()),
            "gap_bias": float(error.mean()),
            "gap_wape": float(100 * error.abs().sum() / ok["job_openings_observed"].sum()),
            "coverage_80": float(((ok["gap_observed"] >= ok["gap_q10"]) & (ok["gap_observed"] <= ok["gap_q90"])).mean()),
            "n": int(len(ok))}


def reliability_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Predicted P(shortage) in ten bins against the observed share of shortages (gap > 0)."""
    ok = frame.dropna(subset=["p_shortage", "gap_observed"])
    index = np.clip(np.digitize(ok["p_shortage"], BINS[1:-1]), 0, len(BINS) - 2)
    rows = []
    for b in range(len(BINS) - 1):
        sel = ok[index == b]
        rows.append({"bin": f"{BINS[b]:.1f}-{BINS[b + 1]:.1f}", "n": int(len(sel)),
                     "mean_predicted": float(sel["p_shortage"].mean()) if len(sel) else np.nan,
                     "observed_frequency": float((sel["gap_observed"] > 0).mean()) if len(sel) else np.nan})
    return pd.DataFrame(rows)


def gap_backtest(model, panel: xr.Dataset, cutoffs: Sequence[int] | None = None, *, years_ahead: int = 5,
                 assumptions: SupplyAssumptions = SupplyAssumptions(), rates: pd.DataFrame | None = None,
                 measures: Measures = Measures(), expansion: str = "horizon", n_paths: int = 200, seed: int = 0,
                 progress: bool = False) -> TrackRecord:
    """The report made at past cutoffs against the gap the data then showed.

    Parameters
    ----------
    model : unfitted forecaster (cloned per target and cutoff), the one the report uses.
    panel : the full observed panel.
    cutoffs : cutoff years (data up to 31 December of each); None = :func:`default_cutoffs`.
    years_ahead : years forecast after each cutoff (scored where observed).
    assumptions, rates, measures, expansion : as the report (programmes and trainees left out).
    n_paths, seed : joint sample paths per cutoff.
    progress : progress bars of the fits.

    Returns
    -------
    :class:`TrackRecord`.

    Raises
    ------
    ConfigError when a cutoff leaves no training data or no observed year after it.
    """
    from lmforecast.pipeline import forecast_targets

    cutoffs = default_cutoffs(panel, years_ahead=years_ahead) if cutoffs is None else [int(c) for c in cutoffs]
    observed_years = _complete_years(panel)
    no_trainees = replace(measures, trainees="__no_trainees__")
    plain = replace(assumptions, programmes=())
    frames = []
    for cutoff in cutoffs:
        years = [y for y in range(cutoff + 1, cutoff + years_ahead + 1) if y in observed_years]
        end = pd.Timestamp(year=cutoff, month=12, day=31)
        train = panel.sel({P.TIME: slice(None, end)})
        if not years or train.sizes[P.TIME] < 2 * P.season_length(panel.attrs["freq"]):
            raise ConfigError(f"gap backtest cutoff {cutoff}: needs two years of data before it and an observed "
                              f"year after it (the data cover the complete years {observed_years[:1]}..{observed_years[-1:]})")
        horizon = len(pd.date_range(train.indexes[P.TIME][-1], pd.Timestamp(year=max(years), month=12, day=1),
                                    freq=panel.attrs["freq"])) - 1
        forecast, _ = forecast_targets(model, train, list(measures.path_targets), horizon, n_paths=n_paths,
                                       path_targets=list(measures.path_targets), seed=seed, progress=progress)
        predicted = summarise(compute_paths(forecast, train, years, assumptions=plain, rates=rates,
                                            measures=no_trainees, expansion=expansion))
        observed = compute_paths(_observed_forecast(panel, measures.path_targets, end), panel, years,
                                 assumptions=plain, rates=rates, measures=no_trainees, expansion=expansion)
        obs = observed[["gap", "gap_ratio", "job_openings"]].isel({PATH: 0}, drop=True)
        pred = predicted[["gap", "gap_q10", "gap_q90", "p_shortage", "job_openings"]]
        pred, obs = xr.align(pred.reset_coords(drop=True), obs.reset_coords(drop=True), join="inner")
        frame = xr.merge([pred, obs.rename({k: f"{k}_observed" for k in obs.data_vars})]).to_dataframe().reset_index()
        frame.insert(0, "cutoff", cutoff)
        frame["horizon_year"] = frame[YEAR] - cutoff
        frames.append(frame)
        log.info("gap backtest at cutoff %d: %s", cutoff, _scores(frame))
    cells = pd.concat(frames, ignore_index=True)
    scores = pd.DataFrame([{"cutoff": str(c), **_scores(cells[cells["cutoff"] == c])} for c in cutoffs]
                          + [{"cutoff": "all", **_scores(cells)}])
    by_horizon = pd.DataFrame([{"horizon_year": int(h), **_scores(cells[cells["horizon_year"] == h])}
                               for h in sorted(cells["horizon_year"].unique())])
    return TrackRecord(cells, scores, by_horizon, reliability_table(cells), list(cutoffs))
