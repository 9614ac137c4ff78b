"""Tests of the raw data contract loaders (lmforecast.contract)."""

import re

import numpy as np
import pandas as pd
import pytest

from lmforecast.contract import (Limits, find_table, find_tables, load_demand, load_offers, load_supply,
                                 parse_periods)
from lmforecast.errors import DataContractError


def at(frame: pd.DataFrame, position: int, column: str, value) -> pd.DataFrame:
    out = frame.copy()
    out.loc[position, column] = value
    return out


# --------------------------------------------------------------------------- files


def test_find_table_prefers_none_and_rejects_ambiguous(tmp_path, tiny_demand, write_table):
    assert find_table(tmp_path, "demand") is None
    write_table(tmp_path, "demand", tiny_demand.copy())
    assert find_table(tmp_path, "demand") == tmp_path / "demand.csv"
    write_table(tmp_path, "demand", tiny_demand.copy(), fmt="parquet")
    with pytest.raises(DataContractError, match=re.escape("one version of table 'demand', CSV or Parquet")):
        find_table(tmp_path, "demand")


def test_find_tables_needs_at_least_one(tmp_path):
    (tmp_path / "notes.txt").write_text("nothing here")
    with pytest.raises(DataContractError, match=re.escape("expected at least one of demand, supply, offers")):
        find_tables(tmp_path)
    with pytest.raises(DataContractError, match="an existing data set folder"):
        find_tables(tmp_path / "missing")


def test_absent_tables_load_as_none(tmp_path, tiny_reference, tiny_supply, write_table):
    write_table(tmp_path, "supply", tiny_supply.copy())
    assert load_demand(tmp_path, tiny_reference) is None
    assert load_offers(tmp_path, tiny_reference) is None
    assert len(load_supply(tmp_path, tiny_reference)) == len(tiny_supply.copy())


# --------------------------------------------------------------------------- long tables


def test_parse_periods_forms():
    starts, freqs = parse_periods(pd.Series(["2023-02", "2023-Q3", "2021", "2023-13", "23-01", "2023-Q5"]))
    np.testing.assert_array_equal(
        starts[:3], np.array(["2023-02-01", "2023-07-01", "2021-01-01"], dtype="datetime64[ns]"))
    assert list(freqs[:3]) == ["MS", "QS", "YS"]
    assert np.isnat(starts[3:]).all() and list(freqs[3:]) == [None, None, None]


def test_load_demand_types_and_values(tmp_path, tiny_reference, tiny_demand, write_table):
    raw = tiny_demand.copy()
    write_table(tmp_path, "demand", raw)
    demand = load_demand(tmp_path, tiny_reference)
    assert list(demand.columns) == ["period", "freq", "region", "occupation", "measure", "value", "source", "row"]
    assert demand["period"].dtype == "datetime64[ns]"
    assert demand["value"].dtype == np.float64
    np.testing.assert_array_equal(demand["value"].to_numpy(), raw["value"].astype(float).to_numpy())
    np.testing.assert_array_equal(demand["row"].to_numpy(), np.arange(len(raw)) + 2)
    quarterly = demand[demand["measure"] == "employment"]
    assert set(quarterly["freq"]) == {"QS"}
    assert set(quarterly["period"].dt.month) == {1, 4}
    assert set(demand.loc[demand["measure"] == "vacancies", "freq"]) == {"MS"}
    assert demand.attrs["source_file"].endswith("demand.csv")


def test_parquet_matches_csv_and_rows_are_record_numbers(tmp_path, tiny_reference, tiny_demand, write_table):
    raw = tiny_demand.copy()
    write_table(tmp_path / "csv", "demand", raw)
    typed = raw.assign(value=raw["value"].astype(float))
    write_table(tmp_path / "pq", "demand", typed, fmt="parquet")
    from_csv = load_demand(tmp_path / "csv", tiny_reference)
    from_parquet = load_demand(tmp_path / "pq", tiny_reference)
    pd.testing.assert_frame_equal(from_csv.drop(columns="row"), from_parquet.drop(columns="row"))
    write_table(tmp_path / "pq", "demand", at(typed, 3, "value", -2.0), fmt="parquet")
    with pytest.raises(DataContractError, match=r"row 4, column 'value'.*1-based record number in the Parquet file"):
        load_demand(tmp_path / "pq", tiny_reference)


