"""Tests for lmforecast.datasets.au_ivi on the real JSA Internet Vacancy Index workbook."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from lmforecast import panel as P
from lmforecast.datasets.au_ivi import DEFAULT_FILENAME, STATES, load_au_ivi
from lmforecast.errors import DataContractError
from lmforecast.io import sha256_file

IVI_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "au-ivi"
IVI_PATH = IVI_DIR / DEFAULT_FILENAME

needs_ivi = pytest.mark.skipif(not IVI_PATH.is_file(),
                               reason=f"shared data folder absent: {IVI_DIR}")


@pytest.fixture(scope="module")
def sa_level3():
    """Seasonally adjusted sheet at level 3, with the national rows (loaded once: ~1 s)."""
    return load_au_ivi(IVI_PATH, return_national=True)


@pytest.fixture(scope="module")
def sa_level2():
    return load_au_ivi(IVI_PATH, level=2, return_national=True)


@pytest.mark.shared_data
@needs_ivi
class TestRealWorkbook:
    def test_shape_coords_and_attrs(self, sa_level3):
        panel, national = sa_level3
        assert panel.job_offers.dims == P.DIMS
        assert panel.job_offers.shape == (229, 8, 48)
        assert list(panel.region.values) == list(STATES)
        assert "AUST" not in panel.region.values
        assert list(national.region.values) == ["AUST"]
        assert panel.time.values[0] == np.datetime64("2006-01-01")
        assert panel.time.values[-1] == np.datetime64("2025-01-01")
        assert panel.attrs["freq"] == "MS" and panel.attrs["country"] == "AU"
        assert json.loads(panel.attrs["provenance_inputs"]) == {IVI_PATH.name: sha256_file(IVI_PATH)}
        assert panel.job_offers.attrs["aggregation"] == "flow"
        assert panel.job_offers.attrs["units"] == "job ads per month"
        assert panel.job_offers.dtype == np.float64
        # ANZSCO codes are strings ('2A' sits beside '26'); majors are the first digit
        ict = panel.sel(occupation="26")
        assert str(ict.occupation_name.values) == "ICT Professionals"
        assert str(ict.occupation_major.values) == "2" and str(ict.occupation_parent.values) == "2"
        assert str(panel.sel(occupation="2A").occupation_major.values) == "2"
        assert set(panel.occupation_major.values) == {str(m) for m in range(1, 9)}
        assert str(panel.region_name.sel(region="NSW").values) == "New South Wales"

    def test_first_cells_match_workbook(self, sa_level3):
        panel, national = sa_level3
        # values read straight from the sheet (row 'AUST, 11' and 'ACT, 89', first months)
        assert national.job_offers.sel(region="AUST", occupation="11").values[:2] == pytest.approx(
            [502.921, 483.928])
        assert panel.job_offers.sel(region="ACT", occupation="89").values[1:3] == pytest.approx(
            [84.913, 111.857])

    def test_validate_passes_and_no_missing(self, sa_level3):
        panel, national = sa_level3
        P.validate(panel, require=("job_offers",))
        P.validate(national, require=("job_offers",))
        assert int(panel.job_offers.isnull().sum()) == 0  # this release has no gaps
        assert float(panel.job_offers.min()) >= 0

    def test_states_add_up_to_national(self, sa_level3):
        """SA series are adjusted separately, so states only roughly add up to AUST.

        Measured on the January 2025 release: max relative gap 0.129 (occupation 12, 2007-09,
        a small series) and median 0.005 at level 3; 0.0105 at the all-occupations level.
        """
        panel, national = sa_level3
        states_sum = P.national_total(panel.job_offers)
        aust = national.job_offers.isel(region=0, drop=True)
        relative = np.abs(states_sum - aust) / aust
        assert float(relative.max()) < 0.14
        assert float(relative.median()) < 0.01

    def test_hierarchy_level3_sums_to_level2(self, sa_level3, sa_level2):
        """Sub-major groups sum to their major group (max rel. gap measured 0.131, median 0.006)."""
        panel, _ = sa_level3
        majors, _ = sa_level2
        assert list(majors.occupation.values) == [str(m) for m in range(1, 9)]
        summed = P.major_group_totals(panel.job_offers)
        relative = np.abs(summed - majors.job_offers) / majors.job_offers
        assert float(relative.max()) < 0.14
        assert float(relative.median()) < 0.01

    def test_write_read_round_trip(self, sa_level3, tmp_path):
        panel, _ = sa_level3
        path = P.write_panel(panel, tmp_path / "au_ivi.nc")
        xr.testing.assert_identical(P.read_panel(path), panel)

    def test_index_sheet_is_a_separate_variable(self):
        index = load_au_ivi(IVI_PATH, sheet="Seasonally Adjusted Index", level=2)
        assert list(index.data_vars) == ["job_offers_index"]
        np.testing.assert_allclose(index.job_offers_index.isel(time=0).values, 100.0)
        assert index.job_offers_index.attrs["aggregation"] == "stock"


def test_missing_file_is_a_clear_error(tmp_path):
    expected = f"Australian IVI workbook not found at {tmp_path / 'nope.xlsx'}"
    with pytest.raises(FileNotFoundError, match=re.escape(expected)):
        load_au_ivi(tmp_path / "nope.xlsx")


def test_unknown_sheet_and_level(tmp_path):
    with pytest.raises(ValueError, match="unknown IVI sheet 'SA'"):
        load_au_ivi(tmp_path / "x.xlsx", sheet="SA")
    with pytest.raises(ValueError, match=r"level must be 1 \(total\), 2 \(major groups\) or 3"):
        load_au_ivi(tmp_path / "x.xlsx", level=4)


_NO_EDIT = object()


def _tiny_workbook(path: Path, bad_cell: object = _NO_EDIT) -> Path:
    """A 2-month IVI-like workbook: AUST + 8 states x (total, major 2, sub-majors 21, 2A)."""
    rows = []
    for state in ["AUST", *STATES]:
        for level, code, title in [(1, 0, "TOTAL"), (2, 2, "PROFESSIONALS"),
                                   (3, 21, "Arts and Media Professionals"), (3, "2A", "Business")]:
            rows.append([level, code, title, state, 10.0, 11.0])
    frame = pd.DataFrame(rows, columns=["Level", "ANZSCO_CODE", "Title", "State",
                                        pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")])
    if bad_cell is not _NO_EDIT:
        frame[pd.Timestamp("2024-02-01")] = frame[pd.Timestamp("2024-02-01")].astype(object)
        frame.iat[6, 5] = bad_cell  # sheet row 8 (header = row 1), column 2024-02-01
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name="Seasonally Adjusted", index=False)
    return path


def test_tiny_workbook_loads(tmp_path):
    panel = load_au_ivi(_tiny_workbook(tmp_path / "ivi.xlsx"))
    assert panel.job_offers.shape == (2, 8, 2)
    assert list(panel.occupation.values) == ["21", "2A"]
    np.testing.assert_array_equal(panel.job_offers.isel(time=1).values, np.full((8, 2), 11.0))


def test_bad_cell_names_sheet_row_column_and_value(tmp_path):
    path = _tiny_workbook(tmp_path / "ivi.xlsx", bad_cell="n/a")
    expected = f"file {path} [Seasonally Adjusted], row 8, column '2024-02-01': got 'n/a'"
    with pytest.raises(DataContractError, match=re.escape(expected)):
        load_au_ivi(path)


def test_negative_cell_is_rejected(tmp_path):
    path = _tiny_workbook(tmp_path / "ivi.xlsx", bad_cell=-3.0)
    with pytest.raises(DataContractError, match=r"row 8, column '2024-02-01': got -3(\.0)?, expected a job-ad count"):
        load_au_ivi(path)


def test_empty_cell_stays_missing(tmp_path):
    panel = load_au_ivi(_tiny_workbook(tmp_path / "ivi.xlsx", bad_cell=None))
    # row 8 of the sheet = NSW (second state block), code 21, month 2024-02
    missing = panel.job_offers.isnull()
    assert int(missing.sum()) == 1
    assert bool(missing.sel(time="2024-02-01", region="NSW", occupation="21"))
