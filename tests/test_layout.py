"""The editable install is not shadowed by a folder named like the package.

``pip install -e .`` (``package-dir = {"" = "."}`` in pyproject.toml) puts the checkout on
``sys.path`` with a plain ``.pth`` file. A folder ``lmforecast/`` without ``__init__.py`` in the
working directory -- e.g. the parent folder of a clone named ``lmforecast`` -- is only a
namespace portion, and a regular package found later on ``sys.path`` wins over it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_a_folder_named_lmforecast_in_the_working_directory_does_not_shadow_the_package(tmp_path):
    clone = tmp_path / "lmforecast"  # a clone folder named like the package, seen from its parent
    (clone / "lmforecast").mkdir(parents=True)
    (clone / "README.md").write_text("a clone\n")
    code = ("import lmforecast, experiments; print(lmforecast.__file__); print(experiments.__file__); "
            "print(callable(lmforecast.pipeline.run))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(REPO / "lmforecast" / "__init__.py"),
                                   str(REPO / "experiments" / "__init__.py"), "True"]


def test_the_editable_install_is_a_path_entry_not_an_import_hook():
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    pth = [p for p in site.glob("__editable__*lmforecast*.pth")]
    assert pth and pth[0].read_text().strip() == str(REPO)
    assert not list(site.glob("__editable___lmforecast*_finder.py"))


def test_every_data_file_of_the_package_is_declared_package_data():
    """A wheel (``pip install .``, not only the editable install) must carry the files the code reads."""
    import fnmatch
    import tomllib

    root = Path(__file__).resolve().parents[1]
    globs = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["lmforecast"]
    package = root / "lmforecast"
    data_files = [p.relative_to(package).as_posix() for p in package.rglob("*")
                  if p.is_file() and "data" in p.relative_to(package).parts[:-1] and "__pycache__" not in p.parts]
    assert data_files, "no data folder found under lmforecast/"
    missing = [f for f in data_files if not any(fnmatch.fnmatch(f, g) for g in globs)]
    assert not missing, f"not in [tool.setuptools.package-data] of pyproject.toml: {missing}"
