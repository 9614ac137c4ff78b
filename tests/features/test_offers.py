"""Tests of job-ad counting (lmforecast.features.offers)."""

import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from lmforecast.errors import DataContractError
from lmforecast.features.offers import chain_heads, count_offers, normalise_titles, period_starts

REGIONS = [f"MA-{i:02d}" for i in range(1, 13)]
OCCUPATIONS = ["2512", "21", "24"]


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Offers as load_offers returns them (dates parsed, empty occupation/company = NA)."""
    return frame.assign(posted_on=pd.to_datetime(frame["posted_on"]),
                        occupation=frame["occupation"].replace("", pd.NA),
                        company=frame["company"].replace("", pd.NA))


@pytest.fixture
def offers(tiny_offers):
    return typed(tiny_offers)


@pytest.fixture
def count(tiny_reference, keyword_coder):
    """count_offers on the 12 Moroccan regions and 3 test occupations, keyword title coder."""
    def run(offers, coder=None, **kw):
        return count_offers(offers, normalizer=tiny_reference.normalizer, coder=coder or keyword_coder,
                            regions=REGIONS, occupations=OCCUPATIONS, **kw)
    return run


def test_counts_tiny_offers_by_hand(count, offers):
    result = count(offers)
    expected = xr.zeros_like(result.counts)
    cell = expected.loc
    cell["2023-01-01", "MA-06", "2512"] = 3  # o1 (+ repost o2), o6 (other source), o10 (other company)
    cell["2023-01-01", "MA-04", "2512"] = 1  # o5 Rabat
    cell["2023-01-01", "unallocated", "24"] = 1  # o7 Tout le Maroc
    cell["2023-02-01", "MA-06", "2512"] = 1  # o3 (36 days after o1: new chain) + repost o4 ("Casa")
    cell["2023-02-01", "MA-03", "unclassified"] = 1  # o8 uncodable title
    cell["2023-03-01", "MA-01", "21"] = 1  # o9 given code
    xr.testing.assert_identical(result.counts, expected)
    assert list(result.counts.region.values) == REGIONS + ["unallocated"]
    assert list(result.counts.occupation.values) == OCCUPATIONS + ["unclassified"]
    assert result.counts.attrs["aggregation"] == "flow" and result.counts.name == "job_offers"


def test_report(count, offers):
    report = count(offers).report
    assert report["rows_in"] == 10 and report["reposts_removed"] == 2 and report["offers_counted"] == 8
    assert report["unclassified"] == 1 and report["unclassified_share"] == pytest.approx(1 / 8)
    assert report["unallocated"] == 1 and report["unallocated_share"] == pytest.approx(1 / 8)
    assert report["region_labels_normalised_share"] == pytest.approx(9 / 10)
    assert report["coding_methods"] == {"given": 1, "title": 8, "unclassified": 1}
    assert report["first_posting"] == "2023-01-05" and report["last_posting"] == "2023-03-03"


def test_given_codes_kept_and_only_missing_titles_coded(count, offers, keyword_coder):
    seen = []

    class Spy:
        def code_many(self, titles):
            seen.extend(titles)
            return keyword_coder.code_many(titles)

    result = count(offers, coder=Spy())
    assert "Chef de projet" not in seen  # o9 has a given code
    assert len(seen) == len(set(seen))  # each distinct title coded once
    assert float(result.counts.sel(region="MA-01", occupation="21").sum()) == 1


def test_dedup_window_is_anchored_on_chain_start():
    day = np.array([0, 15, 36, 41, 70, 72, 0])
    key = np.array([1, 1, 1, 1, 1, 1, 2])
    # chain 1: 0,15 | chain 2: 36,41 (36 > 0 + 30 although only 21 days after 15) | chain 3: 70,72
    np.testing.assert_array_equal(chain_heads(key, day, 30), [True, False, True, False, True, False, True])
    np.testing.assert_array_equal(chain_heads(key, day, None), np.ones(7, dtype=bool))
    np.testing.assert_array_equal(chain_heads(np.array([3, 3, 3]), np.array([5, 5, 6]), 0), [True, False, True])


def naive_heads(key, day, window):
    heads = np.zeros(len(key), dtype=bool)
    chain_start = {}
    for i in sorted(range(len(key)), key=lambda i: (key[i], day[i], i)):
        start = chain_start.get(key[i])
        if start is None or day[i] - start > window:
            chain_start[key[i]] = day[i]
            heads[i] = True
    return heads


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_chain_heads_matches_row_by_row_reference(seed):
    rng = np.random.default_rng(seed)
    key = rng.integers(0, 40, 3000)
    day = rng.integers(0, 400, 3000)
    np.testing.assert_array_equal(chain_heads(key, day, 30), naive_heads(key, day, 30))


@pytest.mark.parametrize("offset", [2**45, 2**61, -5])  # argsort + tie fix, lexsort, lexsort
def test_chain_heads_same_on_every_sort_path(offset):
    # keys that fit with the day in one int64 take the unstable sort (ties, frequent here, put back
    # in file order); keys too large or negative take lexsort: same heads either way
    rng = np.random.default_rng(7)
    key = rng.integers(0, 40, 3000)
    day = rng.integers(-50, 400, 3000)
    expected = naive_heads(key, day, 30)
    np.testing.assert_array_equal(chain_heads(key, day, 30), expected)
    np.testing.assert_array_equal(chain_heads(key + offset, day, 30), expected)


def test_window_none_counts_every_ad(count, offers):
    result = count(offers, dedup_window_days=None)
    assert float(result.counts.sum()) == 10 and result.report["reposts_removed"] == 0


def test_company_is_part_of_the_key_only_when_present(count, offers):
    without_company = offers.drop(columns="company")
    # o10 (company Gamma) now repeats o1's chain
    assert count(without_company).report["offers_counted"] == 7


def test_quarterly_counts_are_monthly_counts_summed(count, offers):
    monthly = count(offers, freq="MS").counts
    quarterly = count(offers, freq="QS").counts
    expected = monthly.resample(time="QS").sum()
    xr.testing.assert_equal(quarterly, expected)


def test_counts_up_to_a_cutoff_use_no_later_ads(count, offers):
    full = count(offers).counts
    cutoff = pd.Timestamp("2023-01-31")
    early = count(offers[offers["posted_on"] <= cutoff]).counts
    xr.testing.assert_equal(early, full.sel(time=slice(None, cutoff)).sel(region=early.region))


def test_same_input_same_counts(count, offers):
    a = count(offers)
    b = count(offers.sample(frac=1.0, random_state=3))
    xr.testing.assert_identical(a.counts, b.counts)


def test_no_unallocated_region_when_every_ad_is_placed(count, offers):
    offers = offers[offers["region"] != "Tout le Maroc"]
    assert "unallocated" not in count(offers).counts.region.values


def test_unknown_label_and_unknown_code_raise(count, offers):
    bad_label = offers.copy()
    bad_label.loc[4, "region"] = "Atlantis"
    with pytest.raises(DataContractError, match=re.escape("row 5, column 'region': got 'Atlantis'")):
        count(bad_label)
    bad_code = offers.copy()
    bad_code.loc[2, "occupation"] = "9999"
    with pytest.raises(DataContractError, match=re.escape("row 3, column 'occupation': got '9999'")):
        count(bad_code)


def test_coder_outside_occupations_is_an_error(count, offers):
    class Broken:
        def code_many(self, titles):
            return pd.Series("7777", index=titles.index)

    with pytest.raises(ValueError, match=re.escape("the title coder returned '7777'")):
        count(offers, coder=Broken())


def test_normalise_titles_and_period_starts():
    assert list(normalise_titles(pd.Series(["Développeur  JAVA (H/F)", "مهندس"]))) == ["developpeur java h f", "مهندس"]
    days = np.array(["2023-02-17", "2023-12-31"], dtype="datetime64[D]")
    np.testing.assert_array_equal(period_starts(days, "QS"),
                                  np.array(["2023-01-01", "2023-10-01"], dtype="datetime64[ns]"))
    np.testing.assert_array_equal(period_starts(days, "YS"), np.array(["2023-01-01", "2023-01-01"], dtype="datetime64[ns]"))


def test_many_rows_are_all_accounted_for(count):
    """Every row is counted once or removed as a repost (speed is measured in benchmarks/bench_panel.py)."""
    n = 200_000
    rng = np.random.default_rng(0)
    labels = np.array(["Casablanca et région - Maroc", "Rabat", "Fès", "Tout le Maroc", "Tanger", "Casa"], dtype=object)
    titles = np.array([f"Développeur java {i}" for i in range(20_000)] + [f"Comptable {i}" for i in range(5_000)],
                      dtype=object)
    offers = pd.DataFrame({
        "posted_on": (np.datetime64("2021-01-01") + rng.integers(0, 730, n).astype("timedelta64[D]"))
        .astype("datetime64[ns]"),
        "region": labels[rng.integers(0, len(labels), n)],
        "title": titles[rng.integers(0, len(titles), n)],
        "occupation": pd.array(np.where(rng.random(n) < 0.2, "21", None), dtype="string"),
        "source": np.array(["rekrute", "anapec"], dtype=object)[rng.integers(0, 2, n)],
        "company": np.array([f"Company {i}" for i in range(5_000)], dtype=object)[rng.integers(0, 5_000, n)],
    })
    result = count(offers)
    report = result.report
    assert report["rows_in"] == n
    assert float(result.counts.sum()) == report["offers_counted"] == n - report["reposts_removed"]


def test_normalise_titles_matches_character_by_character_folding():
    import unicodedata

    def slow(title):
        text = unicodedata.normalize("NFKD", str(title))
        text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
        return re.sub(r"[\W_]+", " ", text).strip()

    titles = pd.Series(["Développeur  JAVA (H/F)", "ÉLECTRICIEN", "Straße", "مُهَنْدِس", "x\U0001d165y", "ΟΔΟΣ",
                        "ﬁnance", None, "İzmir", "Chef_de-projet"], dtype=object)
    assert normalise_titles(titles).tolist() == [slow(t) for t in titles]
    as_category = normalise_titles(titles.astype("category"))
    assert as_category.tolist()[:7] == [slow(t) for t in titles[:7]]


def test_categorical_offers_count_like_text_offers(count, offers):
    as_categories = offers.astype({c: "category" for c in ("region", "title", "source", "company", "occupation")})
    subset = as_categories.iloc[[0, 1, 2, 4, 6, 8]]  # unused categories stay in the dtype
    xr.testing.assert_identical(count(subset).counts, count(offers.iloc[[0, 1, 2, 4, 6, 8]]).counts)
    xr.testing.assert_identical(count(as_categories).counts, count(offers).counts)
