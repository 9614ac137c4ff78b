"""The team's MLflow tracking server: PostgreSQL backend store, shared artifact store, basic-auth.

``lmforecast team-server`` starts ``mlflow server --app-name basic-auth`` (MLflow's own
authentication app: every request needs a user name and password; unknown or missing
credentials get HTTP 401) with

* the **backend store** (runs, params, metrics, tags) in PostgreSQL: ``$LMFORECAST_MLFLOW_BACKEND_URI``
  (``postgresql://mlflow@db-host:5432/mlflow``);
* the **user store** of the auth app in PostgreSQL too: ``$LMFORECAST_MLFLOW_AUTH_DB_URI``
  (``postgresql://mlflow@db-host:5432/mlflow_auth``);
* the **artifact store** (models, plots, tables) in a folder or bucket every team member's
  client reaches through the server (``--artifacts``: MLflow's artifact proxy,
  ``--serve-artifacts``), so clients need no credentials of their own for it.

Every secret comes from the environment, never from a committed file: the database password
(``PGPASSWORD``, read by libpq, or inside the URI variables), the first admin
(``MLFLOW_AUTH_ADMIN_USERNAME`` / ``MLFLOW_AUTH_ADMIN_PASSWORD``, read by MLflow when the user
store is empty) and the CSRF key of the auth app (``MLFLOW_FLASK_SERVER_SECRET_KEY``). The auth
app's settings file is written at start to a private temporary file (mode 0600) that holds only
the user-store URI as given and the default permission. Team members authenticate with
``MLFLOW_TRACKING_USERNAME`` / ``MLFLOW_TRACKING_PASSWORD`` (read by MLflow's client).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["REQUIRED_ENV", "auth_config_text", "server_command", "prepare", "main"]

ENV_BACKEND_URI = "LMFORECAST_MLFLOW_BACKEND_URI"
ENV_AUTH_DB_URI = "LMFORECAST_MLFLOW_AUTH_DB_URI"
#: what must be set in the server's environment, and what each is for
REQUIRED_ENV = {
    ENV_BACKEND_URI: "backend store, e.g. postgresql://mlflow@db-host:5432/mlflow",
    ENV_AUTH_DB_URI: "user store of the auth app, e.g. postgresql://mlflow@db-host:5432/mlflow_auth",
    "MLFLOW_AUTH_ADMIN_USERNAME": "the first admin (created when the user store is empty)",
    "MLFLOW_AUTH_ADMIN_PASSWORD": "the first admin's password",
    "MLFLOW_FLASK_SERVER_SECRET_KEY": "CSRF key of the auth app (same on every server process)",
}
PERMISSIONS = ("READ", "EDIT", "MANAGE", "NO_PERMISSIONS")


def auth_config_text(auth_database_uri: str, default_permission: str = "READ") -> str:
    """The auth app's settings (``basic_auth.ini``): user store and default permission, no credentials.

    ``default_permission`` is what an authenticated user may do on experiments others created
    (``READ``: see everything, change only one's own; ``NO_PERMISSIONS``: see only what one is
    granted). Admin credentials are left to MLflow's ``MLFLOW_AUTH_ADMIN_*`` variables.
    """
    if default_permission not in PERMISSIONS:
        raise ValueError(f"default_permission must be one of {list(PERMISSIONS)}, got {default_permission!r}")
    if "\n" in auth_database_uri:
        raise ValueError("the auth database URI must be one line")
    return ("[mlflow]\n"
            f"default_permission = {default_permission}\n"
            f"database_uri = {auth_database_uri.replace('%', '%%')}\n"
            "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n")


def server_command(*, host: str, port: int, backend_store_uri: str, artifacts_destination: str,
                   workers: int = 2, extra: Sequence[str] = (), python: str = sys.executable) -> list[str]:
    """The ``mlflow server`` command line of the team server (basic-auth, proxied artifacts)."""
    return [python, "-m", "mlflow", "server", "--app-name", "basic-auth", "--host", str(host), "--port", str(int(port)),
            "--backend-store-uri", backend_store_uri, "--serve-artifacts",
            "--artifacts-destination", artifacts_destination, "--workers", str(int(workers)), *extra]


def prepare(folder: str | os.PathLike, *, host: str = "127.0.0.1", port: int = 5000, artifacts: str,
            workers: int = 2, default_permission: str = "READ", extra: Sequence[str] = (),
            env: Mapping[str, str] | None = None) -> tuple[list[str], dict[str, str]]:
    """Command and environment of the team server; writes the auth settings to ``folder``.

    Parameters
    ----------
    folder : private folder for ``basic_auth.ini`` (written with mode 0600).
    host, port : where the server listens (``0.0.0.0`` for the team's network).
    artifacts : the shared artifact store: a folder (made absolute) or a URI (``s3://bucket/mlflow``).
    workers : server processes.
    default_permission : see :func:`auth_config_text`.
    extra : more ``mlflow server`` options (e.g. ``--allowed-hosts mlflow.example.org``).
    env : the environment to read (default ``os.environ``); every :data:`REQUIRED_ENV` name must be set.

    Raises
    ------
    ValueError naming every missing variable and what it is for.
    """
    env = dict(os.environ if env is None else env)
    missing = [f"{name} ({why})" for name, why in REQUIRED_ENV.items() if not env.get(name)]
    if missing:
        raise ValueError("the team server reads its settings and secrets from the environment; not set: "
                         + "; ".join(missing))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ini = folder / "basic_auth.ini"
    fd = os.open(ini, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(auth_config_text(env[ENV_AUTH_DB_URI], default_permission))
    if "://" not in artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        artifacts = str(Path(artifacts).resolve())
    command = server_command(host=host, port=port, backend_store_uri=env[ENV_BACKEND_URI],
                             artifacts_destination=artifacts, workers=workers, extra=extra)
    env["MLFLOW_AUTH_CONFIG_PATH"] = str(ini)
    return command, env


def main(argv: Sequence[str] | None = None) -> int:
    """``lmforecast team-server``: run the team's tracking server until it stops; return its exit code."""
    parser = argparse.ArgumentParser(prog="lmforecast team-server", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--artifacts", required=True, help="shared artifact store: folder or URI")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--default-permission", default="READ", choices=PERMISSIONS)
    args, extra = parser.parse_known_args(argv)
    with tempfile.TemporaryDirectory(prefix="lmforecast-team-server-") as folder:
        command, env = prepare(folder, host=args.host, port=args.port, artifacts=args.artifacts,
                               workers=args.workers, default_permission=args.default_permission, extra=extra)
        return subprocess.call(command, env=env)