def test_old_region_codes_allowed_before_2015(tmp_path, tiny_reference, tiny_demand, write_table):
    raw = pd.concat([tiny_demand.copy(), pd.DataFrame(
        [["2014-12", "MA16-09", "2512", "vacancies", "12", "ANAPEC"]], columns=tiny_demand.copy().columns)],
        ignore_index=True)
    write_table(tmp_path, "demand", raw)
    demand = load_demand(tmp_path, tiny_reference)
    assert demand["region"].iloc[-1] == "MA16-09"


BAD_DEMAND = [
    ("period", 3, "2023-13", r"row 5, column 'period': got '2023-13', expected a period 'YYYY-MM'"),
    ("period", 3, "2023Q1", r"row 5, column 'period': got '2023Q1', expected a period"),
    ("period", 3, "", r"row 5, column 'period': got '', expected a non-empty period"),
    ("region", 4, "MA-13", r"row 6, column 'region': got 'MA-13', expected a region code .*closest regions: MA-"),
    ("region", 4, "Casablanca", r"row 6, column 'region': got 'Casablanca'.*'Casablanca' is region MA-06 "
                                r"\(Casablanca-Settat\); write its code 'MA-06'"),
    ("region", 4, "MA16-09", r"row 6, column 'region': got 'MA16-09', expected a new region code .*"
                             r"only allowed for periods before 2015"),
    ("occupation", 5, "9999", r"row 7, column 'occupation': got '9999', expected a panel occupation code"),
    ("occupation", 5, "unclassified", r"row 7, column 'occupation'.*only for job ads that could not be coded"),
    ("measure", 6, "vacancy", r"row 8, column 'measure': got 'vacancy', expected a demand measure.*'vacancies'"),
    ("measure", 6, "jobseekers", r"row 8, column 'measure': got 'jobseekers'.*a supply measure; it belongs in the "
                                 r"supply table"),
    ("value", 7, "abc", r"row 9, column 'value': got 'abc', expected a finite number >= 0"),
    ("value", 7, "1,5", r"row 9, column 'value': got '1,5'.*use '\.' as the decimal separator"),
    ("value", 7, "-1", r"row 9, column 'value': got '-1', expected a finite number >= 0 \(not negative\)"),
    ("value", 7, "inf", r"row 9, column 'value': got 'inf', expected a finite number >= 0 \(not infinite\)"),
    ("value", 7, "", r"row 9, column 'value': got '', expected a non-empty value"),
    ("source", 8, "", r"row 10, column 'source': got '', expected a non-empty source"),
]


@pytest.mark.parametrize("column, position, value, message", BAD_DEMAND)
def test_bad_demand_cells_name_file_row_column_value(
        tmp_path, tiny_reference, column, position, value, message, tiny_demand, write_table):
    write_table(tmp_path, "demand", at(tiny_demand.copy(), position, column, value))
    with pytest.raises(DataContractError, match=r"demand\.csv, " + message) as info:
        load_demand(tmp_path, tiny_reference)
    assert info.value.row == position + 2 and info.value.column == column


def test_missing_and_extra_columns(tmp_path, tiny_reference, tiny_demand, write_table):
    write_table(tmp_path, "demand", tiny_demand.copy().drop(columns="source"))
    with pytest.raises(DataContractError, match=r"row 1, column 'source'.*missing column\(s\) \['source'\]"):
        load_demand(tmp_path, tiny_reference)
    write_table(tmp_path, "demand", tiny_demand.copy().assign(note="x"))
    with pytest.raises(DataContractError, match=r"row 1, column 'note'.*unexpected column\(s\) \['note'\]"):
        load_demand(tmp_path, tiny_reference)


def test_series_mixing_frequencies_names_both_rows(tmp_path, tiny_reference, tiny_demand, write_table):
    raw = tiny_demand.copy()
    first_vacancies = int(np.flatnonzero((raw["measure"] == "vacancies").to_numpy())[0])
    later = int(np.flatnonzero((raw["measure"] == "vacancies").to_numpy())[2])
    write_table(tmp_path, "demand", at(raw, later, "period", "2023-Q3"))
    with pytest.raises(DataContractError,
                       match=rf"row {later + 2}, column 'period': got '2023-Q3', expected the frequency of this "
                             rf"series' first row {first_vacancies + 2} \('2023-01', MS\).*mixes frequencies"):
        load_demand(tmp_path, tiny_reference)


def test_duplicate_key_names_both_rows(tmp_path, tiny_reference, tiny_demand, write_table):
    raw = tiny_demand.copy()
    dup = raw.iloc[[10]].assign(value="99", source="other survey")
    write_table(tmp_path, "demand", pd.concat([raw, dup], ignore_index=True))
    with pytest.raises(DataContractError,
                       match=rf"row {len(raw) + 2}, column 'period'.*one row per \(period, region, occupation, "
                             rf"measure\).*duplicate of row 12"):
        load_demand(tmp_path, tiny_reference)


