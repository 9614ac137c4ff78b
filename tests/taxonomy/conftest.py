"""Shared helpers for taxonomy tests: the real ReKrute job-board sample (ARFF)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
REKRUTE_DIR = SHARED_DATA / "ma-rekrute-sample"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def read_arff(path: Path) -> pd.DataFrame:
    """Read a Weka ARFF file with quoted nominal values (``\\'`` escapes) into text columns."""
    text = path.read_text(encoding="utf-8")
    header, data = text.split("@data", 1)
    columns = [line.split()[1] for line in header.splitlines() if line.lower().startswith("@attribute")]
    rows = list(csv.reader(io.StringIO(data.strip()), quotechar="'", escapechar="\\"))
    bad = [row for row in rows if len(row) != len(columns)]
    assert not bad, f"{path}: {len(bad)} rows do not have {len(columns)} fields, e.g. {bad[0]}"
    return pd.DataFrame(rows, columns=columns)


@pytest.fixture(scope="session")
def rekrute() -> pd.DataFrame:
    """Both ReKrute files stacked (865 rows: file, id, poste, region, ...)."""
    if not REKRUTE_DIR.is_dir():
        pytest.skip(f"shared data folder {REKRUTE_DIR} is absent")
    frames = [read_arff(REKRUTE_DIR / name).assign(file=name) for name in ("offre1_arf.arff", "offre3.arff")]
    return pd.concat(frames, ignore_index=True)
