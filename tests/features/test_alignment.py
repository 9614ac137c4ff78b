"""Tests of frequency alignment and region harmonisation (lmforecast.features.alignment)."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from lmforecast import panel as P
from lmforecast.errors import DataContractError
from lmforecast.features.alignment import HARMONISED_SUFFIX, align_series, harmonise_regions
from lmforecast.taxonomy.regions import region_crosswalk

REGIONS = ["MA-01", "MA-06"]
OCCUPATIONS = ["2512", "21"]


def long_table(rows) -> pd.DataFrame:
    """rows: (period start, freq, region, occupation, measure, value)."""
    frame = pd.DataFrame(rows, columns=["period", "freq", "region", "occupation", "measure", "value"])
    frame["period"] = pd.to_datetime(frame["period"])
    frame["value"] = frame["value"].astype(float)
    frame["source"] = "test"
    frame["row"] = np.arange(len(frame)) + 2
    frame.attrs["source_file"] = "demand.csv"
    return frame


def monthly(measure, values, region="MA-01", occupation="2512", start="2023-01"):
    months = pd.date_range(start, periods=len(values), freq="MS")
    return [(m, "MS", region, occupation, measure, v) for m, v in zip(months, values) if not np.isnan(v)]


def test_same_frequency_is_placed_as_is():
    values = [3.0, 5.0, 7.0, 11.0]
    ds = align_series(long_table(monthly("vacancies", values)), "MS", REGIONS, OCCUPATIONS)
    np.testing.assert_array_equal(ds["vacancies"].sel(region="MA-01", occupation="2512").values, values)
    assert np.isnan(ds["vacancies"].sel(region="MA-06").values).all()
    assert ds["vacancies"].dims == P.DIMS
    assert ds["vacancies"].attrs == {**P.measure_attrs("vacancies"), "native_freq": "MS"}
    assert ds.attrs["freq"] == "MS"


def test_monthly_flow_in_quarterly_panel_is_summed_and_incomplete_quarters_missing():
    values = [1, 2, 3, 4, np.nan, 6, 7, 8, 9]
    ds = align_series(long_table(monthly("hires", values)), "QS", REGIONS, OCCUPATIONS)
    series = ds["hires"].sel(region="MA-01", occupation="2512")
    np.testing.assert_array_equal(series.time.values, pd.date_range("2023-01", periods=3, freq="QS").values)
    np.testing.assert_array_equal(series.values, [6.0, np.nan, 24.0])


def test_monthly_stock_in_quarterly_panel_averages_when_half_present():
    values = [10, 20, 30, 40, np.nan, 60, 70, np.nan, np.nan]
    complete = monthly("vacancies", [1.0] * 9, region="MA-06")  # keeps Q3 on the time axis
    ds = align_series(long_table(monthly("vacancies", values) + complete), "QS", REGIONS, OCCUPATIONS)
    np.testing.assert_allclose(ds["vacancies"].sel(region="MA-01", occupation="2512").values, [20.0, 50.0, np.nan])
    alone = align_series(long_table(monthly("vacancies", values)), "QS", REGIONS, OCCUPATIONS)
    assert alone.sizes["time"] == 2  # the axis ends at the last period holding a value


def test_monthly_stock_in_annual_panel_needs_six_months():
    six = [1.0] * 6 + [np.nan] * 6
    five = [2.0] * 5 + [np.nan] * 7
    rows = monthly("vacancies", six, region="MA-01") + monthly("vacancies", five, region="MA-06")
    ds = align_series(long_table(rows), "YS", REGIONS, OCCUPATIONS)
    np.testing.assert_allclose(ds["vacancies"].sel(occupation="2512", time="2023-01-01").values, [1.0, np.nan])


def test_quarterly_series_in_monthly_panel_sits_on_last_month_only():
    rows = [("2023-01-01", "QS", "MA-01", "2512", "employment", 100.0),
            ("2023-04-01", "QS", "MA-01", "2512", "employment", 110.0)]
    ds = align_series(long_table(rows), "MS", REGIONS, OCCUPATIONS)
    series = ds["employment"].sel(region="MA-01", occupation="2512")
    expected = xr.DataArray([100.0, np.nan, np.nan, 110.0], dims="time",
                            coords={"time": pd.date_range("2023-03-01", periods=4, freq="MS")})
    xr.testing.assert_equal(series.drop_vars(["region", "occupation"]), expected)
    assert ds["employment"].attrs["native_freq"] == "QS"


def test_annual_flow_in_quarterly_panel_sits_on_q4_not_spread():
    rows = [("2022-01-01", "YS", "MA-06", "21", "hires", 400.0)]
    ds = align_series(long_table(rows), "QS", REGIONS, OCCUPATIONS)
    series = ds["hires"].sel(region="MA-06", occupation="21")
    np.testing.assert_array_equal(series.time.values, np.array(["2022-10-01"], dtype="datetime64[ns]"))
    np.testing.assert_array_equal(series.values, [400.0])


def test_native_freq_lists_every_frequency_of_a_measure():
    rows = monthly("hires", [1.0, 2.0, 3.0]) + [("2023-01-01", "QS", "MA-06", "21", "hires", 9.0)]
    ds = align_series(long_table(rows), "MS", REGIONS, OCCUPATIONS)
    assert ds["hires"].attrs["native_freq"] == "MS,QS"
    np.testing.assert_array_equal(ds["hires"].sel(region="MA-06", occupation="21").values, [np.nan, np.nan, 9.0])


def test_align_rejects_unharmonised_old_codes():
    rows = [("2014-01-01", "MS", "MA16-09", "2512", "hires", 1.0)]
    with pytest.raises(DataContractError, match=re.escape("file demand.csv, row 2, column 'region': got 'MA16-09', "
                                                          "expected one of the panel's region codes "
                                                          "(harmonise old 16-region codes first")):
        align_series(long_table(rows), "MS", REGIONS, OCCUPATIONS)


# --------------------------------------------------------------------------- harmonisation


def old_rows(codes, value_of, period="2014-01-01", measure="employment", occupation="2512"):
    return [(period, "MS", code, occupation, measure, value_of(code)) for code in codes]


def test_harmonise_allocates_with_population_weights_and_keeps_totals():
    crosswalk = region_crosswalk()
    old_codes = sorted(crosswalk["old_code"].unique())
    value_of = {code: 100.0 * (i + 1) for i, code in enumerate(old_codes)}.get
    new_rows = [("2015-01-01", "MS", "MA-01", "2512", "employment", 5.0)]
    table = long_table(old_rows(old_codes, value_of) + new_rows)
    out = harmonise_regions(table, crosswalk)
    harmonised = out[out["period"] == pd.Timestamp("2014-01-01")].set_index("region")
    assert len(harmonised) == 12
    expected = (crosswalk.assign(v=crosswalk["old_code"].map(value_of) * crosswalk["weight_old_to_new"])
                .groupby("new_code")["v"].sum())
    np.testing.assert_allclose(harmonised["value"].sort_index().to_numpy(), expected.sort_index().to_numpy())
    assert harmonised["value"].sum() == pytest.approx(sum(map(value_of, old_codes)))
    assert set(harmonised["source"]) == {"test" + HARMONISED_SUFFIX}
    untouched = out[out["period"] == pd.Timestamp("2015-01-01")]
    assert untouched["source"].tolist() == ["test"] and untouched["value"].tolist() == [5.0]
    assert out.attrs["harmonise_incomplete"] == []


def test_harmonise_leaves_out_new_regions_not_fully_covered():
    crosswalk = region_crosswalk()
    present = ["MA16-01", "MA16-02"]
    feeders = crosswalk[crosswalk["weight_old_to_new"] > 0].groupby("new_code")["old_code"].apply(set)
    covered = sorted(code for code, olds in feeders.items() if olds <= set(present))
    touched = sorted(crosswalk.loc[crosswalk["old_code"].isin(present), "new_code"].unique())
    assert covered and set(covered) < set(touched)  # the case is meaningful
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # recorded in attrs, not a warning: expected wherever data have gaps
        out = harmonise_regions(long_table(old_rows(present, lambda c: 10.0)), crosswalk)
    assert sorted(out["region"]) == covered
    assert sorted(r["region"] for r in out.attrs["harmonise_incomplete"]) == sorted(set(touched) - set(covered))


def test_harmonise_refuses_old_and_new_codes_for_the_same_period():
    rows = [("2014-01-01", "MS", "MA16-09", "2512", "employment", 1.0),
            ("2014-01-01", "MS", "MA-06", "2512", "employment", 2.0)]
    with pytest.raises(DataContractError, match=re.escape("file demand.csv, row 3, column 'region': got 'MA-06', "
                                                          "expected one region system per (period, occupation, "
                                                          "measure)") + r".*row 2 has old code 'MA16-09'"):
        harmonise_regions(long_table(rows), region_crosswalk())


def test_harmonise_without_old_codes_returns_an_equal_copy():
    table = long_table(monthly("hires", [1.0, 2.0]))
    out = harmonise_regions(table, region_crosswalk())
    pd.testing.assert_frame_equal(out, table)
    assert out is not table
