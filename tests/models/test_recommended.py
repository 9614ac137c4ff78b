"""Tests of lmforecast.models.recommended: AutoForecaster (choice per horizon year), default_forecaster."""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from lmforecast.models.base import Forecaster
from lmforecast.models.baselines import Drift, Naive, SeasonalNaive
from lmforecast.models.recommended import (AutoForecaster, default_candidates, default_forecaster, default_lags,
                                           default_windows)
from lmforecast.models.trend import TrendForecaster

TARGET = "job_offers"


def candidates() -> dict:
    """Naive (the reference), drift and the log-linear trend, point forecasts only."""
    return {"naive": Naive(uncertainty="none"), "drift": Drift(uncertainty="none"),
            "trend": TrendForecaster(uncertainty="none")}


def trending(rng, n_series: int = 6, n_years: int = 20) -> np.ndarray:
    """Exponential growth at 4-10 % a year with 3 % noise (series, time)."""
    growth = rng.uniform(0.04, 0.10, (n_series, 1))
    level = 100 * rng.uniform(1, 5, (n_series, 1))
    return level * np.exp(growth * np.arange(n_years)) * np.exp(rng.normal(0, 0.03, (n_series, n_years)))


def random_walks(rng, n_series: int = 6, n_years: int = 30) -> np.ndarray:
    """Driftless geometric random walks (series, time)."""
    return 200 * np.exp(np.cumsum(rng.normal(0, 0.08, (n_series, n_years)), axis=1))


@pytest.fixture(scope="module")
def on_trend(make_series_panel):
    """AutoForecaster fitted on trending annual series (2 regions x 3 occupations)."""
    panel = make_series_panel(trending(np.random.default_rng(0)), start="1990-01-01", n_regions=2)
    return AutoForecaster(candidates=candidates()).fit(panel, TARGET), panel


@pytest.fixture(scope="module")
def on_walk(make_series_panel):
    """AutoForecaster fitted on random walks (2 regions x 3 occupations)."""
    panel = make_series_panel(random_walks(np.random.default_rng(0)), start="1990-01-01", n_regions=2)
    return AutoForecaster(candidates=candidates()).fit(panel, TARGET), panel


# --- defaults ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("freq", "lags", "windows"), [("MS", (1, 2, 3, 6, 12), (3, 12)),
                                                        ("QS", (1, 2, 3, 4, 8), (2, 4)), ("YS", (1, 2, 3), (3,))])
def test_default_lags_windows_and_candidates_follow_the_frequency(freq, lags, windows):
    """Lags/windows of the lag model follow the frequency; seasonal naive only for sub-annual panels."""
    assert default_lags(freq) == lags
    assert default_windows(freq) == windows
    named = default_candidates(freq)
    assert named["ridge"].lags == lags and named["ridge"].windows == windows and named["ridge"].num_threads == 1
    expected = ["naive"] + (["seasonal_naive"] if freq != "YS" else []) + ["trend", "shares", "fixed_share", "change", "ridge"]
    assert list(named) == expected
    assert all(model.uncertainty == "none" for model in named.values())   # candidates do not calibrate


def test_a_single_occupation_panel_has_no_share_candidate():
    """With one occupation the share models would be their own total model: they are left out."""
    named = default_candidates("YS", n_occupations=1)
    assert "shares" not in named and "fixed_share" not in named


def test_default_forecaster_is_a_clonable_auto_forecaster():
    """default_forecaster: AutoForecaster over the default candidates, naive reference, 2 % margin."""
    model = default_forecaster("MS", random_state=3, margin=0.05)
    assert isinstance(model, AutoForecaster) and model.candidates is None
    assert (model.reference, model.margin, model.random_state) == ("naive", 0.05, 3)
    copy = clone(model)
    assert copy.get_params() == model.get_params() and not hasattr(copy, "members_")
    with pytest.raises(ValueError, match="unknown panel frequency 'W'; expected one of MS, QS, YS"):
        default_forecaster("W")


