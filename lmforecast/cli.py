"""``lmforecast <stage> [hydra overrides...]``: the command-line entry point.

Hydra stages (``build_panel``, ``backtest``, ``forecast``, ``report``, ``run``) call the
``main()`` of ``experiments.<stage>`` (the Hydra entry points of the source checkout, importable
through the editable install) with the remaining arguments as Hydra overrides
(``-m``/``--multirun``, ``--config-dir``, ``--cfg job`` ... pass through). ``--config-dir DIR``
alone, on a folder holding a ``config.yaml`` (a run's saved ``rerun/`` folder), runs that config.

Errors a person can act on -- bad data (:class:`~lmforecast.errors.DataContractError`), bad
settings (Hydra / OmegaConf composition errors, :class:`~lmforecast.errors.ConfigError`), an
unreachable tracking server -- print one message and exit with code 2; ``--debug`` (or
``HYDRA_FULL_ERROR=1``) shows the traceback instead. Anything else is a bug: traceback, exit 1.

Other commands (plain argparse):

* ``lmforecast leaderboard [--experiment NAME] [--tracking-uri URI] [--metric mase] [--top N]``
* ``lmforecast runs [--experiment NAME] [--tracking-uri URI] [--clean]``
* ``lmforecast generate-data [--raw-dir data/raw/morocco] [--seed 20251] [--start ...] ...``
* ``lmforecast team-server --artifacts DIR|URI [--host H] [--port P]``: the team's MLflow server
  (PostgreSQL, basic-auth; settings and secrets from the environment, :mod:`lmforecast.team_server`)
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

HYDRA_STAGES = ("build_panel", "backtest", "forecast", "report", "run")
OTHER_COMMANDS = ("leaderboard", "runs", "generate-data", "team-server")
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130

USAGE = f"""usage: lmforecast <stage> [--debug] [hydra overrides...]

stages (Hydra; overrides like model=ridge backtest.horizon=6, -m for a sweep):
  {", ".join(HYDRA_STAGES)}
  --config-dir <run>/rerun   re-run a saved config
  --debug                    show the traceback of an error
other commands:
  leaderboard [--experiment NAME] [--tracking-uri URI] [--metric mase] [--top N]
  runs [--experiment NAME] [--tracking-uri URI] [--clean]
  generate-data [--raw-dir DIR] [--seed N] [--start YYYY-MM] [--end YYYY-MM] [--truth-end YYYY-MM]
                [--n-offers-scale X] [--overwrite]
  team-server --artifacts DIR|URI [--host H] [--port P] [--workers N]   (env: LMFORECAST_MLFLOW_*, MLFLOW_AUTH_*)
