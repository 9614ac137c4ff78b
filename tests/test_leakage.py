"""Leakage tests: the harness itself, then every forecaster class found in lmforecast.models.

:func:`lmforecast.backtest.assert_no_leakage` reruns a one-fold backtest on a panel where every
value unknown at the cutoff is garbage; the forecasts must not move. New forecaster classes are
picked up automatically (every public ``Forecaster`` subclass defined in a module of
``lmforecast.models``); a class whose constructor needs an argument without a recipe in
``REQUIRED_ARGUMENTS`` below is skipped with that reason.
"""

import importlib
import inspect
import pkgutil
import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import lmforecast.models
from lmforecast import panel as P
from lmforecast.backtest import assert_no_leakage
from lmforecast.models.base import Forecaster
from lmforecast.uncertainty import ResidualUncertainty

CUTOFF = "2021-12-01"  # 36 training months: enough for Prophet (min 26 observations)
HORIZON = 3


def make_panel(n_time=48, seed=1):
    """Seeded monthly panel: job_offers (1-day lag), employment (45 days), graduates (90 days)."""
    rng = np.random.default_rng(seed)
    time = pd.date_range("2019-01-01", periods=n_time, freq="MS")
    regions, occupations = ("MA-01", "MA-06"), ("2512", "2611", "7212")
    shape = (n_time, len(regions), len(occupations))
    season = np.sin(2 * np.pi * np.arange(n_time) / 12)[:, None, None]
    data = {
        "job_offers": np.round(60 + 15 * season + rng.normal(0, 4, shape)),
        "employment": np.round(900 + 30 * season + np.cumsum(rng.normal(0, 5, shape), axis=0)),
        "graduates": rng.poisson(40, shape).astype(float),
    }
    data["job_offers"][7, 0, 1] = np.nan
    return xr.Dataset(
        {name: (P.DIMS, values, P.measure_attrs(name)) for name, values in data.items()},
        coords={P.TIME: time, P.REGION: list(regions), P.OCCUPATION: list(occupations),
                P.REGION_NAME: (P.REGION, ["Tanger-Tetouan-Al Hoceima", "Casablanca-Settat"]),
                P.OCCUPATION_NAME: (P.OCCUPATION, ["Software developers", "Lawyers", "Welders"]),
                P.OCCUPATION_MAJOR: (P.OCCUPATION, ["2", "2", "7"])},
        attrs={"freq": "MS", "country": "MA"},
    )


@pytest.fixture(scope="module")
def panel():
    return make_panel()


# --- toy models for the harness --------------------------------------------------------------
class LastValue(Forecaster):
    """Honest: last observed value of the (cut) training data."""

    def _fit_series(self, y, context):
        observed = np.isfinite(y)
        position = y.shape[1] - 1 - np.argmax(observed[:, ::-1], axis=1)
        self.last_ = np.where(observed.any(axis=1), y[np.arange(y.shape[0]), position], np.nan)

    def _predict_point(self, horizon):
        return np.repeat(self.last_[:, None], horizon, axis=1)


class UsesExogenous(LastValue):
    """Honest: adds the last known graduates of the cut panel it was given in ``fit``."""

    def _fit_series(self, y, context):
        super()._fit_series(y, context)
        graduates = P.stack_series(context.panel["graduates"]).values
        self.last_ = self.last_ + np.nan_to_num(graduates[:, -4])


class PeeksAtFuture(LastValue):
    """Leaky: holds a reference to the full panel and reads the target after the cutoff."""

    def __init__(self, full_panel=None):
        self.full_panel = full_panel

    def _predict_point(self, horizon):
        future = self.context_.future_index(horizon)
        return P.stack_series(self.full_panel[self.target_].reindex(time=future)).values


class PeeksAtUnpublished(LastValue):
    """Leaky in a subtler way: reads the cutoff period's own value, not yet published at the cutoff."""

    def __init__(self, full_panel=None):
        self.full_panel = full_panel

    def _fit_series(self, y, context):
        self.last_ = P.stack_series(self.full_panel[context.target].sel(time=context.time_index[-1])).values


def test_honest_models_pass(panel):
    for target in ("job_offers", "employment"):
        forecast = assert_no_leakage(LastValue(), panel, target, CUTOFF, HORIZON)
        assert forecast.dims == ("cutoff", "horizon", "region", "occupation", "quantile")
        assert np.isfinite(forecast.values).all()
    assert_no_leakage(lambda: UsesExogenous(), panel, "job_offers", CUTOFF, HORIZON)


def test_harness_catches_a_model_reading_after_the_cutoff(panel):
    with pytest.raises(AssertionError, match=re.escape("PeeksAtFuture leaks: its forecast at cutoff 2021-12-01 changed")):
        assert_no_leakage(lambda data: PeeksAtFuture(full_panel=data), panel, "job_offers", CUTOFF, HORIZON)


