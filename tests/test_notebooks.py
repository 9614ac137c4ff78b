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
    generate_morocco(raw_dir, seed=3, start="2019-01", end="2025-12", n_offers_scale=0.02)
    monkeypatch.setenv("LMFORECAST_RAW_DIR", str(raw_dir))
    monkeypatch.setenv("LMFORECAST_HORIZON", "6")
    namespace = run_notebook(NOTEBOOKS / "01_quickstart.ipynb")
    table = namespace["table"]
    assert {"year", "region", "occupation", "demand", "supply", "gap"} <= set(table.columns)
    assert (table["year"] == 2026).all()
    assert len(table) > 100
    scores = namespace["lmf"].evaluate(namespace["cube"], metrics=("mase",))
    assert set(scores["model"]) == {"seasonal_naive", "recommended"}
    assert scores["value"].notna().all()
