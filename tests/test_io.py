"""Tests of atomic output helpers (lmforecast.io)."""

import hashlib

import pandas as pd
import pytest

from lmforecast.io import atomic_path, sha256_file, write_csv_atomic, write_text_atomic


def test_atomic_path_keeps_old_file_on_crash(tmp_path):
    target = tmp_path / "report.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_path(target) as tmp:
            tmp.write_text("half-writ")
            raise RuntimeError("boom")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.csv"]


def test_write_csv_atomic_and_hash(tmp_path):
    frame = pd.DataFrame({"region": ["MA-01", "MA-06"], "job_offers": [3.0, 4.5]})
    path = write_csv_atomic(frame, tmp_path / "sub" / "x.csv")
    assert pd.read_csv(path)["job_offers"].tolist() == [3.0, 4.5]
    assert sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    text_path = write_text_atomic(tmp_path / "t.txt", "héllo")
    assert text_path.read_text(encoding="utf-8") == "héllo"
