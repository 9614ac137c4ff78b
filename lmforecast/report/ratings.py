"""Ratings in the manner of Cedefop's skills forecast and Australia's Occupation Shortage List.

* **Rating** (:func:`shortage_rating`): ``shortage`` when the gap ratio is above
  ``+ratio_threshold`` *and* P(shortage) is at least ``probability_threshold``; ``surplus``
  when the ratio is below ``-ratio_threshold`` and P(shortage) is at most ``1 -
  probability_threshold``; ``balance`` otherwise (openings and supply within 10 % of each other,
  or a sign the projection cannot tell).
* **Future demand** (:func:`future_demand_class`): job openings per employed person (the
  openings rate) relative to the all-cell rate: ``strong`` at ``strong_factor`` times the
  average or more, ``soft`` below ``soft_factor`` times, ``moderate`` between.
* **Shortage driver** (:func:`shortage_driver`): for a shortage, ``thin supply`` when new supply
  per employed person is below ``thin_supply_factor`` times the average, else ``expansion``
  when expansion demand is at least half the openings, else ``replacement``; for a surplus,
  ``declining employment`` when employment falls, else ``supply above openings``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

SHORTAGE, BALANCE, SURPLUS = "shortage", "balance", "surplus"
STRONG, MODERATE, SOFT = "strong", "moderate", "soft"
DRIVERS = ("expansion", "replacement", "thin supply", "declining employment", "supply above openings")


@dataclass(frozen=True)
class Thresholds:
    """Documented thresholds of the ratings (unitless).

    Attributes
    ----------
    ratio_threshold : |gap ratio| above which a cell can be rated shortage / surplus (0.10).
    probability_threshold : P(shortage) needed for a shortage rating; 1 minus it bounds a
        surplus rating (0.70).
    strong_factor, soft_factor : openings-rate multiples of the average for strong / soft
        future demand (1.20 and 0.80).
    thin_supply_factor : new supply per employed person below this multiple of the average is
        thin supply (0.50).
    """

    ratio_threshold: float = 0.10
    probability_threshold: float = 0.70
    strong_factor: float = 1.20
    soft_factor: float = 0.80
    thin_supply_factor: float = 0.50

    def __post_init__(self) -> None:
        if not 0 <= self.ratio_threshold < 1:
            raise ValueError(f"ratings.ratio_threshold: got {self.ratio_threshold!r}, expected a number in [0, 1)")
        if not 0.5 <= self.probability_threshold <= 1:
            raise ValueError(f"ratings.probability_threshold: got {self.probability_threshold!r}, expected [0.5, 1]")
        if not 0 < self.soft_factor <= 1 <= self.strong_factor:
            raise ValueError(f"ratings: need 0 < soft_factor <= 1 <= strong_factor, got {self.soft_factor!r}, "
                             f"{self.strong_factor!r}")


def _labels(condition_a, condition_b, a: str, b: str, other: str, valid) -> np.ndarray:
    out = np.where(condition_a, a, np.where(condition_b, b, other)).astype(object)
    out[~np.asarray(valid)] = ""
    return out


def shortage_rating(gap_ratio: xr.DataArray, p_shortage: xr.DataArray, thresholds: Thresholds = Thresholds()) -> xr.DataArray:
    """``shortage`` / ``balance`` / ``surplus`` per cell ("" where the ratio is NaN); see the module docstring."""
    t = thresholds
    ratio, prob = gap_ratio.values, p_shortage.values
    with np.errstate(invalid="ignore"):
        labels = _labels((ratio > t.ratio_threshold) & (prob >= t.probability_threshold),
                         (ratio < -t.ratio_threshold) & (prob <= 1 - t.probability_threshold),
                         SHORTAGE, SURPLUS, BALANCE, np.isfinite(ratio) & np.isfinite(prob))
    return xr.DataArray(labels, dims=gap_ratio.dims, coords=gap_ratio.coords, name="rating")


def openings_rate(openings: xr.DataArray, employment: xr.DataArray) -> xr.DataArray:
    """Job openings per employed person and year (unitless; NaN without employment)."""
    return (openings / employment.where(employment > 0)).assign_attrs(units="1 per year")


def future_demand_class(openings: xr.DataArray, employment: xr.DataArray, reference_rate: float,
                        thresholds: Thresholds = Thresholds()) -> xr.DataArray:
    """``strong`` / ``moderate`` / ``soft`` from the openings rate relative to ``reference_rate``."""
    rate = openings_rate(openings, employment).values / reference_rate
    with np.errstate(invalid="ignore"):
        labels = _labels(rate >= thresholds.strong_factor, rate < thresholds.soft_factor, STRONG, SOFT, MODERATE,
                         np.isfinite(rate))
    return xr.DataArray(labels, dims=openings.dims, coords=openings.coords, name="future_demand")


def shortage_driver(rating: xr.DataArray, expansion: xr.DataArray, openings: xr.DataArray, supply: xr.DataArray,
                    employment: xr.DataArray, employment_change: xr.DataArray, reference_supply_rate: float,
                    thresholds: Thresholds = Thresholds()) -> xr.DataArray:
    """The main reason for a shortage or a surplus (see the module docstring; "" for balance)."""
    supply_rate = (supply / employment.where(employment > 0)).values / reference_supply_rate
    expansion_share = (expansion / openings.where(openings > 0)).values
    r = rating.values
    with np.errstate(invalid="ignore"):
        short = np.where(supply_rate < thresholds.thin_supply_factor, "thin supply",
                         np.where(expansion_share >= 0.5, "expansion", "replacement"))
        surplus = np.where(employment_change.values < 0, "declining employment", "supply above openings")
    out = np.where(r == SHORTAGE, short, np.where(r == SURPLUS, surplus, "")).astype(object)
    return xr.DataArray(out, dims=rating.dims, coords=rating.coords, name="shortage_driver")
