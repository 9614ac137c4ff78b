"""Compose and instantiate every Hydra config (lightning-hydra-template style), and check that
the structured schema rejects misspelt keys and wrong types before any data is read."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import ConfigCompositionException
from hydra.utils import get_object, instantiate
from omegaconf import OmegaConf, open_dict
from sklearn.base import clone

import lmforecast.config_schema as schema
from lmforecast.models.base import Forecaster

REPO = Path(__file__).resolve().parents[1]
CONF = REPO / "conf"
GROUPS = ["data", "features", "model", "backtest", "backend", "tracking", "report", "paths", "experiment"]


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


def compose_cfg(config_name="run", overrides=(), config_dir=CONF, output_dir="/tmp/lmforecast-test-out"):
    """Compose like @hydra.main does (schema registered, HydraConfig set) and return (cfg, hydra_cfg)."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir), version_base="1.3"):
        cfg = compose(config_name=config_name, return_hydra_config=True,
                      overrides=[f"paths.output_dir={output_dir}", *overrides])
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        hydra_cfg = cfg.pop("hydra")
    return cfg, hydra_cfg


@pytest.fixture(autouse=True)
def _clear_hydra():
    yield
    GlobalHydra.instance().clear()


def test_every_group_has_options():
    for group in GROUPS:
        assert options(group), f"conf/{group} is empty"
    assert {"naive", "seasonal_naive", "drift", "historical_mean", "ridge", "hist_gradient_boosting",
            "lightgbm", "lightgbm_direct", "lightgbm_quantile", "prophet", "ensemble"} <= set(options("model"))


@pytest.mark.parametrize("stage", schema.STAGES)
def test_root_configs_compose_resolve_and_instantiate(stage, tmp_path):
    cfg, hydra_cfg = compose_cfg(stage, output_dir=tmp_path)
    resolved = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    assert resolved["task_name"] == stage
    assert resolved["paths"]["root"] == str(Path.cwd())
    assert resolved["tracking"]["uri"] == f"sqlite:///{Path.cwd()}/mlruns/mlflow.db"
    assert resolved["tracking"]["experiment_name"] == "lmforecast-morocco"
    assert resolved["data"]["panel_path"] == f"{Path.cwd()}/data/processed/morocco_panel.nc"
    assert hydra_cfg.launcher._target_.endswith("JoblibLauncher") and hydra_cfg.launcher.n_jobs == 2
    assert isinstance(instantiate(cfg.model), Forecaster)
    for node in cfg.compare.values():
        assert isinstance(instantiate(node), Forecaster)


@pytest.mark.parametrize("name", options("model"))
def test_every_model_config_instantiates_a_clonable_forecaster(name):
    cfg, _ = compose_cfg("run", [f"model={name}"])
    model = instantiate(cfg.model, _convert_="all")
    assert isinstance(model, Forecaster)
    params = clone(model).get_params(deep=False)
    target = get_object(cfg.model._target_)
    if not isinstance(target, type):  # a factory (e.g. recommended.default_forecaster): its own params
        return
    expected = {k: v for k, v in OmegaConf.to_container(cfg.model, resolve=True).items()
                if not k.startswith("_") and not isinstance(v, dict)}
    for key, value in expected.items():
        assert params[key] == value, f"{name}: {key}"
    if "num_threads" in params:
        assert params["num_threads"] == 1


@pytest.mark.parametrize("group", ["data", "features", "backtest", "tracking", "report", "paths", "experiment"])
def test_every_option_of_every_group_composes(group, tmp_path):
    for option in options(group):
        extra = ["data.raw_dir=/somewhere"] if (group, option) == ("data", "custom") else []
        cfg, _ = compose_cfg("run", [f"{group}={option}", *extra], output_dir=tmp_path)
        OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
        instantiate(cfg.model)
        assert callable(instantiate(cfg.data.source, _convert_="all").load_panel)


