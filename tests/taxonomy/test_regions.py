import re

import numpy as np
import pandas as pd
import pytest

from lmforecast.errors import DataContractError
from lmforecast.taxonomy.regions import (
    UNALLOCATED,
    RegionNormalizer,
    load_old_regions,
    load_provinces,
    load_region_aliases,
    load_regions,
    region_crosswalk,
)

RGPH_2014_TOTAL = 33_848_242


@pytest.fixture(scope="module")
def normalizer():
    return RegionNormalizer()


def test_twelve_regions_in_official_order():
    regions = load_regions()
    assert list(regions.columns) == ["code", "name", "name_fr", "name_en", "name_ar", "population"]
    assert regions["code"].tolist() == [f"MA-{i:02d}" for i in range(1, 13)]
    assert regions.loc[5, "name_fr"] == "Casablanca-Settat"
    assert (regions["name"] == regions["name_en"]).all()
    assert regions["name_ar"].str.len().gt(0).all()


def test_populations_sum_to_rgph_2014_total():
    assert int(load_regions()["population"].sum()) == RGPH_2014_TOTAL


def test_province_sums_close_to_region_totals():
    by_new = load_provinces().groupby("new_code")["population"].sum()
    official = load_regions().set_index("code")["population"].astype("int64")
    relative_gap = (by_new - official).abs() / official
    assert len(load_provinces()) == 75
    assert relative_gap.max() < 0.002  # documented residuals: Oriental 0.18 %, Souss-Massa 0.02 %


def test_crosswalk_weights_sum_to_one_and_every_old_region_maps():
    crosswalk = region_crosswalk()
    np.testing.assert_allclose(crosswalk.groupby("old_code")["weight_old_to_new"].sum(), 1.0)
    np.testing.assert_allclose(crosswalk.groupby("new_code")["weight_new_to_old"].sum(), 1.0)
    assert set(crosswalk["old_code"]) == set(load_old_regions()["code"])
    assert set(crosswalk["new_code"]) == set(load_regions()["code"])
    assert len(load_old_regions()) == 16


def test_crosswalk_split_of_meknes_tafilalet():
    crosswalk = region_crosswalk().set_index(["old_code", "new_code"])
    # Meknès + El Hajeb + Ifrane -> Fès-Meknès; Khénifra -> Béni Mellal-Khénifra; Errachidia + Midelt -> Drâa-Tafilalet
    total = 835_695 + 247_016 + 155_221 + 371_145 + 418_451 + 289_337
    assert crosswalk.loc[("MA16-13", "MA-03"), "weight_old_to_new"] == pytest.approx(1_237_932 / total)
    assert crosswalk.loc[("MA16-13", "MA-08"), "population"] == 418_451 + 289_337


@pytest.mark.parametrize("label, code", [
    ("Casablanca et région - Maroc", "MA-06"),
    ("Tout le Maroc - Maroc", UNALLOCATED),
    ("Fès et région - Maroc", "MA-03"),
    ("Béni Mellal et région - Maroc", "MA-05"),
    ("Rabat(Technopolis)/Casablanca (Casanearshore)", UNALLOCATED),
    ("Casa et Rabat", UNALLOCATED),
    ("Technopolis - Salé", "MA-04"),
    ("Sala al jadida (Technopolis)", "MA-04"),
    ("Tangier", "MA-01"), ("Fez", "MA-03"), ("Marrakesh", "MA-07"), ("Agadir", "MA-09"),
    ("Oujda", "MA-02"), ("Nador", "MA-02"), ("Errachidia", "MA-08"), ("Guelmim", "MA-10"),
    ("Laâyoune", "MA-11"), ("Dakhla", "MA-12"), ("Al Hoceïma", "MA-01"), ("Khouribga", "MA-05"),
    ("Mohammedia", "MA-06"), ("Temara", "MA-04"), ("El Jadida", "MA-06"), ("Safi", "MA-07"),
    ("الدار البيضاء", "MA-06"), ("الرباط", "MA-04"), ("فاس", "MA-03"),
    ("Grand Casablanca", "MA-06"), ("Souss-Massa-Drâa", "MA-09"), ("Gharb-Chrarda-Béni Hssen", "MA-04"),
    ("MA-07", "MA-07"),
])
def test_normalize_known_labels(normalizer, label, code):
    assert normalizer.normalize(label) == code


@pytest.mark.parametrize("label, code", [
    ("Casablance", "MA-06"), ("Marakech", "MA-07"), ("Tanger-Tetouan", "MA-01"), ("Fes", "MA-03"),
    ("Kenitra", "MA-04"), ("Casablnca", "MA-06"), ("Meknes et region", "MA-03"), ("CASABLANCA", "MA-06"),
])
def test_normalize_misspellings(normalizer, label, code):
    assert normalizer.normalize(label) == code


@pytest.mark.parametrize("label", ["Casablanca et région - France", "Paris", "", "   ", None, "xyzzy"])
def test_normalize_unknown_gives_none(normalizer, label):
    assert normalizer.normalize(label) is None


