"""Smoke test of benchmarks/bench_forecast.py: the quick-mode logic on a tiny synthetic panel.

Runs in-process (no subprocesses), without the peers unless they are installed; no timing
assertions -- only that every model is scored on the same cells with lmforecast's metrics and
the results files are written.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lmforecast.backtest import RollingOriginSplitter, backtest
from lmforecast.metrics import evaluate
from lmforecast.models.baselines import Naive

SPLITTER = dict(horizon=6, step=6, n_windows=2)


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("bench_forecast")


@pytest.fixture(scope="module")
def tiny_panel(bench):
    return bench.synthetic_panel(n_regions=2, n_occupations=3, n_months=60, seed=1)


def test_synthetic_panel_is_seeded_and_positive(bench):
    a = bench.synthetic_panel(2, 3, 30, seed=4)
    b = bench.synthetic_panel(2, 3, 30, seed=4)
    np.testing.assert_array_equal(a["job_offers"].values, b["job_offers"].values)
    assert a.sizes == {"time": 30, "region": 2, "occupation": 3}
    assert (a["job_offers"].values > 0).all()


def test_quick_run_scores_every_model_and_writes_results(bench, tiny_panel, tmp_path):
    models = ["lmf_naive", "lmf_ridge", "lmf_lightgbm_mlf_features", "lmf_recommended"]
    out = tmp_path / "bench_forecast_quick.json"
    payload = bench.run(models, out, quick=True, isolate=False, panel=tiny_panel, splitter_params=SPLITTER)
    saved = json.loads(out.read_text())
    assert out.with_suffix(".md").read_text().startswith("# bench_forecast (quick)")
    assert [r["model"] for r in saved["models"]] == models
    assert saved["protocol"]["cutoffs"] == ["2014-12", "2015-06"]
    for record in payload["models"]:
        assert "error" not in record, record.get("error")
        assert np.isfinite(record["mase"]) and record["mase"] > 0
        assert 0.0 <= record["coverage_80"] <= 1.0
        assert [f["cutoff"] for f in record["per_fold"]] == ["2014-12", "2015-06"]
    # the benchmark's naive MASE is lmforecast.metrics on a plain backtest of the same folds
    direct = backtest(Naive(), tiny_panel, "job_offers", RollingOriginSplitter(**SPLITTER),
                      quantiles=(0.1, 0.5, 0.9), point_in_time=False, progress=False)
    expected = evaluate(direct, metrics=["mase"])["value"].iloc[0]
    naive = next(r for r in payload["models"] if r["model"] == "lmf_naive")
    assert naive["mase"] == pytest.approx(round(float(expected), 4))


def test_peer_cube_round_trip_and_missing_cells(bench, tiny_panel):
    splitter = RollingOriginSplitter(**SPLITTER)
    reference = bench._reference_cube(tiny_panel, splitter)
    point = reference["forecast"]
    frame = point.to_dataframe(name="value").reset_index()
    wide = frame.pivot_table(index=["cutoff", "horizon", "region", "occupation"], columns="quantile",
                             values="value").reset_index()
    wide["ds"] = [pd.Timestamp(c) + pd.DateOffset(months=int(h)) for c, h in zip(wide["cutoff"], wide["horizon"])]
    wide["unique_id"] = wide["region"] + "|" + wide["occupation"]
    actual = reference["actual"].to_dataframe().reset_index()
    wide = wide.merge(actual[["cutoff", "horizon", "region", "occupation", "actual"]],
                      on=["cutoff", "horizon", "region", "occupation"])
    cv = pd.DataFrame({"unique_id": wide["unique_id"], "ds": wide["ds"], "cutoff": wide["cutoff"],
                       "y": wide["actual"], "Peer": wide[0.5], "Peer-lo-80": wide[0.1], "Peer-hi-80": wide[0.9]})
    cube = bench.peer_cube(cv, "Peer", reference, "peer")
    np.testing.assert_allclose(cube["forecast"].values, reference["forecast"].values)
    with pytest.raises(ValueError, match=r"peer: 3 forecast cells missing"):
        bench.peer_cube(cv.iloc[1:], "Peer", reference, "peer")
    wrong = cv.assign(y=cv["y"] + 1.0)
    with pytest.raises(ValueError, match="the peer's actual values differ"):
        bench.peer_cube(wrong, "Peer", reference, "peer")


def test_peers_forecast_like_lmforecast_naive(bench, tiny_panel):
    if not bench.peer_available("statsforecast"):
        pytest.skip("statsforecast (the 'bench' extra) is not installed: peers are optional")
    ds, records, _ = bench.benchmark(tiny_panel, ["lmf_naive", "sf_naive"], SPLITTER, isolate=False,
                                     log=lambda message: None)
    np.testing.assert_allclose(ds["forecast"].sel(model="sf_naive", quantile=0.5).values,
                               ds["forecast"].sel(model="lmf_naive", quantile=0.5).values, rtol=1e-6)
    mase = {r["model"]: r["mase"] for r in records}
    assert mase["sf_naive"] == pytest.approx(mase["lmf_naive"], rel=1e-4)


def test_targets_report_unmet_targets_honestly(bench):
    records = [
        {"model": "lmf_recommended", "library": "lmforecast", "mase": 1.0, "coverage_80": 0.70, "wall_s": 50.0,
         "cpu_s": 50.0},
        {"model": "sf_autoets", "library": "statsforecast", "mase": 1.01, "coverage_80": 0.8, "wall_s": 40.0,
         "cpu_s": 40.0},
    ]
    result = bench.targets(records)
    assert result["mase_3pct_below_best_peer"]["met"] is False
    assert result["mase_3pct_below_best_peer"]["threshold"] == pytest.approx(0.9797)
    assert result["coverage_80_in_75_85"]["met"] is False
    assert result["faster_than_autoets"]["met"] is False


def test_panel_sets_run_reports_each_set_against_naive(bench, tiny_panel, tmp_path):
    """The --long / --short protocol: one table and one target check per panel, MASE relative to naive."""
    out = tmp_path / "bench_forecast_short.json"
    payload = bench.long_run(out, ["lmf_naive", "lmf_recommended"], isolate=False, sets={"tiny": (None, SPLITTER)},
                             title="bench_forecast --short: test", panels={"tiny": (tiny_panel, "job_offers")})
    records = {r["model"]: r for r in payload["sets"]["tiny"]["models"]}
    assert records["lmf_naive"]["mase_vs_naive"] == 1.0
    assert records["lmf_recommended"]["mase_vs_naive"] == pytest.approx(
        records["lmf_recommended"]["mase"] / records["lmf_naive"]["mase"], abs=1e-3)
    assert payload["targets"]["tiny"]["coverage_80_in_75_85"]["coverage_80"] == records["lmf_recommended"]["coverage_80"]
    text = out.with_suffix(".md").read_text()
    assert text.startswith("# bench_forecast --short: test") and "## tiny:" in text and "Targets:" in text
    assert json.loads(out.read_text())["benchmark"] == "bench_forecast --short"


def test_bound_scores_each_model_alone_and_the_hindsight_best(bench, tiny_panel, tmp_path):
    """--bound: naive is 1.0, the hindsight best single model is the lowest row, the pair is reported."""
    out = tmp_path / "bench_forecast_bound.json"
    last = f"{tiny_panel.indexes['time'][-7]:%Y-%m-%d}"
    payload = bench.bound(out, sets={"tiny": (None, {**SPLITTER, "last_cutoff": last})},
                          panels={"tiny": (tiny_panel, "job_offers")})
    result = payload["sets"]["tiny"]
    rows = {r["model"]: r for r in result["models"]}
    assert rows["naive"]["mase_vs_naive_5y"] == 1.0 and rows["naive"]["by_horizon_year"] == [1.0]
    assert set(bench.BOUND_EXTRAS) <= set(rows) and {"trend", "fixed_share"} <= set(rows)
    assert result["hindsight_best_single"]["mase_vs_naive_5y"] == min(r["mase_vs_naive_5y"] for r in rows.values())
    assert len(result["hindsight_best_pair"]["models"]) == 2 and len(result["cutoffs"]) == 2
    # shrink_to_mean sits between naive and the historical mean (MAE is convex in the forecast)
    blend = rows["shrink_to_mean"]["mase_vs_naive_5y"]
    assert blend <= 0.75 * 1.0 + 0.25 * rows["historical_mean"]["mase_vs_naive_5y"] + 1e-3
    assert out.with_suffix(".md").read_text().startswith("# bench_forecast --bound")


def test_with_gaps_masks_the_panel_like_the_gappy_grain(bench, tiny_panel):
    """``with_gaps``: the same cells missing as bench_grains' ``gappy`` removes, the rest unchanged."""
    gappy = bench.with_gaps(tiny_panel, "job_offers")
    before, after = tiny_panel["job_offers"], gappy["job_offers"]
    assert after.dims == before.dims and after.shape == before.shape
    kept = after.notnull()
    assert 0.5 < float(kept.mean()) < 1.0
    np.testing.assert_array_equal(after.values[kept.values], before.values[kept.values])
    np.testing.assert_array_equal(bench.with_gaps(tiny_panel, "job_offers")["job_offers"].values, after.values)


