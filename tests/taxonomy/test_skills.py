"""ESCO v1.1.1 skill matrix, coverage, aggregation of occupation values to skills."""

from __future__ import annotations

import doctest
import gzip
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import lmforecast.skill_gaps as skill_gaps
import lmforecast.taxonomy.skills as skills_module
from lmforecast.errors import DataContractError
from lmforecast.panel import UNCLASSIFIED
from lmforecast.skill_gaps import aggregate_to_skills, top_skills_in_shortage
from lmforecast.taxonomy import build_skill_matrix
from lmforecast.taxonomy.occupations import load_isco08, load_occupations
from lmforecast.taxonomy.skills import (
    check_skill_weights,
    load_skill_groups,
    load_skill_matrix,
    load_skills,
    occupation_units,
    read_skill_matrix_csv,
    skill_coverage,
)

ESCO_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "esco-skills"
needs_esco = pytest.mark.skipif(not ESCO_DIR.is_dir(), reason=f"ESCO folder {ESCO_DIR} is absent")


@pytest.fixture(scope="module")
def matrix():
    return load_skill_matrix()


@pytest.fixture(scope="module")
def need():
    return load_skill_matrix(normalise="need")


def _units_table() -> pd.DataFrame:
    return skills_module._unit_coverage().set_index("isco_unit")


def test_doctests():
    for module in (skills_module, skill_gaps):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_every_leaf_has_a_row_and_uncovered_ones_are_reported(matrix):
    leaves = load_occupations()["code"].tolist()
    assert matrix.dims == ("occupation", "skill")
    assert matrix["occupation"].values.tolist() == leaves
    units = _units_table()
    mapping = occupation_units()
    with_esco = set(mapping.loc[mapping["isco_unit"].map(units["esco_occupations"]) > 0, "occupation"])
    expected_uncovered = [code for code in leaves if code not in with_esco]
    assert UNCLASSIFIED in expected_uncovered and len(expected_uncovered) < len(leaves)
    profile = matrix["skill_profile"].values
    assert matrix["occupation"].values[~profile].tolist() == expected_uncovered
    assert not matrix.values[~profile].any()
    assert matrix["esco_thin"].values[~profile].all()


@pytest.mark.parametrize("level", ["skill", 1, 2])
def test_share_weights_sum_to_one_per_covered_occupation(level):
    weights = load_skill_matrix(level=level)
    sums = weights.sum(weights.dims[1]).values
    profile = weights["skill_profile"].values
    np.testing.assert_allclose(sums[profile], 1.0, atol=1e-12)
    assert (sums[~profile] == 0).all()
    assert weights.attrs["normalise"] == "share" and "CC BY 4.0" in weights.attrs["source"]


def test_need_weights_are_the_documented_means_and_carved_out_units_count_once(need):
    units = _units_table()
    counts = skills_module._unit_skills()
    mapping = occupation_units()
    leaf_units = mapping.loc[mapping["occupation"] == "21", "isco_unit"].tolist()
    assert not {"2120", "2166"} & set(leaf_units)
    all_21 = [u for u in units.index if u.startswith("21")]
    assert sorted(leaf_units + ["2120", "2166"]) == all_21
    coverage = skill_coverage().set_index("occupation")
    assert (coverage.loc[["21", "2120", "2166"], "esco_occupations"].sum()
            == units.loc[all_21, "esco_occupations"].sum())
    # need[21, s]: mean over 21's unit groups with ESCO occupations of (essential + 0.5 optional) / n
    covered = [u for u in leaf_units if units.loc[u, "esco_occupations"] > 0]
    skill = counts.loc[counts["isco_unit"] == covered[0], "skill"].iloc[0]
    by_unit = counts[counts["skill"] == skill].set_index("isco_unit")
    hand = sum((by_unit.loc[u, "essential"] + 0.5 * by_unit.loc[u, "optional"]) / units.loc[u, "esco_occupations"]
               for u in covered if u in by_unit.index) / len(covered)
    assert float(need.sel(occupation="21", skill=skill)) == pytest.approx(hand, rel=1e-12)
    # sum over skills: mean over unit groups of (essential + 0.5 optional relations) / ESCO occupations
    per_unit = ((units["essential_relations"] + 0.5 * units["optional_relations"])
                / units["esco_occupations"])
    assert float(need.sel(occupation="21").sum()) == pytest.approx(per_unit[covered].mean(), rel=1e-12)
    assert float(need.max()) <= 1.0


