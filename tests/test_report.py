"""Tests of lmforecast.report: annual aggregation, projected gap, gap table, CSV output."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from lmforecast import report as R

REGIONS = ["MA-01", "MA-06"]
OCCUPATIONS = ["2512", "21", "unclassified"]


def forecast(values, start="2026-01-01", freq="MS", name="vacancies", aggregation="stock", extra=None):
    """A forecast DataArray (time, region, occupation[, extra dim]) with label coordinates."""
    values = np.asarray(values, dtype=float)
    time = pd.date_range(start, periods=values.shape[0], freq=freq)
    dims = ["time", "region", "occupation"] + ([extra[0]] if extra else [])
    coords = {"time": time, "region": REGIONS, "occupation": OCCUPATIONS,
              "region_name": ("region", ["Tanger-Tetouan-Al Hoceima", "Casablanca-Settat"]),
              "occupation_name": ("occupation", ["Software developers", "Science professionals", "Unclassified"])}
    if extra:
        coords[extra[0]] = extra[1]
    return xr.DataArray(values, dims=dims, coords=coords, name=name,
                        attrs={"aggregation": aggregation, "units": "persons"})


def monthly_ramp(n_months=24, scale=1.0):
    months = np.arange(n_months, dtype=float)
    values = scale * (10 + months)[:, None, None] * np.ones((1, 2, 3))
    values[:, :, 2] = np.nan  # unclassified: no demand or supply
    return values


def test_annual_sums_flows_and_averages_stocks():
    values = monthly_ramp(24)
    flow = R.annual(forecast(values, aggregation="flow"), "flow", "MS")
    stock = R.annual(forecast(values), "stock", "MS")
    assert flow["year"].values.tolist() == [2026, 2027]
    np.testing.assert_allclose(flow.sel(region="MA-01", occupation="2512").values,
                               [sum(range(10, 22)), sum(range(22, 34))])
    np.testing.assert_allclose(stock.sel(region="MA-01", occupation="2512").values,
                               [np.mean(range(10, 22)), np.mean(range(22, 34))])


def test_annual_missing_period_gives_nan_not_partial_sum():
    values = monthly_ramp(12)
    values[5, 0, 0] = np.nan
    out = R.annual(forecast(values, aggregation="flow"), "flow", "MS")
    assert np.isnan(out.sel(region="MA-01", occupation="2512").item())
    assert out.sel(region="MA-06", occupation="2512").item() == sum(range(10, 22))


def test_annual_rejects_incomplete_year():
    values = monthly_ramp(18)
    with pytest.raises(ValueError, match=re.escape("year 2027 has 6 of its 12 periods")):
        R.annual(forecast(values), "stock", "MS", years=[2026, 2027])


def test_projected_gap_point_forecasts():
    demand = forecast(monthly_ramp(24, 2.0))
    supply = forecast(monthly_ramp(24, 1.5), name="jobseekers")
    gap = R.projected_gap(demand, supply, freq="MS", years=[2026, 2027])
    cell = gap.sel(year=2026, region="MA-06", occupation="21")
    mean_level = np.mean(range(10, 22))
    np.testing.assert_allclose(cell["demand"], 2.0 * mean_level)
    np.testing.assert_allclose(cell["gap"], 0.5 * mean_level)
    np.testing.assert_allclose(cell["gap_ratio"], 0.25)
    assert "gap_quantiles" not in gap
    assert gap.attrs["demand_measure"] == "vacancies" and gap.attrs["supply_measure"] == "jobseekers"


def test_gap_ratio_is_masked_where_demand_is_negligible():
    demand = forecast(np.full((12, 2, 3), 0.02))
    supply = forecast(np.full((12, 2, 3), 40.0), name="jobseekers")
    gap = R.projected_gap(demand, supply, freq="MS", years=[2026])
    np.testing.assert_allclose(gap["gap"], 0.02 - 40.0)
    assert bool(gap["gap_ratio"].isnull().all())
    lenient = R.projected_gap(demand, supply, freq="MS", years=[2026], min_demand_for_ratio=0.01)
    np.testing.assert_allclose(lenient["gap_ratio"], (0.02 - 40.0) / 0.02)


def test_projected_gap_uses_median_of_quantile_forecast():
    base = monthly_ramp(12)
    demand = forecast(np.stack([base - 5, base, base + 5], axis=-1), extra=("quantile", [0.1, 0.5, 0.9]))
    supply = forecast(np.zeros((12, 2, 3)), name="jobseekers")
    gap = R.projected_gap(demand, supply, freq="MS")
    np.testing.assert_allclose(gap["gap"].sel(region="MA-01", occupation="2512").values, [np.mean(range(10, 22))])


def test_gap_quantiles_come_from_joint_paths():
    rng = np.random.default_rng(3)
    n_paths = 400
    demand_paths = forecast(rng.normal(100, 10, (12, 2, 3, n_paths)), extra=("path", np.arange(n_paths)))
    supply_paths = forecast(rng.normal(80, 5, (12, 2, 3, n_paths)), name="jobseekers", extra=("path", np.arange(n_paths)))
    demand_point = forecast(np.full((12, 2, 3), 100.0))
    supply_point = forecast(np.full((12, 2, 3), 80.0), name="jobseekers")
    gap = R.projected_gap(demand_point, supply_point, freq="MS", years=[2026],
                          demand_paths=demand_paths, supply_paths=supply_paths)
    annual_gap = (demand_paths - supply_paths).mean("time").sel(region="MA-01", occupation="21")
    expected = np.quantile(annual_gap.values, [0.1, 0.5, 0.9])
    np.testing.assert_allclose(gap["gap_quantiles"].sel(year=2026, region="MA-01", occupation="21").values, expected)
    np.testing.assert_allclose(gap["gap"].sel(year=2026, region="MA-01", occupation="21"), 20.0)


def test_paths_only_point_is_path_median():
    paths = np.arange(5, dtype=float)[None, None, None, :] * np.ones((12, 2, 3, 1))
    demand = forecast(paths + 10, extra=("path", np.arange(5)))
    supply = forecast(paths, name="jobseekers", extra=("path", np.arange(5)))
    gap = R.projected_gap(demand, supply, freq="MS")
    np.testing.assert_allclose(gap["demand"].sel(region="MA-01", occupation="21"), [12.0])
    np.testing.assert_allclose(gap["gap_quantiles"].sel(region="MA-01", occupation="21").values, [[10.0, 10.0, 10.0]])


def test_projected_gap_rejects_mismatched_labels():
    demand = forecast(monthly_ramp(12))
    supply = forecast(monthly_ramp(12), name="jobseekers").assign_coords(region=["MA-01", "MA-09"])
    with pytest.raises(ValueError, match="demand and supply disagree on 'region' labels"):
        R.projected_gap(demand, supply, freq="MS")


def test_projected_gap_needs_aggregation():
    demand = forecast(monthly_ramp(12), name="mystery")
    demand.attrs.pop("aggregation")
    with pytest.raises(ValueError, match=re.escape("cannot tell how to aggregate the demand forecast 'mystery'")):
        R.projected_gap(demand, forecast(monthly_ramp(12), name="jobseekers"), freq="MS")


def test_gap_table_columns_names_and_dropped_empty_cells():
    rng = np.random.default_rng(1)
    n_paths = 50
    demand = forecast(monthly_ramp(12, 2.0))
    supply = forecast(monthly_ramp(12), name="jobseekers")
    paths = forecast(rng.normal(10, 1, (12, 2, 3, n_paths)), extra=("path", np.arange(n_paths)))
    table = R.gap_table(R.projected_gap(demand, supply, freq="MS", demand_paths=paths, supply_paths=paths))
    assert list(table.columns) == ["year", "region", "region_name", "occupation", "occupation_name", "demand",
                                   "supply", "gap", "gap_ratio", "gap_q10", "gap_q50", "gap_q90"]
    assert "unclassified" not in set(table["occupation"])  # no demand and no supply there
    assert len(table) == 4
    row = table[(table.region == "MA-06") & (table.occupation == "2512")].iloc[0]
    assert row["region_name"] == "Casablanca-Settat" and row["occupation_name"] == "Software developers"
    assert row["gap"] == pytest.approx(row["demand"] - row["supply"])
    kept = R.gap_table(R.projected_gap(demand, supply, freq="MS"), dropna=False)
    assert len(kept) == 6


def test_write_gap_report_csv_round_trip(tmp_path):
    table = R.gap_table(R.projected_gap(forecast(monthly_ramp(12, 2.0)),
                                        forecast(monthly_ramp(12), name="jobseekers"), freq="MS"))
    (path,) = R.write_gap_report(table, tmp_path / "reports", name="gap_morocco")
    assert path == tmp_path / "reports" / "gap_morocco.csv"
    back = pd.read_csv(path, dtype={"region": str, "occupation": str, "region_name": str, "occupation_name": str})
    pd.testing.assert_frame_equal(back, table, check_dtype=False)
    assert [p.name for p in (tmp_path / "reports").iterdir()] == ["gap_morocco.csv"]  # no temp file left


def test_write_gap_report_rejects_unsupported_format_before_writing(tmp_path):
    table = pd.DataFrame({"year": [2026]})
    with pytest.raises(ValueError, match=re.escape("report formats ['xlsx'] are not supported yet")):
        R.write_gap_report(table, tmp_path, formats=["csv", "xlsx"])
    assert not any(tmp_path.iterdir())


def test_compare_with_truth():
    table = pd.DataFrame({"year": [2026, 2026], "region": ["MA-01", "MA-06"], "occupation": ["21", "21"],
                          "gap": [10.0, -4.0], "gap_q10": [5.0, -10.0], "gap_q90": [15.0, -6.0]})
    truth = pd.DataFrame({"year": [2026, 2026, 2027], "region": ["MA-01", "MA-06", "MA-01"],
                          "occupation": ["21", "21", "21"], "gap": [12.0, -2.0, 0.0]})
    merged = R.compare_with_truth(table, truth)
    np.testing.assert_allclose(merged["error"], [-2.0, -2.0])
    assert merged["inside_80"].tolist() == [True, False]
    with pytest.raises(ValueError, match="truth table lacks columns"):
        R.compare_with_truth(table, truth.drop(columns="gap"))
