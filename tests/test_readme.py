"""Every command and Python snippet of the README works as written.

The README's shell commands are extracted from its ``bash`` blocks and run in README order in
one temporary project, each on a tiny version of the data (the overrides below are appended;
they only shrink the data and the backtest). The install and test commands are the ones
``.ci/run`` runs in a fresh virtual environment, so here they are only checked to match it.
The Python snippet runs with two textual substitutions that shrink it the same way.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import tomllib
from pathlib import Path

import mlflow
import pytest

from lmforecast import cli
from lmforecast import tracking as T
from lmforecast.datasets import generate_morocco

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
AU_IVI = REPO / ".." / "shared" / "data" / "au-ivi"

#: appended to every Hydra stage: a short backtest, one report year, few paths, 2 targets
TINY = ["backtest.horizon=6", "backtest.n_windows=1", "report.years=[2026]", "report.n_paths=20",
        "tracking.log_plots=false"]
#: appended when the data set is the default synthetic one: 3 years of data, 1 % of the job ads
TINY_MOROCCO = ["data.source.start=2023-01", "data.source.n_offers_scale=0.01"]
#: the Python snippet, shrunk the same way
TINY_PYTHON = {
    'SyntheticMorocco("data/raw/morocco")': 'SyntheticMorocco("data/raw/morocco", start="2023-01", n_offers_scale=0.01)',
    "RollingOriginSplitter(horizon=12, step=6, n_windows=3)": "RollingOriginSplitter(horizon=6, step=6, n_windows=1)",
    "ReportPlan(years=(2026, 2027))": "ReportPlan(years=(2026,), n_paths=20)",
}


def blocks(language: str) -> list[str]:
    """The README's fenced code blocks of ``language``, in order."""
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def shell_commands() -> list[list[str]]:
    """Every command of the README's bash blocks, comments dropped, split at ``&&``."""
    commands = []
    for block in blocks("bash"):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if not words:
                continue
            segment: list[str] = []
            for word in [*words, "&&"]:
                if word == "&&":
                    commands.append(segment)
                    segment = []
                else:
                    segment.append(word)
    return commands


def kind(words: list[str]) -> str:
    """What a README command is: install, tests, or a lmforecast command."""
    program = Path(words[0]).name
    if words[:3] == ["python3.11", "-m", "venv"] or program == "pip":
        return "install"
    if words[1:4] == ["-m", "pytest", "-m"]:
        return "tests"
    if program == "lmforecast":
        return "lmforecast"
    raise AssertionError(f"README command {' '.join(words)!r} is not covered by this test")


def ci_script() -> str:
    return (REPO / ".ci" / "run").read_text()


def test_every_readme_command_is_covered_and_the_install_commands_are_what_ci_runs():
    commands = shell_commands()
    kinds = [kind(words) for words in commands]
    assert kinds.count("tests") == 1 and kinds.count("lmforecast") >= 10
    test_line = next(line for line in blocks("bash")[1].splitlines() if "pytest" in line)
    assert test_line.strip() in ci_script()  # .ci/run runs the README's test command verbatim
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for words in commands:
        if kind(words) == "install" and words[0].endswith("pip"):
            target = words[-1]
            assert target.startswith("."), target
            for extra in re.findall(r"\[(\w+)\]", target):
                assert extra in extras, f"README installs the extra {extra!r}, which pyproject.toml does not define"
        if kind(words) == "lmforecast":
            assert words[1] in cli.HYDRA_STAGES + cli.OTHER_COMMANDS, words


def run_command(words: list[str], project: Path, custom_raw: Path) -> tuple[int, list[str]]:
    """Run one README lmforecast command in ``project`` (tiny overrides appended); return (code, args)."""
    args = [w.replace("/path/to/your/raw", str(custom_raw)) for w in words[1:]]
    if any("<time>" in a for a in args):
        latest = sorted((project / "outputs" / "run" / "runs").iterdir())[-1]
        args = [a.replace("outputs/run/runs/<time>", str(latest.relative_to(project))) for a in args]
    elif args[0] in cli.HYDRA_STAGES:
        args += TINY
        if not any(a.startswith(("data=", "experiment=au_ivi")) for a in args):
            args += TINY_MOROCCO
        if "experiment=au_ivi_lightgbm" in args:
            (workbook,) = AU_IVI.glob("*.xlsx")
            args += [f"data.source.path={workbook.resolve()}"]
        if "experiment=tune_lightgbm" in args:
            args += ["hydra.sweeper.n_trials=2", "hydra.launcher.n_jobs=1"]
        else:
            args += ["data.targets=[vacancies,jobseekers]"] if "experiment=au_ivi_lightgbm" not in args else []
    old = Path.cwd()
    os.chdir(project)
    try:
        return cli.main(args), args
    finally:
        os.chdir(old)


