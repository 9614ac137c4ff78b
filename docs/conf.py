"""Sphinx configuration of the lmforecast reference (``sphinx-build -W --keep-going -b html docs docs/_build/html``).

The API pages are generated from the docstrings (autosummary + autodoc, NumPy style through
numpydoc). Nothing is fetched at build time: no intersphinx, the theme's assets are local.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")

import lmforecast  # noqa: E402

project = "lmforecast"
author = "lmforecast maintainers"
copyright = "lmforecast maintainers"
version = release = getattr(lmforecast, "__version__", "0.1.0")

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
]

templates_path = ["_templates"]
exclude_patterns = ["_build"]
root_doc = "index"

# --- API pages from the docstrings
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"           # the signatures carry them; numpydoc's Parameters describe them
autodoc_member_order = "bysource"
numpydoc_show_class_members = False  # the class template lists the members (autodoc :members:)
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# --- HTML
html_theme = "pydata_sphinx_theme"
html_title = "lmforecast"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 4,
    "navbar_end": ["theme-switcher"],
}
html_context = {"default_mode": "light"}
html_show_sourcelink = False


def _skip_sklearn_plumbing(app, what, name, obj, skip, options):
    """Leave out scikit-learn's metadata-routing methods (``set_fit_request`` ...), not lmforecast's API."""
    if name == "get_metadata_routing" or (name.startswith("set_") and name.endswith("_request")):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_sklearn_plumbing)