def test_empty_supply_value_in_parquet_null(tmp_path, tiny_reference, tiny_supply, write_table):
    typed = tiny_supply.copy().assign(value=lambda f: f["value"].astype(float))
    typed.loc[2, "value"] = np.nan
    write_table(tmp_path, "supply", typed, fmt="parquet")
    with pytest.raises(DataContractError, match=r"row 3, column 'value': got None, expected a finite number >= 0 "
                                                r"\(empty cell\)"):
        load_supply(tmp_path, tiny_reference)


# --------------------------------------------------------------------------- offers


def test_load_offers_types(tmp_path, tiny_reference, tiny_offers, write_table):
    write_table(tmp_path, "offers", tiny_offers.copy())
    offers = load_offers(tmp_path, tiny_reference)
    assert offers["posted_on"].dtype == "datetime64[ns]"
    assert offers["occupation"].isna().sum() == 9 and offers["occupation"].iloc[8] == "21"
    assert offers["company"].isna().sum() == 1
    assert list(offers["region"]) == list(tiny_offers.copy()["region"])  # labels kept as written


# --------------------------------------------------------------------------- plausibility (Limits)
def test_an_ad_dated_after_the_build_date_is_an_error(tmp_path, tiny_reference, tiny_offers, write_table):
    write_table(tmp_path, "offers", at(tiny_offers.copy(), 3, "posted_on", "2099-01-01"))
    with pytest.raises(DataContractError, match=re.escape(
            "row 5, column 'posted_on': got '2099-01-01', expected a date on or before 2024-01-31 "
            "(build date + 30 days) (1 row(s) lie in the future;")):
        load_offers(tmp_path, tiny_reference, Limits(as_of="2024-01-01", future_grace_days=30))
    assert len(load_offers(tmp_path, tiny_reference, Limits(as_of="2099-01-01", future_grace_days=0))) == 10


def test_a_future_period_is_an_error_unless_the_table_is_a_projection(tmp_path, tiny_reference, tiny_demand,
                                                                       write_table):
    write_table(tmp_path, "demand", at(tiny_demand.copy(), 6, "period", "2099-03"))
    with pytest.raises(DataContractError, match=re.escape(
            "row 8, column 'period': got '2099-03', expected a period starting on or before 2024-07-31 "
            "(build date + 31 days)")):
        load_demand(tmp_path, tiny_reference, Limits(as_of="2024-06-30"))
    with pytest.raises(DataContractError, match="got '2099-03'"):
        load_demand(tmp_path, tiny_reference)  # default: today + 31 days
    (tmp_path / "contract.json").write_text('{"projections": ["demand"]}')
    assert load_demand(tmp_path, tiny_reference)["period"].max() == pd.Timestamp("2099-03-01")
    (tmp_path / "contract.json").write_text('{"projection": ["demand"]}')
    with pytest.raises(DataContractError, match=re.escape("column 'projection': got ['projection'], "
                                                          "expected only the key \"projections\"")):
        load_demand(tmp_path, tiny_reference)


def test_values_above_the_plausibility_bound_are_an_error(tmp_path, tiny_reference, tiny_demand, write_table):
    write_table(tmp_path, "demand", at(tiny_demand.copy(), 0, "value", "1e15"))  # row 0: vacancies
    with pytest.raises(DataContractError, match=re.escape(
            "row 2, column 'value': got '1e15', expected a vacancies value <= 1e+08 positions per cell "
            "(plausibility bound) (1 row(s) above it;")):
        load_demand(tmp_path, tiny_reference)
    write_table(tmp_path, "demand", at(tiny_demand.copy(), 0, "value", "60"))
    with pytest.raises(DataContractError, match=re.escape("got '60', expected a vacancies value <= 50")):
        load_demand(tmp_path, tiny_reference, Limits(max_values={"vacancies": 50}))


def test_a_non_utf8_line_is_named(tmp_path, tiny_reference, tiny_demand, write_table):
    path = write_table(tmp_path, "demand", tiny_demand.copy())
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b"ANAPEC", "ANAPEC Fès".encode("cp1252"))
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(DataContractError, match=re.escape(
            "row 4: got b'\\xe8s', expected UTF-8 text (line 4, byte ")) as info:
        load_demand(tmp_path, tiny_reference)
    assert "ANAPEC Fès'" in str(info.value) and "save the file as UTF-8" in str(info.value)