def test_unit_weights_replace_equal_weighting():
    units = _units_table()
    covered = [u for u in occupation_units(["42"])["isco_unit"] if units.loc[u, "esco_occupations"] > 0]
    weights = pd.Series(np.arange(1.0, len(covered) + 1), index=covered)
    weighted = load_skill_matrix(["42"], normalise="need", unit_weights=weights)
    one_row_per_unit = load_skill_matrix(covered, normalise="need").values
    hand = (weights.to_numpy()[:, None] * one_row_per_unit).sum(axis=0) / weights.sum()
    np.testing.assert_allclose(weighted.sel(occupation="42").values, hand, atol=1e-12)
    with pytest.raises(ValueError, match="no weight for ISCO-08 unit groups"):
        load_skill_matrix(["42"], unit_weights=weights.iloc[1:])


def test_any_list_of_isco_codes_is_supported():
    weights = load_skill_matrix(["2", "25", "2512", "NATIONAL-CODE"], level=1)
    profile = dict(zip(weights["occupation"].values, weights["skill_profile"].values))
    assert profile == {"2": True, "25": True, "2512": True, "NATIONAL-CODE": False}
    mapping = occupation_units(["2", "25", "2512"])
    assert "2512" not in set(mapping.loc[mapping["occupation"] != "2512", "isco_unit"])
    assert set(mapping["isco_unit"]) == {c for c in _units_table().index if c.startswith("2")}
    with pytest.raises(ValueError, match="unique"):
        load_skill_matrix(["2512", "2512"])


def test_software_developers_need_programming(matrix):
    top = matrix.sel(occupation="2512").sortby(matrix.sel(occupation="2512"), ascending=False)
    assert "computer programming" in top["skill_name"].values[:10].tolist()
    groups = load_skill_matrix(["2512"], level=2).sel(occupation="2512")
    top_groups = groups.sortby(groups, ascending=False)["skill_group"].values[:3].tolist()
    assert "S5.1" in top_groups  # programming computer systems


def test_contact_centre_clerks_need_customer_service(matrix):
    top = matrix.sel(occupation="4222").sortby(matrix.sel(occupation="4222"), ascending=False)
    assert any("customer" in name for name in top["skill_name"].values[:5])
    groups = load_skill_matrix(["4222"], level=2).sel(occupation="4222")
    top_group = str(groups.idxmax().item())
    assert top_group == "S3.4"  # providing information and support to the public and clients


def test_ict_leaves_carry_more_digital_skills_than_any_non_digital_leaf(matrix):
    leaves = load_occupations().set_index("code")
    digital_share = (matrix * matrix["digital"]).sum("skill").to_series()
    ict = [c for c in digital_share.index if c.startswith("25") or c in ("3511", "3512", "3513", "3514")]
    non_digital = [c for c in digital_share.index if not leaves.loc[c, "digital"]]
    assert digital_share[ict].min() > digital_share[non_digital].max()
    groups = load_skill_matrix(level=1)
    working_with_computers = groups.sel(skill_group="S5")
    assert float(working_with_computers["digital_share"]) > float(groups["digital_share"].median())


def test_skill_and_group_labels_in_french_and_english():
    table = load_skills()
    assert (table["name"] != "").all() and (table["name_fr"] != "").all()
    assert set(table["name_fr_source"]) <= {"esco-v1.1.1-collections", "esco-v1.0.x", "en"}
    translated = table[table["name_fr_source"] != "en"]
    assert len(translated) > len(table) - len(translated)
    assert (table.loc[table["name_fr_source"] == "en", "name_fr"]
            == table.loc[table["name_fr_source"] == "en", "name"]).all()
    for level in (1, 2):
        groups = load_skill_groups(level)
        assert (groups["name_fr"] != "").all() and groups["skill_group"].is_unique
        used = set("|".join(table[f"groups_level{level}"]).split("|"))
        assert used <= set(groups["skill_group"])


