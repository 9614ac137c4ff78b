"""Plotly figures of the skill-gap report, reusable in notebooks (``fig.show()``) and in the HTML page.

Every function takes tables of :class:`lmforecast.report.core.SkillGapReport` (or its
``paths``) and returns a ``plotly.graph_objects.Figure``; nothing is drawn at import. Intervals
are the 80 % bounds over the joint sample paths.
"""

from __future__ import annotations

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
    """Horizontal bars of the ``k`` largest (or smallest) cumulated gaps with their 80 % intervals."""
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
    """Openings vs new supply over the years, central values and 80 % bands (one roll-up or cell)."""
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
    fig.update_yaxes(title=column("job_openings", language).split(" (")[0])
    return _layout(fig, title, 360)


def skills_in_shortage(skills: pd.DataFrame, region: str = "national", k: int = 10, language: str = "en") -> go.Figure:
    """Bars of the top skills in shortage of one region (person-equivalents over the horizon, 80 % interval)."""
    rows = skills[skills[P.REGION] == region].head(k).iloc[::-1]
    label = rows["name_fr"] if language == "fr" else rows["name"]
    fig = go.Figure(go.Bar(x=rows["value"], y=label, orientation="h", marker_color="#8e44ad",
                           error_x=dict(type="data", symmetric=False, array=rows["q90"] - rows["value"],
                                        arrayminus=rows["value"] - rows["q10"])))
    fig.update_xaxes(title=column("value", language))
    return _layout(fig, ("Skills in shortage" if language == "en" else "Compétences en pénurie") + f" ({region})",
                   120 + 30 * len(rows))


def scenario_vs_baseline(frame: pd.DataFrame, language: str = "en", k: int = 12) -> go.Figure:
    """Grouped bars: baseline and scenario gap (cumulated) for the cells a scenario touches most."""
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
    """Bars of a backtest metric per model and target (lower is better for MASE / WAPE)."""
    long = scores.reset_index().melt(id_vars=scores.index.name or "model", var_name="target", value_name=metric)
    fig = go.Figure()
    for target, part in long.groupby("target", sort=False):
        fig.add_trace(go.Bar(x=part.iloc[:, 0], y=part[metric], name=str(target)))
    fig.update_layout(barmode="group")
    fig.update_yaxes(title=metric.upper())
    return _layout(fig, ("Backtest accuracy of the models" if language == "en" else "Précision passée des modèles")
                   + f" ({metric.upper()})", 360)


def rating_counts(cells: pd.DataFrame, by: str = "region_name", language: str = "en") -> go.Figure:
    """Stacked bars of how many occupations are rated shortage / balance / surplus in each region."""
    counts = cells.groupby([by, "rating"]).size().unstack(fill_value=0)
    fig = go.Figure([go.Bar(x=list(counts.index), y=counts[r], name=word(r, language), marker_color=RATING_COLOURS[r])
                     for r in ("shortage", "balance", "surplus") if r in counts])
    fig.update_layout(barmode="stack")
    return _layout(fig, "Ratings by region" if language == "en" else "Diagnostics par région", 380)


def figures_html(figures: Sequence[go.Figure]) -> list[str]:
    """HTML fragments of figures, plotly.js left out (the page embeds it once)."""
    return [fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False}) for fig in figures]
