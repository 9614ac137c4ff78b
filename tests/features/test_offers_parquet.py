"""Out-of-core job-ad counts from many Parquet files (lmforecast.features.offers_parquet) are those
of the in-memory path (load_offers + count_offers) on the same ads, and bad rows are named."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from lmforecast.contract import Limits, load_offers
from lmforecast.errors import DataContractError
from lmforecast.features.offers import count_offers
from lmforecast.features.offers_parquet import count_offers_parquet, offer_files

REPO = Path(__file__).resolve().parents[2]
REGIONS = [f"MA-{i:02d}" for i in range(1, 13)]
OCCUPATIONS = ["2512", "21", "24"]


def write_parts(frame: pd.DataFrame, folder: Path, n_parts: int) -> list[Path]:
    """Split ``frame`` (in order) into ``n_parts`` Parquet files named so that sorting keeps the order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, part in enumerate(np.array_split(np.arange(len(frame)), n_parts)):
        path = folder / f"ads-{i:03d}.parquet"
        frame.iloc[part].to_parquet(path, index=False)
        paths.append(path)
    return paths


def in_memory(frame: pd.DataFrame, folder: Path, reference, coder, **kw):
    """The in-memory path on the concatenated ads (one offers.parquet)."""
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / "offers.parquet", index=False)
    offers = load_offers(folder, reference)
    return count_offers(offers, normalizer=reference.normalizer, coder=coder, regions=reference.region_codes,
                        occupations=reference.occupation_codes, **kw)


def assert_same(a, b):
    xr.testing.assert_identical(a.counts, b.counts)
    assert {k: v for k, v in b.report.items() if k != "files"} == a.report


@pytest.fixture
def tiny(tiny_offers):
    """The tiny ads twice over (second copy 40 days later, new ids), with same-day ties of
    different given occupations, so that file order decides which ad heads a chain."""
    later = tiny_offers.assign(offer_id=tiny_offers["offer_id"] + "b",
                               posted_on=(pd.to_datetime(tiny_offers["posted_on"]) + pd.Timedelta(days=40))
                               .dt.strftime("%Y-%m-%d"))
    ties = pd.DataFrame([("t1", "2023-03-10", "Agadir", "Ingenieur reseau", "21", "rekrute", ""),
                         ("t2", "2023-03-10", "Agadir", "Ingenieur reseau", "24", "rekrute", ""),
                         ("t3", "2023-03-10", "Agadir", "Ingenieur reseau", "", "rekrute", "")],
                        columns=tiny_offers.columns)
    return pd.concat([tiny_offers, later, ties], ignore_index=True)


def test_counts_from_many_files_are_the_in_memory_counts(tiny, tmp_path, tiny_reference, keyword_coder):
    expected = in_memory(tiny, tmp_path / "one", tiny_reference, keyword_coder)
    files = write_parts(tiny, tmp_path / "parts", 3)
    got = count_offers_parquet(tmp_path / "parts", normalizer=tiny_reference.normalizer, coder=keyword_coder,
                               regions=tiny_reference.region_codes, occupations=tiny_reference.occupation_codes,
                               rows_per_bucket=4, temp_dir=tmp_path)
    assert_same(expected, got)
    assert got.report["files"] == [str(f) for f in files]
    assert got.report["reposts_removed"] > 0 and "unallocated" in got.counts.region.values
    assert got.counts.sel(time="2023-03-01", region="MA-09", occupation="21").item() == 1  # t1 heads the tie
    window = count_offers_parquet(files, normalizer=tiny_reference.normalizer, coder=keyword_coder,
                                  regions=tiny_reference.region_codes, occupations=tiny_reference.occupation_codes,
                                  dedup_window_days=None)
    assert window.report["reposts_removed"] == 0 and window.report["offers_counted"] == len(tiny)
    assert list(tmp_path.glob("lmforecast-offers-*")) == []  # the work folder is removed


def test_synthetic_job_ads_count_the_same_out_of_core(tmp_path):
    """A few thousand generated ads (label noise, titles to code, reposts), real coder and regions."""
    spec = importlib.util.spec_from_file_location("bench_panel", REPO / "benchmarks" / "bench_panel.py")
    bench = importlib.util.module_from_spec(spec)
    sys.modules["bench_panel"] = bench
    try:
        spec.loader.exec_module(bench)
        ads = bench.generate_job_ads(3000, seed=1).ads
    finally:
        sys.modules.pop("bench_panel", None)
    from lmforecast.contract import load_reference
    from lmforecast.taxonomy.titles import TitleCoder

    reference = load_reference(tmp_path)
    coder = TitleCoder(occupations=reference.occupations)
    expected = in_memory(ads, tmp_path / "one", reference, coder)
    write_parts(ads, tmp_path / "parts", 4)
    got = count_offers_parquet(tmp_path / "parts", normalizer=reference.normalizer, coder=coder,
                               regions=reference.region_codes, occupations=reference.occupation_codes,
                               rows_per_bucket=700)
    assert_same(expected, got)
    assert got.report["coding_methods"]["title"] > 0


def _count(source, reference, coder, **kw):
    return count_offers_parquet(source, normalizer=reference.normalizer, coder=coder,
                                regions=reference.region_codes, occupations=reference.occupation_codes, **kw)


@pytest.mark.parametrize("column, row, value, bad, expected", [
    ("offer_id", 2, "o1", "o1", r"a unique offer_id \(same offer_id as row 1 of .*ads-000.parquet\)"),
    ("posted_on", 3, "2023-13-01", "2023-13-01", "a date YYYY-MM-DD"),
    ("posted_on", 1, "2099-01-01", "2099-01-01", "a date on or before"),
    ("title", 4, "  ", "  ", "a non-empty title"),
    ("occupation", 2, "9999", "9999", "'unclassified' or a panel occupation code"),
    ("region", 5, "Atlantis", "Atlantis", "a region label the RegionNormalizer recognises"),
])
def test_a_bad_row_is_named_with_its_file_column_record_and_value(tiny, tmp_path, tiny_reference, keyword_coder,
                                                                   column, row, value, bad, expected):
    files = write_parts(tiny, tmp_path / "parts", 3)
    second = pd.read_parquet(files[1])
    second.loc[second.index[row - 1], column] = bad
    second.to_parquet(files[1], index=False)
    with pytest.raises(DataContractError, match=expected) as info:
        _count(files, tiny_reference, keyword_coder, limits=Limits(as_of="2024-06-30"))
    err = info.value
    assert (err.file, err.column, err.row, str(err.value)) == (str(files[1]), column, row, value)


def test_files_must_share_one_schema_and_exist(tiny, tmp_path, tiny_reference, keyword_coder):
    files = write_parts(tiny, tmp_path / "parts", 2)
    pd.read_parquet(files[1]).drop(columns="company").to_parquet(files[1], index=False)
    with pytest.raises(DataContractError, match="every file of one data set must have the same schema"):
        _count(files, tiny_reference, keyword_coder)
    with pytest.raises(FileNotFoundError, match="no job-ad Parquet file"):
        offer_files(tmp_path / "nowhere-*.parquet")
