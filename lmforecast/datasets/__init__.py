"""Data sets shipped with lmforecast.

* :class:`RawFolder`, :class:`SyntheticMorocco`, :class:`AuIvi` -- data sets as objects with
  ``load_panel()``, named in configs with ``_target_`` (``conf/data/*.yaml``);
* :func:`generate_morocco` / :func:`ensure_default_data` -- the seeded synthetic Moroccan labour
  market written to ``data/raw/morocco`` (the default raw data; data card in
  ``data/raw/README.md``);
* :func:`load_au_ivi` -- Australia's Internet Vacancy Index (real job-ad counts by state x ANZSCO
  group) as a panel.
"""

from __future__ import annotations

from lmforecast.datasets.au_ivi import load_au_ivi
from lmforecast.datasets.morocco import ensure_default_data, generate_morocco, verify_morocco
from lmforecast.datasets.sources import AuIvi, RawFolder, SyntheticMorocco

__all__ = ["AuIvi", "RawFolder", "SyntheticMorocco", "ensure_default_data", "generate_morocco", "load_au_ivi",
           "verify_morocco"]
