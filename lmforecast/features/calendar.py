"""Known-future calendar features per period: season, public holidays, working days, Ramadan.

Everything here depends only on the calendar, so it is known in advance for any future period
and may be used as a feature of the *target* period of a forecast without leaking anything.

* public holidays and the weekend come from the ``holidays`` package
  (``holidays.country_holidays(country, years=...)``; it estimates Islamic holidays);
* Ramadan (Hijri month 9) and the two Eids come from ``hijridate``'s Umm al-Qura calendar
  (1445 AH: Ramadan = 2024-03-11 .. 2024-04-09). Official Moroccan dates can differ by one day
  from Umm al-Qura (they follow local moon sighting): treat these as estimates.
"""

from __future__ import annotations

import functools

import holidays
import numpy as np
import pandas as pd
from hijridate import Gregorian, Hijri

__all__ = ["calendar_features", "MUSLIM_MAJORITY", "PERIOD_OF_FREQ"]

#: pandas period alias of each supported panel frequency (period starts -> periods).
PERIOD_OF_FREQ = {"MS": "M", "M": "M", "ME": "M", "QS": "Q", "QS-JAN": "Q", "Q": "Q",
                  "YS": "Y", "YS-JAN": "Y", "Y": "Y", "A": "Y"}

#: ISO 3166 codes where Ramadan shapes economic activity; ``ramadan=None`` turns the
#: Ramadan/Eid columns on for these countries only.
MUSLIM_MAJORITY = frozenset({
    "MA", "DZ", "TN", "LY", "EG", "MR", "SA", "AE", "QA", "KW", "BH", "OM", "YE", "JO", "IQ",
    "SY", "LB", "PS", "TR", "IR", "AF", "PK", "BD", "ID", "MY", "BN", "MV", "SN", "ML", "NE",
    "GN", "GM", "SO", "DJ", "KM", "SD", "TD", "AZ", "KZ", "KG", "TJ", "TM", "UZ", "AL", "XK",
})

_RAMADAN_MONTH = 9
_SHAWWAL = 10
_DHU_AL_HIJJAH = 12


def _islamic_days(start: pd.Timestamp, end: pd.Timestamp) -> tuple[set, set]:
    """Ramadan days and Eid days (1-2 Shawwal, 10-11 Dhu al-Hijjah) between two dates."""
    try:
        first = Gregorian(start.year, 1, 1).to_hijri().year - 1
        last = Gregorian(end.year, 12, 31).to_hijri().year + 1
    except OverflowError as exc:
        raise ValueError(
            f"Ramadan features need dates inside hijridate's Umm al-Qura range (1924-2077); "
            f"got {start.date()}..{end.date()} ({exc})") from None
    ramadan, eid = set(), set()
    for year in range(first, last + 1):
        try:
            start_ramadan = Hijri(year, _RAMADAN_MONTH, 1)
            length = start_ramadan.month_length()
            first_day = pd.Timestamp(start_ramadan.to_gregorian().isoformat())
            eid_fitr = pd.Timestamp(Hijri(year, _SHAWWAL, 1).to_gregorian().isoformat())
            eid_adha = pd.Timestamp(Hijri(year, _DHU_AL_HIJJAH, 10).to_gregorian().isoformat())
        except OverflowError:
            continue  # Hijri years at the edge of the supported range
        ramadan.update(pd.date_range(first_day, periods=length, freq="D"))
        eid.update(pd.date_range(eid_fitr, periods=2, freq="D"))
        eid.update(pd.date_range(eid_adha, periods=2, freq="D"))
    return ramadan, eid


@functools.lru_cache(maxsize=32)
def _daily_calendar(first_year: int, last_year: int, country: str, ramadan: bool) -> pd.DataFrame:
    """One row per day of ``first_year..last_year``: holiday, working day, Ramadan, Eid (0/1)."""
    days = pd.date_range(f"{first_year}-01-01", f"{last_year}-12-31", freq="D")
    try:
        calendar = holidays.country_holidays(country, years=range(first_year, last_year + 1))
    except NotImplementedError:
        raise ValueError(
            f"country {country!r} is not known to the holidays package; use an ISO 3166 alpha-2 "
            f"code it supports (e.g. 'MA', 'FR', 'AU')") from None
    holiday_dates = pd.DatetimeIndex(sorted(pd.Timestamp(d) for d in calendar.keys()))
    is_holiday = days.isin(holiday_dates)
    weekend = np.isin(days.day_of_week, sorted(calendar.weekend))
    frame = pd.DataFrame({
        "holidays": is_holiday.astype(float),
        "working_days": (~is_holiday & ~weekend).astype(float),
        "days": np.ones(len(days)),
    }, index=days)
    if ramadan:
        ramadan_days, eid_days = _islamic_days(days[0], days[-1])
        frame["ramadan_days"] = days.isin(pd.DatetimeIndex(sorted(ramadan_days))).astype(float)
        frame["eid_days"] = days.isin(pd.DatetimeIndex(sorted(eid_days))).astype(float)
    return frame


