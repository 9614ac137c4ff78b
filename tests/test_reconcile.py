"""Tests of lmforecast.reconcile: summing matrix, OLS / MinT-shrink / bottom-up, the wrapper."""

from __future__ import annotations

import re

import numpy as np
import numpy.testing as npt
import pandas as pd
import pytest
import xarray as xr

from lmforecast import panel as P
from lmforecast.models.base import Forecaster
from lmforecast.models.baselines import Naive, SeasonalNaive, naive_point
from lmforecast.reconcile import Reconciled, aggregate_panel, reconcile, shrink_covariance, summing_matrix

OCCUPATIONS = ["11", "12", "21", "22", "23"]
MAJORS = ["1", "1", "2", "2", "2"]


def make_panel(seed: int = 0, n_time: int = 48) -> xr.Dataset:
    """3 regions x 5 occupations (2 majors), levels 5 to 5000 (very different scales)."""
    rng = np.random.default_rng(seed)
    level = np.exp(rng.uniform(np.log(5), np.log(5000), size=(3, 5)))
    walk = np.cumsum(rng.normal(0, 0.03, size=(n_time, 3, 5)), axis=0)
    values = level[None] * np.exp(walk + 0.1 * np.sin(np.arange(n_time) / 12 * 2 * np.pi)[:, None, None])
    return xr.Dataset(
        {"job_offers": (("time", "region", "occupation"), values, {"units": "job ads"})},
        coords={"time": pd.date_range("2019-01-01", periods=n_time, freq="MS"),
                "region": ["MA-01", "MA-06", "MA-08"], "occupation": OCCUPATIONS,
                "occupation_major": ("occupation", MAJORS)},
        attrs={"freq": "MS", "country": "MA"})


class DampedAggregates(Forecaster):
    """Test double giving incoherent forecasts: naive, but aggregates ("national" region or
    non-leaf occupation) are damped by 10 % and bottom series get +1 % noise-free drift."""

    def _fit_series(self, y, context):
        self.y_ = y
        regions = context.series_index.get_level_values(0)
        occupations = context.series_index.get_level_values(1)
        self.aggregate_ = np.asarray((regions == P.NATIONAL) | ~occupations.isin(OCCUPATIONS))

    def _predict_point(self, horizon):
        point = naive_point(self.y_, horizon)
        return np.where(self.aggregate_[:, None], 0.9 * point, 1.01 * point)


