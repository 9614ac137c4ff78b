"""Smoke test of benchmarks/bench_grains.py's derived panels (no real data, no model fits)."""

from __future__ import annotations


import pandas as pd
import pytest



@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("bench_grains")


def test_period_means_are_means_of_complete_years(bench):
    months = pd.date_range("2023-01-01", "2025-03-01", freq="MS")
    frame = pd.DataFrame({"time": months, "region": "AU-1", "occupation": "11", "value": range(len(months))})
    annual = bench._period_means(frame, "YS")
    assert annual.time.dt.year.tolist() == [2023, 2024]  # 2025 is incomplete: left out
    assert annual.value.tolist() == [5.5, 17.5]
    quarterly = bench._period_means(frame, "QS")
    assert len(quarterly) == 8 and quarterly.value.iloc[0] == 1.0


def test_short_ilo_keeps_codes_as_text_and_drops_early_years(bench, tmp_path):
    class Validator:  # the outside validator's ilo writer, in miniature
        @staticmethod
        def ilo(out, long):
            pd.DataFrame({"period": ["2009", "2011", "2012"], "region": "MAR", "occupation": "00",
                          "measure": "jobseekers", "value": [9.1, 8.9, 9.0], "source": "validation"}).to_csv(
                f"{out}/supply.csv", index=False)
            return "YS", "jobseekers", pd.to_datetime(["2010-01-01"]), 5 if long else 2, 1, "MA"

    write, panel_name = bench.writer(Validator, "ilo_short")
    freq, target, cutoffs, horizon, season, country = write(str(tmp_path), True)
    table = pd.read_csv(tmp_path / "supply.csv", dtype=str)
    assert panel_name == "ilo" and table.period.tolist() == ["2011", "2012"] and set(table.occupation) == {"00"}
    assert [c.year for c in cutoffs] == [2016, 2017, 2018] and horizon == 5 and freq == "YS"


def test_missing_validator_is_named(bench, monkeypatch, tmp_path):
    monkeypatch.setattr(bench, "VALIDATOR", tmp_path / "absent.py")
    with pytest.raises(SystemExit, match="absent.py"):
        bench.load_validator()
