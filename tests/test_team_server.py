"""The team setup end to end (slow): a throwaway PostgreSQL cluster on loopback, the team's MLflow
server on it (``lmforecast team-server``: basic-auth, proxied artifact store), a refused
unauthenticated client, and a small sweep run from two processes at once whose runs all land
under their parents. Skipped, saying why, only where PostgreSQL's server binaries are missing
(``.ci/run`` installs Debian's ``postgresql`` package)."""

from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from lmforecast import tracking as T
from lmforecast.errors import TrackingError

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
EXPERIMENT = "team-sweep"


def _pg_bindir() -> Path | None:
    candidates = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(Path(out.stdout.strip()))
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL cluster of its own (temp folder, loopback only, password auth), run as ``postgres``."""
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed here: install Debian's "
                    "postgresql package (apt-get install -y postgresql; .ci/run does)")
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: run the cluster as the postgres user
        import pwd

        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the cluster as "
                        "(Debian's postgresql package creates it)")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="lmforecast-pg-", dir="/tmp"))
    superuser_password, password = secrets.token_hex(12), secrets.token_hex(12)
    (base / "pw").write_text(superuser_password)
    if as_postgres:
        for path in (base, base / "pw"):
            os.chown(path, user.pw_uid, user.pw_gid)
    port = _free_port()
    data = base / "data"
    try:
        subprocess.run(as_postgres + [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8",
                                      "--locale=C", "--auth-host=scram-sha-256", "--auth-local=scram-sha-256",
                                      f"--pwfile={base / 'pw'}"], check=True, capture_output=True, timeout=120)
        subprocess.run(as_postgres + [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w",
                                      "-t", "60", "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {base}",
                                      "start"], check=True, capture_output=True, timeout=120)
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", password=superuser_password,
                             dbname="postgres", autocommit=True) as con, con.cursor() as cur:
            cur.execute(f"CREATE ROLE mlflow LOGIN PASSWORD '{password}'")
            cur.execute("CREATE DATABASE mlflow OWNER mlflow")
            cur.execute("CREATE DATABASE mlflow_auth OWNER mlflow")
        yield {"port": port, "password": password}
    finally:
        subprocess.run(as_postgres + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True, timeout=120)
        shutil.rmtree(base, ignore_errors=True)


def _get(url: str, user: str | None = None, password: str | None = None) -> int:
    request = urllib.request.Request(url)
    if user is not None:
        import base64

        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0  # not listening (yet)


@pytest.fixture(scope="module")
def server(postgres, tmp_path_factory):
    """``lmforecast team-server`` on loopback; every secret in its environment only."""
    port = _free_port()
    admin = {"MLFLOW_AUTH_ADMIN_USERNAME": "admin", "MLFLOW_AUTH_ADMIN_PASSWORD": secrets.token_hex(12)}
    env = {**os.environ, **admin, "PGPASSWORD": postgres["password"],
           "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_hex(16),
           "LMFORECAST_MLFLOW_BACKEND_URI": f"postgresql://mlflow@127.0.0.1:{postgres['port']}/mlflow",
           "LMFORECAST_MLFLOW_AUTH_DB_URI": f"postgresql://mlflow@127.0.0.1:{postgres['port']}/mlflow_auth"}
    for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_URI"):
        env.pop(name, None)
    folder = tmp_path_factory.mktemp("team")
    artifacts = folder / "shared-artifacts"
    log = open(folder / "server.log", "w")
    command = [str(Path(sys.executable).parent / "lmforecast"), "team-server", "--host", "127.0.0.1",
               "--port", str(port), "--artifacts", str(artifacts), "--workers", "2"]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while _get(f"{uri}/health") != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"the team server did not come up: {(folder / 'server.log').read_text()[-3000:]}")
            time.sleep(1)
        yield {"uri": uri, "admin": admin, "artifacts": artifacts, "folder": folder}
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
        log.close()


def test_the_team_server_refuses_whoever_does_not_log_in(server, monkeypatch):
    uri = server["uri"]
    search = f"{uri}/api/2.0/mlflow/experiments/search?max_results=1"
    assert _get(search) == 401                                          # no credentials
    assert _get(search, "admin", "not-the-password") == 401             # wrong password
    assert _get(search, "nobody", "whatever") == 401                    # unknown user
    assert _get(search, "admin", server["admin"]["MLFLOW_AUTH_ADMIN_PASSWORD"]) == 200
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD", raising=False)
    with pytest.raises(TrackingError, match="requires a login and no credentials were given"):
        T.check_tracking_uri(uri)
    ini = next(Path("/tmp").glob("lmforecast-team-server-*/basic_auth.ini"), None)
    if ini is not None:  # the auth settings: private, and without any password
        assert oct(ini.stat().st_mode & 0o777) == "0o600"
        assert server["admin"]["MLFLOW_AUTH_ADMIN_PASSWORD"] not in ini.read_text()


JOB = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from lmforecast import pipeline, tracking as T
from lmforecast.backtest import RollingOriginSplitter
from lmforecast.models.baselines import Naive, SeasonalNaive
from test_backtest import make_panel

uri, sweep_id, job, start_at = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
time.sleep(max(0.0, start_at - time.time()))          # both jobs ask for the parent at the same moment
parent = T.find_or_create_sweep_parent(uri, "team-sweep", sweep_id)
tracker = T.MlflowTracker(uri, "team-sweep", log_model=False, log_plots=False, parent_run_id=parent,
                          tags={T.TAG_OVERRIDES: f"job={job}"})
models = {"naive": Naive(uncertainty="none"), "seasonal_naive": SeasonalNaive(uncertainty="none")}
plan = pipeline.BacktestPlan(RollingOriginSplitter(horizon=3, step=3, n_windows=2), quantiles=(0.5,),
                             metrics=("mase", "mae"), by=())
with pipeline.track(tracker, "backtest", model="naive", data="tiny") as run_id:
    pipeline.backtest(models, make_panel(30), ["job_offers"], plan, tracker=tracker, data_name="tiny")
print(json.dumps({"parent": parent, "run": run_id}))
"""


