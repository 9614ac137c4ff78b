"""The skill-gap report: job openings vs new supply by region x occupation x year, for planners.

Modules, one job each: :mod:`~lmforecast.report.annual` (years), :mod:`~lmforecast.report.rates`
(separation rates), :mod:`~lmforecast.report.openings` (expansion + replacement demand),
:mod:`~lmforecast.report.supply` (graduates, trainees, jobseekers, mobility),
:mod:`~lmforecast.report.gap` (gap, ratio, P(shortage) from paths),
:mod:`~lmforecast.report.ratings`, :mod:`~lmforecast.report.scenarios`,
:mod:`~lmforecast.report.rollups`, :mod:`~lmforecast.report.core` (the whole report),
:mod:`~lmforecast.report.track_record` (gap backtest), :mod:`~lmforecast.report.truth`,
:mod:`~lmforecast.report.table`, :mod:`~lmforecast.report.excel`, :mod:`~lmforecast.report.html`,
:mod:`~lmforecast.report.write`; :mod:`~lmforecast.report.stock` keeps the simple stock
comparison (vacancies - jobseekers) for data sets that have only those two series.
"""

from lmforecast.report.annual import YEAR, annual, annual_values
from lmforecast.report.stock import (GAP_QUANTILES, PATH, SUPPORTED_FORMATS, TABLE_COLUMNS, compare_with_truth,
                                     gap_table, projected_gap, write_gap_report)

__all__ = ["YEAR", "PATH", "GAP_QUANTILES", "SUPPORTED_FORMATS", "TABLE_COLUMNS", "annual", "annual_values",
           "projected_gap", "gap_table", "write_gap_report", "compare_with_truth"]
