"""Plotly figures of the skill-gap report, reusable in notebooks (``fig.show()``) and in the HTML page.

Every function takes tables of :class:`lmforecast.report.core.SkillGapReport` (or its
``paths``) and returns a ``plotly.graph_objects.Figure``; nothing is drawn at import. Intervals
are the 80 % bounds over the joint sample paths.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lmforecast import panel as P
from lmforecast.report.labels import column, word

RATING_COLOURS = {"shortage": "#c0392b", "balance": "#f1c40f", "surplus": "#2e86c1", "": "#bbbbbb"}


def _layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=60, r=20, t=50, b=60), template="plotly_white")
    return fig


def gap_ratio_heatmap(cells: pd.DataFrame, language: str = "en", max_occupations: int = 60) -> go.Figure:
    """Heatmap of the cumulated gap ratio, region (rows) x occupation (columns); colour clipped at +-100 %.

    Parameters
    ----------
    cells : cumulated cell table (``region_name``, ``occupation``, ``occupation_name``, ``gap_ratio``,
        ``p_shortage``, ``rating``).
    language : ``en`` or ``fr`` (axis and hover labels).
    max_occupations : at most this many occupation columns are drawn.

    Returns
    -------
    ``plotly.graph_objects.Figure``.

    Examples
    --------
    >>> from lmforecast.datasets.example_country import example_report
    >>> from lmforecast.report.write import tables
    >>> cumulative = tables(example_report())["cumulative"]
    >>> fig = gap_ratio_heatmap(cumulative)
    >>> fig.data[0].z.shape, list(fig.data[0].y)
    ((5, 6), ['XX-CAP', 'XX-EAS', 'XX-NOR', 'XX-SOU', 'XX-WES'])
    """
    name = "region_name_fr" if language == "fr" and "region_name_fr" in cells else "region_name"
    occ_name = "occupation_name_fr" if language == "fr" and "occupation_name_fr" in cells else "occupation_name"
    wide = cells.pivot_table(index=name, columns=P.OCCUPATION, values="gap_ratio", aggfunc="first")
    wide = wide.iloc[:, :max_occupations]
    labels = cells.drop_duplicates(P.OCCUPATION).set_index(P.OCCUPATION)[occ_name]
    prob = cells.pivot_table(index=name, columns=P.OCCUPATION, values="p_shortage", aggfunc="first").reindex_like(wide)
    text = [[f"{labels.get(o, o)}<br>{column('gap_ratio', language)}: {v:+.0%}<br>P: {p:.2f}"
             if np.isfinite(v) else "" for o, v, p in zip(wide.columns, row, prow)]
            for row, prow in zip(wide.to_numpy(), prob.to_numpy())]
    fig = go.Figure(go.Heatmap(z=np.clip(wide.to_numpy(), -1, 1), x=list(wide.columns), y=list(wide.index),
                               text=text, hoverinfo="text+y", colorscale="RdBu_r", zmid=0, zmin=-1, zmax=1,
                               colorbar=dict(title=column("gap_ratio", language), tickformat=".0%")))
    fig.update_xaxes(type="category", tickangle=-60)
    return _layout(fig, column("gap_ratio", language) + (" (cumul)" if language == "fr" else " (cumulated)"), 520)


def top_gaps(table: pd.DataFrame, k: int = 15, language: str = "en", largest: bool = True) -> go.Figure:
    """Horizontal bars of the ``k`` largest (or smallest) cumulated gaps with their 80 % intervals.

    Parameters
    ----------
    table : rows with ``gap``, ``gap_q10``, ``gap_q90``, ``occupation_name`` (and ``region_name``,
        ``rating`` when present): the ``cumulative`` table of
        :func:`lmforecast.report.write.tables`, or :func:`lmforecast.report.write.top_shortages`.
    k : number of bars.
    language : ``en`` or ``fr``.
    largest : the largest gaps (shortages); False = the smallest (surpluses).

    Returns
    -------
    ``plotly.graph_objects.Figure``; bars coloured by rating.

    Examples
    --------
    >>> from lmforecast.datasets.example_country import example_report
    >>> from lmforecast.report.write import tables
    >>> fig = top_gaps(tables(example_report())["cumulative"], k=3)
    >>> fig.layout.title.text, len(fig.data[0].y)
    ('Top shortages', 3)
    """
    ordered = table.dropna(subset=["gap"]).sort_values("gap", ascending=not largest).head(k).iloc[::-1]
    name = "occupation_name_fr" if language == "fr" and "occupation_name_fr" in ordered else "occupation_name"
    region = "region_name_fr" if language == "fr" and "region_name_fr" in ordered else "region_name"
    labels = ([f"{o} - {r}" for o, r in zip(ordered[name], ordered[region])] if region in ordered
              else [str(o) for o in ordered[name]])
    fig = go.Figure(go.Bar(x=ordered["gap"], y=labels, orientation="h",
                           marker_color=[RATING_COLOURS.get(r, "#888") for r in ordered.get("rating", [""] * len(ordered))],
                           error_x=dict(type="data", symmetric=False, array=ordered["gap_q90"] - ordered["gap"],
                                        arrayminus=ordered["gap"] - ordered["gap_q10"])))
    fig.update_xaxes(title=column("gap", language))
    title = ("Top shortages" if language == "en" else "Principales pénuries") if largest else \
        ("Top surpluses" if language == "en" else "Principaux excédents")
    return _layout(fig, title, 120 + 28 * len(ordered))


def fan_chart(yearly: pd.DataFrame, title: str, language: str = "en") -> go.Figure:
    """Openings vs new supply over the years, central values and 80 % bands (one roll-up or cell).

    Parameters
    ----------
    yearly : rows per ``year`` (the ``cumulative`` row is left out) with ``job_openings``,
        ``new_supply`` and their ``_q10`` / ``_q90``: ``SkillGapReport.national``, or the rows
        of one region or occupation of ``.regions`` / ``.occupations``.
    title : figure title.
    language : ``en`` or ``fr``.

    Returns
    -------
    ``plotly.graph_objects.Figure``: a band and a line for each of the two measures.

    Examples
    --------
    >>> from lmforecast.datasets.example_country import example_report
    >>> fig = fan_chart(example_report().national, "Example country")
    >>> [trace.name for trace in fig.data if trace.name], [int(x) for x in fig.data[1].x]
    (['Job openings', 'New supply'], [2026, 2027])
    """
    frame = yearly[yearly["year"].astype(str).str.isdigit()].copy()
    frame["year"] = frame["year"].astype(int)
    fig = go.Figure()
    for name, colour in (("job_openings", "192,57,43"), ("new_supply", "46,134,193")):
        fig.add_trace(go.Scatter(x=list(frame["year"]) + list(frame["year"])[::-1],
                                 y=list(frame[f"{name}_q90"]) + list(frame[f"{name}_q10"])[::-1], fill="toself",
                                 fillcolor=f"rgba({colour},0.2)", line=dict(width=0), hoverinfo="skip",
                                 showlegend=False))
        fig.add_trace(go.Scatter(x=frame["year"], y=frame[name], name=column(name, language),
                                 line=dict(color=f"rgb({colour})", width=3)))
    fig.update_xaxes(dtick=1)
    fig.update_yaxes(title="personnes par an" if language == "fr" else "persons per year")
    return _layout(fig, title, 360)


def skills_in_shortage(skills: pd.DataFrame, region: str = "national", k: int = 10, language: str = "en") -> go.Figure:
    """Bars of the top skills in shortage of one region (person-equivalents over the horizon, 80 % interval).

    Parameters
    ----------
    skills : ``SkillGapReport.skills`` (``region``, ``name``, ``name_fr``, ``value``, ``q10``,
        ``q90``, ranked within each region).
    region : a region code or ``national``.
    k : number of skills drawn.
    language : ``en`` or ``fr``.

    Returns
    -------
    ``plotly.graph_objects.Figure``.

    Examples
    --------
    >>> from lmforecast.datasets.example_country import example_report
    >>> fig = skills_in_shortage(example_report().skills, region="national", k=3)
    >>> fig.layout.title.text, len(fig.data[0].y)
    ('Skills in shortage (national)', 3)
    """
    rows = skills[skills[P.REGION] == region].head(k).iloc[::-1]
    label = rows["name_fr"] if language == "fr" else rows["name"]
    fig = go.Figure(go.Bar(x=rows["value"], y=label, orientation="h", marker_color="#8e44ad",
                           error_x=dict(type="data", symmetric=False, array=rows["q90"] - rows["value"],
                                        arrayminus=rows["value"] - rows["q10"])))
    fig.update_xaxes(title=column("value", language))
    return _layout(fig, ("Skills in shortage" if language == "en" else "Compétences en pénurie") + f" ({region})",
                   120 + 30 * len(rows))


def scenario_vs_baseline(frame: pd.DataFrame, language: str = "en", k: int = 12) -> go.Figure:
    """Grouped bars: baseline and scenario gap (cumulated) for the cells a scenario touches most.

    Parameters
    ----------
    frame : one scenario's cells, ``SkillGapReport.scenarios[name]`` (``region``, ``occupation``,
        ``extra_supply``, ``gap``, ``gap_scenario`` and their ``_q10`` / ``_q90``).
    language : ``en`` or ``fr``.
    k : the ``k`` cells with the most extra supply are drawn.

    Returns
    -------
    ``plotly.graph_objects.Figure``.

    Examples
    --------
    >>> from lmforecast.datasets.example_country import example_report
    >>> fig = scenario_vs_baseline(example_report().scenarios["programme"])
    >>> [trace.name for trace in fig.data], list(fig.data[0].x)
    (['Gap (openings - supply)', 'Gap with scenario'], ['251 - XX-CAP'])
    """
    rows = frame.sort_values("extra_supply", ascending=False).head(k)
    label = [f"{o} - {r}" for o, r in zip(rows[P.OCCUPATION], rows[P.REGION])]
    fig = go.Figure()
    for name, colour in (("gap", "#7f8c8d"), ("gap_scenario", "#27ae60")):
        fig.add_trace(go.Bar(x=label, y=rows[name], name=column(name, language), marker_color=colour,
                             error_y=dict(type="data", symmetric=False, array=rows[f"{name}_q90"] - rows[name],
                                          arrayminus=rows[name] - rows[f"{name}_q10"])))
    fig.update_layout(barmode="group")
    fig.update_yaxes(title=column("gap", language))
    return _layout(fig, (frame["scenario"].iloc[0] if len(frame) else "") + (": scenario vs baseline" if language == "en"
                                                                              else " : scénario et référence"), 420)


def reliability(table: pd.DataFrame, language: str = "en") -> go.Figure:
    """Reliability diagram of P(shortage): predicted probability vs observed frequency (gap backtest)."""
    ok = table.dropna(subset=["mean_predicted"])
    fig = go.Figure([go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dash", color="#999"),
                                showlegend=False, hoverinfo="skip"),
                     go.Scatter(x=ok["mean_predicted"], y=ok["observed_frequency"], mode="markers+lines",
                                marker=dict(size=np.clip(np.sqrt(ok["n"].to_numpy(dtype=float)) * 1.5, 6, 30)),
                                text=[f"n = {n}" for n in ok["n"]], name="P(shortage)")])
    fig.update_xaxes(title="P(shortage) predicted" if language == "en" else "P(pénurie) prévue", range=[0, 1])
    fig.update_yaxes(title="share observed in shortage" if language == "en" else "part observée en pénurie",
                     range=[0, 1])
    return _layout(fig, "Reliability of P(shortage)" if language == "en" else "Fiabilité de P(pénurie)", 380)


def model_accuracy(scores: pd.DataFrame, metric: str = "mase", language: str = "en") -> go.Figure:
    """Bars of a backtest metric per model and target (lower is better for MASE / WAPE).

    Parameters
    ----------
    scores : one row per model (the index), one column per target: ``BacktestResult.scores``
        of :func:`lmforecast.pipeline.backtest`, or a pivoted leaderboard.
    metric : the metric's name (axis and title).
    language : ``en`` or ``fr``.

    Returns
    -------
    ``plotly.graph_objects.Figure``: one group of bars per model, a bar per target.

    Examples
    --------
    >>> import pandas as pd
    >>> scores = pd.DataFrame({"employment": [0.8, 1.0], "jobseekers": [0.9, 1.1]},
    ...                       index=pd.Index(["trend", "naive"], name="model"))
    >>> fig = model_accuracy(scores)
    >>> [trace.name for trace in fig.data], list(fig.data[0].x)
    (['employment', 'jobseekers'], ['trend', 'naive'])
    """
    long = scores.reset_index().melt(id_vars=scores.index.name or "model", var_name="target", value_name=metric)
    fig = go.Figure()
    for target, part in long.groupby("target", sort=False):
        fig.add_trace(go.Bar(x=part.iloc[:, 0], y=part[metric], name=str(target)))
    fig.update_layout(barmode="group")
    fig.update_yaxes(title=metric.upper())
    return _layout(fig, ("Backtest accuracy of the models" if language == "en" else "Précision passée des modèles")
                   + f" ({metric.upper()})", 360)


def rating_counts(cells: pd.DataFrame, by: str = "region_name", language: str = "en") -> go.Figure:
    """Stacked bars of how many occupations are rated shortage / balance / surplus in each region.

    Parameters
    ----------
    cells : cumulated cell table with ``rating`` and the ``by`` column (the ``cumulative`` table
        of :func:`lmforecast.report.write.tables`).
    by : the column of the bars (``region_name``, ``region_name_fr``, ``region``).
    language : ``en`` or ``fr``.

    Returns
    -------
    ``plotly.graph_objects.Figure``: one trace per rating present.

    Examples
    --------
    >>> import pandas as pd
    >>> cells = pd.DataFrame({"region_name": ["North", "North", "South"],
    ...                       "rating": ["shortage", "balance", "shortage"]})
    >>> fig = rating_counts(cells)
    >>> [(trace.name, [int(n) for n in trace.y]) for trace in fig.data]
    [('shortage', [1, 1]), ('balance', [1, 0])]
    """
    counts = cells.groupby([by, "rating"]).size().unstack(fill_value=0)
    fig = go.Figure([go.Bar(x=list(counts.index), y=counts[r], name=word(r, language), marker_color=RATING_COLOURS[r])
                     for r in ("shortage", "balance", "surplus") if r in counts])
    fig.update_layout(barmode="stack")
    return _layout(fig, "Ratings by region" if language == "en" else "Diagnostics par région", 380)


def figures_html(figures: Sequence[go.Figure]) -> list[str]:
    """HTML fragments of figures, plotly.js left out (the page embeds it once)."""
    return [fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False}) for fig in figures]


# --------------------------------------------------------------------------- panels, features, backtests
def _label_of(panel, dim: str, code: str) -> str:
    name = P.REGION_NAME if dim == P.REGION else P.OCCUPATION_NAME
    if name in panel.coords:
        return f"{code} {panel[name].sel({dim: code}).item()}"
    return str(code)


def panel_lines(panel, measure: str, by: str = P.REGION, max_lines: int = 15) -> go.Figure:
    """Lines of one panel measure over time, summed within each region or occupation group.

    Parameters
    ----------
    panel : panel Dataset (``time x region x occupation``).
    measure : the variable drawn (its ``units`` attr labels the axis).
    by : ``"region"`` (one line per region, occupations summed), ``"occupation"``,
        ``"occupation_major"`` or ``"occupation_parent"`` (one line per group, regions summed).
    max_lines : the groups with the largest totals are drawn, at most this many.

    Examples
    --------
    >>> import numpy as np, pandas as pd, xarray as xr
    >>> time = pd.date_range("2024-01-01", periods=3, freq="MS")
    >>> panel = xr.Dataset({"vacancies": (("time", "region", "occupation"), np.ones((3, 2, 1)))},
    ...                    coords={"time": time, "region": ["MA-01", "MA-06"], "occupation": ["2512"]})
    >>> [trace.name for trace in panel_lines(panel, "vacancies").data]
    ['MA-01', 'MA-06']
    """
    array = panel[measure]
    if by == P.REGION:
        grouped = array.sum(P.OCCUPATION, min_count=1)
        labels = {str(c): _label_of(panel, P.REGION, str(c)) for c in grouped[P.REGION].values}
    elif by == P.OCCUPATION:
        grouped = array.sum(P.REGION, min_count=1)
        labels = {str(c): _label_of(panel, P.OCCUPATION, str(c)) for c in grouped[P.OCCUPATION].values}
    elif by in (P.OCCUPATION_MAJOR, P.OCCUPATION_PARENT):
        grouped = array.sum(P.REGION, min_count=1).groupby(by).sum(min_count=1).rename({by: P.OCCUPATION})
        labels = {str(c): f"group {c}" for c in grouped[P.OCCUPATION].values}
    else:
        raise ValueError(f"by must be region, occupation, occupation_major or occupation_parent, got {by!r}")
    dim = P.REGION if by == P.REGION else P.OCCUPATION
    totals = grouped.sum(P.TIME).to_series().sort_values(ascending=False)
    fig = go.Figure()
    for code in [str(c) for c in totals.index[:max_lines]]:
        series = grouped.sel({dim: code}).to_series()
        fig.add_trace(go.Scatter(x=series.index, y=series.values, name=labels.get(code, code), mode="lines",
                                 connectgaps=False))
    fig.update_yaxes(title=f"{measure} ({array.attrs.get('units', '')})".replace(" ()", ""))
    return _layout(fig, f"{measure} by {by.replace('_', ' ')}", 420)


def hierarchy_treemap(panel, measure: str, year: int | None = None) -> go.Figure:
    """Treemap of the occupation hierarchy (top group -> parent -> occupation) sized by a measure.

    A cell's size is the measure's annual value in ``year`` summed over regions (flows summed
    over the year, stocks averaged, coarse series read where their values sit, as
    :func:`lmforecast.report.annual.annual_values` does); ``year`` defaults to the last year with values.

    Parameters
    ----------
    panel : panel Dataset with the ``occupation_major`` coordinate (``occupation_parent`` and
        ``occupation_name`` are used when present).
    measure : the variable that sizes the cells.
    year : calendar year.

    Examples
    --------
    >>> import numpy as np, pandas as pd, xarray as xr
    >>> time = pd.date_range("2024-01-01", periods=12, freq="MS")
    >>> panel = xr.Dataset({"employment": (("time", "region", "occupation"), np.ones((12, 1, 2)))},
    ...                    coords={"time": time, "region": ["MA-01"], "occupation": ["2512", "2513"],
    ...                            "occupation_major": ("occupation", ["2", "2"]),
    ...                            "occupation_parent": ("occupation", ["25", "25"])},
    ...                    attrs={"freq": "MS"})
    >>> panel["employment"].attrs["aggregation"] = "stock"
    >>> list(hierarchy_treemap(panel, "employment").data[0].ids)
    ['2', '2/25', '2/25/2512', '2/25/2513']
    """
    from lmforecast.report.annual import annual_values

    attrs = panel[measure].attrs
    yearly = annual_values(panel[measure].sum(P.REGION, min_count=1), panel.attrs.get("freq", "MS"),
                           aggregation=attrs.get("aggregation", "flow"), native_freq=attrs.get("native_freq"),
                           role=measure)
    years = [int(y) for y, ok in zip(yearly["year"].values, yearly.notnull().any(P.OCCUPATION).values) if ok]
    if not years:
        raise ValueError(f"{measure!r} has no complete year of values to size the treemap")
    year = years[-1] if year is None else int(year)
    values = yearly.sel(year=year).to_series().fillna(0.0)
    occupations = [str(o) for o in panel[P.OCCUPATION].values]
    major = dict(zip(occupations, map(str, panel[P.OCCUPATION_MAJOR].values)))
    parent = dict(zip(occupations, map(str, panel[P.OCCUPATION_PARENT].values))) if P.OCCUPATION_PARENT in panel.coords \
        else major
    names = dict(zip(occupations, map(str, panel[P.OCCUPATION_NAME].values))) if P.OCCUPATION_NAME in panel.coords \
        else {o: o for o in occupations}
    nodes: dict[str, list] = {}  # id -> [label, parent id, value]
    for occ in occupations:
        top, mid = major[occ], parent[occ]
        chain = [top] if mid in (top, occ) else [top, f"{top}/{mid}"]
        leaf_id = f"{chain[-1]}/{occ}"
        for i, node in enumerate(chain):
            label = node.split("/")[-1]
            nodes.setdefault(node, [label, chain[i - 1] if i else "", 0.0])
            nodes[node][2] += float(values.get(occ, 0.0))
        nodes[leaf_id] = [f"{occ} {names[occ]}", chain[-1], float(values.get(occ, 0.0))]
    ids = sorted(nodes)
    fig = go.Figure(go.Treemap(ids=ids, labels=[nodes[i][0] for i in ids], parents=[nodes[i][1] for i in ids],
                               values=[nodes[i][2] for i in ids], branchvalues="total",
                               hovertemplate="%{label}<br>%{value:,.0f}<extra></extra>"))
    return _layout(fig, f"{measure} {year} by occupation group ({panel[measure].attrs.get('units', '')})", 520)


def feature_lines(features, panel, region: str, occupation: str, names: Sequence[str] | None = None) -> go.Figure:
    """One series of a panel variable with its leak-free features (same time axis).

    Parameters
    ----------
    features : Dataset of :func:`lmforecast.features.model_features.panel_features` (its
        ``target`` attr names the variable).
    panel : the panel the features were computed on.
    region, occupation : the series drawn.
    names : features drawn (default: every feature in the target's units, growth and ratios left out).

    Examples
    --------
    >>> import numpy as np, pandas as pd, xarray as xr
    >>> from lmforecast.features.model_features import panel_features
    >>> time = pd.date_range("2023-01-01", periods=24, freq="MS")
    >>> panel = xr.Dataset({"vacancies": (("time", "region", "occupation"), np.arange(24.0).reshape(24, 1, 1))},
    ...                    coords={"time": time, "region": ["MA-01"], "occupation": ["2512"]}, attrs={"freq": "MS"})
    >>> features = panel_features(panel, "vacancies", lags=(1, 12), windows=(3,), growth=False)
    >>> [trace.name for trace in feature_lines(features, panel, "MA-01", "2512").data]
    ['vacancies', 'lag_1', 'lag_12', 'roll_mean_3', 'roll_min_3', 'roll_max_3']
    """
    target = features.attrs.get("target")
    where = {P.REGION: region, P.OCCUPATION: occupation}
    if names is None:
        names = [str(n) for n in features.data_vars
                 if not any(part in str(n) for part in ("growth", "tension", "std"))]
    fig = go.Figure()
    if target in panel:
        observed = panel[target].sel(where).to_series()
        fig.add_trace(go.Scatter(x=observed.index, y=observed.values, name=target, mode="lines+markers",
                                 line=dict(color="black", width=2), marker=dict(size=4)))
    for name in names:
        series = features[name].sel(where).to_series()
        fig.add_trace(go.Scatter(x=series.index, y=series.values, name=name, mode="lines"))
    title = f"{target}: {_label_of(panel, P.REGION, region)} x {_label_of(panel, P.OCCUPATION, occupation)}"
    return _layout(fig, title, 400)


def metric_by_horizon(table: pd.DataFrame, metric: str = "mase", by: str = "horizon_year") -> go.Figure:
    """Lines of a backtest metric against the horizon, one per model (and target).

    Parameters
    ----------
    table : tidy scores with columns ``by``, ``metric``, ``value`` and optionally ``model`` and
        ``target``: :func:`lmforecast.metrics.evaluate` with ``by="horizon_year"`` (or
        ``"horizon"``) on a backtest cube, or :func:`lmforecast.tracking.metrics_by_horizon`.
    metric : the metric drawn; for ``coverage_<pct>`` a dashed line marks the nominal level.
    by : the horizon column (``horizon_year``: years after the cutoff, ``horizon``: periods).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"model": ["naive", "naive", "trend", "trend"], "horizon_year": [1, 2, 1, 2],
    ...                       "metric": "mase", "value": [0.9, 1.2, 0.8, 1.0]})
    >>> [trace.name for trace in metric_by_horizon(table).data]
    ['naive', 'trend']
    """
    rows = table[table["metric"] == metric] if "metric" in table.columns else table
    if rows.empty:
        raise ValueError(f"the table has no rows of metric {metric!r}")
    keys = [c for c in ("model", "target") if c in rows.columns]
    groups = rows.groupby(keys, sort=False) if keys else [((), rows)]
    fig = go.Figure()
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        part = part.sort_values(by)
        fig.add_trace(go.Scatter(x=part[by], y=part["value"], mode="lines+markers",
                                 name=" / ".join(map(str, key)) or metric))
    match = re.match(r"coverage_(\d+)$", metric)
    if match:
        fig.add_hline(y=int(match.group(1)) / 100, line_dash="dash", line_color="#999",
                      annotation_text="nominal", annotation_position="bottom right")
    fig.update_xaxes(title="years after the cutoff" if by == "horizon_year" else "periods after the cutoff",
                     dtick=1 if by == "horizon_year" else None)
    fig.update_yaxes(title=metric.upper() if not match else f"share inside the {match.group(1)} % interval")
    return _layout(fig, f"Backtest {metric} by horizon", 380)


def backtest_series(cube, region: str, occupation: str) -> go.Figure:
    """One series of a backtest cube: the actuals and each cutoff's median forecast with its interval.

    Parameters
    ----------
    cube : Dataset of :func:`lmforecast.backtest.backtest` (``forecast``, ``actual``, ``target_time``).
    region, occupation : the series drawn.

    Examples
    --------
    >>> import numpy as np, pandas as pd, xarray as xr
    >>> cutoff = pd.to_datetime(["2024-01-01"])
    >>> cube = xr.Dataset(
    ...     {"forecast": (("cutoff", "horizon", "region", "occupation", "quantile"), np.ones((1, 2, 1, 1, 3))),
    ...      "actual": (("cutoff", "horizon", "region", "occupation"), np.ones((1, 2, 1, 1)))},
    ...     coords={"cutoff": cutoff, "horizon": [1, 2], "region": ["MA-01"], "occupation": ["2512"],
    ...             "quantile": [0.1, 0.5, 0.9],
    ...             "target_time": (("cutoff", "horizon"), [pd.to_datetime(["2024-02-01", "2024-03-01"])])})
    >>> [trace.name for trace in backtest_series(cube, "MA-01", "2512").data]
    ['actual', '2024-01 (80 % interval)', '2024-01']
    """
    one = cube.sel({P.REGION: region, P.OCCUPATION: occupation})
    levels = [float(q) for q in one[P.QUANTILE].values]
    lo, hi = min(levels), max(levels)
    actual = pd.Series(one["actual"].values.ravel(), index=pd.to_datetime(one["target_time"].values.ravel()))
    actual = actual[~actual.index.duplicated()].sort_index()
    fig = go.Figure(go.Scatter(x=actual.index, y=actual.values, name="actual", mode="lines",
                               line=dict(color="black", width=2)))
    for i, cutoff in enumerate(one[P.CUTOFF].values):
        fold = one.sel({P.CUTOFF: cutoff})
        times = list(pd.to_datetime(fold["target_time"].values))
        label = f"{pd.Timestamp(cutoff):%Y-%m}"
        colour = f"hsl({(i * 67) % 360}, 60%, 45%)"
        if hi > lo:
            fig.add_trace(go.Scatter(x=times + times[::-1],
                                     y=list(fold["forecast"].sel({P.QUANTILE: hi}).values)
                                     + list(fold["forecast"].sel({P.QUANTILE: lo}).values)[::-1],
                                     fill="toself", line=dict(width=0), opacity=0.2, fillcolor=colour,
                                     name=f"{label} ({round(100 * (hi - lo))} % interval)", hoverinfo="skip",
                                     showlegend=False))
        fig.add_trace(go.Scatter(x=times, y=fold["forecast"].sel({P.QUANTILE: 0.5}).values, name=label,
                                 mode="lines", line=dict(color=colour)))
    name = _label_of(cube, P.REGION, region) + " x " + _label_of(cube, P.OCCUPATION, occupation)
    return _layout(fig, f"{cube.attrs.get('target', '')} backtest: {name}".strip(), 400)


def forecast_fan(history, forecast, region: str, occupation: str, years: int = 3) -> go.Figure:
    """The last ``years`` of one observed series, then its forecast median and outermost interval.

    Parameters
    ----------
    history : the observed DataArray ``(time, region, occupation)`` (a panel variable).
    forecast : a forecast ``(time, region, occupation, quantile)`` (``Forecaster.predict``), or
        its tidy frame ``time, region, occupation, quantile, value`` (what a logged MLflow
        model's ``predict`` returns).
    region, occupation : the series drawn.
    years : years of history shown.

    Examples
    --------
    >>> import numpy as np, pandas as pd, xarray as xr
    >>> history = xr.DataArray(np.ones((12, 1, 1)), dims=("time", "region", "occupation"), name="vacancies",
    ...                        coords={"time": pd.date_range("2024-01-01", periods=12, freq="MS"),
    ...                                "region": ["MA-01"], "occupation": ["2512"]})
    >>> frame = pd.DataFrame({"time": pd.Timestamp("2025-01-01"), "region": "MA-01", "occupation": "2512",
    ...                       "quantile": [0.1, 0.5, 0.9], "value": [0.5, 1.0, 1.5]})
    >>> [trace.name for trace in forecast_fan(history, frame, "MA-01", "2512").data]
    ['observed', '10-90 % interval', 'median forecast']
    """
    where = {P.REGION: region, P.OCCUPATION: occupation}
    if isinstance(forecast, pd.DataFrame):
        rows = forecast[(forecast[P.REGION].astype(str) == region) & (forecast[P.OCCUPATION].astype(str) == occupation)]
        wide = rows.pivot_table(index=P.TIME, columns=P.QUANTILE, values="value").sort_index()
    else:
        wide = forecast.sel(where).to_pandas()
        wide = wide if isinstance(wide, pd.DataFrame) else wide.to_frame(0.5)
    observed = history.sel(where).to_series().dropna()
    if len(observed):
        observed = observed[observed.index > observed.index[-1] - pd.DateOffset(years=int(years))]
    fig = go.Figure(go.Scatter(x=observed.index, y=observed.values, name="observed", mode="lines",
                               line=dict(color="black", width=2)))
    levels = sorted(float(q) for q in wide.columns)
    if len(levels) > 1:
        lo, hi = levels[0], levels[-1]
        times = list(wide.index)
        fig.add_trace(go.Scatter(x=times + times[::-1], y=list(wide[hi]) + list(wide[lo])[::-1], fill="toself",
                                 fillcolor="rgba(46,134,193,0.2)", line=dict(width=0), hoverinfo="skip",
                                 name=f"{round(100 * lo)}-{round(100 * hi)} % interval"))
    fig.add_trace(go.Scatter(x=wide.index, y=wide[0.5], name="median forecast", mode="lines",
                             line=dict(color="rgb(46,134,193)", width=2)))
    fig.update_yaxes(title=f"{history.name} ({history.attrs.get('units', '')})".replace(" ()", ""))
    return _layout(fig, f"{history.name}: {region} x {occupation}", 380)


def code_counts(codes: pd.Series, names: dict | None = None, title: str = "", max_bars: int = 25) -> go.Figure:
    """Horizontal bars of how many rows got each code (a coder's or normaliser's output).

    The pseudo-codes ``unclassified`` and ``unallocated`` and missing values (``not recognised``)
    are drawn in grey: they show at a glance what the coder could not place.

    Parameters
    ----------
    codes : one code per row (e.g. ``TitleCoder().code_many(titles)``, ``RegionNormalizer().normalize_many(labels)``).
    names : ``{code: name}`` added to the bar labels.
    title : figure title.
    max_bars : the most frequent codes shown.

    Examples
    --------
    >>> import pandas as pd
    >>> fig = code_counts(pd.Series(["2512", "2512", "unclassified", None]), {"2512": "Software developers"})
    >>> list(fig.data[0].y), list(fig.data[0].x)
    (['not recognised', 'unclassified', '2512 Software developers'], [1, 1, 2])
    """
    counts = codes.fillna("not recognised").astype(str).value_counts().head(max_bars).iloc[::-1]
    names = names or {}
    labels = [f"{c} {names[c]}" if c in names else c for c in counts.index]
    grey = {P.UNCLASSIFIED, "unallocated", "not recognised"}
    fig = go.Figure(go.Bar(x=[int(v) for v in counts.values], y=labels, orientation="h",
                           marker_color=["#bbbbbb" if c in grey else "#2e86c1" for c in counts.index]))
    fig.update_xaxes(title="rows")
    return _layout(fig, title, 120 + 24 * len(counts))