def test_coverage_flags_thin_isco_groups():
    majors = skill_coverage(list("0123456789")).set_index("occupation")
    overall = majors["esco_relations"].sum() / majors["n_isco_units"].sum()
    for thin_major in ("4", "6", "9"):  # clerical support, agriculture, elementary occupations
        assert majors.loc[thin_major, "relations_per_unit"] < overall
    coverage = skill_coverage()
    threshold = coverage.attrs["thin_relations_per_unit"]
    assert threshold == pytest.approx(skills_module.THIN_FRACTION * overall)
    expected = ~coverage["skill_profile"] | (coverage["relations_per_unit"] < threshold)
    assert (coverage["esco_thin"] == expected).all()
    assert len(_units_table()) == (load_isco08()["level"] == 4).sum()


def test_aggregation_with_paths_equals_hand_computation():
    weights = load_skill_matrix(["2512", "4222", UNCLASSIFIED], level=1)
    rng = np.random.default_rng(3)
    values = rng.normal(0, 50, size=(4, 2, 3))  # path x region x occupation
    gap = xr.DataArray(values, dims=("path", "region", "occupation"),
                       coords={"region": ["MA-01", "MA-06"], "occupation": ["4222", UNCLASSIFIED, "2512"]},
                       attrs={"units": "persons"})
    out = aggregate_to_skills(gap, weights)
    assert out.dims == ("path", "region", "skill_group")
    w = weights.sel(occupation=["4222", UNCLASSIFIED, "2512"]).values
    hand = np.zeros((4, 2, w.shape[1]))
    for p in range(4):
        for r in range(2):
            for o in range(3):
                hand[p, r] += values[p, r, o] * w[o]
    np.testing.assert_allclose(out.values, hand, atol=1e-10)
    np.testing.assert_allclose(out.sum("skill_group").values, values[:, :, [0, 2]].sum(axis=2), atol=1e-10)
    assert out.attrs["occupations_without_skill_profile"] == UNCLASSIFIED
    assert out.attrs["units"].startswith("persons")
    assert "skill_group_name_fr" in out.coords


def test_top_skills_per_region_with_intervals_and_labels():
    weights = load_skill_matrix(["2512", "4222"])
    values = np.array([[[120.0, 10.0], [-30.0, 80.0]],
                       [[60.0, -40.0], [10.0, 20.0]],
                       [[90.0, 30.0], [-10.0, 50.0]]])  # path x region x occupation
    gap = xr.DataArray(values, dims=("path", "region", "occupation"),
                       coords={"region": ["MA-01", "MA-06"], "occupation": ["2512", "4222"]})
    top = top_skills_in_shortage(gap, weights, k=3)
    assert top.groupby("region").size().to_dict() == {"MA-01": 3, "MA-06": 3}
    w = weights.values  # occupation x skill
    shortage = np.clip(values, 0, None)
    per_path = np.einsum("pro,os->prs", shortage, w)
    for r, region in enumerate(["MA-01", "MA-06"]):
        rows = top[top["region"] == region]
        best = np.argsort(-per_path[:, r].mean(axis=0), kind="stable")[:3]
        assert rows["skill"].tolist() == weights["skill"].values[best].tolist()
        np.testing.assert_allclose(rows["value"], per_path[:, r, best].mean(axis=0))
        np.testing.assert_allclose(rows["q10"], np.quantile(per_path[:, r, best], 0.1, axis=0))
        np.testing.assert_allclose(rows["q90"], np.quantile(per_path[:, r, best], 0.9, axis=0))
    assert (top["name"] != "").all() and (top["name_fr"] != "").all() and "digital" in top.columns
    with pytest.raises(ValueError, match="select or sum"):
        top_skills_in_shortage(gap.expand_dims(year=[2030]), weights)


