"""Smoke run of benchmarks/bench_panel.py at 2,000 rows: generator, both paths, CLI (no timing asserted)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

REPO_ROOT = Path(__file__).resolve().parents[1]
N_ROWS, SEED = 2_000, 0


@pytest.fixture(scope="module")
def bench():
    """The benchmark script imported as a module (benchmarks/ is not a package)."""
    path = REPO_ROOT / "benchmarks" / "bench_panel.py"
    spec = importlib.util.spec_from_file_location("bench_panel", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_panel"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("bench_panel", None)


@pytest.fixture(scope="module")
def synthetic(bench):
    return bench.generate_job_ads(N_ROWS, SEED)


@pytest.fixture(scope="module")
def raw_dir(bench, synthetic, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench_raw")
    bench.write_ads(synthetic.ads, folder)
    return folder


class NoTitleCoding:
    """Coder that must not be called: every row given to count_offers already has a code."""

    def code_many(self, titles):
        raise AssertionError(f"title coding requested for {len(titles)} titles")


def test_generator_is_seeded_and_noisy(bench, synthetic):
    again = bench.generate_job_ads(N_ROWS, SEED)
    pd.testing.assert_frame_equal(synthetic.ads, again.ads)
    pd.testing.assert_frame_equal(synthetic.truth, again.truth)
    assert not synthetic.ads.equals(bench.generate_job_ads(N_ROWS, SEED + 1).ads)

    ads, stats = synthetic.ads, synthetic.stats
    assert list(ads.columns) == ["offer_id", "posted_on", "region", "title", "occupation", "source", "company"]
    assert len(ads) == N_ROWS and ads["offer_id"].is_unique
    assert stats["reposts"] == int(synthetic.truth["is_repost"].sum()) == round(bench.REPOST_SHARE * N_ROWS)
    assert 0.55 < stats["missing_occupation_share"] < 0.65
    assert stats["tout_le_maroc_rows"] > 0
    titles = ads["title"]
    assert titles.str.contains("(H/F)", regex=False).any()
    assert titles.str.contains("Senior", regex=False).any()
    assert titles.str.contains(" - Casablanca", regex=False).any()
    aliases = set(pd.read_csv(bench.ALIASES_CSV, dtype=str, keep_default_na=False)["label"])
    not_exact = ~ads["region"].isin(aliases)
    assert 0.25 < not_exact.mean() < 0.6  # case/accent/suffix/typo variants
    # each repost is an exact copy (apart from id and date) of an ad posted 1-28 days earlier
    key = ["region", "title", "occupation", "source", "company"]
    reposts = ads[synthetic.truth["is_repost"].to_numpy()]
    assert reposts.merge(ads[~synthetic.truth["is_repost"].to_numpy()][key].drop_duplicates(),
                         on=key, how="left", indicator=True)["_merge"].eq("both").all()


def test_every_label_normalises_to_its_true_region(synthetic):
    from lmforecast.taxonomy.regions import RegionNormalizer

    found = RegionNormalizer().normalize_many(synthetic.ads["region"])
    mismatch = found.astype(object).to_numpy() != synthetic.truth["region"].to_numpy()
    assert not mismatch.any(), synthetic.ads["region"][mismatch].head().tolist()


def test_lmforecast_counts_equal_baseline_counts_on_rows_the_baseline_handles(bench, raw_dir):
    """Same rows (code given, label spelt exactly like an alias), no repost removal -> same cells."""
    from lmforecast.contract import load_offers, load_reference
    from lmforecast.features.offers import count_offers

    baseline = bench.baseline_counts(raw_dir / "offers.parquet")
    reference = load_reference(raw_dir)
    offers = load_offers(raw_dir, reference)
    aliases = set(pd.read_csv(bench.ALIASES_CSV, dtype=str, keep_default_na=False)["label"])
    handled = offers[offers["occupation"].notna().to_numpy() & offers["region"].isin(aliases).to_numpy()]
    assert 0 < len(handled) < len(offers)
    counts = count_offers(handled, "MS", normalizer=reference.normalizer, coder=NoTitleCoding(),
                          dedup_window_days=None, regions=reference.region_codes,
                          occupations=reference.occupation_codes).counts

    assert int(baseline.sum()) == len(handled)
    cells = baseline.rename("job_offers").reset_index()
    cells["time"] = cells["month"].dt.to_timestamp()
    as_array = cells.set_index(["time", "region", "occupation"])["job_offers"].to_xarray()
    as_array = as_array.reindex_like(counts).fillna(0).astype(float)
    assert float(as_array.sum()) == len(handled)  # no baseline cell fell outside the library's axes
    xr.testing.assert_equal(as_array, counts)


def test_lmforecast_path_accounts_for_every_row(bench, raw_dir, synthetic):
    result = bench.lmforecast_counts(raw_dir)
    report = result.report
    assert report["rows_in"] == N_ROWS
    assert report["offers_counted"] + report["reposts_removed"] == N_ROWS
    assert int(result.counts.sum()) == report["offers_counted"]
    assert report["reposts_removed"] >= 0.9 * synthetic.stats["reposts"]
    assert report["coding_methods"]["given"] == int(synthetic.ads["occupation"].notna().sum())

    kept = bench.lmforecast_counts(raw_dir, dedup_window_days=None).counts
    per_region = kept.sum(["time", "occupation"]).to_series()
    truth = synthetic.truth["region"].value_counts().reindex(per_region.index, fill_value=0)
    np.testing.assert_array_equal(per_region.to_numpy(), truth.to_numpy().astype(float))


def test_cli_writes_json_and_markdown(bench, tmp_path):
    out = tmp_path / "results" / "bench_panel.json"
    assert bench.main(["--rows", str(N_ROWS), "--seed", str(SEED), "--repeats", "1", "--out", str(out),
                       "--workdir", str(tmp_path)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["params"]["rows"] == N_ROWS and len(result["machine"]["loadavg_at_start"]) == 3
    for name in ("lmforecast", "baseline"):
        run = result["paths"][name]["runs"][0]
        assert run["wall_s"] > 0 and run["peak_rss_bytes"] > run["rss_after_imports_bytes"] / 2
    assert result["outputs"]["lmforecast"]["report"]["rows_in"] == N_ROWS
    expected = bench.baseline_counts(bench.write_ads(bench.generate_job_ads(N_ROWS, SEED).ads, tmp_path / "again"))
    assert result["outputs"]["baseline"]["counted_total"] == int(expected.sum())
    assert out.with_suffix(".md").read_text(encoding="utf-8").startswith("# bench_panel: 2,000 job ads")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again", "results"]  # temp Parquet removed
