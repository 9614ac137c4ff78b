"""Short panels never crash: every ``conf/model/*.yaml``, composed and instantiated through Hydra as
``lmforecast backtest model=<name> data=custom`` does, is fitted on 6 annual, 12 quarterly and 24 monthly points
(2 regions x 2 occupations, with leading, internal and trailing gaps and one cell never observed) and
forecasts five years ahead with quantiles and sample paths.

The fitted models are cached for the module: the checks of the forecasts and of what a fitted model
keeps (no training panel) share one fit per configuration and frequency.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate
from sklearn.base import BaseEstimator

import lmforecast.config_schema  # noqa: F401  registers the typed schema, as the CLI does
from lmforecast import panel as P
from lmforecast.models.base import Forecaster

CONF = Path(__file__).resolve().parents[2] / "conf"
CONFIGS = sorted(p.stem for p in (CONF / "model").glob("*.yaml"))
# run with -m slow: Prophet (~20 s a panel: one Prophet per series and refit), and the monthly cases of
# configs whose code the fast cases already cover (LightGBM variants, the reconciled and ensemble
# wrappers of ridge / LightGBM members; the wrappers run fast on the annual panel)
SLOW = {("prophet", "YS"), ("prophet", "QS"), ("prophet", "MS"), ("lightgbm_small", "MS"), ("lightgbm_fallback", "MS"),
        ("ridge_reconciled", "MS"), ("ensemble", "MS")}
TARGET = "vacancies"
LEVELS = (0.1, 0.5, 0.9)
PANELS = {"YS": (6, 5), "QS": (12, 20), "MS": (24, 60)}     # frequency: (periods of history, five-year horizon)


def short_panel(freq: str, seed: int = 0) -> xr.Dataset:
    """2 regions x 2 occupations of trending counts with gaps; (MA-06, 2411) is never observed."""
    n_time, _ = PANELS[freq]
    season = P.season_length(freq)
    rng = np.random.default_rng(seed)
    t = np.arange(n_time)[:, None, None]
    seasonal = 0.15 * np.sin(2 * np.pi * t / season) if season > 1 else 0.0
    level = rng.uniform(20, 400, (1, 2, 2))
    values = np.round(level * np.exp(0.04 * t / season + seasonal + rng.normal(0, 0.1, (n_time, 2, 2))))
    values[:2, 0, 1] = np.nan                   # starts late
    values[n_time // 2, 1, 0] = np.nan          # internal gap
    values[-1, 0, 0] = np.nan                   # publication lag
    values[:, 1, 1] = np.nan                    # no history at all
    occupations = ["2512", "7212"]
    return xr.Dataset({TARGET: (P.DIMS, values, P.measure_attrs(TARGET))},
                      coords={P.TIME: pd.date_range("2019-01-01", periods=n_time, freq=freq),
                              P.REGION: ["MA-01", "MA-06"], P.OCCUPATION: occupations,
                              P.OCCUPATION_MAJOR: (P.OCCUPATION, [o[0] for o in occupations])},
                      attrs={"freq": freq, "country": "MA"})


def compose_model(name: str, freq: str, raw_dir: str = "/nonexistent/raw") -> Forecaster:
    """The forecaster of ``conf/model/<name>.yaml`` as ``lmforecast backtest model=<name> data=custom``
    builds it (overrides of ``../shared/tools/validate_forecasts.py``)."""
    overrides = [f"model={name}", "data=custom", f"data.raw_dir={raw_dir}", f"features.freq={freq}",
                 f"data.targets=[{TARGET}]"]
    if freq == "YS":
        overrides += ["features.lags=[1,2,3]", "features.windows=[2]"]
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
            cfg = compose(config_name="backtest", overrides=overrides)
    finally:
        GlobalHydra.instance().clear()
    return instantiate(cfg.model, _convert_="all")


def cases():
    return [pytest.param(name, freq, id=f"{name}-{freq}", marks=[pytest.mark.slow] if (name, freq) in SLOW else [])
            for name in CONFIGS for freq in PANELS]


@pytest.fixture(scope="module")
def fitted():
    """``fitted(name, freq) -> (model, panel)``, each configuration fitted once for the module."""
    cache: dict[tuple[str, str], tuple[Forecaster, xr.Dataset]] = {}

    def get(name: str, freq: str):
        if (name, freq) not in cache:
            panel = short_panel(freq)
            cache[name, freq] = compose_model(name, freq).fit(panel, TARGET), panel
        return cache[name, freq]

    return get


def test_every_model_config_is_covered():
    """The configs of this module are those of conf/model (none forgotten, new ones included)."""
    assert {"naive", "recommended", "ets", "theta", "shares", "fixed_share", "trend", "multi_year_change",
            "lightgbm_direct", "lightgbm_quantile", "ridge_reconciled", "prophet"} <= set(CONFIGS)


@pytest.mark.parametrize("name, freq", cases())
def test_config_forecasts_five_years_from_a_short_panel(name, freq, fitted):
    """Finite, ordered quantiles for every series with history, intervals no narrower at the last step
    than at the first, finite joint sample paths."""
    model, panel = fitted(name, freq)
    horizon = PANELS[freq][1]
    forecast = model.predict(horizon, LEVELS)
    assert forecast.sizes == {"time": horizon, "region": 2, "occupation": 2, "quantile": 3}
    values = forecast.stack(series=(P.REGION, P.OCCUPATION)).transpose("series", "time", "quantile")
    history = P.stack_series(panel[TARGET]).notnull().any(P.TIME).values
    with_history = values.values[history]
    assert np.isfinite(with_history).all(), f"non-finite forecasts for {values.indexes['series'][history]}"
    assert (np.diff(with_history, axis=-1) >= 0).all()
    width = with_history[:, :, 2] - with_history[:, :, 0]
    assert (width[:, -1] >= width[:, 0] - 1e-9 * np.abs(with_history).max()).all(), width[:, [0, -1]]
    paths = model.sample_paths(horizon, n_paths=20, seed=1)
    assert paths.sizes == {"time": horizon, "region": 2, "occupation": 2, "path": 20}
    assert np.isfinite(paths.stack(series=(P.REGION, P.OCCUPATION)).transpose("series", ...).values[history]).all()


def datasets_in(obj, seen=None, path="model"):
    """``(path, Dataset or DataArray)`` held anywhere in a fitted model (attributes, dicts, lists)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, (xr.Dataset, xr.DataArray)):
        return [(path, obj)]
    found = []
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (list, tuple)):
        items = enumerate(obj)
    elif isinstance(obj, BaseEstimator) or hasattr(obj, "__dict__") and type(obj).__module__.startswith("lmforecast"):
        items = vars(obj).items()
    else:
        return []
    for key, value in items:
        found += datasets_in(value, seen, f"{path}.{key}")
    return found