# --- the choice ----------------------------------------------------------------------------------
def test_trending_data_choose_the_trend_in_every_horizon_year(on_trend, caplog):
    """Steady exponential growth: the trend beats naive (and drift) at every horizon year."""
    model, panel = on_trend
    assert model.choice_ == {"all": [["trend"]] * 5}
    assert list(model.members_) == ["trend"]                      # only members with a weight are kept
    with caplog.at_level(logging.INFO, logger="lmforecast.models"):
        AutoForecaster(candidates=candidates()).fit(panel, TARGET)
    assert "AutoForecaster on 'job_offers': per horizon year [['trend'], ['trend'], ['trend'], ['trend'], ['trend']]" \
        in caplog.text
    point = model.predict(5, (0.5,)).sel(quantile=0.5, drop=True)
    trend = TrendForecaster(uncertainty="none").fit(panel, TARGET).predict(5, (0.5,)).sel(quantile=0.5, drop=True)
    np.testing.assert_allclose(point.values, trend.values)


def test_random_walks_keep_naive(on_walk):
    """Driftless random walks: nothing beats naive by the margin, so naive is used throughout."""
    model, panel = on_walk
    assert model.choice_ == {"all": [["naive"]] * 5}
    point = model.predict(5, (0.5,)).sel(quantile=0.5)
    last = panel[TARGET].isel(time=-1)
    np.testing.assert_allclose(point.transpose("time", ...).values,
                               np.broadcast_to(last.values, point.transpose("time", ...).shape))


def test_selection_table_and_describe_hold_every_inner_score(on_trend):
    """selection_: one row per (group, year, candidate) with scores relative to naive; describe() is
    the wide table with the chosen candidate per year."""
    model, _ = on_trend
    table = model.selection_
    assert list(table.columns) == ["group", "year", "candidate", "score", "relative", "wins", "chosen"]
    assert len(table) == 5 * 3 and np.isfinite(table["score"]).all()
    np.testing.assert_allclose(table.loc[table.candidate == "naive", "relative"], 1.0)
    wide = model.describe()
    assert list(wide.index) == [("all", year) for year in range(1, 6)]
    assert wide["chosen"].tolist() == [", ".join(names) for names in model.choice_["all"]]
    assert (wide["trend"] < 0.98).all()


@pytest.mark.parametrize("fitted", ["on_trend", "on_walk"])
def test_a_candidate_is_chosen_only_when_it_beats_naive_by_the_margin(fitted, request):
    """On the inner scores: the eligible candidates beat naive by more than 2 % on average and at
    80 % of the origins; the chosen ones are those within 5 % of the best eligible score, and
    naive when none is eligible."""
    model, _ = request.getfixturevalue(fitted)
    for (_, year), rows in model.selection_.groupby(["group", "year"]):
        chosen = rows.loc[rows.chosen, "candidate"].tolist()
        reference = rows.loc[rows.candidate == "naive", "score"].item()
        eligible = rows[(rows.score < 0.98 * reference) & (rows.wins >= 0.8)]
        expected = (sorted(eligible.loc[eligible.score <= 1.05 * eligible.score.min(), "candidate"])
                    if len(eligible) else ["naive"])
        assert sorted(chosen) == expected, year


def test_a_margin_larger_than_the_gain_keeps_naive(on_trend):
    """With a margin above the trend's best relative gain, the same inner scores choose naive."""
    model, panel = on_trend
    gain = 1 - model.selection_.loc[model.selection_.candidate == "trend", "relative"].min()
    wary = AutoForecaster(candidates=candidates(), margin=min(gain + 0.01, 0.99)).fit(panel, TARGET)
    assert wary.choice_ == {"all": [["naive"]] * 5}
    pd.testing.assert_series_equal(wary.selection_["score"], model.selection_["score"])


def test_intervals_are_calibrated_on_the_combination_and_widen(on_trend):
    """The chosen combination is calibrated at fit: ordered quantiles, widths growing over the years."""
    model, _ = on_trend
    assert model.uncertainty_.horizon_ == 5
    forecast = model.predict(5, (0.1, 0.5, 0.9))
    assert (forecast.diff("quantile") > 0).all()
    width = (forecast.sel(quantile=0.9) - forecast.sel(quantile=0.1)).stack(series=("region", "occupation"))
    assert (width.diff("time") >= -1e-9).all()


# --- failures ----------------------------------------------------------------------------------
class FlakyTrend(TrendForecaster):
    """The trend, but NaN for the series (MA-01, 12)."""

    def _predict_point(self, horizon):
        point = super()._predict_point(horizon)
        point[1] = np.nan
        return point


class Broken(Naive):
    """Fails to fit."""

    def _fit_series(self, y, context):
        raise np.linalg.LinAlgError("singular matrix")


