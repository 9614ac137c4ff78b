import re

import pytest

from lmforecast.errors import DataContractError
from lmforecast.panel import UNCLASSIFIED
from lmforecast.taxonomy.occupations import leaf_for_isco, load_isco08, load_occupations


def test_isco08_has_all_groups_by_level():
    isco = load_isco08()
    assert len(isco) == 619
    assert isco["level"].value_counts().sort_index().to_dict() == {1: 10, 2: 43, 3: 130, 4: 436}
    assert (isco["code"].str.len() == isco["level"]).all()
    assert set(isco.loc[isco["level"] > 1, "parent"]) <= set(isco["code"])
    has_french = isco.loc[isco["level"] <= 2, "title_fr"].str.len().gt(0)
    assert has_french.all()


def test_panel_leaves():
    leaves = load_occupations()
    assert list(leaves.columns) == ["code", "name", "name_fr", "parent", "major", "level", "digital", "offshoring"]
    real = leaves[leaves["code"] != UNCLASSIFIED]
    assert len(real) == 59
    assert real["major"].isin(list("0123456789")).all()
    assert not real["code"].duplicated().any()
    assert {"2511", "2512", "2513", "2514", "2519", "2521", "2522", "2523", "2529",
            "3511", "3512", "3513", "3514", "3521", "3522", "2120", "2166", "4222"} <= set(real["code"])
    assert "25" not in set(real["code"]) and "35" not in set(real["code"])
    by_code = leaves.set_index("code")
    assert by_code.loc["21", "name"].endswith("(excl. 2120, 2166)")
    assert by_code.loc["42", "name"].endswith("(excl. 4222)")
    assert by_code.loc["2512", "parent"] == "25" and by_code.loc["33", "parent"] == "3"
    assert by_code.loc["4222", "offshoring"] and by_code.loc["2512", "digital"]
    assert by_code.loc[UNCLASSIFIED, "major"] == "X"
    # every ISCO unit group lands in exactly one leaf
    units = load_isco08().query("level == 4")["code"]
    assert set(units.map(leaf_for_isco)) == set(real["code"])


@pytest.mark.parametrize("code, leaf", [
    ("2512", "2512"), ("2166", "2166"), ("2161", "21"), ("3341", "33"), ("4222", "4222"),
    ("4223", "42"), ("2120", "2120"), ("212", "2120"), ("334", "33"), ("52", "52"), ("0110", "01"),
])
def test_leaf_for_isco(code, leaf):
    assert leaf_for_isco(code) == leaf


def test_leaf_for_isco_errors():
    with pytest.raises(ValueError, match=re.escape("'9999' is not an ISCO-08 group code")):
        leaf_for_isco("9999")
    with pytest.raises(ValueError, match=re.escape(
            "ISCO-08 group '251' is split between panel leaves ['2511', '2512', '2513', '2514', '2519']")):
        leaf_for_isco("251")


def test_custom_occupations_csv(tmp_path):
    (tmp_path / "occupations.csv").write_text(
        "code,name,parent\nA,Agriculture,\nA1,Crops,A\nA2,Livestock,A\nB1,Builders,B\nC,Clerks,\n",
        encoding="utf-8")
    leaves = load_occupations(tmp_path)
    assert leaves["code"].tolist() == ["A1", "A2", "B1", "C", UNCLASSIFIED]
    assert leaves["major"].tolist() == ["A", "A", "B", "C", "X"]
    assert leaves["level"].tolist() == [2, 2, 2, 1, 0]
    assert not leaves["digital"].any()


@pytest.mark.parametrize("content, message", [
    ("code,name,parent\nA,Agri,\nA,Again,\n", "row 3, column 'code': got 'A', expected a unique value"),
    ("code,name,parent\nA,,\n", "row 2, column 'name': got '', expected a non-empty value"),
    ("code,name\nA,Agri\n", "row 1, column 'parent'"),
    ("code,name,parent\nA,Agri,B\nB,Build,A\n", "column 'parent'"),
    ("code,name,parent,digital\nA,Agri,,maybe\n", "row 2, column 'digital': got 'maybe', expected true or false"),
])
def test_custom_occupations_bad_rows(tmp_path, content, message):
    path = tmp_path / "occupations.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataContractError, match=re.escape(f"file {path}, ") + ".*" + re.escape(message)):
        load_occupations(tmp_path)