def test_experiment_presets_override_only_what_they_change():
    base, _ = compose_cfg("run")
    quick, _ = compose_cfg("run", ["experiment=morocco_quick"])
    assert quick.data.name == "morocco_quick" and quick.data.raw_dir.endswith("data/raw/morocco_quick")
    assert quick.backtest.horizon == 6 and quick.report.years == [2026, 2027]
    assert quick.compare.naive is None and quick.compare.fixed_share is None
    same_but_uncertainty = ({k: v for k, v in cfg.compare.seasonal_naive.items() if k != "uncertainty"}
                            for cfg in (quick, base))
    assert next(same_but_uncertainty) == next(same_but_uncertainty)
    assert quick.uncertainty.n_windows == 3 and base.uncertainty.n_windows == 12
    assert quick.features == base.features and quick.tracking.uri == base.tracking.uri
    assert quick.data.source.start == "2019-01" and quick.data.source.end == base.data.source.end
    assert instantiate(quick.data.source).raw_dir == quick.data.raw_dir
    au, _ = compose_cfg("run", ["experiment=au_ivi_lightgbm"])
    assert au.data.source._target_ == "lmforecast.datasets.AuIvi" and not au.report.enabled
    assert au.tracking.experiment_name == "lmforecast-au_ivi"
    assert au.data.source.path.endswith("shared/data/au-ivi/internet_vacancies_anzsco2_occupations_states_and_"
                                        "territories_-_january_2025.xlsx")


def test_data_sets_are_chosen_with_target(tmp_path):
    """Each conf/data option names a class of lmforecast.datasets; a bad argument fails at instantiation."""
    from lmforecast import datasets

    for option in options("data"):
        extra = ["data.raw_dir=/somewhere"] if option == "custom" else []
        cfg, _ = compose_cfg("run", [f"data={option}", *extra], output_dir=tmp_path)
        source = instantiate(cfg.data.source, _convert_="all")
        assert type(source) in (datasets.RawFolder, datasets.SyntheticMorocco, datasets.AuIvi)
    cfg, _ = compose_cfg("run", ["+data.source.sead=7"], output_dir=tmp_path)
    with pytest.raises(Exception, match="sead"):
        instantiate(cfg.data.source)


def test_tune_preset_configures_the_optuna_sweeper():
    cfg, hydra_cfg = compose_cfg("backtest", ["experiment=tune_lightgbm"])
    assert hydra_cfg.sweeper._target_ == "hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper"
    assert hydra_cfg.sweeper.direction == "minimize"
    assert set(hydra_cfg.sweeper.params) >= {"model.learning_rate", "model.num_leaves"}
    assert cfg.optimized_metric == "vacancies/lightgbm/mase"
    assert all(node is None for node in cfg.compare.values())


def test_misspelt_override_fails_with_the_key_and_schema_named():
    with pytest.raises(ConfigCompositionException, match=re.escape("Could not override 'backtest.horizn'")):
        compose_cfg("run", ["backtest.horizn=6"])
    with pytest.raises(ConfigCompositionException, match=re.escape("Could not override 'report.demand_mesure'")):
        compose_cfg("run", ["report.demand_mesure=hires"])


def test_wrong_type_fails_at_composition():
    with pytest.raises(ConfigCompositionException) as info:
        compose_cfg("run", ["backtest.horizon=six"])
    assert "Value 'six' of type 'str' could not be converted to Integer" in str(info.value.__cause__)
    with pytest.raises(ConfigCompositionException) as info:
        compose_cfg("run", ["report.keep_paths=perhaps"])
    assert "Value 'perhaps' is not a valid bool" in str(info.value.__cause__)