def test_a_series_the_chosen_candidate_cannot_forecast_gets_naive_with_a_warning(make_series_panel, caplog):
    """The chosen candidate forecasts NaN for one series: that series gets its last observed value,
    and the warning names it; the other series keep the candidate's forecast."""
    panel = make_series_panel(trending(np.random.default_rng(1)), start="1990-01-01", n_regions=2)
    named = {"naive": Naive(uncertainty="none"), "trend": FlakyTrend(uncertainty="none")}
    model = AutoForecaster(candidates=named).fit(panel, TARGET)
    assert model.choice_ == {"all": [["trend"]] * 5}
    with caplog.at_level(logging.WARNING, logger="lmforecast.models"):
        point = model.predict(5, (0.5,)).sel(quantile=0.5).stack(series=("region", "occupation"))
    assert "FlakyTrend forecast NaN for 1 series with an observed history (first: [('MA-01', '12')])" in caplog.text
    last = panel[TARGET].sel(region="MA-01", occupation="12").isel(time=-1).item()
    np.testing.assert_array_equal(point.sel(series=("MA-01", "12")), np.full(5, last))
    trend = TrendForecaster(uncertainty="none").fit(panel, TARGET).predict(5, (0.5,)).sel(quantile=0.5)
    others = [s for s in point.indexes["series"] if s != ("MA-01", "12")]
    np.testing.assert_allclose(point.sel(series=others).values,
                               trend.stack(series=("region", "occupation")).sel(series=others).values)


def test_a_candidate_that_cannot_fit_is_left_out_with_a_warning(make_series_panel, caplog):
    """A failing candidate is left out (logged with its error); the reference must fit."""
    panel = make_series_panel(random_walks(np.random.default_rng(2)), start="1990-01-01", n_regions=2)
    with caplog.at_level(logging.WARNING, logger="lmforecast.models"):
        model = AutoForecaster(candidates={"naive": Naive(uncertainty="none"), "broken": Broken()}).fit(panel, TARGET)
    assert "AutoForecaster: candidate 'broken' left out on 'job_offers': LinAlgError: singular matrix" in caplog.text
    assert set(model.selection_["candidate"]) == {"naive"}
    with pytest.raises(np.linalg.LinAlgError, match="singular matrix"):
        AutoForecaster(candidates={"naive": Broken()}).fit(panel, TARGET)


def test_bad_settings_are_named(make_series_panel):
    """Unknown reference, non-forecaster candidate, bad margin and grouping fail with clear messages."""
    panel = make_series_panel(random_walks(np.random.default_rng(3), n_series=2, n_years=8))
    with pytest.raises(ValueError, match=re.escape("reference 'naive' is not among the candidates ['drift']")):
        AutoForecaster(candidates={"drift": Drift()}).fit(panel, TARGET)
    with pytest.raises(TypeError, match="candidate 'ridge' is a str, not a Forecaster"):
        AutoForecaster(candidates={"naive": Naive(), "ridge": "ridge"}).fit(panel, TARGET)
    with pytest.raises(ValueError, match=re.escape("margin must lie in [0, 1), got 1.5")):
        AutoForecaster(candidates={"naive": Naive()}, margin=1.5).fit(panel, TARGET)
    with pytest.raises(ValueError, match="group_by must be None or 'occupation_major', got 'region'"):
        AutoForecaster(candidates={"naive": Naive()}, group_by="region").fit(panel, TARGET)
    with pytest.raises(ValueError, match="year_window must be >= 0 years, got -1"):
        AutoForecaster(candidates={"naive": Naive()}, year_window=-1).fit(panel, TARGET)
    with pytest.raises(ValueError, match=re.escape("min_history_share must lie in [0, 1), got 1.0")):
        AutoForecaster(candidates={"naive": Naive()}, min_history_share=1.0).fit(panel, TARGET)


def test_min_history_share_scores_only_the_origins_with_enough_history(on_trend):
    """Half the history still leaves enough origins to choose the trend; 90 % leaves one: naive, no bet."""
    model, panel = on_trend
    half = AutoForecaster(candidates=candidates(), min_history_share=0.5).fit(panel, TARGET)
    assert half.choice_ == model.choice_ and all(names == ["trend"] for names in half.choice_["all"])
    assert not half.selection_["score"].equals(model.selection_["score"])          # fewer origins scored
    most = AutoForecaster(candidates=candidates(), min_history_share=0.9).fit(panel, TARGET)
    assert all(names == ["naive"] for names in most.choice_["all"])
    none_left = AutoForecaster(candidates=candidates(), min_history_share=0.99).fit(panel, TARGET)
    assert all(names == ["naive"] for names in none_left.choice_["all"])          # no origin left: no bet
    # the intervals are still calibrated on every origin
    assert len(most.uncertainty_.origin_times_) == len(model.uncertainty_.origin_times_)


