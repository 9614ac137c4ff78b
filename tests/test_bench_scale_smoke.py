"""benchmarks/bench_scale.py runs end to end on tiny sizes (slow: it starts a Dask cluster)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_scale_quick_run_writes_its_results(tmp_path):
    out = tmp_path / "bench_scale.json"
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_scale.py"), "--quick", "--models",
                           "lightgbm", "--modes", "single,dask-2", "--out", str(out), "--workdir", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    payload = json.loads(out.read_text())
    single, dask = payload["backtests"]
    assert (single["mode"], dask["mode"]) == ("single", "dask-2") and len(dask["worker_peak_mib"]) == 2
    assert single["cube_sha256"] == dask["cube_sha256"]
    assert payload["offers"]["rows"] == 20_000 and payload["offers_check"]["identical"] is True
    assert {e["engine"] for e in payload["engines"] if "error" not in e} == {"duckdb", "polars", "dask"}
    assert len({(e["groups"], e["distinct_titles"]) for e in payload["engines"]}) == 1
    text = out.with_suffix(".md").read_text()
    assert "Projection for N workers" in text and "| lightgbm | dask-2 |" in text
    assert list(tmp_path.glob("bench-scale-*")) == []
