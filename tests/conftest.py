"""Shared small, seeded fixtures (others may add theirs below)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT / ".." / "shared" / "data"


# --------------------------------------------------------------------------- raw data contract
# Tiny Moroccan raw folder: 2 regions x 2 occupations, monthly/quarterly/annual series, job ads
# with reposts, an "all Morocco" label and an uncodable title.

TINY_OCCUPATIONS = pd.DataFrame({
    "code": ["2512", "21", "24"],
    "name": ["Software developers", "Science and engineering professionals",
             "Business and administration professionals"],
    "parent": ["251", "2", "2"],
    "major": ["2", "2", "2"],
})


class KeywordTitleCoder:
    """Test double of ``TitleCoder``: a title containing a keyword gets its code, else unclassified."""

    KEYWORDS = {"java": "2512", "developpeur": "2512", "ingenieur": "21", "comptable": "24"}

    def __init__(self):
        self.calls = 0

    def code_many(self, titles: pd.Series) -> pd.Series:
        self.calls += 1
        folded = (titles.astype(str).str.normalize("NFKD").str.encode("ascii", "ignore")
                  .str.decode("ascii").str.lower())
        out = pd.Series("unclassified", index=titles.index, dtype=object)
        for word, code in self.KEYWORDS.items():
            out = out.mask(folded.str.contains(word) & (out == "unclassified"), code)
        return out


@pytest.fixture
def tiny_reference():
    """Reference lists: the real 12 regions, 16 old regions and normaliser; 3 test occupations."""
    from lmforecast.contract import Reference
    from lmforecast.taxonomy.regions import RegionNormalizer, load_regions, region_crosswalk

    regions = load_regions()
    crosswalk = region_crosswalk()
    return Reference(regions=regions, occupations=TINY_OCCUPATIONS.copy(),
                     normalizer=RegionNormalizer(regions), crosswalk=crosswalk,
                     old_region_codes=frozenset(crosswalk["old_code"]))


@pytest.fixture
def keyword_coder():
    return KeywordTitleCoder()


def _tiny_demand() -> pd.DataFrame:
    """Demand long table as text: monthly vacancies (stock) and hires (flow), quarterly employment."""
    rng = np.random.default_rng(7)
    rows = []
    for region in ("MA-01", "MA-06"):
        for occupation in ("2512", "21"):
            for month in range(1, 7):
                rows.append((f"2023-{month:02d}", region, occupation, "vacancies", rng.integers(5, 50), "ANAPEC"))
                rows.append((f"2023-{month:02d}", region, occupation, "hires", rng.integers(0, 20), "CNSS"))
            for quarter in (1, 2):
                rows.append((f"2023-Q{quarter}", region, occupation, "employment",
                             rng.integers(1000, 5000) + 0.5, "HCP ENE"))
    return pd.DataFrame(rows, columns=["period", "region", "occupation", "measure", "value", "source"]).astype(str)


def _tiny_supply() -> pd.DataFrame:
    """Supply long table as text: monthly jobseekers (stock), annual 2022 graduates (flow)."""
    rng = np.random.default_rng(8)
    rows = []
    for region in ("MA-01", "MA-06"):
        for occupation in ("2512", "21"):
            for month in range(1, 7):
                rows.append((f"2023-{month:02d}", region, occupation, "jobseekers", rng.integers(50, 500), "ANAPEC"))
            rows.append(("2022", region, occupation, "graduates", rng.integers(100, 900), "OFPPT"))
    return pd.DataFrame(rows, columns=["period", "region", "occupation", "measure", "value", "source"]).astype(str)


def _tiny_offers() -> pd.DataFrame:
    """Job ads as text. Chains (title+region+source+company): o1,o2 (repost 15 d later) | o3,o4
    (o3 is 36 d after o1: a new chain although only 21 d after o2); o5 other region; o6 other
    source; o7 all Morocco; o8 uncodable title; o9 given code; o10 other company."""
    rows = [
        ("o1", "2023-01-05", "Casablanca et région - Maroc", "Développeur Java (H/F)", "", "rekrute", "Acme"),
        ("o2", "2023-01-20", "Casablanca", "developpeur JAVA h/f", "", "rekrute", "Acme"),
        ("o3", "2023-02-10", "Casablanca", "Développeur Java (H/F)", "", "rekrute", "Acme"),
        ("o4", "2023-02-15", "Casa", "Développeur Java (H/F)", "", "rekrute", "Acme"),
        ("o5", "2023-01-07", "Rabat", "Développeur Java (H/F)", "", "rekrute", "Acme"),
        ("o6", "2023-01-08", "Casablanca", "Développeur Java (H/F)", "", "anapec", "Acme"),
        ("o7", "2023-01-09", "Tout le Maroc", "Comptable confirmé", "", "rekrute", "Beta"),
        ("o8", "2023-02-01", "Fès", "Xyzzy qwerty", "", "rekrute", "Beta"),
        ("o9", "2023-03-03", "Tanger", "Chef de projet", "21", "rekrute", ""),
        ("o10", "2023-01-06", "Casablanca", "Développeur Java (H/F)", "", "rekrute", "Gamma"),
    ]
    return pd.DataFrame(rows, columns=["offer_id", "posted_on", "region", "title", "occupation", "source", "company"])


def _write_table(folder: Path, name: str, frame: pd.DataFrame, fmt: str = "csv") -> Path:
    """Write a test table to ``folder/name.fmt`` (CSV: every cell as text)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