def test_a_region_name_in_arabic_gets_region_codes(tmp_path, tiny_reference, tiny_demand, write_table):
    write_table(tmp_path, "demand", at(tiny_demand.copy(), 4, "region", "الرباط"))
    with pytest.raises(DataContractError, match=re.escape(
            "'الرباط' is region MA-04 (Rabat-Sale-Kenitra); write its code 'MA-04'")):
        load_demand(tmp_path, tiny_reference)
    write_table(tmp_path, "demand", at(tiny_demand.copy(), 4, "region", "الربات"))  # a typo: no exact match
    with pytest.raises(DataContractError, match=re.escape("(closest regions: MA-04 (Rabat-Sale-Kenitra)")):
        load_demand(tmp_path, tiny_reference)


BAD_OFFERS = [
    ("offer_id", 3, "o1", r"row 5, column 'offer_id': got 'o1', expected a unique offer_id \(same offer_id as row 2\)"),
    ("offer_id", 3, "", r"row 5, column 'offer_id': got '', expected a non-empty offer_id"),
    ("offer_id", 3, " \t", r"row 5, column 'offer_id': got ' \\t', expected a non-empty offer_id"),
    ("posted_on", 2, "2023-02-30", r"row 4, column 'posted_on': got '2023-02-30', expected a date YYYY-MM-DD"),
    ("posted_on", 2, "10/02/2023", r"row 4, column 'posted_on': got '10/02/2023', expected a date YYYY-MM-DD"),
    ("title", 1, "", r"row 3, column 'title': got '', expected a non-empty title"),
    ("source", 1, "", r"row 3, column 'source': got '', expected a non-empty source"),
    ("occupation", 4, "9999", r"row 6, column 'occupation': got '9999', expected empty \(code from the title\), "
                              r"'unclassified' or a panel occupation code"),
]


@pytest.mark.parametrize("column, position, value, message", BAD_OFFERS)
def test_bad_offers(tmp_path, tiny_reference, column, position, value, message, tiny_offers, write_table):
    write_table(tmp_path, "offers", at(tiny_offers.copy(), position, column, value))
    with pytest.raises(DataContractError, match=r"offers\.csv, " + message):
        load_offers(tmp_path, tiny_reference)


def test_unknown_region_labels_are_all_reported(tmp_path, tiny_reference, tiny_offers, write_table):
    offers = tiny_offers.copy()
    offers.loc[[2, 5], "region"] = "Atlantis"
    offers.loc[7, "region"] = "Paris - France"
    offers.loc[8, "region"] = ""
    write_table(tmp_path, "offers", offers)
    with pytest.raises(DataContractError) as info:
        load_offers(tmp_path, tiny_reference)
    message = str(info.value)
    assert info.value.row == 4 and info.value.value == "Atlantis"
    assert "3 region label(s) in 4 rows cannot be normalised" in message
    assert re.search(r"'Atlantis' x2 \(rows 4, 7; closest: '[^']+' -> MA-\d\d", message)
    assert "'Paris - France' x1 (rows 9; closest: " in message
    assert "'' x1 (rows 10; closest: none)" in message


def test_offers_extra_column_rejected_optional_columns_allowed(tmp_path, tiny_reference, tiny_offers, write_table):
    write_table(tmp_path, "offers", tiny_offers.copy().drop(columns=["company", "occupation"]))
    assert "company" not in load_offers(tmp_path, tiny_reference).columns
    write_table(tmp_path, "offers", tiny_offers.copy().assign(contract="CDI"))
    with pytest.raises(DataContractError, match=r"column 'contract'.*unexpected column\(s\) \['contract'\]"):
        load_offers(tmp_path, tiny_reference)


# --------------------------------------------------------------------------- reference lists


def test_default_reference_hints_the_leaf_of_an_isco_code(tmp_path, tiny_demand, write_table):
    from lmforecast.contract import load_reference

    write_table(tmp_path, "demand", at(tiny_demand.copy(), 0, "occupation", "2161"))
    reference = load_reference(tmp_path)
    assert "MA16-09" in reference.old_region_codes and "unclassified" not in reference.occupation_codes
    with pytest.raises(DataContractError, match=re.escape("row 2, column 'occupation': got '2161', expected a panel "
                                                          "occupation code (see occupations list) (ISCO-08 code "
                                                          "'2161' belongs to panel occupation '21'; use that code)")):
        load_demand(tmp_path, reference)


