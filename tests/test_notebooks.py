"""The numbered notebooks: committed without outputs, built on the library only, run top to bottom.

The slow test executes each notebook in a Jupyter kernel (nbclient, as ``jupyter lab`` runs it)
in a temporary project laid out like the checkout: ``notebooks/`` is the working folder,
``data/raw/morocco_quick`` holds the ``morocco_quick`` preset's data (generated once per session)
and ``../shared`` links the real public data when it is there. Nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
SHARED = REPO / ".." / "shared"
REKRUTE = SHARED / "data" / "ma-rekrute-sample"

#: files each notebook must leave, relative to the temporary project
WRITES = {
    "01_quickstart": ["outputs/notebooks/01_quickstart/skill_gap_quickstart.html",
                      "outputs/notebooks/01_quickstart/skill_gap_quickstart.csv"],
    "02_panels_and_features": ["data/raw/example_country/regions.csv", "data/raw/example_country/occupations.csv"],
    "03_custom_forecaster": [],
    "04_skill_gaps_and_scenarios": ["outputs/notebooks/04_skill_gaps_and_scenarios/skill_gap_scenario.xlsx",
                                    "outputs/notebooks/04_skill_gaps_and_scenarios/skill_gap_scenario.html"],
    "05_comparing_mlflow_runs": ["outputs/notebooks/05_comparing_mlflow_runs/mlflow.db"],
    "06_job_ads": ["data/raw/rekrute_sample/offers.csv"],
}
PLOTLY = "application/vnd.plotly.v1+json"
#: columns of the skill-gap report's cell table that notebook 1 writes (``skill_gap_quickstart.csv``)
REPORT_COLUMNS = ["job_openings", "new_supply", "gap", "gap_q10", "gap_q90", "p_shortage", "rating"]


def cells(path: Path, kind: str = "code") -> list[dict]:
    return [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == kind]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def test_notebooks_are_numbered_one_to_six_and_the_readme_links_each():
    names = [p.stem for p in NOTEBOOKS]
    assert names == list(WRITES), names
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for path in NOTEBOOKS:
        assert f"(notebooks/{path.name})" in readme, f"README.md does not link notebooks/{path.name}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    for cell in cells(path):
        assert cell["outputs"] == [] and cell["execution_count"] is None, source(cell)[:80]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_uses_the_library_and_its_plotting_functions_only(path):
    code = "\n".join(source(c) for c in cells(path))
    assert re.search(r"^from lmforecast[\w.]* import ", code, flags=re.M), "the notebook imports nothing from lmforecast"
    classes = re.findall(r"^class (\w+)\((\w+)\)", code, flags=re.M)
    allowed = [("YearOnYearGrowth", "Forecaster")] if path.stem == "03_custom_forecaster" else []
    assert classes == allowed, classes  # notebook 3 shows how to write a forecaster: that one class only
    outside = "\n".join(source(c) for c in cells(path) if not source(c).startswith("class "))
    assert "def " not in outside and "lambda" not in outside, "a notebook defines no function: put it in lmforecast/"
    assert not re.search(r"^\s*(import|from) (plotly|matplotlib)", code, flags=re.M), "plots come from lmforecast.plotting"
    figures = [c for c in cells(path) if re.search(r"^plotting\.\w+\(", source(c).strip().splitlines()[-1])]
    assert figures, "the notebook draws no figure with lmforecast.plotting"
    assert len(cells(path, "markdown")) >= 3, "each step is described in a markdown cell"


@pytest.fixture(scope="session")
def quick_data(tmp_path_factory):
    """The morocco_quick preset's raw folder, generated once (the notebooks' default data)."""
    from lmforecast.datasets import SyntheticMorocco

    folder = tmp_path_factory.mktemp("notebook_data") / "morocco_quick"
    return SyntheticMorocco(folder, start="2019-01", n_offers_scale=0.02).ensure_data()


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom_in_a_kernel(path, quick_data, tmp_path, require_extra):
    nbformat = require_extra("nbformat", "notebooks")
    nbclient = require_extra("nbclient", "notebooks")
    if path.stem == "06_job_ads" and not REKRUTE.is_dir():
        pytest.skip(f"shared data folder {REKRUTE} is absent")
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    shutil.copytree(quick_data, project / "data" / "raw" / "morocco_quick")
    if SHARED.is_dir():
        os.symlink(SHARED.resolve(), tmp_path / "shared")
    notebook = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(project / "notebooks")}}).execute()
    seconds = time.perf_counter() - started
    print(f"{path.name}: {seconds:.0f} s")
    for relative in WRITES[path.stem]:
        assert (project / relative).is_file(), f"{path.name} did not write {relative}"
    if path.stem == "01_quickstart":
        import pandas as pd

        table = pd.read_csv(project / WRITES[path.stem][1], dtype={"region": str, "occupation": str})
        missing = [c for c in REPORT_COLUMNS if c not in table.columns]
        assert not missing and len(table) > 0, f"the quickstart report lacks {missing}: {list(table.columns)}"
        assert set(table["year"]) == {2026, 2027, 2028, 2029, 2030}
    code = [c for c in notebook.cells if c.cell_type == "code"]
    drawn = [c for c in code if re.search(r"^plotting\.\w+\(", c.source.strip().splitlines()[-1])]
    for cell in drawn:
        figures = [o for o in cell.outputs if PLOTLY in o.get("data", {})]
        assert len(figures) == 1, f"{path.name}: {cell.source.splitlines()[-1]!r} showed no figure"
        assert json.dumps(figures[0]["data"][PLOTLY]["data"]) != "[]", f"empty figure: {cell.source[:60]}"
    assert all(o.output_type != "error" for c in code for o in c.outputs)