@pytest.fixture
def tiny_demand() -> pd.DataFrame:
    """Fresh copy of the tiny demand table (text cells)."""
    return _tiny_demand()


@pytest.fixture
def tiny_supply() -> pd.DataFrame:
    """Fresh copy of the tiny supply table (text cells)."""
    return _tiny_supply()


@pytest.fixture
def tiny_offers() -> pd.DataFrame:
    """Fresh copy of the tiny offers table (text cells)."""
    return _tiny_offers()


@pytest.fixture
def write_table():
    """The function ``write_table(folder, name, frame, fmt="csv") -> Path``."""
    return _write_table


@pytest.fixture
def shared_data_dir() -> Path:
    """``<repo>/../shared/data`` (may be absent: tests using it skip with a reason)."""
    return SHARED_DATA


@pytest.fixture
def tiny_raw_dir(tmp_path) -> Path:
    """A data set folder with demand.csv, supply.csv and offers.csv (see _tiny_* above)."""
    folder = tmp_path / "raw" / "tiny"
    _write_table(folder, "demand", _tiny_demand())
    _write_table(folder, "supply", _tiny_supply())
    _write_table(folder, "offers", _tiny_offers())
    return folder


# --------------------------------------------------------------------------- optional extras
@pytest.fixture
def require_extra():
    """``require_extra(module, extra)``: import a module of an optional extra, or skip naming the extra.

    ``.ci/run`` installs the extras and sets ``LMFORECAST_REQUIRE_EXTRAS=1``: there a missing
    module fails the test instead of skipping it.
    """
    import importlib
    import os

    def require(module: str, extra: str):
        if os.environ.get("LMFORECAST_REQUIRE_EXTRAS") == "1":
            return importlib.import_module(module)
        return pytest.importorskip(module, reason=f"needs the {extra!r} extra: pip install -e \".[{extra}]\"")

    return require


@pytest.fixture(scope="session")
def load_benchmark():
    """``load_benchmark("bench_x")``: the script ``benchmarks/bench_x.py`` as a module (benchmarks/ is not a
    package); registered in ``sys.modules`` (dataclasses and pickling look it up) with its folder on the path."""
    folder = Path(__file__).resolve().parents[1] / "benchmarks"

    def load(name: str):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
        spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    return load