def test_split_old_region_policy():
    strict = RegionNormalizer(split_old_regions="unallocated")
    assert strict.normalize("Doukkala-Abda") == UNALLOCATED
    assert strict.normalize("Tadla-Azilal") == "MA-05"  # not split
    with pytest.raises(ValueError, match="split_old_regions must be 'dominant' or 'unallocated'"):
        RegionNormalizer(split_old_regions="largest")


def test_suggest_returns_right_neighbour(normalizer):
    assert normalizer.suggest("Marakech")[0] == "Marrakech"
    assert normalizer.suggest("Kenitraa", n=2)[0] in {"Kénitra", "Kenitra"}
    assert len(normalizer.suggest("Casablnca", n=3)) == 3


def test_normalize_many_matches_normalize_and_keeps_index(normalizer):
    labels = pd.Series(["Fès et région - Maroc", None, "Casa", "Paris", "Fès et région - Maroc"],
                       index=[10, 11, 12, 13, 14], name="region")
    out = normalizer.normalize_many(labels)
    assert out.index.tolist() == [10, 11, 12, 13, 14]
    assert out.name == "region"
    assert out.tolist()[0] == "MA-03" and out.tolist()[2] == "MA-06" and out.tolist()[4] == "MA-03"
    assert out.isna().tolist() == [False, True, False, True, False]


def test_default_aliases_have_no_conflicts():
    aliases = load_region_aliases()
    allowed = set(load_regions()["code"]) | {UNALLOCATED}
    assert aliases["code"].isin(allowed).all()
    RegionNormalizer(aliases=aliases)  # raises on a label folded to two codes


@pytest.mark.shared_data
def test_normalize_rekrute_labels(normalizer, rekrute):
    report = normalizer.coverage_report(rekrute["region"])
    print(f"ReKrute region attribute: {report}")
    assert report["n"] == 865
    # 8 distinct labels in the rows; 'Casablanca et région - France' is declared in the ARFF
    # header but used by no row (it would give None, see test_normalize_unknown_gives_none)
    assert report["share_normalised"] == 1.0
    assert report["unknown"] == {}
    assert report["share_unallocated"] == pytest.approx(25 / 865)  # 'Tout le Maroc - Maroc'


@pytest.mark.shared_data
def test_normalize_rekrute_title_city_suffix(normalizer, rekrute):
    offre1 = rekrute[rekrute["file"] == "offre1_arf.arff"]  # offre3 titles carry no city
    suffix = offre1["poste"].str.rsplit(" - ", n=1).str[-1]
    report = normalizer.coverage_report(suffix)
    print(f"ReKrute offre1 city suffix of 'poste': {report}")
    assert report["share_normalised"] == 1.0
    codes = normalizer.normalize_many(suffix)
    assert codes[suffix.str.strip().str.lower() == "casablanca"].eq("MA-06").all()


def test_custom_regions_csv(tmp_path):
    (tmp_path / "regions.csv").write_text("code,name,population\nR1,North,1200\nR2,South,\n", encoding="utf-8")
    regions = load_regions(tmp_path)
    assert regions["code"].tolist() == ["R1", "R2"]
    assert regions["name_fr"].tolist() == ["North", "South"]
    assert regions["population"].iloc[0] == 1200 and pd.isna(regions["population"].iloc[1])
    normalizer = RegionNormalizer(regions)
    assert normalizer.normalize("north") == "R1"
    assert normalizer.normalize("Casablanca") is None  # Moroccan aliases not used for other lists


@pytest.mark.parametrize("content, message", [
    ("code,name\nR1,North\nR1,South\n", "row 3, column 'code': got 'R1', expected a unique value"),
    ("code,name\nR1,\n", "row 2, column 'name': got '', expected a non-empty value"),
    ("code,name,population\nR1,North,12x\n", "row 2, column 'population': got '12x', expected a whole number >= 0"),
    ("code,name,population\nR1,North,-5\n", "row 2, column 'population': got '-5', expected a whole number >= 0"),
    ("code,name\nunallocated,All\n", "row 2, column 'code': got 'unallocated'"),
    ("code,label\nR1,North\n", "row 1, column 'name'"),
])
def test_custom_regions_csv_bad_rows(tmp_path, content, message):
    path = tmp_path / "regions.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataContractError, match=re.escape(f"file {path}, {message}")):
        load_regions(tmp_path)


def test_custom_aliases_extend_moroccan_defaults(tmp_path):
    (tmp_path / "region_aliases.csv").write_text("label,code\nZenata Eco-City,MA-06\n", encoding="utf-8")
    normalizer = RegionNormalizer(aliases=load_region_aliases(tmp_path))
    assert normalizer.normalize("Zenata Eco-City - Maroc") == "MA-06"
    assert normalizer.normalize("Marrakech") == "MA-07"


def test_custom_aliases_bad_code(tmp_path):
    path = tmp_path / "region_aliases.csv"
    path.write_text("label,code\nCasa,MA-06\nAtlantis,MA-99\n", encoding="utf-8")
    aliases = load_region_aliases(tmp_path)
    with pytest.raises(DataContractError, match=re.escape(f"file {path}, row 3, column 'code': got 'MA-99'")):
        RegionNormalizer(aliases=aliases)
