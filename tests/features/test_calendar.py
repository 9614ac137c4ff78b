"""Tests of lmforecast.features.calendar (known-future calendar features)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lmforecast.features import calendar as cal
from lmforecast.features.calendar import calendar_features


def months(start: str, n: int) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="MS")


def test_ramadan_1445_share_and_eids_by_month():
    # Ramadan 1445 = 2024-03-11 .. 2024-04-09 (30 days); Eid al-Fitr 2024-04-10/11,
    # Eid al-Adha 10 Dhu al-Hijjah 1445 = 2024-06-16 (+ 06-17) in the Umm al-Qura calendar.
    feats = calendar_features(months("2024-02-01", 5), "MS")
    np.testing.assert_allclose(feats["ramadan_share"].to_numpy(), [0.0, 21 / 31, 9 / 30, 0.0, 0.0])
    np.testing.assert_array_equal(feats["eid_days"].to_numpy(), [0, 0, 2, 0, 2])


def test_moroccan_holidays_and_working_days_january_2024():
    # New Year (Mon), Proclamation of Independence (Thu 11), Amazigh New Year (Sun 14);
    # January 2024 has 23 weekdays, two holidays fall on weekdays.
    jan = calendar_features(pd.DatetimeIndex(["2024-01-01"]), "MS").iloc[0]
    assert jan["holidays"] == 3
    assert jan["working_days"] == 21
    assert jan["days"] == 31
    assert jan["month"] == 1 and jan["quarter"] == 1


def test_cyclic_encodings_lie_on_unit_circle():
    feats = calendar_features(months("2023-01-01", 12), "MS")
    np.testing.assert_allclose(feats["month_sin"] ** 2 + feats["month_cos"] ** 2, 1.0)
    np.testing.assert_allclose(feats[["month_sin", "month_cos"]].iloc[0].to_numpy(), [0.0, 1.0], atol=1e-12)
    assert feats["month"].tolist() == list(range(1, 13))


@pytest.mark.parametrize("freq, start, n_months", [("QS", "2022-01-01", 3), ("YS", "2020-01-01", 12)])
def test_coarser_periods_add_up_the_months(freq, start, n_months):
    coarse_index = pd.date_range(start, periods=3, freq=freq)
    coarse = calendar_features(coarse_index, freq)
    monthly = calendar_features(months(start, 3 * n_months), "MS")
    group = np.repeat(np.arange(3), n_months)
    for column in ("days", "holidays", "working_days", "eid_days"):
        np.testing.assert_allclose(coarse[column].to_numpy(), monthly[column].groupby(group).sum().to_numpy())
    ramadan_days = (monthly["ramadan_share"] * monthly["days"]).groupby(group).sum().to_numpy()
    np.testing.assert_allclose(coarse["ramadan_share"].to_numpy(), ramadan_days / coarse["days"].to_numpy())
    assert coarse.index.equals(coarse_index)


def test_other_country_uses_its_holidays_and_weekend_without_ramadan():
    feats = calendar_features(pd.DatetimeIndex(["2024-01-01"]), "MS", country="FR")
    assert "ramadan_share" not in feats.columns
    assert feats["holidays"].iloc[0] == 1  # Jour de l'an
    assert feats["working_days"].iloc[0] == 22  # 23 weekdays - New Year's Day (Monday)
    with_ramadan = calendar_features(pd.DatetimeIndex(["2024-03-01"]), "MS", country="FR", ramadan=True)
    assert with_ramadan["ramadan_share"].iloc[0] == pytest.approx(21 / 31)


def test_saudi_weekend_is_friday_saturday():
    # March 2024: 31 days, 5 Fridays + 5 Saturdays -> at most 21 working days before holidays
    feats = calendar_features(pd.DatetimeIndex(["2024-03-01"]), "MS", country="SA")
    assert feats["working_days"].iloc[0] == 21 - feats["holidays"].iloc[0]


def test_daily_calendar_is_cached_per_year_range():
    cal._daily_calendar.cache_clear()
    calendar_features(months("2019-01-01", 24), "MS")
    calendar_features(months("2019-01-01", 24), "MS")
    info = cal._daily_calendar.cache_info()
    assert (info.hits, info.misses) == (1, 1)


def test_empty_index_gives_empty_frame_with_columns():
    feats = calendar_features(pd.DatetimeIndex([]), "MS")
    assert len(feats) == 0 and "ramadan_share" in feats.columns


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match=r"unsupported freq 'W'"):
        calendar_features(months("2024-01-01", 2), "W")
    with pytest.raises(ValueError, match=r"time 2024-01-15 00:00:00 is not the start of a MS period"):
        calendar_features(pd.DatetimeIndex(["2024-01-15"]), "MS")
    with pytest.raises(ValueError, match=r"country 'XX' is not known to the holidays package"):
        calendar_features(months("2024-01-01", 2), "MS", country="XX")
