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


def test_gappy_panel_drops_random_cells_state_blocks_and_early_rows_of_late_series(bench):
    months = pd.date_range("2009-01-01", "2024-12-01", freq="MS")
    cells = [(f"AU-{r}", f"{o}") for r in range(2) for o in range(11, 21)]
    frame = pd.DataFrame([(t, r, o, 1.0) for t in months for r, o in cells],
                         columns=["time", "region", "occupation", "value"])
    gappy = bench.gappy(frame)
    assert gappy.equals(bench.gappy(frame))                       # seeded
    kept = len(gappy) / len(frame)
    assert 0.6 < kept < 0.75                                      # 5 % + 3 of 12 months 2010-2023 + late starts
    late = gappy.groupby(["region", "occupation"]).time.min()
    assert (late == pd.Timestamp("2014-01-01")).sum() == 2        # one series in ten starts in 2014
    per_state_month = gappy.groupby(["region", "time"]).size().unstack("region").reindex(months).fillna(0)
    blocked = per_state_month[(per_state_month.index.year == 2015)].eq(0).sum()
    assert blocked.tolist() == [3, 3]                              # each state misses three months of 2015


def test_missing_validator_is_named(bench, monkeypatch, tmp_path):
    monkeypatch.setattr(bench, "VALIDATOR", tmp_path / "absent.py")
    with pytest.raises(SystemExit, match="absent.py"):
        bench.load_validator()