def calendar_features(time_index: pd.DatetimeIndex, freq: str, country: str = "MA",
                      ramadan: bool | None = None) -> pd.DataFrame:
    """Calendar features of each period, known in advance (safe for future target periods).

    Parameters
    ----------
    time_index : period starts (``DatetimeIndex``), e.g. a panel's ``time`` coordinate or the
        future periods of a forecast. Need not be regular.
    freq : pandas frequency alias of the periods: ``"MS"`` (monthly), ``"QS"`` (quarterly) or
        ``"YS"`` (annual).
    country : ISO 3166 alpha-2 code known to the ``holidays`` package (default Morocco).
    ramadan : add ``ramadan_share`` and ``eid_days``. ``None`` (default): on for
        Muslim-majority countries (:data:`MUSLIM_MAJORITY`, includes ``"MA"``), off otherwise.

    Returns
    -------
    DataFrame indexed by ``time_index`` with float columns

    * ``month`` (1-12) and ``quarter`` (1-4) of the period start, and their cyclic encodings
      ``month_sin``, ``month_cos``, ``quarter_sin``, ``quarter_cos`` (unitless, in [-1, 1]);
    * ``days``: calendar days in the period;
    * ``holidays``: public holidays falling in the period (days; a holiday on a weekend counts);
    * ``working_days``: days that are neither weekend (country's own weekend) nor holidays;
    * ``ramadan_share``: share of the period's days inside Ramadan (0-1);
    * ``eid_days``: days of Eid al-Fitr (1-2 Shawwal) and Eid al-Adha (10-11 Dhu al-Hijjah).

    Raises
    ------
    ValueError for an unsupported ``freq``, a country unknown to ``holidays``, or a time that
    is not a period start at ``freq`` (the value is named).

    Examples
    --------
    >>> feats = calendar_features(pd.DatetimeIndex(["2024-03-01", "2024-04-01"]), "MS")
    >>> feats["ramadan_share"].round(3).tolist()
    [0.677, 0.3]
    """
    if freq not in PERIOD_OF_FREQ:
        raise ValueError(f"unsupported freq {freq!r}; use one of 'MS', 'QS', 'YS'")
    time_index = pd.DatetimeIndex(time_index)
    country = str(country).upper()
    if ramadan is None:
        ramadan = country in MUSLIM_MAJORITY
    period_alias = PERIOD_OF_FREQ[freq]
    periods = time_index.to_period(period_alias)
    starts = periods.start_time
    bad = ~np.asarray(starts == time_index)
    if bad.any():
        raise ValueError(f"time {time_index[bad][0]!s} is not the start of a {freq} period "
                         f"(expected {starts[bad][0].date()})")
    columns = ["month", "month_sin", "month_cos", "quarter", "quarter_sin", "quarter_cos",
               "days", "holidays", "working_days"] + (["ramadan_share", "eid_days"] if ramadan else [])
    if len(time_index) == 0:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in columns}, index=time_index)
    ends = periods.end_time
    daily = _daily_calendar(int(starts.year.min()), int(ends.year.max()), country, bool(ramadan))
    day_period = daily.index.to_period(period_alias)
    per_period = daily.groupby(day_period).sum().reindex(periods)
    month = time_index.month.to_numpy().astype(float)
    quarter = time_index.quarter.to_numpy().astype(float)
    out = pd.DataFrame({
        "month": month,
        "month_sin": np.sin(2 * np.pi * (month - 1) / 12),
        "month_cos": np.cos(2 * np.pi * (month - 1) / 12),
        "quarter": quarter,
        "quarter_sin": np.sin(2 * np.pi * (quarter - 1) / 4),
        "quarter_cos": np.cos(2 * np.pi * (quarter - 1) / 4),
        "days": per_period["days"].to_numpy(),
        "holidays": per_period["holidays"].to_numpy(),
        "working_days": per_period["working_days"].to_numpy(),
    }, index=time_index)
    if ramadan:
        out["ramadan_share"] = per_period["ramadan_days"].to_numpy() / out["days"].to_numpy()
        out["eid_days"] = per_period["eid_days"].to_numpy()
    return out[columns]
