"""Tests of the panel contract (lmforecast.panel)."""

import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from lmforecast import panel as P
from lmforecast.errors import PanelError


def make_panel(n_time=24, regions=("MA-01", "MA-06"), occupations=("2512", "21", "61"), seed=0):
    rng = np.random.default_rng(seed)
    time = pd.date_range("2020-01-01", periods=n_time, freq="MS")
    values = rng.poisson(50, size=(n_time, len(regions), len(occupations))).astype(float)
    values[3, 0, 1] = np.nan
    ds = xr.Dataset(
        {"job_offers": (P.DIMS, values, P.measure_attrs("job_offers"))},
        coords={
            P.TIME: time,
            P.REGION: list(regions),
            P.OCCUPATION: list(occupations),
            P.REGION_NAME: (P.REGION, [f"Region {r}" for r in regions]),
            P.OCCUPATION_NAME: (P.OCCUPATION, [f"Occ {o}" for o in occupations]),
            P.OCCUPATION_MAJOR: (P.OCCUPATION, [o[0] for o in occupations]),
        },
        attrs={"freq": "MS", "country": "MA", "provenance_inputs": {"offers.csv": "ab" * 32}},
    )
    return ds


def test_validate_accepts_contract_panel():
    ds = make_panel()
    assert P.validate(ds, require=("job_offers",)) is ds


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda ds: ds.drop_vars("job_offers").assign(x=(("time", "region"), np.zeros((24, 2)))),
         "variable 'x' has dims"),
        (lambda ds: ds.assign_attrs(freq=None), "attrs['freq'] is missing"),
        (lambda ds: ds.assign_attrs(freq="W"), "unsupported panel frequency 'W'"),
        (lambda ds: ds.isel(time=[0, 1, 3]), "not regular at freq 'MS'"),
        (lambda ds: ds.assign(job_offers=ds.job_offers.astype(int)), "expected a float dtype"),
    ],
)
def test_validate_rejects_broken_panels(mutate, message):
    with pytest.raises(PanelError, match=re.escape(message)):
        P.validate(mutate(make_panel()))


def test_validate_names_missing_variable():
    with pytest.raises(PanelError, match=re.escape("panel lacks variable 'jobseekers'")):
        P.validate(make_panel(), require=("jobseekers",))


def test_stack_unstack_round_trip():
    ds = make_panel()
    stacked = P.stack_series(ds.job_offers)
    assert stacked.dims[0] == P.SERIES
    assert stacked.sizes[P.SERIES] == 6
    back = P.unstack_series(stacked, template=ds)
    xr.testing.assert_identical(back.drop_vars([c for c in back.coords if c not in back.dims]),
                                ds.job_offers.drop_vars([c for c in ds.job_offers.coords if c not in ds.job_offers.dims]))


def test_write_read_round_trip_identical(tmp_path):
    ds = make_panel()
    path = P.write_panel(ds, tmp_path / "panel.nc")
    back = P.read_panel(path)
    expected = ds.copy()
    expected.attrs["provenance_inputs"] = '{"offers.csv": "' + "ab" * 32 + '"}'
    xr.testing.assert_identical(back, expected)
    assert P.provenance(back)["inputs"] == {"offers.csv": "ab" * 32}
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_write_panel_failure_leaves_no_file(tmp_path):
    ds = make_panel().assign_attrs(freq="W")
    with pytest.raises(PanelError):
        P.write_panel(ds, tmp_path / "panel.nc")
    assert list(tmp_path.iterdir()) == []


def test_national_total_and_major_groups_add_up():
    ds = make_panel()
    national = P.national_total(ds.job_offers)
    np.testing.assert_allclose(national.sum(), ds.job_offers.sum())
    majors = P.major_group_totals(ds.job_offers)
    assert set(majors[P.OCCUPATION].values) == {"2", "6"}
    np.testing.assert_allclose(majors.sum(), ds.job_offers.sum())
    # all-missing stays missing, it never becomes 0
    ds2 = ds.copy(deep=True)
    ds2["job_offers"][:, :, 0] = np.nan
    assert np.isnan(P.national_total(ds2.job_offers).sel(occupation="2512")).all()


def test_season_length():
    assert P.season_length("MS") == 12
    assert P.season_length("QS") == 4
    assert P.season_length("YS") == 1
