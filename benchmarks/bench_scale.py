"""Scale benchmark: Dask backtests (1 and 2 workers vs one process), out-of-core offer counts, engines.

What is measured (each run in a fresh ``spawn`` subprocess, so peak memory is its own)
------------------------------------------------------------------------------------
* **backtests** -- a synthetic job-ad panel of 12 regions x 436 ISCO-08 unit groups x 180 months
  (5,232 series; :func:`bench_forecast.synthetic_panel`, relabelled with the real unit-group
  codes), rolling-origin backtests of LightGBM (global: one fit per fold) and damped-trend ETS
  (per series) on three paths in the same run: one process (``backend=None``), a Dask
  ``LocalCluster`` with 1 worker and with 2 workers (one thread each). Wall time, the client
  process's peak RSS and each worker's peak RSS (``VmHWM``), and a SHA-256 of every cube (values
  and attrs other than timings) to show the three paths give the same cube.
* **offers** -- job ads written as many Parquet files (:func:`bench_panel.generate_job_ads`, one
  seed per file, ids made unique across files; written untimed), counted by
  :func:`lmforecast.features.offers_parquet.count_offers_parquet`: wall time, rows/s, peak RSS
  (target < 3 GB). On the first file alone, the in-memory path (``load_offers`` +
  ``count_offers``) is run too and the counts compared.
* **engines** -- the same aggregation (ads per month x region label x source, plus distinct
  titles) over all the files in DuckDB, Polars (lazy scan, streaming engine) and Dask DataFrame,
  each in its own process: the measurement behind the choice of DuckDB.
* **projection** -- a written estimate of the wall time for N workers from the measured per-task
  times, next to Nixtla's published figure (StatsForecast on Ray: 1 million series in 30 min).

The machine is shared: ``os.getloadavg()`` is recorded before each run.

Run ``python benchmarks/bench_scale.py`` (all sections; ``--sections backtests,offers,engines``,
``--rows``, ``--files``, ``--quick`` for a small smoke run). Results: ``benchmarks/results/
bench_scale.{json,md}``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
DEFAULT_OUT = RESULTS / "bench_scale.json"
TARGET = "job_offers"
GRID = (12, 436, 180)
MODES = ("single", "dask-1", "dask-2")
MODELS = ("lightgbm", "ets")
HORIZON, STEP, N_WINDOWS = 12, 12, 4
NIXTLA = {"series": 1_000_000, "minutes": 30, "engine": "Ray",
          "source": "StatsForecast 0.6 README: 'Distributed computation in clusters with ray. "
                    "(Forecast 1M series in 30min)' (AutoARIMA, generated daily series, horizon 7)"}


def _module(name: str):
    """A sibling benchmark script imported as a module (benchmarks/ is not a package)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def peak_rss_bytes() -> int:
    """This process's peak resident memory (``VmHWM``), bytes."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _mib(n: float) -> float:
    return round(n / 2**20, 1)


def isco_panel(n_regions: int, n_occupations: int, n_months: int, seed: int = 0):
    """The synthetic scale panel with real ISCO-08 unit-group codes (and their major groups)."""
    from lmforecast import panel as P

    panel = _module("bench_forecast").synthetic_panel(n_regions, n_occupations, n_months, seed=seed)
    groups = pd.read_csv(REPO / "lmforecast" / "taxonomy" / "data" / "isco08_groups.csv", dtype=str)
    units = groups.loc[groups["level"] == "4", "code"].tolist()
    codes = units[:n_occupations] if n_occupations <= len(units) else \
        units + [f"X{i:04d}" for i in range(n_occupations - len(units))]
    panel = panel.assign_coords({P.OCCUPATION: codes, P.OCCUPATION_MAJOR: (P.OCCUPATION, [c[0] for c in codes])})
    return P.validate(panel)


def model_for(name: str):
    from lmforecast.models.lightgbm import LightGBMForecaster
    from lmforecast.models.statsmodels import ETSForecaster
    from lmforecast.uncertainty import ResidualUncertainty

    if name == "lightgbm":
        return LightGBMForecaster(num_threads=1, uncertainty=ResidualUncertainty(n_windows=3)), (0.1, 0.5, 0.9)
    if name == "ets":
        return ETSForecaster(uncertainty="none"), (0.5,)
    raise KeyError(name)


def cube_digest(ds) -> str:
    """SHA-256 of a backtest cube's values, coords and attrs other than run timings."""
    from lmforecast.backtest import without_run_attrs

    ds = without_run_attrs(ds)
    digest = hashlib.sha256()
    for name in sorted(map(str, ds.variables)):
        values = np.ascontiguousarray(ds[name].values)
        digest.update(name.encode())
        digest.update(values.tobytes() if values.dtype != object else repr(values.tolist()).encode())
    digest.update(json.dumps(ds.attrs, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def backtest_child(model_name: str, mode: str, grid: tuple[int, int, int]) -> dict:
    """One backtest in this (fresh) process: ``mode`` = single | dask-<n workers>."""
    from lmforecast.backtest import RollingOriginSplitter, backtest
    from lmforecast.distributed import DaskBackend

    panel = isco_panel(*grid)
    model, quantiles = model_for(model_name)
    splitter = RollingOriginSplitter(horizon=HORIZON, step=STEP, n_windows=N_WINDOWS)
    load = os.getloadavg()[0]
    workers_mib: list[float] = []
    cluster_start = 0.0
    if mode == "single":
        start = time.perf_counter()
        ds = backtest(model, panel, TARGET, splitter, quantiles=quantiles, point_in_time=False, progress=False)
        wall = time.perf_counter() - start
    else:
        n_workers = int(mode.split("-")[1])
        begin = time.perf_counter()
        with DaskBackend(n_workers=n_workers, threads_per_worker=1, memory_limit=None) as backend:
            backend.client.wait_for_workers(n_workers, timeout=120)
            cluster_start = time.perf_counter() - begin
            start = time.perf_counter()
            ds = backtest(model, panel, TARGET, splitter, quantiles=quantiles, point_in_time=False, progress=False,
                          backend=backend)
            wall = time.perf_counter() - start
            # a lambda is pickled by value: the workers need not import this script
            peaks = backend.client.run(lambda: next(int(line.split()[1]) * 1024 for line in open("/proc/self/status")
                                                    if line.startswith("VmHWM:")))
            workers_mib = [_mib(v) for _, v in sorted(peaks.items())]
    n_folds = int(ds.sizes["cutoff"])
    return {"model": model_name, "mode": mode, "wall_s": round(wall, 1), "cluster_start_s": round(cluster_start, 1),
            "load_1m_before": round(load, 2),
            "client_peak_mib": _mib(peak_rss_bytes()), "worker_peak_mib": workers_mib,
            "n_folds": n_folds, "n_series": int(ds.sizes["region"] * ds.sizes["occupation"]),
            "fit_s_per_fold": round(float(ds.attrs["fit_time_s"]) / n_folds, 2),
            "predict_s_per_fold": round(float(ds.attrs["predict_time_s"]) / n_folds, 2),
            "cube_sha256": cube_digest(ds)}


# --------------------------------------------------------------------------- job ads
def write_files(folder: Path, rows: int, files: int, seed: int = 0) -> dict:
    """``files`` Parquet files of synthetic job ads, ``rows`` in all; ids unique across files (untimed)."""
    bench_panel = _module("bench_panel")
    folder.mkdir(parents=True, exist_ok=True)
    per_file = [rows // files + (1 if i < rows % files else 0) for i in range(files)]
    start = time.perf_counter()
    total_bytes = 0
    for i, n in enumerate(per_file):
        ads = bench_panel.generate_job_ads(max(n, 10), seed=seed + i).ads.iloc[:n]
        ads["offer_id"] = f"F{i:03d}-" + ads["offer_id"].astype(str)
        path = folder / f"ads-{i:03d}.parquet"
        ads.to_parquet(path, index=False, row_group_size=500_000)
        total_bytes += path.stat().st_size
        del ads
    return {"files": files, "rows": int(sum(per_file)), "bytes_on_disk": total_bytes,
            "generate_s": round(time.perf_counter() - start, 1)}


def offers_child(folder: str, memory_limit: str, rows_per_bucket: int) -> dict:
    """The out-of-core count of every file of ``folder`` in this (fresh) process."""
    from lmforecast.contract import load_reference
    from lmforecast.features.offers_parquet import count_offers_parquet
    from lmforecast.taxonomy.titles import TitleCoder

    load = os.getloadavg()[0]
    start = time.perf_counter()
    reference = load_reference(folder)
    coder = TitleCoder(occupations=reference.occupations)
    result = count_offers_parquet(folder, normalizer=reference.normalizer, coder=coder,
                                  regions=reference.region_codes, occupations=reference.occupation_codes,
                                  memory_limit=memory_limit, threads=2, rows_per_bucket=rows_per_bucket,
                                  temp_dir=folder)
    wall = time.perf_counter() - start
    report = result.report
    return {"wall_s": round(wall, 1), "rows": report["rows_in"], "rows_per_s": round(report["rows_in"] / wall),
            "peak_rss_mib": _mib(peak_rss_bytes()), "load_1m_before": round(load, 2),
            "offers_counted": report["offers_counted"], "reposts_removed": report["reposts_removed"],
            "counts_sum": float(result.counts.sum()), "duckdb_memory_limit": memory_limit,
            "rows_per_bucket": rows_per_bucket}


def offers_check_child(file: str) -> dict:
    """In-memory vs out-of-core counts on one file (identical?)."""
    from lmforecast.contract import load_offers, load_reference
    from lmforecast.features.offers import count_offers
    from lmforecast.features.offers_parquet import count_offers_parquet
    from lmforecast.taxonomy.titles import TitleCoder

    with tempfile.TemporaryDirectory() as tmp:
        os.symlink(file, Path(tmp) / "offers.parquet")
        reference = load_reference(tmp)
        coder = TitleCoder(occupations=reference.occupations)
        kw = dict(normalizer=reference.normalizer, coder=coder, regions=reference.region_codes,
                  occupations=reference.occupation_codes)
        memory = count_offers(load_offers(tmp, reference), **kw)
    out_of_core = count_offers_parquet([file], **kw)
    same = memory.counts.identical(out_of_core.counts) and \
        {k: v for k, v in out_of_core.report.items() if k != "files"} == memory.report
    return {"file": Path(file).name, "rows": memory.report["rows_in"], "identical": bool(same)}


ENGINE_QUERY = "ads per month x region label x source, and distinct titles"


def engine_child(engine: str, folder: str) -> dict:
    """The engine probe's aggregation over every file of ``folder`` with one engine, in this process."""
    load = os.getloadavg()[0]
    pattern = str(Path(folder) / "ads-*.parquet")
    start = time.perf_counter()
    if engine == "duckdb":
        import duckdb

        con = duckdb.connect(config={"memory_limit": "1GB", "threads": 2})
        groups = con.execute(f"SELECT substr(posted_on, 1, 7) AS month, region, source, count(*) AS n "
                             f"FROM read_parquet('{pattern}') GROUP BY ALL").df()
        titles = con.execute(f"SELECT count(DISTINCT title) FROM read_parquet('{pattern}')").fetchone()[0]
    elif engine == "polars":
        import polars as pl

        scan = pl.scan_parquet(pattern)
        groups = (scan.group_by(pl.col("posted_on").str.slice(0, 7).alias("month"), "region", "source")
                  .agg(pl.len().alias("n")).collect(engine="streaming"))
        titles = scan.select(pl.col("title").n_unique()).collect(engine="streaming").item()
    elif engine == "dask":
        import dask
        import dask.dataframe as dd

        with dask.config.set(scheduler="threads", num_workers=2):
            frame = dd.read_parquet(pattern, columns=["posted_on", "region", "source", "title"])
            frame = frame.assign(month=frame["posted_on"].str.slice(0, 7))
            groups = frame.groupby(["month", "region", "source"]).size().compute()
            titles = int(frame["title"].nunique().compute())
    else:
        raise KeyError(engine)
    wall = time.perf_counter() - start
    return {"engine": engine, "wall_s": round(wall, 1), "peak_rss_mib": _mib(peak_rss_bytes()),
            "groups": int(len(groups)), "distinct_titles": int(titles), "load_1m_before": round(load, 2)}


def isolated(func, *args):
    """``func(*args)`` in a fresh spawned process; its result."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(func, *args).result()


# --------------------------------------------------------------------------- projection
def projection(backtests: list[dict], grid: tuple[int, int, int], workers=(1, 2, 8, 32, 128)) -> dict:
    """Wall-time estimates for N workers from the single-process per-task times."""
    out = {}
    n_series = grid[0] * grid[1]
    for model in MODELS:
        single = next((b for b in backtests if b["model"] == model and b["mode"] == "single"), None)
        if single is None:
            continue
        per_fold = single["fit_s_per_fold"] + single["predict_s_per_fold"]
        if model == "lightgbm":  # a fold is one task: N workers help up to n_folds
            rows = {n: round(math.ceil(single["n_folds"] / n) * per_fold, 1) for n in workers}
            out[model] = {"task": "one fold (one global fit + predict)", "s_per_task": round(per_fold, 2),
                          "tasks": single["n_folds"], "wall_s_by_workers": rows,
                          "s_per_series_fold": round(per_fold / n_series, 5)}
        else:  # per series: the series of a fold spread over the workers
            per_series = per_fold / n_series
            rows = {n: round(single["n_folds"] * n_series * per_series / n, 1) for n in workers}
            million = 1_000_000 * per_series
            out[model] = {"task": "one series fit + forecast (batched)", "s_per_series": round(per_series, 5),
                          "tasks": single["n_folds"] * n_series, "wall_s_by_workers": rows,
                          "one_fit_of_1m_series_cpu_h": round(million / 3600, 2),
                          "workers_for_1m_series_in_30_min": math.ceil(million / (30 * 60))}
    return out


def projection_markdown(proj: dict, grid: tuple[int, int, int], measured: list[dict]) -> str:
    lines = ["## Projection for N workers", ""]
    n_series = grid[0] * grid[1]
    for model, p in proj.items():
        rows = ", ".join(f"{n}: {s:g} s" for n, s in p["wall_s_by_workers"].items())
        lines.append(f"* **{model}** ({p['task']}; {p['tasks']} tasks on {n_series:,} series): {rows}.")
    ets = proj.get("ets")
    if ets:
        lines += ["", f"ETS costs {ets['s_per_series'] * 1000:.1f} ms per series fit on one worker here, so one fit "
                      f"of {NIXTLA['series']:,} series is {ets['one_fit_of_1m_series_cpu_h']} worker-hours: "
                      f"{ets['workers_for_1m_series_in_30_min']} single-threaded workers for Nixtla's published "
                      f"{NIXTLA['minutes']} min ({NIXTLA['source']}), before calibration refits (the uncertainty "
                      f"layer refits each series at `n_windows` origins: x{1 + N_WINDOWS} with {N_WINDOWS}) and "
                      f"before Dask's per-task overhead (batches of series keep it small)."]
    lgb = proj.get("lightgbm")
    if lgb:
        lines += ["", f"LightGBM is one global model per fold: {lgb['s_per_task']} s per fold here "
                      f"({lgb['s_per_series_fold'] * 1000:.2f} ms per series and fold, fit + calibration + predict), "
                      f"so workers beyond the number of folds x targets x models do not help; a national grid "
                      f"of 1 million series would be ~{lgb['s_per_series_fold'] * 1e6 / 60:.0f} min per fold on one "
                      f"worker and needs LightGBM's own threads or a distributed trainer (not measured here)."]
    two = {b["model"]: b for b in measured if b["mode"] == "dask-2"}
    one = {b["model"]: b for b in measured if b["mode"] == "dask-1"}
    for model in two:
        if model in one and two[model]["wall_s"]:
            lines.append(f"* measured speed-up 1 -> 2 workers, {model}: x{one[model]['wall_s'] / two[model]['wall_s']:.2f} "
                         f"(on 2 shared cores: the ceiling is x2)")
    return "\n".join(lines)


def environment() -> dict:
    import platform

    def version(name):
        from importlib.metadata import PackageNotFoundError, version as v
        try:
            return v(name)
        except PackageNotFoundError:
            return None

    return {"python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine(),
            "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            **{name: version(name) for name in ("dask", "distributed", "duckdb", "polars", "lightgbm", "statsmodels",
                                                "numpy", "pandas", "xarray")}}


def markdown(payload: dict) -> str:
    grid = tuple(payload["grid"])
    lines = ["# bench_scale", "", f"Machine: {payload['environment']['cpus']} cores, shared; 1-minute load before each "
             f"run is in the tables. Command: `{payload['command']}`.", ""]
    if payload.get("backtests"):
        lines += [f"## Backtests: {grid[0]} x {grid[1]} x {grid[2]} = {grid[0] * grid[1]:,} series, "
                  f"{N_WINDOWS} folds, horizon {HORIZON}", "",
                  "| model | path | backtest wall s | cluster start s | client peak MiB | worker peak MiB | load | "
                  "cube identical to single |",
                  "| --- | --- | ---: | ---: | ---: | --- | ---: | --- |"]
        ref = {b["model"]: b["cube_sha256"] for b in payload["backtests"] if b["mode"] == "single"}
        for b in payload["backtests"]:
            workers = " / ".join(f"{w:g}" for w in b["worker_peak_mib"]) or "-"
            same = "yes" if b["cube_sha256"] == ref.get(b["model"]) else "NO"
            lines.append(f"| {b['model']} | {b['mode']} | {b['wall_s']} | {b.get('cluster_start_s', 0)} | "
                         f"{b['client_peak_mib']} | {workers} | "
                         f"{b['load_1m_before']} | {same} |")
        lines += ["", "LightGBM: `LightGBMForecaster(num_threads=1, uncertainty=ResidualUncertainty(n_windows=3))`, "
                      "quantiles 0.1/0.5/0.9; ETS: `ETSForecaster(uncertainty='none')` (point forecasts; "
                      "series spread over the workers as nested tasks). One thread per task.", ""]
    if payload.get("offers"):
        o, data = payload["offers"], payload["offers_data"]
        lines += ["## Offer counts out of core", "",
                  f"{data['rows']:,} job-ad rows in {data['files']} Parquet files "
                  f"({data['bytes_on_disk'] / 2**30:.2f} GiB; generated in {data['generate_s']} s, untimed): "
                  f"**{o['wall_s']} s** ({o['rows_per_s']:,} rows/s), **peak RSS {o['peak_rss_mib']:,} MiB** "
                  f"(target < 3072), DuckDB memory limit {o['duckdb_memory_limit']}, {o['rows_per_bucket']:,} "
                  f"rows per bucket, load {o['load_1m_before']}; {o['offers_counted']:,} ads counted, "
                  f"{o['reposts_removed']:,} reposts removed."]
        check = payload.get("offers_check")
        if check:
            lines.append(f"In-memory path on `{check['file']}` ({check['rows']:,} rows): counts and report "
                         f"identical: {'yes' if check['identical'] else 'NO'}.")
        lines.append("")
    if payload.get("engines"):
        lines += [f"## Engines ({ENGINE_QUERY}, all files)", "", "| engine | wall s | peak RSS MiB | load |",
                  "| --- | ---: | ---: | ---: |"]
        for e in payload["engines"]:
            lines.append(f"| {e['engine']} | {e.get('wall_s', '-')} | {e.get('peak_rss_mib', '-')} | "
                         f"{e.get('load_1m_before', '-')} |" + (f" error: {e['error']}" if "error" in e else ""))
        lines.append("")
    if payload.get("projection"):
        lines += [projection_markdown(payload["projection"], grid, payload.get("backtests", [])), ""]
    return "\n".join(lines)


def write_results(payload: dict, out: Path) -> None:
    from lmforecast.io import write_text_atomic

    write_text_atomic(out, json.dumps(payload, indent=2, sort_keys=True, default=str))
    write_text_atomic(out.with_suffix(".md"), markdown(payload))


def run(sections=("backtests", "offers", "engines"), grid=GRID, rows: int = 50_000_000, files: int = 20,
        modes=MODES, models=MODELS, out: Path = DEFAULT_OUT, workdir: Path | None = None,
        memory_limit: str = "1GB", rows_per_bucket: int = 2_000_000, command: str = "") -> dict:
    """Run the chosen sections; write ``out`` (.json and .md); return the payload."""
    payload: dict = {"benchmark": "bench_scale", "grid": list(grid), "command": command,
                     "protocol": {"horizon": HORIZON, "step": STEP, "n_windows": N_WINDOWS},
                     "environment": environment(), "nixtla_reference": NIXTLA}
    if "backtests" in sections:
        payload["backtests"] = []
        for model in models:
            for mode in modes:
                print(f"backtest {model} {mode} ...", flush=True)
                result = isolated(backtest_child, model, mode, tuple(grid))
                print(f"  {result}", flush=True)
                payload["backtests"].append(result)
                write_results(payload, out)
        payload["projection"] = projection(payload["backtests"], tuple(grid))
    work = Path(tempfile.mkdtemp(prefix="bench-scale-", dir=workdir))
    try:
        if "offers" in sections or "engines" in sections:
            print(f"writing {rows:,} job ads in {files} files to {work} ...", flush=True)
            payload["offers_data"] = write_files(work / "ads", rows, files)
        if "offers" in sections:
            payload["offers"] = isolated(offers_child, str(work / "ads"), memory_limit, rows_per_bucket)
            print(f"  offers: {payload['offers']}", flush=True)
            payload["offers_check"] = isolated(offers_check_child, str(sorted((work / "ads").glob("*.parquet"))[0]))
            write_results(payload, out)
        if "engines" in sections:
            payload["engines"] = []
            for engine in ("duckdb", "polars", "dask"):
                try:
                    result = isolated(engine_child, engine, str(work / "ads"))
                except Exception as exc:  # noqa: BLE001 - an engine that fails is reported, not fatal
                    result = {"engine": engine, "error": f"{type(exc).__name__}: {exc}"[:300]}
                print(f"  engine: {result}", flush=True)
                payload["engines"].append(result)
            write_results(payload, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_results(payload, out)
    return payload


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sections", default="backtests,offers,engines")
    parser.add_argument("--grid", default=",".join(map(str, GRID)), help="regions,occupations,months")
    parser.add_argument("--rows", type=int, default=50_000_000)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--memory-limit", default="1GB", help="DuckDB memory limit of the offer count")
    parser.add_argument("--rows-per-bucket", type=int, default=2_000_000)
    parser.add_argument("--workdir", type=Path, default=None, help="folder for the temporary Parquet files")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    args = parser.parse_args(argv)
    grid = (2, 6, 60) if args.quick else tuple(int(x) for x in args.grid.split(","))
    rows = 20_000 if args.quick else args.rows
    files = 2 if args.quick else args.files
    run(tuple(args.sections.split(",")), grid, rows, files, tuple(args.modes.split(",")),
        tuple(args.models.split(",")), args.out, args.workdir, args.memory_limit, args.rows_per_bucket,
        command="python benchmarks/bench_scale.py " + " ".join(argv if argv is not None else sys.argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