def test_own_region_and_occupation_lists_replace_the_moroccan_ones(tmp_path, tiny_demand, write_table):
    from lmforecast.contract import load_reference

    (tmp_path / "regions.csv").write_text("code,name\nNSW,New South Wales\nVIC,Victoria\n", encoding="utf-8")
    (tmp_path / "occupations.csv").write_text("code,name,parent\n2,Professionals,\n26,ICT professionals,2\n",
                                              encoding="utf-8")
    rows = pd.DataFrame([["2024-01", "NSW", "26", "vacancies", "12", "JSA"],
                         ["2024-01", "VIC", "26", "vacancies", "7", "JSA"]], columns=tiny_demand.copy().columns)
    write_table(tmp_path, "demand", rows)
    reference = load_reference(tmp_path)
    assert reference.region_codes == ["NSW", "VIC"] and reference.old_region_codes == frozenset()
    assert set(reference.files) == {"regions.csv", "occupations.csv"}
    assert load_demand(tmp_path, reference)["value"].tolist() == [12.0, 7.0]
    write_table(tmp_path, "demand", at(rows, 1, "region", "MA16-09"))
    with pytest.raises(DataContractError, match=re.escape("row 3, column 'region': got 'MA16-09', expected a region "
                                                          "code (NSW, VIC, ...)")):
        load_demand(tmp_path, reference)


# --------------------------------------------------------------------------- offers read through Arrow


def test_load_offers_returns_codes_not_python_strings(tmp_path, tiny_reference, tiny_offers, write_table):
    write_table(tmp_path, "offers", tiny_offers.copy(), fmt="parquet")
    offers = load_offers(tmp_path, tiny_reference)
    for column in ("region", "title", "occupation", "source", "company"):
        assert isinstance(offers[column].dtype, pd.CategoricalDtype), column
    assert offers["offer_id"].dtype == pd.StringDtype("pyarrow")
    raw = tiny_offers.copy()
    assert offers["title"].astype(object).tolist() == raw["title"].tolist()
    given = (raw["occupation"] != "").to_numpy()
    np.testing.assert_array_equal(offers["occupation"].notna().to_numpy(), given)
    assert offers["occupation"][given].astype(object).tolist() == raw["occupation"][given].tolist()
    assert "" not in offers["company"].cat.categories  # empty company -> NA, not a category
    np.testing.assert_array_equal(offers["row"].to_numpy(), np.arange(len(raw)) + 1)


def test_offers_parquet_index_numbers_and_dictionary_columns(tmp_path, tiny_reference, tiny_offers, write_table):
    raw = tiny_offers.copy()
    typed = raw.assign(offer_id=np.arange(100, 100 + len(raw)), source=raw["source"].astype("category"))
    typed.index = typed.index + 50  # stored as __index_level_0__: not a data column
    typed.to_parquet(tmp_path / "offers.parquet", index=True)
    offers = load_offers(tmp_path, tiny_reference)
    assert offers["offer_id"].tolist() == [str(i) for i in range(100, 100 + len(raw))]
    assert offers["source"].astype(object).tolist() == raw["source"].tolist()
    typed.loc[typed.index[6], "offer_id"] = 101
    typed.to_parquet(tmp_path / "offers.parquet", index=True)
    with pytest.raises(DataContractError, match=r"row 7, column 'offer_id': got '101', expected a unique offer_id "
                                                r"\(same offer_id as row 2; row = 1-based record number"):
        load_offers(tmp_path, tiny_reference)


@pytest.mark.parametrize("column, value, message", [
    ("title", None, r"row 4, column 'title': got None, expected a non-empty title"),
    ("title", " \u00a0", r"row 4, column 'title': got ' \\xa0', expected a non-empty title"),
    ("posted_on", "2023-02-30", r"row 4, column 'posted_on': got '2023-02-30', expected a date YYYY-MM-DD"),
    ("region", "Atlantis", r"row 4, column 'region': got 'Atlantis'"),
])
def test_bad_offers_in_parquet_name_the_record(tmp_path, tiny_reference, tiny_offers, write_table, column, value,
                                               message):
    write_table(tmp_path, "offers", at(tiny_offers.copy(), 3, column, value), fmt="parquet")
    with pytest.raises(DataContractError, match=r"offers\.parquet, " + message):
        load_offers(tmp_path, tiny_reference)


def test_parquet_null_offer_id_is_named(tmp_path, tiny_reference, tiny_offers):
    raw = tiny_offers.copy()
    raw["offer_id"] = raw["offer_id"].astype(object)
    raw.loc[raw.index[2], "offer_id"] = None
    raw.to_parquet(tmp_path / "offers.parquet", index=False)
    with pytest.raises(DataContractError, match=r"offers\.parquet, row 3, column 'offer_id': got None, "
                                                r"expected a non-empty offer_id"):
        load_offers(tmp_path, tiny_reference)
