"""Where backtest folds and per-series fits run: in this process, or as tasks on a Dask cluster.

Two backends share one small interface (``map``, ``series_context``, a ``with`` block):

* :class:`LocalBackend` (the default) -- folds run in this process (or in ``n_jobs`` joblib
  processes, see :func:`lmforecast.backtest.backtest`), per-series models use their own
  ``n_jobs``;
* :class:`DaskBackend` -- a ``dask.distributed`` cluster: a ``LocalCluster`` started for the
  ``with`` block (``address=None``), or a running scheduler (``address="tcp://host:8786"``).
  Backtest folds become tasks (:meth:`DaskBackend.map`; the panel is scattered once, each task
  cuts its own fold, so a global model such as LightGBM is trained once per fold on a worker),
  and inside them -- and around :func:`lmforecast.pipeline.forecast_targets` -- per-series
  models whose ``n_jobs`` is ``None`` (ETS, Theta) or ``-1`` (Prophet) send their series to the
  cluster through joblib's Dask backend (``joblib.parallel_config(backend="dask")``; nested
  tasks secede from their worker's thread, so nothing deadlocks).

Nothing here is a scheduler: Dask schedules, joblib batches. Results come back in input order,
every task runs with native thread pools capped at one thread (``threadpoolctl``; the
``LocalCluster`` nanny also sets ``OMP_NUM_THREADS=1``), and no result depends on which worker
ran it, so a Dask backtest gives the same cube as the single-process one
(``tests/test_distributed.py`` compares them on a two-worker ``LocalCluster``).

The client is never made Dask's process-wide default (``set_as_default=False``): two backends
can live in one process, and nothing global is left behind when the ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence

__all__ = ["LocalBackend", "DaskBackend", "make_backend", "BACKENDS"]

log = logging.getLogger("lmforecast")

BACKENDS = ("local", "dask")


class LocalBackend:
    """Run everything in this process (the default backend).

    Examples
    --------
    >>> with LocalBackend() as backend:
    ...     backend.map(abs, [-1, 2, -3])
    [1, 2, 3]
    """

    name = "local"

    def __enter__(self) -> "LocalBackend":
        return self

    def __exit__(self, *exc) -> None:
        return None

    def describe(self) -> str:
        """One line: where tasks run."""
        return "local (this process)"

    def map(self, func: Callable, items: Sequence, shared: Mapping[str, object] | None = None,
            progress: Callable[[int], None] | None = None, name: str = "task") -> list:
        """``[func(item, **shared) for item in items]``; ``progress(1)`` after each."""
        out = []
        for item in items:
            out.append(func(item, **dict(shared or {})))
            if progress is not None:
                progress(1)
        return out

    @contextlib.contextmanager
    def series_context(self) -> Iterator[None]:
        """No change: per-series models use their own ``n_jobs``."""
        yield


def _task(func: Callable, item, shared: Mapping[str, object], series_tasks: bool):
    """One task on a worker: native threads capped at 1, nested joblib calls on the cluster (or in-task)."""
    import dask
    import joblib
    from threadpoolctl import threadpool_limits

    # dask-backed panel variables are read in the task's own thread (no nested graph to wait on)
    with threadpool_limits(1), dask.config.set(scheduler="sync"), \
            joblib.parallel_config(backend="dask" if series_tasks else "sequential"):
        return func(item, **shared)


class DaskBackend:
    """Run backtest folds and per-series fits as tasks on a ``dask.distributed`` cluster.

    Parameters
    ----------
    address : scheduler address of a running cluster (``"tcp://10.0.0.5:8786"``); ``None``
        starts a ``LocalCluster`` on this machine for the ``with`` block.
    n_workers : workers of the ``LocalCluster`` (ignored with ``address``).
    threads_per_worker : threads per ``LocalCluster`` worker (1: one task at a time per process,
        so LightGBM and BLAS stay single-threaded and results reproducible).
    memory_limit : per-worker memory limit of the ``LocalCluster`` (``"auto"``, ``"2GiB"``, None).
    series_tasks : inside fold tasks, let per-series models (``n_jobs=None``/-1) send their
        series to the cluster as nested tasks; ``False`` fits them inside the fold's task.
    dashboard : start the ``LocalCluster``'s web dashboard (off by default).
    timeout_s : seconds to wait for the scheduler / the first worker.

    Examples
    --------
    >>> from lmforecast.distributed import DaskBackend
    >>> with DaskBackend(n_workers=2) as backend:                    # doctest: +SKIP
    ...     backend.map(abs, [-1, 2, -3])
    [1, 2, 3]
    """

    name = "dask"

    def __init__(self, address: str | None = None, n_workers: int = 2, threads_per_worker: int = 1,
                 memory_limit: str | int | None = "auto", series_tasks: bool = True, dashboard: bool = False,
                 timeout_s: float = 60.0):
        if address is not None and not str(address).strip():
            address = None
        if address is None and (isinstance(n_workers, bool) or int(n_workers) < 1):
            raise ValueError(f"DaskBackend: n_workers must be an integer >= 1, got {n_workers!r}")
        if int(threads_per_worker) < 1:
            raise ValueError(f"DaskBackend: threads_per_worker must be >= 1, got {threads_per_worker!r}")
        self.address = address
        self.n_workers = int(n_workers)
        self.threads_per_worker = int(threads_per_worker)
        self.memory_limit = memory_limit
        self.series_tasks = bool(series_tasks)
        self.dashboard = bool(dashboard)
        self.timeout_s = float(timeout_s)
        self.client = None
        self.cluster = None

    # --- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> "DaskBackend":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> "DaskBackend":
        """Connect to ``address`` or start the ``LocalCluster``; return ``self`` (idempotent)."""
        if self.client is not None:
            return self
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise ImportError("backend=dask needs dask.distributed: pip install 'dask[distributed]'") from exc
        if self.address is None:
            self.cluster = LocalCluster(n_workers=self.n_workers, threads_per_worker=self.threads_per_worker,
                                        processes=True, memory_limit=self.memory_limit,
                                        dashboard_address=":0" if self.dashboard else None,
                                        silence_logs=logging.WARNING)
            self.client = Client(self.cluster, set_as_default=False, timeout=self.timeout_s)
        else:
            try:
                self.client = Client(self.address, set_as_default=False, timeout=self.timeout_s)
            except OSError as exc:
                raise ConnectionError(f"no Dask scheduler answers at backend.address={self.address!r} within "
                                      f"{self.timeout_s:g} s ({exc}); start one (dask scheduler / dask worker) "
                                      f"or use backend=dask without an address for a LocalCluster") from None
        self.client.wait_for_workers(1, timeout=self.timeout_s)
        log.info("Dask backend: %s", self.describe())
        return self

    def close(self) -> None:
        """Close the client (and the ``LocalCluster`` this backend started)."""
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()
        self.client = self.cluster = None

    def _require(self):
        if self.client is None:
            raise RuntimeError("DaskBackend is not started: use it in a `with DaskBackend(...) as backend:` block")
        return self.client

    def describe(self) -> str:
        """One line: the scheduler and its workers (threads)."""
        if self.client is None:
            where = self.address or f"LocalCluster({self.n_workers} workers x {self.threads_per_worker} thread)"
            return f"dask {where} (not started)"
        cores = self.client.ncores()
        return f"dask {self.client.scheduler.address}: {len(cores)} workers, {sum(cores.values())} threads"

    def n_workers_running(self) -> int:
        """Workers connected to the scheduler now."""
        return len(self._require().ncores())

    # --- work -----------------------------------------------------------------------------------
    def map(self, func: Callable, items: Sequence, shared: Mapping[str, object] | None = None,
            progress: Callable[[int], None] | None = None, name: str = "task") -> list:
        """``[func(item, **shared) for item in items]`` as cluster tasks; results in input order.

        ``shared`` values (e.g. the panel) are scattered to the workers once, not sent with every
        task. ``progress(1)`` is called as each task finishes. The first task error is raised
        here (the remaining tasks are cancelled).
        """
        from distributed import as_completed

        client = self._require()
        items = list(items)
        if not items:
            return []
        scattered = {key: client.scatter(value, broadcast=True, hash=False) for key, value in (shared or {}).items()}
        token = uuid.uuid4().hex[:8]
        futures = [client.submit(_task, func, item, scattered, self.series_tasks, pure=False,
                                 key=f"lmforecast-{name}-{i}-{token}") for i, item in enumerate(items)]
        try:
            for _future in as_completed(futures, loop=client.loop):
                if _future.status == "error":
                    _future.result()  # raises the task's exception
                if progress is not None:
                    progress(1)
            return client.gather(futures)
        finally:
            client.cancel(futures)
            del scattered

    @contextlib.contextmanager
    def series_context(self) -> Iterator[None]:
        """joblib calls in the block (per-series fits with ``n_jobs`` None or -1) run on the cluster."""
        import joblib

        client = self._require()
        with joblib.parallel_config(backend="dask", client=client):
            yield


def make_backend(kind: str = "local", *, address: str | None = None, n_workers: int = 2,
                 threads_per_worker: int = 1, memory_limit: str | int | None = "auto",
                 series_tasks: bool = True, dashboard: bool = False):
    """A backend by name: ``"local"`` -> :class:`LocalBackend`, ``"dask"`` -> :class:`DaskBackend`.

    The keyword arguments are those of :class:`DaskBackend` (ignored for ``"local"``). Raises
    ValueError naming the accepted kinds.
    """
    if kind == "local":
        return LocalBackend()
    if kind == "dask":
        return DaskBackend(address=address, n_workers=n_workers, threads_per_worker=threads_per_worker,
                           memory_limit=memory_limit, series_tasks=series_tasks, dashboard=dashboard)
    raise ValueError(f"backend.kind must be one of {list(BACKENDS)}, got {kind!r}")