def test_misspelt_key_in_a_config_file_fails(tmp_path):
    conf = tmp_path / "conf"
    shutil.copytree(CONF, conf)
    (conf / "experiment" / "typo.yaml").write_text("# @package _global_\nreport:\n  demand_mesure: hires\n")
    with pytest.raises(ConfigCompositionException,
                       match=re.escape("In 'experiment/typo': ConfigKeyError raised while composing config:\n"
                                       "Key 'demand_mesure' not in 'ReportConfig'")):
        compose_cfg("run", ["experiment=typo"], config_dir=conf)


def test_bad_model_argument_fails_at_instantiation():
    cfg, _ = compose_cfg("run", ["model=lightgbm", "+model.lerning_rate=0.1"])
    with pytest.raises(Exception, match=re.escape("lmforecast.models.lightgbm.LightGBMForecaster")) as info:
        instantiate(cfg.model)
    assert "lerning_rate" in str(info.value)


# --------------------------------------------------------------------------- config -> arguments (experiments/_common.py)
def test_config_becomes_plain_pipeline_arguments(tmp_path):
    from experiments import _common as C
    from lmforecast.backtest import RollingOriginSplitter

    cfg, _ = compose_cfg("run", ["experiment=morocco_quick", "tracking=none"], output_dir=tmp_path)
    plan = C.backtest_plan(cfg)
    assert isinstance(plan.splitter, RollingOriginSplitter)
    assert (plan.splitter.horizon, plan.splitter.n_windows, plan.splitter.step) == (6, 2, 6)
    assert plan.metrics == tuple(cfg.backtest.metrics) and plan.point_in_time is True
    report = C.report_plan(cfg)
    assert report.years == (2026, 2027) and report.n_paths == 100 and report.keep_paths is False
    assert C.report_plan(compose_cfg("run", ["report.enabled=false"], output_dir=tmp_path)[0]) is None
    assert C.tracker(cfg) is None
    source = C.data_source(cfg)
    assert (source.start, source.end, source.n_offers_scale) == ("2019-01", "2025-12", 0.02)


def test_a_compare_model_that_is_the_main_model_is_backtested_once(caplog):
    from experiments import _common as C

    cfg, _ = compose_cfg("backtest", ["model=seasonal_naive"])
    with caplog.at_level("INFO", logger="lmforecast"):
        models = C.instantiate_models(cfg)
    assert list(models) == ["seasonal_naive", "naive", "fixed_share"]
    assert "compare model 'seasonal_naive' is this run's main model: backtested once" in caplog.text


def test_sweep_parent_is_named_after_the_swept_overrides():
    from experiments import _common as C

    assert C.swept_overrides(["experiment=morocco_quick", "model=naive,drift", "seed=1"]) == "model=naive,drift"
    assert C.swept_overrides(["experiment=tune_lightgbm"]) == "experiment=tune_lightgbm"
    assert C.swept_overrides([]) == "(no overrides)"


def test_rerun_config_keeps_the_schema_and_hydra_defaults(tmp_path):
    from experiments import _common as C

    cfg, _ = compose_cfg("run", ["experiment=morocco_quick", "model=ridge"], output_dir=tmp_path)
    path = C.write_rerun_config(cfg, "run")
    text = path.read_text()
    assert text.startswith(f"# Re-run: lmforecast run --config-dir {tmp_path / 'rerun'}\n")
    saved = OmegaConf.load(path)
    assert list(saved.defaults) == [schema.SCHEMA_NAME, {"hydra": "default"}, "_self_"]
    assert saved.model_name == "ridge"
    assert OmegaConf.to_container(saved)["data"]["raw_dir"] == "${paths.raw}/morocco_quick"  # interpolations kept
    conf = tmp_path / "conf"  # the CLI searches conf/ and the --config-dir folder: simulate both in one
    shutil.copytree(CONF, conf)
    shutil.copy(path, conf / "config.yaml")
    again, _ = compose_cfg("config", [], config_dir=conf, output_dir=tmp_path / "again")
    assert OmegaConf.to_container(again.backtest) == OmegaConf.to_container(cfg.backtest)
    assert again.model == cfg.model and again.data.source == cfg.data.source
