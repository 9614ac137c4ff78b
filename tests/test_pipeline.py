"""Tests of the library pipeline (lmforecast.pipeline) with plain arguments, no Hydra."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from lmforecast import panel as P
from lmforecast import pipeline
from lmforecast.backtest import RollingOriginSplitter
from lmforecast.datasets import SyntheticMorocco
from lmforecast.errors import ConfigError
from lmforecast.io import read_netcdf
from lmforecast.models.baselines import Naive, SeasonalNaive


@pytest.fixture(scope="module")
def tiny_source(tmp_path_factory):
    """Synthetic Morocco, 2023-01 .. 2025-06 (the panel does not end in December), few job ads."""
    return SyntheticMorocco(tmp_path_factory.mktemp("raw") / "tiny", start="2023-01", end="2025-06",
                            truth_end="2027-12", n_offers_scale=0.01)


@pytest.fixture(scope="module")
def tiny_run(tiny_source, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    result = pipeline.run(
        tiny_source, {"seasonal_naive": SeasonalNaive(), "naive": Naive()}, ["vacancies", "jobseekers"],
        pipeline.BacktestPlan(RollingOriginSplitter(horizon=6, step=6, n_windows=1), metrics=("mase", "wape")),
        pipeline.ReportPlan(years=(2026,), n_paths=20), data_name="tiny", out_dir=out,
        panel_path=out / "panel.nc", truth_path=f"{tiny_source.raw_dir}/truth/report_truth.csv", seed=3)
    return result, out


def test_run_writes_every_output_and_returns_them(tiny_run):
    result, out = tiny_run
    assert result.backtest.scores().index.tolist() == ["seasonal_naive", "naive"]
    assert result.backtest.scores().columns.tolist() == ["vacancies", "jobseekers"]
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(result.metrics, default=str))
    assert {"vacancies/seasonal_naive/mase", "jobseekers/naive/wape", "report_truth/sign_accuracy",
            "report_truth/coverage_80"} \
        <= set(on_disk)
    assert "run_id" not in on_disk  # untracked
    cube = read_netcdf(out / "backtests" / "vacancies" / "naive.nc")
    assert cube["forecast"].dtype == np.float32  # stored small; metrics came from the float64 cube
    # kept to pipeline.CUBE_DECIMALS decimals of the unit (netCDF quantisation: within 10^-2 of the value)
    xr.testing.assert_allclose(cube["forecast"], result.backtest.cubes["vacancies"]["naive"]["forecast"]
                               .astype(np.float32), rtol=0, atol=10.0 ** -pipeline.CUBE_DECIMALS)
    assert (out / "reports" / "skill_gap_tiny.csv").exists() and sorted(result.report.table["year"].unique()) == [2026]


def test_run_forecasts_to_the_end_of_the_last_report_year(tiny_run):
    result, out = tiny_run
    assert result.panel.indexes[P.TIME][-1] == pd.Timestamp("2025-06-01")
    assert result.projection.horizon == 18  # 2025-07 .. 2026-12, whatever month the panel ends in
    forecast = read_netcdf(out / "forecast.nc")
    assert forecast.indexes[P.TIME][-1] == pd.Timestamp("2026-12-01")
    assert not [v for v in forecast.data_vars if str(v).endswith("_paths")]  # paths not stored by default
    assert "employment_paths" in result.projection.forecast  # but used for the report's intervals
    assert {"gap_q10", "gap_q90"} <= set(result.report.table.columns)


def test_run_summary_names_the_top_shortages_and_the_files(tiny_run):
    result, out = tiny_run
    lines = result.summary.splitlines()
    mase = result.backtest.scores()
    assert lines[0] == (f"backtest MASE of seasonal_naive: vacancies {mase.loc['seasonal_naive', 'vacancies']:.3g}, "
                        f"jobseekers {mase.loc['seasonal_naive', 'jobseekers']:.3g}  (vs naive: vacancies "
                        f"{mase.loc['naive', 'vacancies']:.3g}, jobseekers {mase.loc['naive', 'jobseekers']:.3g})")
    assert lines[1].startswith("top 5 shortages nationally, 2026-2026") and lines[1].count("(P ") == 5
    assert lines[2] == (f"skill-gap report: {out / 'reports'}/ (skill_gap_tiny.parquet, skill_gap_tiny.csv, "
                        "skill_gap_tiny_cumulative.csv, skill_gap_tiny.xlsx, skill_gap_tiny.html)")
    assert lines[3] == "MLflow: tracking off (tracking=none)" and len(lines) == 4


def test_stages_one_by_one_match_the_run(tiny_run, tiny_source, tmp_path):
    result, _ = tiny_run
    panel = pipeline.load_panel(tiny_source, tmp_path / "panel.nc")
    assert (tmp_path / "panel.nc").exists()
    plan = pipeline.ReportPlan(years=(2026,), n_paths=20)
    projection = pipeline.project(SeasonalNaive(), panel, ["vacancies", "jobseekers"], plan, seed=3)
    xr.testing.assert_identical(projection.forecast["vacancies"], result.projection.forecast["vacancies"])
    gap = pipeline.report(projection.forecast, plan, out_dir=tmp_path, name="gap")
    pd.testing.assert_frame_equal(gap.table, result.report.table)


def test_forecast_with_paths_kept_stores_them_as_float32(tiny_run, tmp_path):
    result, _ = tiny_run
    path = pipeline.write_forecast(result.projection.forecast, tmp_path / "f.nc", keep_paths=True)
    stored = read_netcdf(path)
    assert stored["employment_paths"].dtype == np.float32 and stored["vacancies"].dtype == np.float32
    for name in ("vacancies", "employment_paths"):  # 0.01 of a person (netCDF quantisation), like the cubes
        xr.testing.assert_allclose(stored[name], result.projection.forecast[name].astype(np.float32), rtol=0,
                                   atol=10.0 ** -pipeline.CUBE_DECIMALS)


def test_report_years_before_the_data_end_are_a_config_error(tiny_run):
    result, _ = tiny_run
    with pytest.raises(ConfigError, match=r"report years \[2024\] end before the panel's last period 2025-06"):
        pipeline.forecast_horizon(result.panel, [2024])


def test_backtest_that_does_not_fit_the_panel_is_a_config_error(tiny_run):
    result, _ = tiny_run
    plan = pipeline.BacktestPlan(RollingOriginSplitter(horizon=12, step=12, n_windows=5))
    with pytest.raises(ConfigError, match=r"the backtest settings do not fit the panel \(30 periods, 2023-01 to "
                                          r"2025-06\)"):
        pipeline.backtest({"naive": Naive()}, result.panel, ["vacancies"], plan)


def test_run_without_report_forecasts_the_five_year_backtest_horizon(tiny_source, tmp_path):
    """horizon=None means five years at the panel frequency: the forecast runs 60 months ahead."""
    splitter = RollingOriginSplitter(horizon=None, n_windows=2, step=3, initial=12, min_test=3, partial=True)
    result = pipeline.run(tiny_source, {"naive": Naive()}, ["vacancies"], pipeline.BacktestPlan(splitter, metrics=("mase",)),
                          None, data_name="tiny", out_dir=tmp_path)
    assert result.projection.horizon == 60
    assert result.projection.forecast.indexes[P.TIME][-1] == pd.Timestamp("2030-06-01")
    assert result.report is None and result.backtest.cubes["vacancies"]["naive"].sizes[P.HORIZON] == 60