def test_seasonal_candidates_are_scored_on_monthly_data(make_series_panel):
    """A strongly seasonal monthly panel: seasonal naive wins the first horizon year over naive."""
    rng = np.random.default_rng(4)
    months = np.arange(72)
    values = 100 * (1 + 0.4 * np.sin(2 * np.pi * months / 12))[None, :] * np.exp(rng.normal(0, 0.02, (4, 72)))
    panel = make_series_panel(values, freq="MS", start="2015-01-01", n_regions=2)
    named = {"naive": Naive(uncertainty="none"), "seasonal_naive": SeasonalNaive(uncertainty="none")}
    model = AutoForecaster(candidates=named).fit(panel, TARGET)
    assert model.choice_["all"][0] == ["seasonal_naive"]
    assert isinstance(model.members_["seasonal_naive"], Forecaster)


def test_a_year_with_fewer_than_three_origins_keeps_the_reference(make_series_panel):
    """No evidence, no bet: a horizon year reached by fewer than ``min_origins`` inner origins is naive."""
    panel = make_series_panel(trending(np.random.default_rng(4), n_years=9), start="1990-01-01", n_regions=2)
    model = AutoForecaster(candidates=candidates()).fit(panel, TARGET)
    table = model.selection_
    from lmforecast.uncertainty import ResidualUncertainty

    lengths = ResidualUncertainty().origins(9, "YS", min_train=2)          # the inner origins
    for year, names in enumerate(model.choice_["all"], start=1):
        reached = int((lengths <= 9 - year).sum())                         # origins with that year observed
        if reached < 3:
            assert names == ["naive"], year
    assert set(table.columns) >= {"wins"}
    assert not hasattr(model, "inner_forecasts_")                           # not kept after the calibration


def test_ridge_is_a_candidate_for_the_first_year_only(make_series_panel):
    """A short-horizon candidate gets inner forecasts for one year: it is scored there only."""
    from sklearn.linear_model import Ridge

    from lmforecast.models.sklearn import SklearnForecaster

    panel = make_series_panel(trending(np.random.default_rng(5)), start="1990-01-01", n_regions=2)
    named = {**candidates(), "ridge": SklearnForecaster(Ridge(), lags=(1, 2), windows=(2,), uncertainty="none")}
    model = AutoForecaster(candidates=named).fit(panel, TARGET)
    ridge = model.selection_[model.selection_.candidate == "ridge"].set_index("year")["score"]
    assert np.isfinite(ridge.loc[1]) and ridge.loc[2:].isna().all()


def test_neighbouring_years_damp_a_choice_that_flips_on_noise():
    """A candidate 10 % better in years 2 and 4 and 1 % worse in years 3 and 5: chosen in alternate
    years when each year is scored alone, in every year from the second with ``year_window=1``."""
    n_series, n_windows, horizon = 20, 6, 5
    actual = np.zeros((n_series, n_windows, horizon))
    naive = np.ones_like(actual)
    alternative = np.ones_like(actual) * np.array([1.0, 0.9, 1.01, 0.9, 1.01])
    inner = {"naive": naive, "alt": alternative}
    groups = np.full(n_series, "all")
    chosen = {}
    for window in (0, 1):
        model = AutoForecaster(candidates={"naive": Naive(), "alt": Naive()}, year_window=window)
        choice, _ = model._choose(["naive", "alt"], inner, actual, np.ones(n_series), groups, 1, horizon)
        chosen[window] = choice["all"]
    assert chosen[0] == [["naive"], ["alt"], ["naive"], ["alt"], ["naive"]]
    assert chosen[1] == [["naive"], ["alt"], ["alt"], ["alt"], ["alt"]]