def test_a_sweep_from_two_processes_at_once_keeps_every_run_under_its_parent(server, tmp_path):
    from mlflow import MlflowClient
    from mlflow.server.auth.client import AuthServiceClient

    uri, admin = server["uri"], server["admin"]
    analyst = {"MLFLOW_TRACKING_USERNAME": "analyst", "MLFLOW_TRACKING_PASSWORD": secrets.token_hex(12)}
    admin_env = {"MLFLOW_TRACKING_USERNAME": admin["MLFLOW_AUTH_ADMIN_USERNAME"],
                 "MLFLOW_TRACKING_PASSWORD": admin["MLFLOW_AUTH_ADMIN_PASSWORD"]}
    saved = {k: os.environ.get(k) for k in admin_env}
    os.environ.update(admin_env)
    try:
        AuthServiceClient(uri).create_user(analyst["MLFLOW_TRACKING_USERNAME"], analyst["MLFLOW_TRACKING_PASSWORD"])
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)

    sweep_id = f"/shared/multirun/backtest/{secrets.token_hex(4)}"
    start_at = time.time() + 5
    jobs = []
    for job in ("0", "1"):          # each job in its own folder: nothing local is shared between them
        folder = tmp_path / f"job{job}"
        folder.mkdir()
        env = {**os.environ, **analyst, "MLFLOW_LOGGING_LEVEL": "WARNING"}
        jobs.append(subprocess.Popen([sys.executable, "-c", JOB, str(REPO / "tests"), uri, sweep_id, job, str(start_at)],
                                     cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = []
    for process in jobs:
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err[-3000:]
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    assert outputs[0]["parent"] == outputs[1]["parent"]

    os.environ.update(analyst)
    try:
        client = MlflowClient(uri)
        experiment = client.get_experiment_by_name(EXPERIMENT)
        runs = client.search_runs([experiment.experiment_id], max_results=1000)
    finally:
        for key in analyst:
            os.environ.pop(key, None)
    by_kind: dict[str, list] = {}
    for run in runs:
        by_kind.setdefault(run.data.tags.get(T.TAG_KIND), []).append(run)
    (parent,) = by_kind["sweep"]
    assert parent.info.run_id == outputs[0]["parent"] and parent.data.tags[T.TAG_SWEEP_ID] == sweep_id
    job_runs = by_kind["pipeline"]
    assert sorted(r.info.run_id for r in job_runs) == sorted(o["run"] for o in outputs)
    assert all(r.data.tags["mlflow.parentRunId"] == parent.info.run_id for r in job_runs)
    backtests = by_kind["backtest"]
    assert len(backtests) == 2 * 2                                     # 2 jobs x 2 models, none lost
    assert {r.data.tags["mlflow.parentRunId"] for r in backtests} == {r.info.run_id for r in job_runs}
    assert all(r.info.status == "FINISHED" for r in [parent] * 0 + job_runs + backtests)
    assert all("mase" in r.data.metrics and "mae" in r.data.metrics for r in backtests)
    stored = sorted(p.name for p in server["artifacts"].rglob("by_horizon.csv"))
    assert len(stored) == 4                                            # the artifacts reached the shared store
