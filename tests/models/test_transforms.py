"""Tests of lmforecast.models.transforms: exact round trips, NaN handling, training-only fit."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from lmforecast.models.transforms import Chain, Difference, Log1p, SeriesScaler, make_transform

NAN = np.nan


@pytest.fixture
def counts() -> np.ndarray:
    rng = np.random.default_rng(7)
    t = np.arange(40)
    y = 50 + 10 * np.sin(2 * np.pi * t / 4)[None, :] + rng.poisson(20, size=(3, 40))
    y = y.astype(float)
    y[1, 5] = NAN
    y[2, :3] = NAN
    return y


def round_trip(transform, y: np.ndarray, n_train: int) -> np.ndarray:
    fitted = transform.fit(y[:, :n_train])
    return fitted.inverse_transform(fitted.transform(y)[:, n_train:])


@pytest.mark.parametrize("transform", [
    Log1p(), Difference(), Difference(order=2), Difference(seasonal=True, season_length=4),
    SeriesScaler("mean"), SeriesScaler("std", center=True), SeriesScaler("seasonal_mae", season_length=4),
    Chain([Log1p(), Difference(seasonal=True, season_length=4), SeriesScaler("std")]),
])
def test_round_trip_of_the_future_is_exact(transform, counts):
    np.testing.assert_allclose(round_trip(transform, counts, 30), counts[:, 30:], rtol=1e-12, atol=1e-9)


def test_difference_inverse_with_explicit_history(counts):
    diff = Difference(order=1, seasonal=True, season_length=4).fit(counts[:, :10])
    d = diff.transform(counts)
    np.testing.assert_allclose(diff.inverse_transform(d[:, 25:], history=counts[:, :25]), counts[:, 25:])
    chain = Chain([Log1p(), Difference()]).fit(counts[:, :10])
    z = chain.transform(counts)
    np.testing.assert_allclose(chain.inverse_transform(z[:, 20:], history=counts[:, :20]), counts[:, 20:])


def test_difference_values_and_leading_nan():
    y = np.array([[1.0, 3.0, 6.0, 10.0]])
    np.testing.assert_array_equal(Difference().fit(y).transform(y), [[NAN, 2, 3, 4]])
    np.testing.assert_array_equal(Difference(order=2).fit(y).transform(y), [[NAN, NAN, 1, 1]])
    np.testing.assert_array_equal(Difference().fit(y).inverse_transform(np.array([[5.0, 6.0]])), [[15, 21]])


def test_nan_stays_nan_and_only_affects_its_continuation():
    y = np.array([[1.0, NAN, 3.0], [1.0, 2.0, NAN]])
    np.testing.assert_array_equal(np.isnan(Log1p().fit(y).transform(y)), np.isnan(y))
    diff = Difference().fit(y)
    out = diff.inverse_transform(np.array([[1.0, 1.0], [1.0, 1.0]]))
    np.testing.assert_array_equal(out, [[4.0, 5.0], [NAN, NAN]])  # series 2 ends in NaN


def test_scaler_uses_training_part_only(counts):
    scaler = SeriesScaler("std", center=True).fit(counts[:, :20])
    changed = counts.copy()
    changed[:, 20:] *= 1000
    again = SeriesScaler("std", center=True).fit(changed[:, :20])
    np.testing.assert_array_equal(again.scale_, scaler.scale_)
    np.testing.assert_array_equal(again.center_, scaler.center_)


def test_scaler_never_divides_by_zero():
    y = np.array([[5.0, 5.0, 5.0], [NAN, NAN, NAN], [0.0, 0.0, 0.0]])
    for method in SeriesScaler.METHODS:
        scaler = SeriesScaler(method, season_length=1).fit(y)
        assert np.all(scaler.scale_ > 0), method
        np.testing.assert_array_equal(np.isnan(scaler.transform(y)), np.isnan(y))
    np.testing.assert_allclose(SeriesScaler("mean").fit(y).scale_, [5.0, 1.0, 1.0])


def test_log1p_rejects_negative_values_naming_position():
    y = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, -2.5]])
    with pytest.raises(ValueError, match=r"Log1p needs values >= 0; got -2\.5 at series 1, time 2"):
        Log1p().fit(y)


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="SeriesScaler method must be one of"):
        SeriesScaler("median").fit(np.ones((1, 3)))
    with pytest.raises(ValueError, match="Difference order must be >= 1, got 0"):
        Difference(order=0).fit(np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"needs 8 past periods to invert, history has 3"):
        Difference(order=2, seasonal=True, season_length=4).fit(np.ones((1, 3))).inverse_transform(np.ones((1, 2)))
    with pytest.raises(ValueError, match="unknown transform 'boxcox'"):
        make_transform("boxcox")


def test_transforms_are_sklearn_clonable(counts):
    chain = Chain([Log1p(), SeriesScaler("mean")])
    copy = clone(chain)
    assert copy.get_params()["steps"][1].method == "mean"
    np.testing.assert_array_equal(copy.fit(counts).transform(counts), chain.fit(counts).transform(counts))
    assert isinstance(make_transform("seasonal_diff", 12), Difference) and make_transform(None) is None