def test_selection_rule_skips_series_stale_at_the_origins_unless_told(bench):
    """``evaluate_rule(current_only=...)``: a candidate that beats naive only on stale series is chosen
    when they are scored, not when they are left out (as AutoForecaster does by default)."""
    rng = np.random.default_rng(0)
    n_series, n_time, horizon = 8, 60, 12
    y = 100 + np.cumsum(rng.normal(0, 1, (n_series, n_time)), axis=1)
    lengths = np.array([24, 36, 48])                               # three origins: min_origins
    y[:4, lengths - 1] = np.nan                                    # half the series stale at every origin
    actual = np.stack([y[:, n:n + horizon] for n in lengths], axis=1)
    naive = np.stack([np.repeat(y[:, n - 2:n - 1], horizon, axis=1) for n in lengths], axis=1)
    better = np.where(np.arange(n_series)[:, None, None] < 4, actual + 0.01, naive)   # exact where stale
    future = 100 + np.cumsum(rng.normal(0, 1, (n_series, horizon)), axis=1)
    fold = {"inner": {"naive": naive, "alt": better}, "actual": actual, "y": y, "lengths": lengths,
            "final": {"naive": np.repeat(y[:, -1:], horizon, axis=1), "alt": future}, "future": future}
    data = {"season": 12, "horizon": horizon, "folds": [fold] * 3}
    scored = bench.evaluate_rule(data, 0.02, 0.8, 0.05, 1, current_only=False)
    skipped = bench.evaluate_rule(data, 0.02, 0.8, 0.05, 1, current_only=True)
    assert skipped["short"] == 1.0            # nothing beats naive on the current series: naive
    assert scored["short"] < 1.0              # "alt" chosen (its final forecast is the future itself)