"""


def user_error_types() -> tuple[type[BaseException], ...]:
    """Exceptions reported as one message with exit code 2 (the user can fix them), not as a traceback."""
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from lmforecast.errors import LmforecastError

    return LmforecastError, HydraException, OmegaConfBaseException, FileNotFoundError, FileExistsError


#: hints added to an error message that mentions the key (an optional extra that is not installed)
HINTS = {"hydra/sweeper/optuna": 'the Optuna sweeper comes with the `tune` extra: pip install -e ".[tune]"'}


def error_message(exc: BaseException) -> str:
    """The text shown for a user error: its message, an OmegaConf cause (as Hydra prints it), hints."""
    from omegaconf.errors import OmegaConfBaseException

    text = str(exc).strip() or type(exc).__name__
    cause = exc.__cause__
    if isinstance(cause, OmegaConfBaseException) and str(cause).strip() not in text:
        text += "\n" + str(cause).strip()
    return text + "".join(f"\n{hint}" for key, hint in HINTS.items() if key in text)


def _with_saved_config(overrides: list[str]) -> list[str]:
    """``--config-dir DIR`` without a config name runs ``DIR/config.yaml`` when there is one."""
    names = {"--config-name", "-cn"}
    if any(a in names or a.startswith("--config-name=") for a in overrides):
        return overrides
    for i, arg in enumerate(overrides):
        if arg in ("--config-dir", "-cd") and i + 1 < len(overrides):
            folder = overrides[i + 1]
        elif arg.startswith("--config-dir="):
            folder = arg.split("=", 1)[1]
        else:
            continue
        if (Path(folder) / "config.yaml").is_file():
            return [*overrides, "--config-name", "config"]
    return overrides


def _stage_module(stage: str):
    try:
        return importlib.import_module(f"experiments.{stage}")
    except ModuleNotFoundError as exc:
        if exc.name not in ("experiments", f"experiments.{stage}"):
            raise
        from lmforecast.errors import ConfigError

        raise ConfigError("the Hydra stages need the source checkout (conf/ and experiments/): install it with "
                          "`pip install -e .` from the checkout") from None


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _stop_job_workers() -> None:
    """Stop the worker processes joblib keeps for reuse after a sweep (Hydra's joblib launcher).

    A worker keeps the working directory it started in, and Hydra resolves a job's paths
    (``${hydra:runtime.cwd}``) there: a later stage run in this process from another folder
    (tests, notebooks calling :func:`main`) must get fresh workers, not write into the old folder.
    """
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=True)


def run_stage(stage: str, overrides: Sequence[str], debug: bool = False) -> int:
    """Run Hydra stage ``stage`` in this process with ``overrides``; return the exit code.

    Open sweep parent runs are closed FAILED (KILLED on Ctrl-C / SIGTERM) if the stage ends
    with an error.
    """
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig

    from lmforecast import tracking as T

    debug = debug or os.environ.get("HYDRA_FULL_ERROR") == "1"
    GlobalHydra.instance().clear()
    HydraConfig.instance().cfg = None  # a config left by an earlier in-process run would leak its paths
    saved_argv, saved_env = sys.argv, os.environ.get("HYDRA_FULL_ERROR")
    saved_term = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    root = logging.getLogger()
    saved_logging = (root.level, root.handlers[:])  # Hydra configures logging per job; undo it afterwards
    sys.argv = [f"lmforecast {stage}", *_with_saved_config(list(overrides))]
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let errors reach us: we print them (or the traceback with --debug)
    try:
        _stage_module(stage).main()
    except SystemExit as exc:  # Hydra exits after --help, --cfg ... or an argument error
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except KeyboardInterrupt:
        T.close_open_sweeps("KILLED", "interrupted")
        print(f"lmforecast {stage}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except user_error_types() as exc:
        T.close_open_sweeps("FAILED", f"{type(exc).__name__}: {exc}"[:5000])
        if debug:
            raise
        print(f"lmforecast {stage}: error: {error_message(exc)}", file=sys.stderr)
        print("(run with --debug, or HYDRA_FULL_ERROR=1, for the traceback)", file=sys.stderr)
        return EXIT_USER_ERROR
    except BaseException as exc:
        T.close_open_sweeps("FAILED", f"{type(exc).__name__}: {exc}"[:5000])
        raise
    finally:
        _stop_job_workers()
        sys.argv = saved_argv
        signal.signal(signal.SIGTERM, saved_term)
        for handler in root.handlers[:]:
            if handler not in saved_logging[1]:
                root.removeHandler(handler)
                handler.close()
        root.handlers[:] = saved_logging[1]
        root.setLevel(saved_logging[0])
        if saved_env is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = saved_env
        GlobalHydra.instance().clear()
        HydraConfig.instance().cfg = None
    return 0


def _default_tracking_uri() -> str:
    return f"sqlite:///{Path.cwd().resolve() / 'mlruns' / 'mlflow.db'}"


def _tracking_arguments(parser: argparse.ArgumentParser, experiment_default: str | None) -> None:
    parser.add_argument("--experiment", default=experiment_default,
                        help="MLflow experiment name" + ("" if experiment_default else " (default: all)"))
    parser.add_argument("--tracking-uri", default=None,
                        help="tracking URI (default: sqlite store in ./mlruns/mlflow.db)")


def leaderboard_main(argv: Sequence[str]) -> int:
    """``lmforecast leaderboard``: print the ranked backtest runs of an experiment."""
    parser = argparse.ArgumentParser(prog="lmforecast leaderboard",
                                     description="Rank backtest runs logged to MLflow.")
    _tracking_arguments(parser, "lmforecast-morocco")
    parser.add_argument("--metric", default="mase", help="ranking metric (mase, wape, coverage_80, ...)")
    parser.add_argument("--top", type=int, default=None, help="best N runs per target")
    args = parser.parse_args(list(argv))
    import pandas as pd

    from lmforecast.tracking import leaderboard

    table = leaderboard(args.experiment, args.tracking_uri or _default_tracking_uri(), metric=args.metric,
                        top=args.top)
    if table.empty:
        print(f"no finished backtest runs in experiment {args.experiment!r}")
        return 0
    with pd.option_context("display.max_rows", 200, "display.max_columns", 20, "display.width", 200,
                           "display.max_colwidth", 60, "display.float_format", "{:.4g}".format):
        print(table.to_string(index=False))
    return 0


def runs_main(argv: Sequence[str]) -> int:
    """``lmforecast runs``: list the runs still RUNNING; ``--clean`` marks those of dead processes KILLED."""
    parser = argparse.ArgumentParser(prog="lmforecast runs",
                                     description="Runs left RUNNING in the MLflow store, and their cleanup.")
    _tracking_arguments(parser, None)
    parser.add_argument("--clean", action="store_true",
                        help="mark KILLED the RUNNING runs whose process on this host has ended")
    args = parser.parse_args(list(argv))
    import mlflow

    from lmforecast import tracking as T

    uri = args.tracking_uri or _default_tracking_uri()
    names = [args.experiment] if args.experiment else None
    if args.clean:
        closed = T.close_stale_runs(uri, names)
        print(f"marked {len(closed)} run(s) KILLED" + (": " + ", ".join(closed) if closed else ""))
    client = mlflow.MlflowClient(tracking_uri=uri)
    experiments = client.search_experiments() if names is None else \
        [e for e in (client.get_experiment_by_name(n) for n in names) if e is not None]
    running = client.search_runs([e.experiment_id for e in experiments], "attributes.status = 'RUNNING'",
                                 max_results=1000) if experiments else []
    for run in running:
        tags = run.data.tags
        print(f"RUNNING {run.info.run_id}  {run.info.run_name}  (pid {tags.get(T.TAG_PID, '?')} on "
              f"{tags.get(T.TAG_HOST, '?')})")
    if not running:
        print("no run is RUNNING")
    return 0


def generate_data_main(argv: Sequence[str]) -> int:
    """``lmforecast generate-data``: write the synthetic Moroccan raw data (and truth)."""
    parser = argparse.ArgumentParser(prog="lmforecast generate-data",
                                     description="Generate the seeded synthetic Moroccan labour market.")
    parser.add_argument("--raw-dir", default="data/raw/morocco")
    parser.add_argument("--seed", type=int, default=20251)
    parser.add_argument("--start", default=None, help="first period YYYY-MM")
    parser.add_argument("--end", default=None, help="last observed period YYYY-MM")
    parser.add_argument("--truth-end", default=None, help="last truth period YYYY-MM")
    parser.add_argument("--n-offers-scale", type=float, default=None, help="multiplier on the number of job ads")
    parser.add_argument("--overwrite", action="store_true", help="replace existing files")
    args = parser.parse_args(list(argv))
    from lmforecast.datasets.morocco import generate_morocco

    kwargs = {k: v for k, v in {"start": args.start, "end": args.end, "truth_end": args.truth_end,
                                "n_offers_scale": args.n_offers_scale}.items() if v is not None}
    result = generate_morocco(args.raw_dir, seed=args.seed, overwrite=args.overwrite, **kwargs)
    state = "written to" if result["generated"] else "already present and verified in"
    print(f"synthetic Moroccan data {state} {result['raw_dir']} ({result['seconds']:.1f} s)")
    return 0


def team_server_main(argv: Sequence[str]) -> int:
    """``lmforecast team-server``: the team's MLflow tracking server (see :mod:`lmforecast.team_server`)."""
    from lmforecast.team_server import main as serve

    return serve(argv)


COMMANDS = {"leaderboard": leaderboard_main, "runs": runs_main, "generate-data": generate_data_main,
            "team-server": team_server_main}


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if argv else EXIT_USER_ERROR
    stage, rest = argv[0], argv[1:]
    debug = "--debug" in rest
    rest = [a for a in rest if a != "--debug"]
    if stage in HYDRA_STAGES:
        return run_stage(stage, rest, debug=debug)
    if stage in COMMANDS:
        try:
            return COMMANDS[stage](rest)
        except user_error_types() + (ValueError,) as exc:
            if debug:
                raise
            print(f"lmforecast {stage}: error: {error_message(exc)}", file=sys.stderr)
            return EXIT_USER_ERROR
    print(f"lmforecast: unknown stage {stage!r}; choose one of: "
          f"{', '.join(HYDRA_STAGES + OTHER_COMMANDS)}", file=sys.stderr)
    return EXIT_USER_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