def test_harness_catches_a_model_reading_unpublished_periods(panel):
    # employment (45-day lag): December 2021 is not published at the end of December
    with pytest.raises(AssertionError, match=re.escape("PeeksAtUnpublished leaks")):
        assert_no_leakage(lambda data: PeeksAtUnpublished(full_panel=data), panel, "employment", CUTOFF, HORIZON)
    # ...which is only a leak when publication lags are honoured
    assert_no_leakage(lambda data: PeeksAtUnpublished(full_panel=data), panel, "employment", CUTOFF, HORIZON,
                      point_in_time=False)


def test_harness_rejects_a_cutoff_outside_the_panel(panel):
    with pytest.raises(ValueError, match=re.escape("cutoff 2030-01-01 is not a period start of the panel")):
        assert_no_leakage(LastValue(), panel, "employment", "2030-01-01", HORIZON)


# --- every forecaster of lmforecast.models ---------------------------------------------------
EXPECTED = {
    "Naive": "baselines", "SeasonalNaive": "baselines", "Drift": "baselines", "HistoricalMean": "baselines",
    "SklearnForecaster": "sklearn", "LightGBMForecaster": "lightgbm", "ProphetForecaster": "prophet",
    "Ensemble": "ensemble", "WithFallback": "fallback", "ETSForecaster": "statsmodels",
    "ThetaForecaster": "statsmodels", "ShareForecaster": "shares", "FixedShare": "shares",
    "TrendForecaster": "trend", "MultiYearChangeForecaster": "change", "AutoForecaster": "recommended",
}
SLOW = {"ProphetForecaster", "ETSForecaster"}  # ETS: ~0.1-0.3 s per series and fit


def _naive():
    from lmforecast.models.baselines import Naive
    return Naive()


def _members():
    from lmforecast.models.baselines import Drift, Naive
    return [Naive(), Drift()]


def _ridge():
    from sklearn.linear_model import Ridge
    return Ridge(alpha=1.0)


# recipes for constructor arguments without a default, by parameter name
REQUIRED_ARGUMENTS = {
    "model": _naive, "forecaster": _naive, "base": _naive, "fallback": _naive,
    "regressor": _ridge, "estimator": _ridge,
    "members": _members, "models": _members, "forecasters": _members,
}
# keep the fits small and single-threaded (two calibration origins: the calibration must not leak
# either); let global models read an exogenous variable (90-day lag)
SMALL_ARGUMENTS = {"n_estimators": 20, "num_threads": 1, "n_jobs": 1, "progress": False,
                   "exog_lags": {"graduates": (1, 3)}, "uncertainty": ResidualUncertainty(n_windows=2)}


def discover() -> tuple[dict[str, type], dict[str, str]]:
    """Public Forecaster subclasses defined in lmforecast.models.*, and modules that fail to import."""
    found, broken = {}, {}
    for info in pkgutil.iter_modules(lmforecast.models.__path__):
        module_name = f"lmforecast.models.{info.name}"
        try:
            module = importlib.import_module(module_name)
        except Exception as err:  # reported as a failing test below, never skipped
            broken[info.name] = f"{type(err).__name__}: {err}"
            continue
        for name, obj in vars(module).items():
            if (isinstance(obj, type) and issubclass(obj, Forecaster) and obj is not Forecaster
                    and obj.__module__ == module_name and not name.startswith("_")
                    and not inspect.isabstract(obj)):
                found[name] = obj
    return found, broken


FOUND, BROKEN = discover()


def build(cls: type) -> Forecaster:
    """An instance of ``cls`` with small settings; skip when a required argument has no recipe."""
    kwargs = {}
    for parameter in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.default is inspect.Parameter.empty:
            if parameter.name not in REQUIRED_ARGUMENTS:
                pytest.skip(f"{cls.__name__}: no recipe for its required argument {parameter.name!r}; "
                            f"add one to REQUIRED_ARGUMENTS in tests/test_leakage.py")
            kwargs[parameter.name] = REQUIRED_ARGUMENTS[parameter.name]()
        elif parameter.name in SMALL_ARGUMENTS:
            kwargs[parameter.name] = SMALL_ARGUMENTS[parameter.name]
    return cls(**kwargs)


def _cases():
    names = sorted(set(EXPECTED) | set(FOUND))
    cases = [pytest.param(name, marks=[pytest.mark.slow] if name in SLOW else [], id=name) for name in names]
    cases += [pytest.param(f"module:{module}", id=f"module:{module}") for module in sorted(BROKEN)]
    return cases


@pytest.mark.parametrize("name", _cases())
@pytest.mark.parametrize("target", ["job_offers", "employment"])
def test_forecaster_does_not_leak(name, target, panel):
    if name.startswith("module:"):
        module = name.split(":", 1)[1]
        pytest.fail(f"lmforecast.models.{module} does not import: {BROKEN[module]}")
    if name not in FOUND:
        pytest.skip(f"{name} is not written yet (expected in lmforecast/models/{EXPECTED[name]}.py)")
    forecaster = build(FOUND[name])
    forecast = assert_no_leakage(forecaster, panel, target, CUTOFF, HORIZON)
    # the harness compared real forecasts, not two empty or all-NaN cubes
    assert forecast.sizes["horizon"] == HORIZON
    assert np.isfinite(forecast.sel(quantile=0.5).values).any()
