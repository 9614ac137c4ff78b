"""The offers report on title coding (coded share, steps, confidence) with the real TitleCoder."""

import numpy as np
import pandas as pd
import pytest

from lmforecast.features.offers import count_offers
from lmforecast.panel import UNCLASSIFIED
from lmforecast.taxonomy.titles import TitleCoder


@pytest.fixture(scope="module")
def coder():
    return TitleCoder()


def _offers(titles: list[str]) -> pd.DataFrame:
    n = len(titles)
    return pd.DataFrame({"posted_on": pd.to_datetime("2023-01-02") + pd.to_timedelta(np.arange(n) * 40, unit="D"),
                         "region": ["Casablanca"] * n, "title": titles, "source": ["board"] * n})


def test_report_gives_coded_share_and_confidence(coder):
    titles = ["Comptable", "Comptable - Rabat", "Développeur Java", "qwzx plorf", "Infirmière", "qwzx plorf"]
    result = count_offers(_offers(titles), coder=coder)
    coding = result.report["title_coding"]
    assert coding["ads"] == 6 and coding["min_confidence"] == coder.min_confidence
    details = coder.code_details(pd.Series(titles))
    coded = details["code"] != UNCLASSIFIED
    assert coding["coded_share"] == pytest.approx(coded.mean()) == pytest.approx(4 / 6)
    assert coding["coded_share"] == pytest.approx(1 - result.report["unclassified_share"])
    assert sum(coding["by_step"].values()) == pytest.approx(1.0)
    assert coding["by_step"]["abstained"] == pytest.approx(2 / 6)
    assert sum(coding["confidence_histogram"].values()) == pytest.approx(1.0)
    assert coding["confidence_histogram"]["[0.0, 0.5)"] == pytest.approx(2 / 6)
    quantiles = coding["coded_confidence_quantiles"]
    assert coder.min_confidence <= quantiles["p10"] <= quantiles["p50"] <= quantiles["p90"] <= 1.0


def test_report_counts_ads_not_distinct_titles(coder):
    titles = ["Comptable"] * 3 + ["qwzx plorf"]
    coding = count_offers(_offers(titles), coder=coder).report["title_coding"]
    assert coding["ads"] == 4 and coding["coded_share"] == pytest.approx(3 / 4)
    assert coding["by_step"] == {"abstained": pytest.approx(0.25), "exact": pytest.approx(0.75)}


def test_coder_with_code_many_only_gets_the_coded_share(keyword_coder, tiny_reference):
    offers = _offers(["Comptable", "qwzx"])
    result = count_offers(offers, coder=keyword_coder, normalizer=tiny_reference.normalizer,
                          occupations=["2512", "21", "24"])
    assert result.report["title_coding"] == {"ads": 2, "coded_share": 0.5}


def test_report_without_title_coded_ads_is_json_safe(coder):
    import json

    offers = _offers(["Comptable", "Chauffeur"]).assign(occupation=["24", "83"])
    coding = count_offers(offers, coder=coder).report["title_coding"]
    assert coding == {"ads": 0, "coded_share": None}  # the coder was not needed
    json.dumps(coding, allow_nan=False)


def test_summary_of_nothing_coded_is_json_safe():
    import json

    from lmforecast.taxonomy.titles import confidence_summary

    details = pd.DataFrame({"code": [UNCLASSIFIED], "step": ["abstained"], "confidence": [0.2]})
    summary = confidence_summary(details, 0.5)
    assert summary["coded_share"] == 0.0 and set(summary["coded_confidence_quantiles"].values()) == {None}
    json.dumps(summary, allow_nan=False)
    empty = confidence_summary(details.iloc[:0], 0.5)
    assert empty["coded_share"] is None
    json.dumps(empty, allow_nan=False)