@pytest.mark.parametrize("name, freq", cases())
def test_fitted_model_keeps_no_training_panel(name, freq, fitted):
    """Nothing in a fitted model (members and wrapped models included) holds panel data: xarray objects
    are empty templates; the fit context dropped the panel."""
    model, _ = fitted(name, freq)
    assert model.context_.panel is None
    for where, array in datasets_in(model):
        assert array.sizes.get(P.TIME, 0) == 0, f"{where} holds {dict(array.sizes)}"


# --- what a fitted model weighs ------------------------------------------------------------------
def measures_panel(extra: bool, n_time: int = 240, seed: int = 0) -> xr.Dataset:
    """3 regions x 8 occupations, 20 years of monthly vacancies, plus (``extra``) the five other measures."""
    rng = np.random.default_rng(seed)
    names = [TARGET] + (["job_offers", "employment", "hires", "jobseekers", "graduates"] if extra else [])
    data = {name: (P.DIMS, 100 * np.exp(np.cumsum(rng.normal(0, 0.05, (n_time, 3, 8)), axis=0)),
                   P.measure_attrs(name)) for name in names}
    occupations = [f"{2511 + k}" for k in range(8)]
    return xr.Dataset(data, coords={P.TIME: pd.date_range("2005-01-01", periods=n_time, freq="MS"),
                                    P.REGION: ["MA-01", "MA-06", "MA-08"], P.OCCUPATION: occupations,
                                    P.OCCUPATION_MAJOR: (P.OCCUPATION, [o[0] for o in occupations])},
                      attrs={"freq": "MS", "country": "MA"})


@pytest.mark.parametrize("name", ["naive", "trend", "fixed_share", "ridge"])
def test_pickle_does_not_carry_the_panel(name):
    """A fitted model's pickle has the same size whatever else the panel holds, and is smaller than the
    panel of the six measures over 20 years (a model keeping its training panel would be larger)."""
    full = measures_panel(extra=True)
    target_only = full[[TARGET]]
    sizes = [len(pickle.dumps(compose_model(name, "MS").fit(panel, TARGET))) for panel in (target_only, full)]
    assert sizes[0] == sizes[1]
    assert sizes[1] < full.nbytes, (sizes[1], full.nbytes)