def test_bad_weights_are_rejected_with_a_clear_error(tmp_path):
    weights = load_skill_matrix(["2512"], level=1)
    broken = weights.copy(data=weights.values * 0.9)
    with pytest.raises(ValueError, match="occupation '2512' sum to 0.9"):
        check_skill_weights(broken, "test matrix")
    with pytest.raises(ValueError, match="sum to 0.9"):
        aggregate_to_skills(xr.DataArray([1.0], dims="occupation", coords={"occupation": ["2512"]}), broken)
    with pytest.raises(ValueError, match="quantile"):
        aggregate_to_skills(xr.DataArray([[1.0]], dims=("quantile", "occupation"),
                                         coords={"occupation": ["2512"]}), weights)
    with pytest.raises(ValueError, match=r"no row for occupations \['21'\]"):
        aggregate_to_skills(xr.DataArray([1.0], dims="occupation", coords={"occupation": ["21"]}), weights)
    path = tmp_path / "matrix.csv"
    path.write_text("occupation,skill,weight\n2512,prog,0.6\n2512,sql,0.3\n4222,care,1\n", encoding="utf-8")
    with pytest.raises(DataContractError) as error:
        read_skill_matrix_csv(path)
    assert (error.value.file, error.value.column, error.value.row) == (str(path), "weight", 2)
    assert error.value.value == pytest.approx(0.9)
    path.write_text("occupation,skill,weight\n2512,prog,0.6\n2512,sql,0.4\n4222,care,1\n", encoding="utf-8")
    user = read_skill_matrix_csv(path, occupations=["2512", "4222", UNCLASSIFIED])
    assert user.sel(occupation="2512", skill="sql") == pytest.approx(0.4)
    assert user["skill_profile"].values.tolist() == [True, True, False]


def test_a_shipped_table_whose_counts_do_not_add_up_is_an_error(tmp_path, monkeypatch):
    for name in build_skill_matrix.OUTPUTS:
        shutil.copy(skills_module.data_path(name), tmp_path / name)
    coverage = pd.read_csv(tmp_path / skills_module.UNIT_COVERAGE_FILE, dtype=str)
    row = int(np.flatnonzero(coverage["isco_unit"] == "2512")[0])
    coverage.loc[row, "essential_relations"] = str(int(coverage.loc[row, "essential_relations"]) + 1)
    coverage.to_csv(tmp_path / skills_module.UNIT_COVERAGE_FILE, index=False)
    monkeypatch.setattr(skills_module, "data_path", lambda name: tmp_path / name)
    for cached in (skills_module._unit_coverage, skills_module._unit_skills):
        cached.cache_clear()
    try:
        with pytest.raises(DataContractError, match="essential_relations") as error:
            load_skill_matrix(["2512"])
        assert error.value.column == "essential"
        assert str(tmp_path / skills_module.UNIT_SKILLS_FILE) == error.value.file
    finally:
        monkeypatch.undo()
        for cached in (skills_module._unit_coverage, skills_module._unit_skills):
            cached.cache_clear()


def _content(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


@pytest.mark.shared_data
@needs_esco
def test_build_reproduces_the_shipped_tables(tmp_path):
    build_skill_matrix.main(["--esco-dir", str(ESCO_DIR), "--out-dir", str(tmp_path)])
    for name in build_skill_matrix.OUTPUTS:
        assert _content(tmp_path / name) == _content(skills_module.data_path(name)), name


@pytest.mark.shared_data
@needs_esco
def test_malformed_esco_file_names_file_row_column_and_value(tmp_path):
    for source in ESCO_DIR.glob("*.csv.gz"):
        (tmp_path / source.name).symlink_to(source)
    relations = tmp_path / "occupationSkillRelations_v1.1.1.csv.gz"
    relations.unlink()
    relations.write_bytes(gzip.compress(
        b"occupationUri,relationType,skillType,skillUri\n"
        b"http://data.europa.eu/esco/occupation/x,essential,knowledge,http://data.europa.eu/esco/skill/y\n"
        b"http://data.europa.eu/esco/occupation/x,mandatory,knowledge,http://data.europa.eu/esco/skill/z\n"))
    with pytest.raises(DataContractError) as error:
        build_skill_matrix.build(tmp_path)
    assert (error.value.file, error.value.column, error.value.row, error.value.value) == (
        str(relations), "relationType", 3, "mandatory")
