"""Tests of lmforecast.distributed: backends, Dask-backed panels, and a Dask backtest that gives
the single-process cube (slow: a two-worker LocalCluster)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from lmforecast import panel as P
from lmforecast.backtest import RollingOriginSplitter, backtest, backtest_models, without_run_attrs
from lmforecast.distributed import DaskBackend, LocalBackend, make_backend
from lmforecast.models.baselines import SeasonalNaive
from lmforecast.uncertainty import ResidualUncertainty

from tests.test_backtest import make_panel

TARGET = "job_offers"


def _shift(x, by):
    return x + by


# --------------------------------------------------------------------------- backends
def test_local_backend_maps_in_order_with_shared_arguments():
    seen = []
    with LocalBackend() as backend:
        assert backend.map(_shift, [3, 1, 2], shared={"by": 10}, progress=seen.append) == [13, 11, 12]
    assert seen == [1, 1, 1]
    assert backend.describe().startswith("local")


def test_make_backend_names_the_kinds_and_checks_arguments():
    assert isinstance(make_backend("local"), LocalBackend)
    dask = make_backend("dask", address="tcp://10.1.2.3:8786", n_workers=3)
    assert isinstance(dask, DaskBackend) and dask.address == "tcp://10.1.2.3:8786" and dask.client is None
    with pytest.raises(ValueError, match=r"backend.kind must be one of \['local', 'dask'\], got 'ray'"):
        make_backend("ray")
    with pytest.raises(ValueError, match="n_workers must be an integer >= 1, got 0"):
        DaskBackend(n_workers=0)
    with pytest.raises(RuntimeError, match="not started"):
        DaskBackend().map(abs, [1])


def test_an_unreachable_scheduler_fails_naming_the_address():
    backend = DaskBackend(address="tcp://127.0.0.1:9", timeout_s=2)
    with pytest.raises(ConnectionError, match=r"no Dask scheduler answers at backend.address='tcp://127.0.0.1:9'"):
        backend.start()
    assert backend.client is None


def test_backend_config_group_becomes_a_backend(tmp_path):
    from experiments import _common as C
    from tests.test_configs import compose_cfg

    cfg, _ = compose_cfg("backtest", ["tracking=none"], output_dir=tmp_path)
    assert isinstance(C.backend(cfg), LocalBackend)
    assert C.backtest_plan(cfg).backend is None
    cfg, _ = compose_cfg("backtest", ["backend=dask", "backend.address=tcp://10.0.0.5:8786", "tracking=none"],
                         output_dir=tmp_path)
    backend = C.backend(cfg)
    assert isinstance(backend, DaskBackend)
    assert (backend.address, backend.threads_per_worker, backend.series_tasks) == ("tcp://10.0.0.5:8786", 1, True)
    plan = C.backtest_plan(cfg, backend)
    assert plan.backend is backend and plan.params()["backtest.backend"].startswith("dask tcp://10.0.0.5:8786")


def test_local_backend_backtest_is_the_default_one():
    panel = make_panel(36)
    splitter = RollingOriginSplitter(horizon=4, step=3, n_windows=2)
    plain = backtest(SeasonalNaive(uncertainty="none"), panel, TARGET, splitter, quantiles=(0.5,), progress=False)
    local = backtest(SeasonalNaive(uncertainty="none"), panel, TARGET, splitter, quantiles=(0.5,), progress=False,
                     backend=LocalBackend())
    xr.testing.assert_identical(without_run_attrs(plain), without_run_attrs(local))
    assert plain.attrs["backend"] == local.attrs["backend"] == "local"
    assert "wall_time_s" not in without_run_attrs(plain).attrs


# --------------------------------------------------------------------------- dask-backed panels
def test_chunked_panel_is_lazy_and_backtests_like_the_in_memory_one(tmp_path):
    panel = make_panel(36)
    chunked = P.chunk_series(panel, occupations_per_chunk=2)
    assert chunked[TARGET].chunks == ((36,), (2,), (2, 1))   # whole time axis, occupations split
    np.testing.assert_array_equal(chunked[TARGET].values, panel[TARGET].values)
    splitter = RollingOriginSplitter(horizon=4, step=3, n_windows=2)
    model = SeasonalNaive(uncertainty=ResidualUncertainty(n_windows=2, min_pool=5))
    eager = backtest(model, panel, TARGET, splitter, progress=False)
    lazy = backtest(model, chunked, TARGET, splitter, progress=False)
    xr.testing.assert_identical(without_run_attrs(eager), without_run_attrs(lazy))

    path = P.write_panel(panel, tmp_path / "panel.nc")
    opened = P.open_panel(path, occupations_per_chunk=1)
    try:
        assert opened[TARGET].chunks[2] == (1, 1, 1)
        xr.testing.assert_identical(opened.load(), P.read_panel(path))
    finally:
        opened.close()
    with pytest.raises(ValueError, match="chunk sizes must be >= 1"):
        P.chunk_series(panel, occupations_per_chunk=0)


# --------------------------------------------------------------------------- a real cluster
@pytest.fixture(scope="module")
def cluster():
    with DaskBackend(n_workers=2, threads_per_worker=1, memory_limit="2GiB") as backend:
        yield backend


@pytest.mark.slow
def test_dask_backtest_cube_is_the_single_process_cube(cluster):
    """LightGBM (global, one fit per fold on a worker) and ETS (per series, series as nested tasks)
    on a two-worker LocalCluster give exactly the single-process cube."""
    from lmforecast.models.lightgbm import LightGBMForecaster
    from lmforecast.models.statsmodels import ETSForecaster

    assert cluster.n_workers_running() == 2
    panel = make_panel(48)
    splitter = RollingOriginSplitter(horizon=6, step=3, n_windows=3)
    unc = ResidualUncertainty(n_windows=2, min_pool=5)
    models = {"lightgbm": LightGBMForecaster(n_estimators=30, uncertainty=unc), "ets": ETSForecaster(uncertainty=unc),
              "seasonal_naive": SeasonalNaive(uncertainty=unc)}
    single = backtest_models(models, panel, TARGET, splitter, progress=False)
    distributed = backtest_models(models, panel, TARGET, splitter, progress=False, backend=cluster)
    xr.testing.assert_identical(without_run_attrs(single), without_run_attrs(distributed))
    assert np.isfinite(distributed["forecast"].values).all()
    chunked = backtest(models["lightgbm"], P.chunk_series(panel, 2), TARGET, splitter, progress=False,
                       backend=cluster)
    xr.testing.assert_identical(without_run_attrs(single["forecast"].sel(model="lightgbm", drop=True)),
                                without_run_attrs(chunked["forecast"]))


@pytest.mark.slow
def test_per_series_fits_on_the_cluster_give_the_local_forecast(cluster):
    from lmforecast import pipeline
    from lmforecast.models.statsmodels import ThetaForecaster

    panel = make_panel(48)
    model = ThetaForecaster(uncertainty=ResidualUncertainty(n_windows=2, min_pool=5))
    local, _ = pipeline.forecast_targets(model, panel, [TARGET], 6)
    remote, fitted = pipeline.forecast_targets(model, panel, [TARGET], 6, backend=cluster)
    xr.testing.assert_identical(local, remote)
    assert fitted[TARGET].n_jobs is None
