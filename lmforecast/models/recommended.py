"""The recommended forecaster: chooses, on the user's own panel, which model to trust at each horizon.

No single model wins everywhere. On smoothed job-ad panels lag models win at 12 months; on
annual unemployment rates nothing beats the last value by much; on labour markets with steady
structural change (digital work rising, farm work falling) the trend is what matters five years
out. :class:`AutoForecaster` therefore decides on the data it is given:

1. **Inner rolling origin.** Every candidate is refitted at the calibration origins inside the
   training data (:func:`lmforecast.uncertainty.calibration_origins`: the last origin one year
   before the end, the others spaced so that the earliest reaches the full horizon when the
   history allows) and forecasts the evaluation horizon (default five years, the planners'
   horizon). Nothing after the training data is used.
2. **Scores per horizon year**, on the cells every candidate forecast: the absolute error of
   each period of the year, scaled by each series' mean absolute seasonal difference (a MASE),
   averaged per series over the origins, then over series; optionally per occupation major
   group (``group_by``). A series whose last value before an origin is older than its own
   cadence (a gap at the origin) is not scored there (``current_only``): the reference carries
   a stale value for it, which any level-aware candidate beats, and forecasts are judged on
   the series observed at their cutoff. Each later year is scored on its own and its neighbours' errors
   (``year_window``, default one year each side), so that the choice does not flip from year
   to year on noise. (Scoring later years on annual means instead, the level planners use,
   was tried: on the selection windows it chose seasonal patterns that then lost to naive
   period by period, 2-3 % worse on the Moroccan job ads.)
3. **Choice with a margin, near-ties combined.** For each horizon year the candidates that
   beat the reference (naive) by more than ``margin`` (default 2 %) on average, and at 80 % of
   the origins at least (``min_wins``), with at least ``min_origins`` (3) origins reaching that
   year, are eligible; the year's
   forecast is the mean of the eligible candidates within ``tolerance`` (default 5 %) of the
   best score, or the reference when none is eligible. A year with no inner errors (history
   too short) keeps the previous year's choice. From year 2 on, a candidate is eligible in a
   year only if it is also eligible in a neighbouring year: an edge that clears the thresholds
   in one year alone is their noise (on the default data's jobseekers, the trend cleared
   ``min_wins`` at year 4 only, 0.80 against 0.73 and 0.78 either side, and would have put the
   2029 projection 23 % above the truth between two years near it). The weights are blended
   linearly between the centres of consecutive horizon years, so paths have no jumps.
4. **One calibration.** The combination's own errors calibrate its intervals and joint sample
   paths (:mod:`lmforecast.uncertainty`), at the origins every model uses (two periods of
   training at least), so that several measures' models share them. With a long history these
   are the inner origins and their forecasts are reused. With a short one (under about
   fourteen years monthly) they reach further back than the inner origins, which need two
   years of training: the reference is refitted there, the other members only from two years
   on, and the horizon years they serve are calibrated on those origins alone. (Before, the
   inner origins were used: with 37 months of history they were packed into the last year,
   calibrated 12 steps and extrapolated the rest, and the five-year intervals covered 50 %
   where naive's own covered 81 %; ``benchmarks/bench_grains.py``.)

The choice and every inner score are kept in ``selection_`` (a DataFrame) and logged at INFO
level; :func:`lmforecast.tracking` logs them with a run. The default candidates
(:func:`default_candidates`) and the margin were fixed before the validation runs reported in
``benchmarks/results/`` (see ``benchmarks/README.md``), which only measure them.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.linear_model import Ridge

from lmforecast import panel as P
from lmforecast.models.base import FitContext, Forecaster, calibrating
from lmforecast.models.baselines import Naive, SeasonalNaive
from lmforecast.uncertainty import ResidualUncertainty, series_scale

__all__ = ["AutoForecaster", "default_candidates", "default_forecaster", "default_lags", "default_windows"]

logger = logging.getLogger("lmforecast.models")


def default_lags(freq: str) -> tuple[int, ...]:
    """Target lags (periods) of the global lag models for a panel frequency.

    ``"MS"`` -> (1, 2, 3, 6, 12); ``"QS"`` -> (1, 2, 3, 4, 8); ``"YS"`` -> (1, 2, 3).
    """
    return {12: (1, 2, 3, 6, 12), 4: (1, 2, 3, 4, 8), 1: (1, 2, 3)}[P.season_length(freq)]


def default_windows(freq: str) -> tuple[int, ...]:
    """Rolling-window lengths (periods) of the global lag models: ``MS`` (3, 12), ``QS`` (2, 4), ``YS`` (3,)."""
    return {12: (3, 12), 4: (2, 4), 1: (3,)}[P.season_length(freq)]


def default_candidates(freq: str = "MS", *, n_occupations: int | None = None, num_threads: int = 1,
                       random_state: int = 0, n_jobs: int = 1) -> dict[str, Forecaster]:
    """The candidates :class:`AutoForecaster` chooses from by default (unfitted).

    ``naive`` (the reference), ``seasonal_naive`` (monthly/quarterly panels), ``trend`` (the
    log-linear trend of each series' annual level over its whole history), the share model
    (``shares``: damped-trend exponential smoothing of the region totals x damped-trend
    occupation shares), the fixed-share model (``fixed_share``: each occupation keeps its
    latest-year share of its region, the region total carried forward; both share models are
    left out when the panel has a single occupation, where they are the total model itself),
    the multi-year change model (``change``: global, direct) and a global Ridge lag model
    (``ridge``: recursive, the short-horizon specialist).

    ``fixed_share`` joined after the first validation (``benchmarks/README.md``): on the
    held-out selection windows (with ``year_window=1``) it takes the synthetic Moroccan job ads
    from 1.013 to 0.949 of naive's five-year MASE and vacancies from 0.905 to 0.872, and is
    never chosen on the Australian or ILO windows (the same figures with and without it).

    Per-series exponential smoothing and Theta (:mod:`lmforecast.models.statsmodels`) are not
    among them: on the validation panels they were not better than naive by the margin at
    either horizon (damped ETS 0.99 of naive's MASE at five years and 0.97 at 12 months on the
    Australian IVI, 1.12 on ILO annual rates at two years; Theta 1.01-1.03) and they cost
    ~15-75 ms per series and fit, times 9 fits. They stay available as models of their own.

    Parameters
    ----------
    freq : panel frequency (``"MS"``, ``"QS"``, ``"YS"``): sets lags and windows.
    n_occupations : occupations in the panel (``None``: unknown).
    num_threads : BLAS threads of the global models.
    random_state : seed of the stochastic parts.
    n_jobs : processes for the statsmodels fits of the share model's totals.
    """
    from lmforecast.models.change import MultiYearChangeForecaster
    from lmforecast.models.shares import FixedShare, ShareForecaster
    from lmforecast.models.sklearn import SklearnForecaster
    from lmforecast.models.statsmodels import ETSForecaster
    from lmforecast.models.trend import TrendForecaster

    candidates: dict[str, Forecaster] = {"naive": Naive(uncertainty="none")}
    if P.season_length(freq) > 1:
        candidates["seasonal_naive"] = SeasonalNaive(uncertainty="none")
    candidates["trend"] = TrendForecaster(uncertainty="none")
    if n_occupations is None or n_occupations > 1:
        candidates["shares"] = ShareForecaster(total_model=ETSForecaster(n_jobs=n_jobs, uncertainty="none"),
                                               uncertainty="none")
        candidates["fixed_share"] = FixedShare(uncertainty="none")
    candidates.update({
        "change": MultiYearChangeForecaster(uncertainty="none"),
        "ridge": SklearnForecaster(Ridge(alpha=1.0), lags=default_lags(freq), windows=default_windows(freq),
                                   num_threads=num_threads, random_state=random_state, uncertainty="none"),
    })
    return candidates


class AutoForecaster(Forecaster):
    """Chooses among candidate forecasters per horizon year by an inner rolling origin (see module docstring).

    Parameters
    ----------
    candidates : ``{name: forecaster}`` (cloned); ``None`` = :func:`default_candidates` for the
        panel's frequency and size. Must contain ``reference``. A candidate
        whose fit raises is left out (logged).
    reference : name of the candidate every other one must beat (default ``"naive"``).
    margin : relative improvement of the inner score over the reference a candidate needs to be
        chosen (0.02 = 2 %).
    min_wins : share of the inner origins at which an eligible candidate must beat the reference
        (default 0.8): the gain must be consistent, not an average carried by one origin.
    min_origins : fewest origins with errors in a horizon year for any choice but the reference
        there (a short history gives the reference at long horizons: no evidence, no bet).
    tolerance : the year's forecast is the equal-weight mean of the eligible candidates whose
        inner score is within ``tolerance`` of the best one (0 = the best alone); combining
        near-ties hedges against the noise of the choice.
    group_by : ``None`` (one choice per horizon year) or ``"occupation_major"`` (one per major
        group; groups with fewer than ``min_group_series`` series use the overall choice).
    min_group_series : see ``group_by``.
    year_window : years on each side of a horizon year whose inner errors also score it (default
        1: year k is scored on years k-1..k+1, the first year always alone, since the
        short-horizon candidates only forecast it); with a window, a later year whose choice
        differs from both neighbours while they agree takes theirs, and a candidate eligible in
        one later year alone is not eligible there (module docstring, step 3). Neighbouring years share
        most of their evidence, so a per-year choice flipping between candidates is mostly
        noise, and a path that switches model for one year jumps. 0 = each year on its own
        errors, no smoothing.
    min_history_share : score the choice only at the inner origins whose training data are at
        least this share of the history (default 0: every origin; the calibration always uses
        them all). Early origins see little history, which penalises the models that need it
        (a trend). Not validated as a default: on the default data 0.4 makes employment's signs
        right for 0.961 of the cells but sends jobseekers' trend to +47 % in 2030
        (``benchmarks/bench_default_truth.py --min-history-share 0.4``).
    current_only : score a series at an inner origin only if it is observed there, within its
        own cadence (default True; module docstring, step 2). On AU IVI with ~30 % of the values
        missing (``benchmarks/bench_grains.py --sets au_gappy``) the choice without it was the
        fixed-share model, better than naive at the inner origins on the stale cells and 1.9 %
        worse on the series observed at the cutoffs; with it, 0.5 % worse. Complete panels are
        unaffected.
    short_horizon : names of candidates for the first horizon year only (default ``("ridge",)``:
        a recursive one-step model compounds its errors over multi-year paths); their inner
        forecasts stop after a year, which also makes them cheap.
    n_jobs : processes over the candidates (each candidate's fit and calibration refits run in
        one process; 1 = in-process).
    num_threads, random_state : BLAS threads and seed of the global default candidates
        (``candidates=None`` only).
    uncertainty : the uncertainty layer; its origins and horizon are also the inner rolling
        origin's (default: twelve yearly origins, see
        :class:`~lmforecast.models.base.Forecaster`).

    Attributes
    ----------
    members_ : ``{name: fitted candidate}`` with a non-zero weight somewhere.
    weights_ : ``(member, series, horizon)`` weights (sum to 1 over members).
    selection_ : DataFrame of inner scores: ``group, year, candidate, score, relative, chosen``.
    choice_ : ``{group: [candidates combined in year 1, year 2, ...]}``.
    """

    def __init__(self, candidates: dict | None = None, reference: str = "naive", margin: float = 0.02,
                 tolerance: float = 0.05, min_wins: float = 0.8, min_origins: int = 3, group_by: str | None = None,
                 min_group_series: int = 20, short_horizon=("ridge",), year_window: int = 1,
                 min_history_share: float = 0.0, current_only: bool = True, n_jobs: int = 1, num_threads: int = 1,
                 random_state: int = 0, uncertainty=None):
        self.candidates = candidates
        self.reference = reference
        self.margin = margin
        self.tolerance = tolerance
        self.min_wins = min_wins
        self.min_origins = min_origins
        self.group_by = group_by
        self.min_group_series = min_group_series
        self.short_horizon = short_horizon
        self.year_window = year_window
        self.min_history_share = min_history_share
        self.current_only = current_only
        self.n_jobs = n_jobs
        self.num_threads = num_threads
        self.random_state = random_state
        self.uncertainty = uncertainty

    def _named_candidates(self, freq: str, n_occupations: int) -> dict[str, Forecaster]:
        named = (default_candidates(freq, n_occupations=n_occupations, num_threads=self.num_threads,
                                    random_state=self.random_state)
                 if self.candidates is None else dict(self.candidates))
        if not named:
            raise ValueError("AutoForecaster needs at least one candidate")
        if self.reference not in named:
            raise ValueError(f"reference {self.reference!r} is not among the candidates {sorted(named)}")
        for name, model in named.items():
            if not isinstance(model, Forecaster):
                raise TypeError(f"candidate {name!r} is a {type(model).__name__}, not a Forecaster")
        return {str(k): v for k, v in named.items()}

    def _schedule(self) -> ResidualUncertainty:
        return self._uncertainty() or ResidualUncertainty()

    def _fit_series(self, y: np.ndarray, context: FitContext) -> None:
        if not 0.0 <= float(self.margin) < 1.0:
            raise ValueError(f"margin must lie in [0, 1), got {self.margin}")
        if int(self.year_window) < 0:
            raise ValueError(f"year_window must be >= 0 years, got {self.year_window}")
        if not 0.0 <= float(self.min_history_share) < 1.0:
            raise ValueError(f"min_history_share must lie in [0, 1), got {self.min_history_share}")
        if self.group_by not in (None, "occupation_major"):
            raise ValueError(f"group_by must be None or 'occupation_major', got {self.group_by!r}")
        panel, target = context.panel, context.target
        season = context.season_length
        schedule = self._schedule()
        horizon = schedule.horizon_for(context.freq)
        lengths = schedule.origins(y.shape[1], context.freq, min_train=self._min_inner_train(season))
        n_occupations = len(set(context.series_index.get_level_values(P.OCCUPATION)))
        named = self._named_candidates(context.freq, n_occupations)
        if len(lengths) == 0:  # too short a history for any inner origin: no evidence, the reference
            logger.info("AutoForecaster on %r: %d periods leave no inner origin (%d needed): the reference %r",
                        target, y.shape[1], self._min_inner_train(season) + 1, self.reference)
            named = {self.reference: named[self.reference]}
        short = {str(n) for n in (self.short_horizon or ())}
        first_year = min(season, horizon)
        tasks = [delayed(_fit_candidate)(name, candidate, panel, target, lengths,
                                         first_year if name in short else horizon)
                 for name, candidate in named.items()]
        if int(self.n_jobs) == 1 or len(tasks) == 1:
            results = [task[0](*task[1], **task[2]) for task in tasks]
        else:
            results = Parallel(n_jobs=int(self.n_jobs), backend="loky")(tasks)
        fitted, inner = {}, {}
        for name, model, forecasts, error in results:
            if error is not None:
                if name == self.reference:
                    raise error
                logger.warning("AutoForecaster: candidate %r left out on %r: %s: %s", name, target,
                               type(error).__name__, error)
                continue
            if forecasts.shape[2] < horizon:  # a short-horizon candidate: no inner errors after year 1
                forecasts = np.concatenate([forecasts, np.full(forecasts.shape[:2] + (horizon - forecasts.shape[2],),
                                                                np.nan)], axis=2)
            fitted[name], inner[name] = model, forecasts
        names = list(fitted)
        actual = np.full((y.shape[0], len(lengths), horizon), np.nan)
        for w, n in enumerate(lengths):
            stop = min(int(n) + horizon, y.shape[1])
            actual[:, w, : stop - int(n)] = y[:, int(n):stop]
        if self.current_only and len(lengths):
            stale = _stale_at_origins(y, lengths)
            if stale.any():
                actual = np.where(stale[:, :, None], np.nan, actual)
        scale = series_scale(y, season)
        # the choice is scored only at the origins with enough history (the calibration uses them all);
        # none left: no evidence, the reference
        short_history = np.asarray(lengths) < float(self.min_history_share) * y.shape[1]
        if short_history.any():
            actual = np.where(short_history[None, :, None], np.nan, actual)
            if short_history.all():
                logger.info("AutoForecaster on %r: no inner origin has %.0f %% of the %d periods "
                            "(min_history_share): the reference %r", target, 100 * float(self.min_history_share),
                            y.shape[1], self.reference)
        groups = (np.asarray(context.occupation_major).astype(str) if self.group_by else
                  np.full(y.shape[0], "all"))
        choice, table = self._choose(names, inner, actual, scale, groups, season, horizon,
                                     short=[n in short for n in names])
        weights = self._weights(names, choice, groups, season, horizon)               # (candidate, series, h)
        keep = [i for i, n in enumerate(names) if weights[i].any()]
        self.members_ = {names[i]: fitted[names[i]] for i in keep}
        self.weights_ = weights[keep].astype(np.float32)
        self.choice_ = choice
        self.selection_ = table
        self.inner_lengths_, self.inner_horizon_ = np.asarray(lengths), horizon
        self.inner_forecasts_ = np.einsum("msh,mswh->swh", self.weights_,
                                          np.stack([np.nan_to_num(inner[names[i]]) for i in keep]))
        missing = np.stack([~np.isfinite(inner[names[i]]) & (self.weights_[j][:, None, :] > 0)
                            for j, i in enumerate(keep)]).any(axis=0)
        self.inner_forecasts_[missing] = np.nan
        for group, years in choice.items():
            logger.info("AutoForecaster on %r%s: per horizon year %s", target,
                        "" if group == "all" else f" (group {group})", years)

    def _min_inner_train(self, season_length: int) -> int:
        """Shortest training of an inner (choice) origin: two years (annual panels: 2 points)."""
        return 2 * max(1, season_length)

    def _min_train(self, season_length: int) -> int:
        """Shortest training of a calibration origin: the base default (2 periods), whatever the members.

        The calibration refits the fitted combination (members and weights fixed) at each origin.
        The reference is refitted wherever it can be; the other members, as at the choice, only at
        origins with two years of training: elsewhere they give NaN (:meth:`_origin_forecasts`), so
        the horizon years that use them are calibrated on those origins, and the years that are the
        reference alone on all of them (a short history then calibrates as far ahead as the
        reference's own intervals do, instead of extrapolating from the last year). The origins
        do not depend on the members, so the recommended models of several measures of one panel
        share them (joint paths need that).
        """
        return 2

    def _fit_uncertainty(self, panel, target) -> None:
        super()._fit_uncertainty(panel, target)
        # the inner forecasts served the choice and the calibration; predict does not need them
        for name in ("inner_forecasts_", "inner_lengths_", "inner_horizon_"):
            self.__dict__.pop(name, None)

    def _choose(self, names, inner, actual, scale, groups, season, horizon, short=None):
        """Chosen candidates per (group, horizon year) and the table of inner scores.

        ``short[i]``: candidate ``i`` is a candidate for the first horizon year only.
        """
        n_years = int(np.ceil(horizon / season))
        year_of = np.arange(horizon) // season
        short = np.zeros(len(names), bool) if short is None else np.asarray(short, bool)
        stacked = np.stack([inner[n] for n in names])                           # (cand, series, w, h)
        errors = stacked - actual[None]
        # a candidate that forecasts under half the cells the reference does (in the years it is a
        # candidate for) is not scored: it would shrink everyone's evaluation set
        ref_cells = np.isfinite(errors[names.index(self.reference)])
        first = year_of == 0
        covered = np.array([np.isfinite(e)[ref_cells & (first if s else True)].mean() if ref_cells.any() else 0.0
                            for e, s in zip(errors, short)])
        scored = covered >= 0.5
        scored[names.index(self.reference)] = True
        for i in np.flatnonzero(~scored):
            logger.info("AutoForecaster: candidate %r forecasts %.0f %% of the inner cells: not scored",
                        names[i], 100 * covered[i])
        common = np.isfinite(errors[scored & ~short]).all(axis=0)               # (series, w, h)
        common_first = common & np.isfinite(errors[scored & short]).all(axis=0)
        mask = np.where(first[None, None, :], common_first, common)
        errors = np.where(mask[None] & scored[:, None, None, None], errors, np.nan)
        rows, choice = [], {}
        overall = None
        labels = ["all"] + sorted(set(groups) - {"all"}) if self.group_by else ["all"]
        window = int(self.year_window)
        for group in labels:
            members = np.ones(len(groups), bool) if group == "all" else groups == group
            borrowed = group != "all" and members.sum() < int(self.min_group_series)  # uses the overall choice
            years, group_rows, per_year = [], [], []
            for k in range(n_years):
                steps = (year_of == k) if k == 0 or window == 0 else \
                    (year_of >= max(1, k - window)) & (year_of <= min(n_years - 1, k + window))
                score, per_origin = _year_scores(errors[:, members][..., steps], scale[members])
                ref = score[names.index(self.reference)]
                # beating the reference must hold at most origins, not just on average
                ref_origin = per_origin[names.index(self.reference)]
                counted = np.isfinite(per_origin) & np.isfinite(ref_origin)[None, :]
                n_counted = counted.sum(axis=1)
                wins = ((per_origin < ref_origin[None, :]) & counted).sum(axis=1) / np.maximum(n_counted, 1)
                eligible = (np.isfinite(score) & (score < (1 - float(self.margin)) * ref)
                            & (wins >= float(self.min_wins)) & (n_counted >= int(self.min_origins)))
                evidenced = bool(np.isfinite(ref)) and int(n_counted[names.index(self.reference)]) >= int(self.min_origins)
                per_year.append((score, ref, wins, eligible, evidenced))
            if window > 0:
                per_year = _eligible_in_neighbouring_years(per_year)
            for k, (score, ref, wins, eligible, _) in enumerate(per_year):
                if not np.isfinite(ref):
                    chosen = years[-1] if years else [self.reference]
                elif eligible.any():
                    best = np.nanmin(np.where(eligible, score, np.nan))
                    chosen = [n for n, e, v in zip(names, eligible, score)
                              if e and v <= (1 + float(self.tolerance)) * best]
                else:
                    chosen = [self.reference]
                if borrowed:
                    chosen = overall[k]
                years.append(chosen)
                for name, value, won in zip(names, score, wins):
                    group_rows.append({"group": group, "year": k + 1, "candidate": name, "score": float(value),
                                       "relative": float(value / ref) if np.isfinite(ref) and ref > 0 else np.nan,
                                       "wins": float(won)})
            if window > 0 and not borrowed:
                years = _without_isolated_years(years)
            for row in group_rows:
                row["chosen"] = row["candidate"] in years[row["year"] - 1]
            rows.extend(group_rows)
            choice[group] = years
            if group == "all":
                overall = years
        return choice, pd.DataFrame(rows)

    def _weights(self, names, choice, groups, season, horizon) -> np.ndarray:
        """Weights ``(candidate, series, horizon)``: equal among each year's choice, blended between year centres."""
        n_years = int(np.ceil(horizon / season))
        centres = np.arange(n_years) * season + (season + 1) / 2
        steps = np.arange(1, horizon + 1, dtype=float)
        out = np.zeros((len(names), len(groups), horizon))
        for group, years in choice.items():
            members = np.ones(len(groups), bool) if group == "all" else groups == group
            if group == "all" and self.group_by:
                continue  # every series has its own group's row
            share = np.array([[1.0 / len(years[k]) if n in years[k] else 0.0 for k in range(n_years)] for n in names])
            curve = np.stack([np.interp(steps, centres, share[i]) for i in range(len(names))])
            out[:, members, :] = curve[:, None, :]
        return out

    def _weights_for(self, horizon: int) -> np.ndarray:
        """Weights ``(member, series, horizon)``, the last step's weights carried beyond."""
        w = self.weights_
        if horizon <= w.shape[2]:
            return w[:, :, :horizon]
        return np.concatenate([w, np.repeat(w[:, :, -1:], horizon - w.shape[2], axis=2)], axis=2)

    def _predict_point(self, horizon: int) -> np.ndarray:
        weights = self._weights_for(horizon)
        points = np.stack([m._predict_point_checked(horizon) for m in self.members_.values()])
        return _weighted(weights, points)

    def _origin_forecasts(self, panel, target, lengths, horizon):
        if (getattr(self, "inner_horizon_", None) == horizon
                and np.array_equal(np.asarray(lengths), getattr(self, "inner_lengths_", None))):
            return self.inner_forecasts_
        weights = self._weights_for(horizon)
        lengths = np.asarray(lengths, dtype=int)
        season = P.season_length(self.freq_)
        forecasts = np.full((len(self.members_), len(self.series_index_), len(lengths), horizon), np.nan)
        for i, (name, member) in enumerate(self.members_.items()):
            # the reference at every origin it can be fitted at; the others, as at the choice, from two years
            shortest = member._min_train(season)
            if name != self.reference:
                shortest = max(shortest, self._min_inner_train(season))
            fits = lengths >= shortest  # shorter origins: NaN (no error to calibrate on)
            if fits.any():
                forecasts[i][:, fits] = member._origin_forecasts(panel, target, lengths[fits], horizon)
        return _weighted(weights[:, :, None, :], forecasts)

    def describe(self) -> pd.DataFrame:
        """The inner scores (``selection_``) as a wide table: one row per group and year."""
        self._check_fitted()
        table = self.selection_.pivot_table(index=["group", "year"], columns="candidate", values="relative")
        chosen = (self.selection_[self.selection_.chosen].groupby(["group", "year"])["candidate"]
                  .agg(lambda names: ", ".join(names)))
        return table.assign(chosen=chosen)


def _stale_at_origins(y: np.ndarray, lengths) -> np.ndarray:
    """``(series, origin)``: True where a series' last value before the origin is older than its cadence.

    A series' cadence is the median spacing of its observations (1 for a monthly series, 3 for a
    quarterly measure in a monthly panel). At an origin after ``n`` periods the series is stale
    when its last observation is at least a cadence before the origin's last period, ``n - 1``.

    >>> y = np.array([[1.0, 2, 3, np.nan, np.nan], [1, np.nan, np.nan, 4, np.nan]])
    >>> _stale_at_origins(y, [3, 4, 5]).tolist()
    [[False, True, True], [False, False, False]]
    """
    observed = np.isfinite(y)
    n_series, n_time = y.shape
    cadence = np.ones(n_series)
    for s in range(n_series):
        index = np.flatnonzero(observed[s])
        if index.size > 1:
            cadence[s] = max(1.0, float(np.median(np.diff(index))))
    position = np.where(observed, np.arange(n_time)[None, :], -1)
    last_seen = np.maximum.accumulate(position, axis=1)                       # (series, time)
    ends = np.asarray(lengths, dtype=int) - 1
    age = ends[None, :] - last_seen[:, ends]
    return (last_seen[:, ends] < 0) | (age >= cadence[:, None])


def _eligible_in_neighbouring_years(per_year: list[tuple]) -> list[tuple]:
    """Per-year ``(score, ref, wins, eligible, evidenced)`` with a later year's eligibility kept only where a
    neighbour shares it.

    From year 2 on, a candidate is eligible in year ``k`` only if it is also eligible in year
    ``k - 1`` or ``k + 1`` among the years with evidence (``evidenced``: at least
    ``min_origins`` origins reach the year; year 1 is excluded, it has its own short-horizon
    candidates). A candidate's edge over the reference changes smoothly with the horizon, so an
    edge that clears the margin and ``min_wins`` in one year alone is the noise of a threshold,
    and choosing it would bend the path for that one year. A year with no evidenced neighbour
    (a short history that reaches year 2 only) keeps its eligibility. With fewer than three
    horizon years there is nothing to compare and the input is returned.

    >>> t = np.array([True]); f = np.array([False])
    >>> years = lambda *e: [(0, 1, 0, x, True) for x in e]
    >>> [y[3].tolist() for y in _eligible_in_neighbouring_years(years(t, f, t, f))]
    [[True], [False], [False], [False]]
    >>> [y[3].tolist() for y in _eligible_in_neighbouring_years(years(f, f, t, t))]
    [[False], [False], [True], [True]]
    >>> short = [(0, 1, 0, f, True), (0, 1, 0, t, True), (0, 1, 0, f, False), (0, 1, 0, f, False)]
    >>> [y[3].tolist() for y in _eligible_in_neighbouring_years(short)]
    [[False], [True], [False], [False]]
    """
    if len(per_year) < 3:
        return per_year
    eligible = [year[3] for year in per_year]
    evidenced = [bool(year[4]) for year in per_year]
    out = [per_year[0]]
    for k in range(1, len(per_year)):
        neighbours = [j for j in (k - 1, k + 1) if 1 <= j < len(per_year) and evidenced[j]]
        if not neighbours:
            out.append(per_year[k])
            continue
        support = np.zeros_like(eligible[k])
        for j in neighbours:
            support = support | eligible[j]
        out.append((*per_year[k][:3], eligible[k] & support, per_year[k][4]))
    return out


def _without_isolated_years(years: list[list[str]]) -> list[list[str]]:
    """Per-year choices with an isolated later year set to its neighbours' common choice.

    A choice at year ``k`` that differs from both neighbours while they agree is noise (a
    candidate's edge changes smoothly with the horizon): it takes their choice. Years 1 and 2
    are never changed (year 1 has its own short-horizon candidates, so it is no neighbour to
    compare with), nor the last year. Judged on the choices as given, so a run of alternating
    years is not chained.

    >>> _without_isolated_years([["ridge"], ["naive"], ["naive"], ["trend"], ["naive"]])
    [['ridge'], ['naive'], ['naive'], ['naive'], ['naive']]
    >>> _without_isolated_years([["ridge"], ["naive"], ["trend"], ["trend"]])
    [['ridge'], ['naive'], ['trend'], ['trend']]
    """
    out = [list(y) for y in years]
    for k in range(2, len(years) - 1):
        before, here, after = sorted(years[k - 1]), sorted(years[k]), sorted(years[k + 1])
        if before == after and here != before:
            out[k] = list(years[k - 1])
    return out


def _fit_candidate(name: str, candidate: Forecaster, panel, target: str, lengths, horizon: int):
    """``(name, fitted candidate, origin forecasts (series, window, horizon), error or None)``."""
    try:
        model = clone(candidate)._fit_point(panel, target)
        if len(lengths) == 0:
            return name, model, np.zeros((len(model.series_index_), 0, horizon)), None
        with calibrating():  # the inner refits (also in a worker process, where the flag is not inherited)
            forecasts = np.asarray(model._origin_forecasts(panel, target, lengths, horizon), dtype=float)
        return name, model, forecasts, None
    except Exception as exc:  # noqa: BLE001 - reported by the caller, which leaves the candidate out
        return name, None, None, exc


def _year_scores(errors: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MASE per candidate of the errors ``(candidate, series, window, steps)`` of one horizon year.

    Mean ``|error| / scale`` over the year's steps, per series and origin; the score is its mean
    over origins then series. Returns ``(score (candidate,), per_origin (candidate, window))``,
    the per-origin scores averaged over series only.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        per_window = np.nanmean(np.abs(errors), axis=3) / scale[None, :, None]
        return np.nanmean(np.nanmean(per_window, axis=2), axis=1), np.nanmean(per_window, axis=1)


def _weighted(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Weighted sum over members (axis 0); NaN where a member with weight > 0 is NaN."""
    used = weights > 0
    bad = (used & ~np.isfinite(values)).any(axis=0)
    out = (weights * np.nan_to_num(values)).sum(axis=0)
    return np.where(bad, np.nan, out)


def default_forecaster(freq: str = "MS", *, n_jobs: int = 1, num_threads: int = 1, random_state: int = 0,
                       margin: float = 0.02, tolerance: float = 0.05, uncertainty=None) -> AutoForecaster:
    """The recommended forecaster (unfitted): :class:`AutoForecaster` over :func:`default_candidates`.

    Parameters
    ----------
    freq : panel frequency, ``"MS"``, ``"QS"`` or ``"YS"`` (kept for configs; the candidates
        follow the frequency of the panel given to ``fit``).
    n_jobs : processes over the candidates (see :class:`AutoForecaster`).
    num_threads, random_state : BLAS threads and seed of the global candidates.
    margin, tolerance : see :class:`AutoForecaster`.
    uncertainty : the uncertainty layer (origins and horizon of the inner rolling origin too).

    Returns
    -------
    Unfitted :class:`AutoForecaster`; call ``fit(panel, target)`` then
    ``predict(horizon, quantiles)`` (forecasts in target units).

    Examples
    --------
    >>> default_forecaster("YS").margin
    0.02
    """
    if freq not in P.FREQ_SEASON:
        raise ValueError(f"unknown panel frequency {freq!r}; expected one of MS, QS, YS")
    return AutoForecaster(n_jobs=n_jobs, num_threads=num_threads, random_state=random_state, margin=margin,
                          tolerance=tolerance, uncertainty=uncertainty)