def newest_metrics(project: Path, stage: str) -> dict:
    folder = sorted((project / "outputs" / stage / "runs").iterdir())[-1]
    return json.loads((folder / "metrics.json").read_text())


@pytest.mark.slow
def test_readme_commands_run_as_written(tmp_path, capsys):
    if not AU_IVI.is_dir():
        pytest.skip(f"the README's AU IVI preset needs {AU_IVI.resolve()}, which is absent")
    project = tmp_path / "project"
    project.mkdir()
    custom_raw = tmp_path / "my_country"
    generate_morocco(custom_raw, start="2023-01", n_offers_scale=0.01)
    uri = f"sqlite:///{project / 'mlruns' / 'mlflow.db'}"
    ran = []
    for words in shell_commands():
        if kind(words) != "lmforecast":
            continue
        code, args = run_command(words, project, custom_raw)
        out = capsys.readouterr()
        assert code == 0, f"`{' '.join(words)}` (run as {args}) exited {code}:\n{out.err[-3000:]}"
        ran.append((words[1:], out.out))
        if words[1:] == ["run"]:  # the main job ends on its summary: metric, top shortages, report, MLflow
            assert [line.split(" ")[0] for line in out.out.strip().splitlines()[-4:]] == [
                "backtest", "top", "skill-gap", "MLflow"]
        if "-m" in words:
            client = mlflow.MlflowClient(uri)
            experiment = client.get_experiment_by_name("lmforecast-morocco")
            (parent,) = client.search_runs([experiment.experiment_id], f"tags.`{T.TAG_KIND}` = 'sweep'")
            assert parent.info.status == "FINISHED"
            assert parent.info.run_name == "sweep backtest: model=seasonal_naive,lightgbm,recommended on morocco"
            jobs = client.search_runs([experiment.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
            assert sorted(j.data.tags[T.TAG_MODEL] for j in jobs) == ["lightgbm", "recommended", "seasonal_naive"]
            (naive_job,) = [j for j in jobs if j.data.tags[T.TAG_MODEL] == "seasonal_naive"]
            children = client.search_runs([experiment.experiment_id],
                                          f"tags.mlflow.parentRunId = '{naive_job.info.run_id}'")
            assert sorted(c.info.run_name for c in children) == sorted(  # the compare twin is skipped
                f"backtest: {m} on morocco/{t}" for m in ("seasonal_naive", "naive", "fixed_share")
                for t in ("vacancies", "jobseekers"))
        if words[1] == "leaderboard":
            assert out.out.splitlines()[0].split()[:3] == ["target", "model", "params"]
        if "--config-dir" in words:  # the re-run reproduces the numbers of the run it came from
            runs = sorted((project / "outputs" / "run" / "runs").iterdir())
            original = json.loads((runs[-2] / "metrics.json").read_text())
            again = json.loads((runs[-1] / "metrics.json").read_text())
            assert {k: v for k, v in again.items() if "/" in k} == {k: v for k, v in original.items() if "/" in k}
            assert again["run_id"] != original["run_id"]
    assert len(ran) == sum(kind(w) == "lmforecast" for w in shell_commands())
    client = mlflow.MlflowClient(uri)
    assert not client.search_runs([e.experiment_id for e in client.search_experiments()],
                                  "attributes.status = 'RUNNING'")  # every run ended


@pytest.mark.slow
def test_readme_python_snippet_runs(tmp_path, monkeypatch):
    (snippet,) = blocks("python")
    for written, tiny in TINY_PYTHON.items():
        assert written in snippet, f"the README snippet no longer has {written!r}: update TINY_PYTHON"
        snippet = snippet.replace(written, tiny)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__main__"}
    exec(compile(snippet, "README.md[python]", "exec"), namespace)  # noqa: S102
    assert set(namespace["backtests"].scores("mase").index) == {"recommended", "seasonal_naive"}
    assert {"job_openings", "new_supply", "gap", "gap_q10", "gap_q90", "p_shortage", "rating"} <= set(
        namespace["gap"].table.columns)
    assert (tmp_path / "outputs" / "api" / "skill_gap_morocco.xlsx").exists()
    assert namespace["forecast"].sizes["quantile"] == 3
