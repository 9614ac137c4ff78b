"""Data sets as objects that turn their inputs into a panel, chosen in configs with ``_target_``.

Each source stores its arguments and builds the panel on :meth:`load_panel`, so a config names
a data set the way it names a model (``conf/data/*.yaml``)::

    data:
      source:
        _target_: lmforecast.datasets.RawFolder
        raw_dir: /path/to/your/raw

and a notebook does the same in Python::

    from lmforecast.datasets import SyntheticMorocco
    panel = SyntheticMorocco("data/raw/morocco").load_panel()   # generated on first use

* :class:`RawFolder` -- a folder following the raw data contract (``data/raw/README.md``);
* :class:`SyntheticMorocco` -- the seeded synthetic Moroccan labour market, generated into its
  folder when absent, verified against its manifest otherwise (never overwritten);
* :class:`AuIvi` -- Australia's Internet Vacancy Index workbook (real job-ad counts).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import xarray as xr

from lmforecast.contract import DEFAULT_FUTURE_GRACE_DAYS, Limits

log = logging.getLogger(__name__)


@dataclass
class RawFolder:
    """A data set folder following the raw data contract (demand / supply / offers tables).

    Parameters
    ----------
    raw_dir : the folder (``data/raw/<name>``); nothing in it is ever modified.
    freq : panel frequency, ``"MS"``, ``"QS"`` or ``"YS"``.
    country : ISO country code recorded in the panel's attrs.
    as_of : build date for the no-future check (``"YYYY-MM-DD"``); None = today.
    future_grace_days : days after ``as_of`` a period start or an ad date may still fall.
    max_values : per-measure plausibility bounds overriding the defaults
        (:data:`lmforecast.contract.DEFAULT_MAX_VALUES`), in each measure's units.

    Examples
    --------
    >>> import tempfile
    >>> from lmforecast.datasets.example_country import write_example_country
    >>> panel = RawFolder(write_example_country(tempfile.mkdtemp()), country="XX").load_panel()
    >>> panel.attrs["country"], panel["region"].values[:2].tolist()
    ('XX', ['XX-CAP', 'XX-NOR'])
    """

    raw_dir: str | os.PathLike
    freq: str = "MS"
    country: str = "MA"
    as_of: str | None = None
    future_grace_days: int = DEFAULT_FUTURE_GRACE_DAYS
    max_values: Mapping[str, float] = field(default_factory=dict)

    def limits(self) -> Limits:
        """The plausibility limits the raw tables are checked against."""
        return Limits(as_of=self.as_of, future_grace_days=int(self.future_grace_days),
                      max_values=dict(self.max_values or {}))

    def load_panel(self, progress: bool = False) -> xr.Dataset:
        """Validate the folder's tables and build the panel (``time x region x occupation``).

        Raises DataContractError naming the file, row, column and value of the first problem
        (including a folder without any table).
        """
        from lmforecast.build import build_panel

        return build_panel(self.raw_dir, freq=self.freq, country=self.country, progress=progress,
                           limits=self.limits())


@dataclass
class SyntheticMorocco(RawFolder):
    """The synthetic Moroccan labour market (:func:`lmforecast.datasets.generate_morocco`).

    Parameters
    ----------
    raw_dir : folder of the generated files (default ``data/raw/morocco``).
    seed, start, end, truth_end, n_offers_scale : generator parameters (see
        :func:`~lmforecast.datasets.morocco.generate_morocco`); a folder generated with other
        parameters is an error, never overwritten.
    freq, country, as_of, future_grace_days, max_values : as :class:`RawFolder`.

    Examples
    --------
    >>> import tempfile
    >>> source = SyntheticMorocco(f"{tempfile.mkdtemp()}/morocco_tiny", start="2024-01", n_offers_scale=0.01)
    >>> panel = source.load_panel()            # generated on first use, verified afterwards
    >>> dict(panel.sizes)
    {'time': 24, 'region': 13, 'occupation': 60}
    """

    raw_dir: str | os.PathLike = "data/raw/morocco"
    seed: int = 20251
    start: str = "2010-01"
    end: str = "2025-12"
    truth_end: str = "2030-12"
    n_offers_scale: float = 1.0

    def ensure_data(self) -> Path:
        """Generate the files when the folder has none; else verify them (sha256). Returns the folder."""
        from lmforecast.datasets.morocco import MANIFEST, ensure_default_data
        from lmforecast.io import folder_lock

        raw_dir = Path(self.raw_dir)
        with folder_lock(raw_dir):  # the jobs of a sweep on a fresh project: one generates, the others verify
            if not (raw_dir / MANIFEST).exists():
                log.info("generating the synthetic Moroccan data in %s (seed %s, about 10 s)", raw_dir, self.seed)
            return ensure_default_data(raw_dir, seed=int(self.seed), start=self.start, end=self.end,
                                       truth_end=self.truth_end, n_offers_scale=float(self.n_offers_scale))

    def load_panel(self, progress: bool = False) -> xr.Dataset:
        """Make sure the generated files are there and intact, then build their panel."""
        self.ensure_data()
        return super().load_panel(progress=progress)


@dataclass
class AuIvi:
    """Australia's Internet Vacancy Index (one sheet of the release workbook) as a panel.

    Parameters
    ----------
    path : the ``.xlsx`` release; None = :func:`lmforecast.datasets.au_ivi.default_au_ivi_path`.
    sheet : ``"Seasonally Adjusted"`` or ``"Trend"`` (job ads per month).
    level : ANZSCO level of the occupations (3 = 48 sub-major groups, 2 = 8 major groups).
    freq : the panel frequency the experiment expects; the IVI is monthly (``"MS"``).
    """

    path: str | os.PathLike | None = None
    sheet: str = "Seasonally Adjusted"
    level: int = 3
    freq: str = "MS"

    def load_panel(self, progress: bool = False) -> xr.Dataset:
        """Read the workbook into a monthly panel (variable ``job_offers``).

        Raises ValueError when ``freq`` is not the IVI's monthly frequency.
        """
        from lmforecast.datasets.au_ivi import load_au_ivi

        panel = load_au_ivi(self.path, sheet=self.sheet, level=int(self.level))
        if panel.attrs.get("freq") != self.freq:
            raise ValueError(f"the AU IVI panel is at freq {panel.attrs.get('freq')!r}, not {self.freq!r}; "
                             f"set features.freq={panel.attrs.get('freq')}")
        return panel