# --------------------------------------------------------------------------- summing matrix
def test_summing_matrix_rows_and_labels():
    index = pd.MultiIndex.from_product([["A", "B"], OCCUPATIONS], names=["region", "occupation"])
    S, labels = summing_matrix(index, MAJORS * 2)
    # 1 total + 2 regions + 2 majors + 4 region x major + 5 occupations + 10 bottom
    assert S.shape == (24, 10)
    assert labels[0] == ("total", "national", "total")
    assert labels[3] == ("major", "national", "major:1")
    dense = S.toarray()
    npt.assert_array_equal(dense[0], np.ones(10))
    npt.assert_array_equal(dense[list(labels).index(("region_major", "B", "major:2"))],
                           [0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
    npt.assert_array_equal(dense[list(labels).index(("occupation", "national", "21"))],
                           [0, 0, 1, 0, 0, 0, 0, 1, 0, 0])
    npt.assert_array_equal(dense[-10:], np.eye(10))


def test_aggregate_panel_sums_every_level_nan_aware():
    panel = make_panel()
    panel["job_offers"][0, 0, 0] = np.nan
    aggregated, S, labels = aggregate_panel(panel, "job_offers")
    values = panel["job_offers"]
    national = aggregated["job_offers"].sel(region="national", occupation=OCCUPATIONS)
    npt.assert_allclose(national.transpose("time", "occupation").values,
                        P.national_total(values).transpose("time", "occupation").values)
    grand = aggregated["job_offers"].sel(region="national", occupation="total", drop=True)
    npt.assert_allclose(grand.values, np.nansum(values.values, axis=(1, 2)))
    major2 = aggregated["job_offers"].sel(region="MA-06", occupation="major:2")
    npt.assert_allclose(major2.values, values.sel(region="MA-06", occupation=["21", "22", "23"]).sum("occupation"))


# --------------------------------------------------------------------------- reconcile()
def _incoherent_problem(seed=0):
    index = pd.MultiIndex.from_product([["A", "B", "C"], OCCUPATIONS])
    S, labels = summing_matrix(index, MAJORS * 3)
    rng = np.random.default_rng(seed)
    bottom_truth = rng.uniform(1, 1000, size=(15, 1)) * np.exp(rng.normal(size=(15, 1)))
    base = S @ bottom_truth * np.exp(rng.normal(0, 0.1, size=(S.shape[0], 1)))   # incoherent
    sd = np.sqrt(S @ bottom_truth)                                               # scales differ
    residuals = rng.normal(size=(S.shape[0], 60)) * sd
    return S, labels, base, residuals


def test_ols_and_mint_solve_their_normal_equations_and_differ_when_scales_differ():
    S, labels, base, residuals = _incoherent_problem()
    dense = S.toarray()
    ols = reconcile(base, S, "ols", nonnegative=False)
    npt.assert_allclose(dense.T @ (base - dense @ ols), 0, atol=1e-6 * np.abs(base).max())
    mint = reconcile(base, S, "mint_shrink", residuals=residuals, nonnegative=False)
    W, _ = shrink_covariance(residuals)
    npt.assert_allclose(dense.T @ np.linalg.solve(W, base - dense @ mint), 0,
                        atol=1e-6 * np.abs(dense.T @ np.linalg.solve(W, base)).max())
    assert np.max(np.abs(ols - mint) / np.abs(mint)) > 0.01


def test_coherent_base_forecasts_are_left_unchanged_by_every_method():
    S, labels, _, residuals = _incoherent_problem(1)
    bottom = np.random.default_rng(1).uniform(1, 100, size=(15, 3))
    coherent = S @ bottom
    for method in ("ols", "mint_shrink", "bottom_up"):
        npt.assert_allclose(reconcile(coherent, S, method, residuals=residuals), bottom, rtol=1e-9)


def test_bottom_up_returns_the_bottom_rows_and_dict_input_by_level():
    S, labels, base, _ = _incoherent_problem(2)
    level_of = labels.get_level_values("level")
    per_level = {level: base[np.asarray(level_of == level)] for level in dict.fromkeys(level_of)}
    npt.assert_array_equal(reconcile(per_level, S, "bottom_up", labels=labels), base[-15:])
    with pytest.raises(ValueError, match=re.escape("base_forecasts lack level 'total'")):
        reconcile({k: v for k, v in per_level.items() if k != "total"}, S, "ols", labels=labels)


def test_nonnegative_clips_and_stays_coherent():
    S, labels, base, residuals = _incoherent_problem(3)
    base = base.copy()
    base[-15:-12] = -50.0                                     # three bottom forecasts below zero
    free = reconcile(base, S, "mint_shrink", residuals=residuals, nonnegative=False)
    clipped = reconcile(base, S, "mint_shrink", residuals=residuals, nonnegative=True)
    assert (free < 0).any() and (clipped >= 0).all()
    npt.assert_array_equal(clipped, np.maximum(free, 0))


def test_reconcile_names_the_non_finite_series_and_the_missing_residuals():
    S, labels, base, _ = _incoherent_problem(4)
    base = base.copy()
    base[3] = np.nan
    with pytest.raises(ValueError, match=re.escape("base forecast of ('region', 'C', 'total') is not finite")):
        reconcile(base, S, "ols", labels=labels)
    with pytest.raises(ValueError, match=re.escape("method='mint_shrink' needs residuals (n_total, time)")):
        reconcile(np.ones(S.shape[0]), S)
    with pytest.raises(ValueError, match=re.escape("method must be one of")):
        reconcile(np.ones(S.shape[0]), S, "wls")


def test_shrinkage_intensity_is_high_for_independent_and_low_for_correlated_residuals():
    rng = np.random.default_rng(5)
    independent = rng.normal(size=(10, 200))
    common = rng.normal(size=(1, 200))
    correlated = common + 0.1 * rng.normal(size=(10, 200))
    _, lam_independent = shrink_covariance(independent)
    W, lam_correlated = shrink_covariance(correlated)
    assert lam_independent > 0.5 > 0.05 > lam_correlated
    npt.assert_allclose(np.diag(W), np.mean(correlated ** 2, axis=1))


# --------------------------------------------------------------------------- Reconciled
@pytest.mark.parametrize("method", ["mint_shrink", "ols", "bottom_up"])
def test_reconciled_forecasts_add_up_to_every_aggregate(method):
    panel = make_panel()
    model = Reconciled(DampedAggregates(), method=method, residual_windows=8).fit(panel, "job_offers")
    bottom = model.predict(3, (0.1, 0.5, 0.9)).sel(quantile=0.5)
    levels = model.predict_all_levels(3, (0.1, 0.5, 0.9)).sel(quantile=0.5)
    national = P.national_total(bottom)
    npt.assert_allclose(levels.sel(region="national", occupation=OCCUPATIONS).transpose("time", "occupation"),
                        national.transpose("time", "occupation"), rtol=1e-6)
    for major in ("1", "2"):
        members = [o for o, g in zip(OCCUPATIONS, MAJORS) if g == major]
        by_region = bottom.sel(occupation=members).sum("occupation")
        npt.assert_allclose(levels.sel(region=["MA-01", "MA-06", "MA-08"], occupation=f"major:{major}")
                            .transpose("time", "region"), by_region.transpose("time", "region"), rtol=1e-6)
        npt.assert_allclose(levels.sel(region="national", occupation=f"major:{major}"),
                            by_region.sum("region"), rtol=1e-6)
    npt.assert_allclose(levels.sel(region="national", occupation="total"), bottom.sum(["region", "occupation"]),
                        rtol=1e-6)
    same_cells = levels.sel(region=bottom.region, occupation=bottom.occupation).transpose(*bottom.dims)
    npt.assert_allclose(same_cells.values, bottom.values, rtol=1e-12)


def test_bottom_up_equals_the_base_bottom_forecasts_and_mint_differs_from_ols():
    panel = make_panel(1)
    base = DampedAggregates().fit(panel, "job_offers").predict(3)
    up = Reconciled(DampedAggregates(), method="bottom_up").fit(panel, "job_offers").predict(3)
    xr.testing.assert_allclose(up, base)
    ols = Reconciled(DampedAggregates(), method="ols").fit(panel, "job_offers").predict(3)
    mint = Reconciled(DampedAggregates(), method="mint_shrink", residual_windows=8).fit(panel, "job_offers").predict(3)
    relative = np.abs(ols - mint) / mint
    assert float(relative.max()) > 0.01


def test_aggregate_intervals_are_quantiles_of_the_summed_joint_paths():
    """Every level's interval is that of the sum of the bottom series' joint sample paths (never a sum of
    quantiles), clamped to the median, which is the sum of the bottom points."""
    panel = make_panel(2)
    model = Reconciled(Naive(), method="ols").fit(panel, "job_offers")
    levels = model.predict_all_levels(4, (0.1, 0.5, 0.9), n_paths=400, seed=7)
    paths = model.sample_paths(4, n_paths=400, seed=7)
    bottom = model.predict(4, (0.1, 0.5, 0.9))
    point = bottom.sel(quantile=0.5)
    for region, regions in [("national", ["MA-01", "MA-06", "MA-08"]), ("MA-06", ["MA-06"])]:
        got = levels.sel(region=region, occupation="total")
        summed = paths.sel(region=regions).sum(["region", "occupation"])
        point_sum = point.sel(region=regions).sum(["region", "occupation"])
        npt.assert_allclose(got.sel(quantile=0.5), point_sum, rtol=1e-9)
        low, high = (summed.quantile(q, "path").values for q in (0.1, 0.9))
        npt.assert_allclose(got.sel(quantile=0.1), np.minimum(low, point_sum), rtol=1e-9)
        npt.assert_allclose(got.sel(quantile=0.9), np.maximum(high, point_sum), rtol=1e-9)
    # dependent paths: the total's interval is narrower than the sum of the bottom intervals
    total = levels.sel(region="national", occupation="total")
    summed_widths = (bottom.sel(quantile=0.9) - bottom.sel(quantile=0.1)).sum(["region", "occupation"])
    assert ((total.sel(quantile=0.9) - total.sel(quantile=0.1)) < summed_widths).all()


def test_unobserved_bottom_series_stay_nan_and_out_of_the_totals():
    panel = make_panel(3)
    panel["job_offers"][:, 2, 4] = np.nan
    model = Reconciled(SeasonalNaive(), method="mint_shrink", residual_windows=6).fit(panel, "job_offers")
    bottom = model.predict(2).sel(quantile=0.5)
    assert np.isnan(bottom.sel(region="MA-08", occupation="23")).all()
    levels = model.predict_all_levels(2).sel(quantile=0.5)
    npt.assert_allclose(levels.sel(region="MA-08", occupation="total"),
                        bottom.sel(region="MA-08").sum("occupation"), rtol=1e-6)


def test_reconciled_is_nonnegative_and_clonable():
    from sklearn.base import clone

    panel = make_panel(4)
    model = Reconciled(Naive(), method="ols")
    copy = clone(model)
    assert copy.model is not model.model and copy.get_params()["method"] == "ols"
    forecast = copy.fit(panel, "job_offers").predict(3)
    assert (forecast >= 0).all()


def test_panel_without_major_groups_is_refused():
    panel = make_panel().drop_vars("occupation_major")
    with pytest.raises(P.PanelError, match="reconciliation needs the 'occupation_major' coordinate"):
        Reconciled(Naive()).fit(panel, "job_offers")
