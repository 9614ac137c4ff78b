"""The recommended forecaster on the default data, five years out, against the generator's truth.

Issue 7 asks, on the default data, for national totals of every measure with a truth file within
5 % of the truth in every year 2026-2030, and for the five-year change of each region x
occupation cell to have the right sign for at least 90 % of the cells whose true change exceeds
10 %. Measured with this module (``pytest -m slow tests/test_default_truth.py -s``):

* employment meets the national target (-0.7 % in 2026 to -4.4 % in 2030); its cells' signs do
  not quite (about 87 %);
* vacancies fall short (-5.5 % to -18 %, signs 68 %): the truth keeps accelerating (digital
  occupations, 8-12 % a year, take a growing share of vacancies) while the inner rolling origin,
  whose five-year windows end in the COVID years, prefers the fixed-share and damped share
  models (which are better cell by cell on the held-out selection windows: 0.87 of naive's
  five-year MASE, against 0.92 without the fixed-share candidate, but flatten the national total);
* jobseekers cannot meet it from the data: the generator's 2026-2030 unemployment rate is an
  assumption (a fall from 12.8 % to 11 %) that reverses its 2017-2024 rise, which no model
  fitted on the history can know (+0.2 % to +8 %); a planner enters such a path as a scenario.

The targets that hold are asserted; the others are expected failures that print their figures,
so a change that meets them shows as XPASS.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lmforecast import panel as P

pytestmark = pytest.mark.slow
YEARS = list(range(2026, 2031))


@pytest.fixture(scope="module")
def default_data(tmp_path_factory):
    """The default synthetic data, its panel, and the truth tables (demand and supply)."""
    from lmforecast.build import build_panel
    from lmforecast.datasets.morocco import ensure_default_data

    raw = ensure_default_data(tmp_path_factory.mktemp("raw") / "morocco")
    panel = build_panel(raw, progress=False)
    truth = pd.concat([pd.read_csv(raw / "truth" / name, dtype={"region": str, "occupation": str, "period": str})
                       for name in ("demand_truth.csv", "supply_truth.csv")])
    truth["year"] = truth["period"].str[:4].astype(int)
    return panel, truth


def national_and_signs(panel, truth, measure: str):
    """National relative error per year (%) and the sign accuracy of the cells' five-year change."""
    from lmforecast.models.recommended import default_forecaster

    model = default_forecaster("MS").fit(panel, measure)
    point = model.predict(60, (0.5,)).sel(quantile=0.5, drop=True)
    # stocks (employment quarterly, vacancies and jobseekers monthly): annual means on both sides
    assert P.MEASURES[measure].aggregation == "stock", measure
    forecast = point.groupby("time.year").mean().to_series().rename("forecast")
    values = truth[truth["measure"] == measure]
    true = values.groupby(["year", "region", "occupation"])["value"].mean()
    cells = forecast.to_frame().join(true.rename("truth"), how="inner")
    national = cells.groupby(level="year").sum()
    errors = 100 * (national["forecast"] / national["truth"] - 1)
    last = panel[measure].isel(time=slice(-12, None)).mean("time").to_series().rename("last")
    end = cells.xs(YEARS[-1], level="year").join(last, how="inner")
    end = end[end["last"] > 0]
    true_change, forecast_change = end["truth"] / end["last"] - 1, end["forecast"] / end["last"] - 1
    moved = true_change.abs() > 0.10
    signs = float(np.mean(np.sign(true_change[moved]) == np.sign(forecast_change[moved])))
    return errors.reindex(YEARS).round(1).tolist(), signs, int(moved.sum())


def test_employment_national_totals_are_within_five_percent_every_year(default_data):
    errors, signs, moved = national_and_signs(*default_data, "employment")
    print(f"employment: national error by year {errors} %, sign right {signs:.3f} of {moved} cells")
    assert all(abs(e) <= 5 for e in errors), errors


@pytest.mark.xfail(reason="measured 0.87 of the cells moving > 10 % (target 0.90)", strict=False)
def test_employment_cells_five_year_change_has_the_right_sign(default_data):
    _, signs, _ = national_and_signs(*default_data, "employment")
    assert signs >= 0.90


@pytest.mark.xfail(reason="measured -5.5 % (2026) to -18 % (2030) nationally, sign right for 0.68 of the cells: "
                          "the truth accelerates; the inner origins, which end in the COVID years, choose the "
                          "fixed-share and share models", strict=False)
def test_vacancies_meet_both_targets(default_data):
    errors, signs, moved = national_and_signs(*default_data, "vacancies")
    print(f"vacancies: national error by year {errors} %, sign right {signs:.3f} of {moved} cells")
    assert all(abs(e) <= 5 for e in errors) and signs >= 0.90


@pytest.mark.xfail(reason="the generator's 2026-2030 unemployment path (12.8 % -> 11 %) is an assumption the "
                          "history cannot reveal; measured +0.2 % (2026) to +8 % (2030), sign right for 0.64",
                   strict=False)
def test_jobseekers_meet_both_targets(default_data):
    errors, signs, moved = national_and_signs(*default_data, "jobseekers")
    print(f"jobseekers: national error by year {errors} %, sign right {signs:.3f} of {moved} cells")
    assert all(abs(e) <= 5 for e in errors) and signs >= 0.90
