import numpy as np

from lmforecast.panel import UNCLASSIFIED
from lmforecast.taxonomy.occupations import load_occupations
from lmforecast.taxonomy.skills import load_skill_matrix, load_skills


def test_skill_matrix_covers_every_leaf():
    matrix = load_skill_matrix()
    leaves = load_occupations()
    assert matrix.dims == ("occupation", "skill")
    assert matrix["occupation"].values.tolist() == [c for c in leaves["code"] if c != UNCLASSIFIED]
    assert matrix["skill"].values.tolist() == load_skills()["skill"].tolist()
    assert set(np.unique(matrix.values)) <= {0, 1, 2, 3}
    assert (matrix.max("skill") >= 1).sum() >= 50  # almost every leaf needs some listed skill


def test_skill_matrix_expected_profiles():
    matrix = load_skill_matrix()
    assert int(matrix.sel(occupation="2512", skill="programming")) == 3
    assert int(matrix.sel(occupation="4222", skill="customer_service_fr")) == 3
    assert int(matrix.sel(occupation="2120", skill="machine_learning")) >= 2
    digital = load_occupations().set_index("code")["digital"]
    digital_codes = [c for c in matrix["occupation"].values if digital[c]]
    assert int(matrix.sel(occupation=digital_codes, skill="basic_digital").min()) == 3
    for skill in ("programming", "web_development", "databases_sql", "networks", "cybersecurity",
                  "cloud_devops", "data_analysis", "machine_learning", "ux_ui_design", "office_software",
                  "customer_service_fr", "customer_service_en", "customer_service_es", "project_management"):
        assert int(matrix.sel(skill=skill).max()) >= 1, skill