def test_a_candidate_eligible_in_one_later_year_alone_is_not_chosen_there():
    """Year 4 only: ``alt`` clears ``min_wins`` there (12 of 12 origins) but not in years 3 and 5 (9 of 12);
    ``other`` wins years 2-3. Without the neighbour rule year 4 would switch to ``alt`` between ``other``
    and naive (neighbours that disagree, so the isolated-year smoothing does not apply)."""
    n_series, n_windows, horizon = 10, 12, 6
    actual = np.zeros((n_series, n_windows, horizon))
    alt = np.ones_like(actual)
    alt[:, :, 3] = 0.7
    alt[:, 6:9, 1] = 1.5      # three origins lose year 3's pooled window (years 2-4)
    alt[:, 9:12, 5] = 1.5     # three lose year 5's (years 4-6)
    other = np.ones_like(actual)
    other[:, :, 1:3], other[:, :, 3] = 0.7, 1.4
    inner = {"naive": np.ones_like(actual), "alt": alt, "other": other}
    model = AutoForecaster(candidates={"naive": Naive(), "alt": Naive(), "other": Naive()})
    choice, table = model._choose(["naive", "alt", "other"], inner, actual, np.ones(n_series),
                                  np.full(n_series, "all"), 1, horizon)
    wins = table[table.candidate == "alt"].set_index("year")["wins"]
    assert wins.loc[4] == 1.0 and wins.loc[3] == wins.loc[5] == 0.75
    assert choice["all"] == [["naive"], ["other"], ["other"], ["naive"], ["naive"], ["naive"]]


def test_series_stale_at_the_origins_are_not_scored(make_series_panel):
    """Three of six monthly series miss the month every yearly inner origin ends on: the inner scores
    are those of the three others alone (``current_only``, default); with it off they are not."""
    values = random_walks(np.random.default_rng(3), n_series=6, n_years=120)
    gappy = values.copy()
    ends = np.arange(values.shape[1] - 13, 0, -12)           # the last period of each yearly origin
    gappy[:3, ends] = np.nan
    fresh = make_series_panel(values[3:], "MS", start="2010-01-01")
    panel = make_series_panel(gappy, "MS", start="2010-01-01")
    scores = {}
    for name, data, current in (("fresh", fresh, True), ("gappy", panel, True), ("all cells", panel, False)):
        model = AutoForecaster(candidates={"naive": Naive(uncertainty="none"), "drift": Drift(uncertainty="none")},
                               current_only=current, uncertainty="none").fit(data, TARGET)
        scores[name] = model.selection_.set_index(["year", "candidate"])["score"]
    pd.testing.assert_series_equal(scores["gappy"], scores["fresh"])
    assert not np.allclose(scores["all cells"], scores["fresh"])


def test_short_monthly_history_calibrates_like_its_reference(make_series_panel):
    """37 months: when the choice is the reference everywhere, the calibration origins and the
    five-year intervals are the reference's own (not origins packed into the last year and
    widths extrapolated from 12 steps)."""
    rng = np.random.default_rng(3)
    walks = 200 * np.exp(np.cumsum(rng.normal(0, 0.05, (12, 37)), axis=1))
    panel = make_series_panel(walks, freq="MS", start="2016-01-01", n_regions=2)
    auto = AutoForecaster(candidates={"naive": Naive(uncertainty="none")}).fit(panel, TARGET)
    naive = Naive().fit(panel, TARGET)
    assert auto.uncertainty_.describe()["origins"] == naive.uncertainty_.describe()["origins"] == ["2017-01-01",
                                                                                                  "2018-01-01"]
    assert auto.uncertainty_.calibrated_steps_ == naive.uncertainty_.calibrated_steps_ == 24
    np.testing.assert_allclose(auto.predict(60, (0.1, 0.9)).values, naive.predict(60, (0.1, 0.9)).values)


def test_members_other_than_the_reference_are_calibrated_from_two_years_of_training(make_series_panel):
    """The year of a non-reference member has no error from an origin with under two years of data."""
    rng = np.random.default_rng(4)
    values = 100 * np.exp(0.01 * np.arange(37))[None, :] * np.exp(rng.normal(0, 0.02, (6, 37)))
    panel = make_series_panel(values, freq="MS", start="2016-01-01", n_regions=2)
    auto = AutoForecaster(candidates=candidates(), margin=0.0, min_wins=0.0).fit(panel, TARGET)
    lengths = np.array([13, 25])
    forecasts = auto._origin_forecasts(panel, TARGET, lengths, 60)
    weights = auto._weights_for(60)
    names = list(auto.members_)
    other = np.zeros(weights.shape[1:], bool)
    for i, name in enumerate(names):
        if name != "naive":
            other |= weights[i] > 0
    assert other.any(), auto.choice_
    assert np.isnan(forecasts[:, 0][other]).all()          # 13 months: the non-reference years are not calibrated
    assert np.isfinite(forecasts[:, 1][other]).all()       # 25 months: they are
