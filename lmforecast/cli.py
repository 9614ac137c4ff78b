"""``lmforecast <stage> [hydra overrides...]``: the command-line entry point.

Hydra stages (``build_panel``, ``backtest``, ``forecast``, ``report``, ``run``) run
``experiments/<stage>.py`` with the remaining arguments as Hydra overrides (``-m``/``--multirun``,
``--config-dir``, ``--cfg job`` ... pass through). The experiments folder is looked up in the
current directory (the project root) first, then in the package's source checkout.

Other commands (plain argparse):

* ``lmforecast leaderboard [--experiment NAME] [--tracking-uri URI] [--metric mase] [--top N]``
* ``lmforecast generate-data [--raw-dir data/raw/morocco] [--seed 20251] [--start ...] ...``
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
from collections.abc import Sequence
from pathlib import Path

HYDRA_STAGES = ("build_panel", "backtest", "forecast", "report", "run")
OTHER_COMMANDS = ("leaderboard", "generate-data")
ENV_EXPERIMENTS = "LMFORECAST_EXPERIMENTS_DIR"

USAGE = f"""usage: lmforecast <stage> [hydra overrides...]

stages (Hydra; overrides like model=ridge backtest.horizon=6, -m for a sweep):
  {", ".join(HYDRA_STAGES)}
other commands:
  leaderboard [--experiment NAME] [--tracking-uri URI] [--metric mase] [--top N]
  generate-data [--raw-dir DIR] [--seed N] [--start YYYY-MM] [--end YYYY-MM] [--truth-end YYYY-MM]
                [--n-offers-scale X] [--overwrite]
"""


def find_experiments_dir(cwd: str | os.PathLike | None = None) -> Path:
    """The folder holding ``experiments/<stage>.py``.

    Looks at ``$LMFORECAST_EXPERIMENTS_DIR``, then ``<cwd>/experiments``, then the source checkout
    the package was installed from. Raises FileNotFoundError listing the places searched.
    """
    candidates = []
    if os.environ.get(ENV_EXPERIMENTS):
        candidates.append(Path(os.environ[ENV_EXPERIMENTS]))
    candidates.append(Path(cwd or os.getcwd()) / "experiments")
    candidates.append(Path(__file__).resolve().parents[1] / "experiments")
    for folder in candidates:
        if (folder / "run.py").is_file():
            return folder.resolve()
    raise FileNotFoundError("cannot find the experiments folder (with run.py); looked in "
                            + ", ".join(str(c) for c in candidates))


def run_stage(stage: str, overrides: Sequence[str]) -> int:
    """Run ``experiments/<stage>.py`` in this process with ``overrides`` as its argv; return the exit code."""
    script = find_experiments_dir() / f"{stage}.py"
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig

    GlobalHydra.instance().clear()
    HydraConfig.instance().cfg = None  # a config left by an earlier in-process run would leak its paths
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [str(script), *overrides]
    sys.path.insert(0, str(script.parent))
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:  # Hydra exits 1 after printing a config or job error
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        GlobalHydra.instance().clear()
        HydraConfig.instance().cfg = None
    return 0


def _default_tracking_uri() -> str:
    return f"sqlite:///{Path.cwd().resolve() / 'mlruns' / 'mlflow.db'}"


def leaderboard_main(argv: Sequence[str]) -> int:
    """``lmforecast leaderboard``: print the ranked backtest runs of an experiment."""
    parser = argparse.ArgumentParser(prog="lmforecast leaderboard",
                                     description="Rank backtest runs logged to MLflow.")
    parser.add_argument("--experiment", default="lmforecast-morocco", help="MLflow experiment name")
    parser.add_argument("--tracking-uri", default=None,
                        help="tracking URI (default: sqlite store in ./mlruns/mlflow.db)")
    parser.add_argument("--metric", default="mase", help="ranking metric (mase, wape, coverage_80, ...)")
    parser.add_argument("--top", type=int, default=None, help="best N runs per target")
    args = parser.parse_args(list(argv))
    from lmforecast.tracking import leaderboard

    import pandas as pd

    table = leaderboard(args.experiment, args.tracking_uri or _default_tracking_uri(), metric=args.metric,
                        top=args.top)
    if table.empty:
        print(f"no finished backtest runs in experiment {args.experiment!r}")
        return 0
    with pd.option_context("display.max_rows", 200, "display.max_columns", 20, "display.width", 200,
                           "display.max_colwidth", 60, "display.float_format", "{:.4g}".format):
        print(table.to_string(index=False))
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


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if argv else 2
    stage, rest = argv[0], argv[1:]
    if stage in HYDRA_STAGES:
        return run_stage(stage, rest)
    if stage == "leaderboard":
        return leaderboard_main(rest)
    if stage == "generate-data":
        return generate_data_main(rest)
    print(f"lmforecast: unknown stage {stage!r}; choose one of: "
          f"{', '.join(HYDRA_STAGES + OTHER_COMMANDS)}", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
