"""The documentation stays true: docstring examples run, the notebooks' API has them, the docs build.

* every module's docstring examples pass (``doctest``, run here for each module);
* every function and class a notebook uses has a NumPy-style docstring with an example, and a
  page in the API reference (``docs/api/index.rst``);
* (slow) the Sphinx site in ``docs/`` builds from the docstrings without a warning
  (``sphinx-build -W --keep-going``; this test is the build CI runs, its modules are in the
  ``dev`` extra).
"""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import lmforecast

REPO = Path(__file__).resolve().parents[1]
#: modules not imported here: MLflow's models-from-code file (run by MLflow, not imported)
NOT_IMPORTED = {"lmforecast.mlflow_model"}
MODULES = sorted(m.name for m in pkgutil.walk_packages(lmforecast.__path__, "lmforecast.")
                 if m.name not in NOT_IMPORTED)
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_pass(name, monkeypatch, tmp_path):
    monkeypatch.chdir(REPO)  # examples may read ../shared/data relative to the project root
    monkeypatch.setenv("MLFLOW_LOGGING_LEVEL", "WARNING")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=FLAGS, verbose=False, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} failed (see above)"


def test_docstring_examples_exist():
    attempted = 0
    finder = doctest.DocTestFinder()
    for name in MODULES:
        attempted += sum(len(t.examples) for t in finder.find(importlib.import_module(name)))
    assert attempted > 200, attempted


def notebook_api() -> dict[str, object]:
    """``{dotted name: object}`` of every lmforecast function and class the notebooks import or call."""
    used: dict[str, object] = {}
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        tree = ast.parse("\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code"))
        modules = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lmforecast"):
                for alias in node.names:
                    try:
                        obj = importlib.import_module(f"{node.module}.{alias.name}")
                    except ModuleNotFoundError:
                        obj = getattr(importlib.import_module(node.module), alias.name)
                    if inspect.ismodule(obj):
                        modules[alias.asname or alias.name] = obj
                    else:
                        used[f"{node.module}.{alias.name}"] = obj
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
                used[f"{modules[node.value.id].__name__}.{node.attr}"] = getattr(modules[node.value.id], node.attr)
    return {k: v for k, v in sorted(used.items()) if inspect.isclass(v) or inspect.isfunction(v)}


def test_notebooks_use_a_documented_api():
    api = notebook_api()
    assert len(api) > 40 and "lmforecast.pipeline.report" in api and "lmforecast.taxonomy.titles.TitleCoder" in api
    missing = [name for name, obj in api.items() if ">>> " not in (inspect.getdoc(obj) or "")]
    assert not missing, f"these functions and classes of the notebooks have no example in their docstring: {missing}"
    undescribed = [name for name, obj in api.items()
                   if inspect.isfunction(obj) and inspect.signature(obj).parameters
                   and "Parameters\n----------" not in (inspect.getdoc(obj) or "")]
    assert not undescribed, f"these functions have no NumPy-style Parameters section: {undescribed}"


def api_reference_names() -> set[str]:
    """Dotted names listed by the autosummary tables of ``docs/api/index.rst``."""
    names, module = set(), None
    for line in (REPO / "docs" / "api" / "index.rst").read_text(encoding="utf-8").splitlines():
        if line.startswith(".. currentmodule::"):
            module = line.split("::", 1)[1].strip()
        elif line.startswith("   ") and not line.strip().startswith(":") and module:
            names.add(f"{module}.{line.strip()}")
    return names


def test_the_api_reference_lists_every_notebook_function_and_class():
    listed = api_reference_names()
    by_object = {}
    for name in listed:
        module, _, attr = name.rpartition(".")
        try:
            by_object[id(getattr(importlib.import_module(module), attr))] = name
        except (ImportError, AttributeError):
            module, _, sub = module.rpartition(".")
            by_object[id(getattr(getattr(importlib.import_module(module), sub), attr))] = name
    missing = [name for name, obj in notebook_api().items() if id(obj) not in by_object]
    assert not missing, f"docs/api/index.rst has no entry for: {missing}"


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path, require_extra):
    require_extra("sphinx", "docs")
    require_extra("pydata_sphinx_theme", "docs")
    require_extra("numpydoc", "docs")
    out = tmp_path / "html"
    done = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                           str(REPO / "docs"), str(out)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-8000:]
    for page in ("index.html", "getting-started.html", "user-guide/index.html", "api/index.html",
                 "api/generated/lmforecast.pipeline.run.html"):
        assert (out / page).is_file(), page
    assert "Examples" in (out / "api/generated/lmforecast.pipeline.run.html").read_text(encoding="utf-8")
