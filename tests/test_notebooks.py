"""The notebooks run top to bottom against the package API (on a small generated data set)."""

import json
from pathlib import Path

import pytest

from lmforecast.datasets.morocco import generate_morocco

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def run_notebook(path: Path) -> dict:
    """Execute every code cell of ``path`` in one namespace (no kernel needed); return it."""
    namespace: dict = {"__name__": "__main__"}
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for number, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        exec(compile(source, f"{path.name}[cell {number}]", "exec"), namespace)  # noqa: S102
    return namespace


@pytest.mark.slow
def test_quickstart_notebook_runs(tmp_path, monkeypatch):
    raw_dir = tmp_path / "morocco_small"
    # data ending in June: the projection must still reach the end of the next year
    generate_morocco(raw_dir, seed=3, start="2019-01", end="2025-06", truth_end="2027-12", n_offers_scale=0.02)
    monkeypatch.setenv("LMFORECAST_RAW_DIR", str(raw_dir))
    monkeypatch.setenv("LMFORECAST_OUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("LMFORECAST_HORIZON", "6")
    namespace = run_notebook(NOTEBOOKS / "01_quickstart.ipynb")
    table = namespace["table"]
    assert {"year", "region", "occupation", "demand", "supply", "gap", "gap_q10", "gap_q90"} <= set(table.columns)
    assert (table["year"] == 2026).all()
    assert len(table) > 100
    assert namespace["projection"].horizon == 18  # 2025-07 .. 2026-12
    assert (tmp_path / "out" / "gap_quickstart.csv").exists()
    scores = namespace["backtests"].scores("mase")
    assert set(scores.index) == {"seasonal_naive", "recommended"}
    assert scores.notna().all().all()


def test_quickstart_uses_the_library_pipeline():
    """The notebook calls lmforecast.pipeline and defines nothing of its own."""
    cells = json.loads((NOTEBOOKS / "01_quickstart.ipynb").read_text(encoding="utf-8"))["cells"]
    source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "pipeline.build(" in source and "pipeline.project(" in source and "pipeline.report(" in source
    assert "def " not in source and "class " not in source
