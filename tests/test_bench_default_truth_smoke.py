"""benchmarks/bench_default_truth.py: its scores on a small panel with a made-up truth (no default data, no timing)."""

from __future__ import annotations


import numpy as np
import pytest



@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("bench_default_truth")


def test_scores_a_forecast_against_a_truth_it_misses_by_a_known_amount(bench):
    from lmforecast.datasets.example_country import example_panel
    from lmforecast.models.baselines import Naive

    panel = example_panel()                                   # monthly, 2016-01..2025-12
    point = Naive(uncertainty="none").fit(panel, "vacancies").predict(60, (0.5,)).sel(quantile=0.5, drop=True)
    # a truth 25 % above the forecast in every cell and month: -20 % nationally, every cell "up" by 25 %
    frame = point.to_series().rename("value").reset_index()
    truth = frame.assign(value=frame["value"] * 1.25, measure="vacancies")
    result = bench.score(point, panel, truth, "vacancies")
    assert result["national_error_pct"] == [-20.0] * 5
    # the five-year change is measured from the last observed year's mean: naive's flat forecast (the
    # last month) has the truth's sign where both sit on the same side of that mean
    mean = panel["vacancies"].isel(time=slice(-12, None)).mean("time").to_series()
    level = point.isel(time=-1).to_series()
    true_change, forecast_change = 1.25 * level / mean - 1, level / mean - 1
    moved = (true_change.abs() > 0.10) & (mean > 0)
    assert result["cells_moved"] == int(moved.sum()) > 0
    assert result["sign_right"] == pytest.approx(float((np.sign(true_change) == np.sign(forecast_change))[moved].mean()))
    assert all(np.isfinite(result["cell_mase_by_year"])) and result["cell_mase_by_year"][0] > 0
