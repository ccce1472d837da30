"""What to do about it: the optimised supply mix and the appraisal of domestic processing projects.

Shown only when the analysis was given a sourcing problem or projects; each view returns None otherwise.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import polars as pl

from critmin.views.analysis import Analysis
from critmin.views.charts import PALETTE, empty_figure, style


def sourcing_summary(a: Analysis) -> dict[str, Any] | None:
    """Status, expected landed cost, risk and objective of the optimised mix (None without a problem)."""
    if a.sourcing is None:
        return None
    s = a.sourcing.solution
    return {
        "name": a.sourcing.problem.name,
        "status": s.status,
        "message": s.message,
        "expected_cost": s.expected_cost,
        "risk": s.risk,
        "objective": s.objective,
        "risk_measure": a.sourcing.problem.risk_measure,
        "risk_price": a.sourcing.problem.risk_price,
        "scenarios": ", ".join(f"{x.name} ({x.probability:.0%})" for x in a.sourcing.problem.scenarios),
    }


def sourcing_results(a: Analysis) -> pl.DataFrame | None:
    """The optimised mix, one row per option: supplier, origin, price, chosen and current quantities, share.

    Columns: option, product, supplier, origin, unit_price, capacity, quantity, share, current_quantity.
    """
    if a.sourcing is None:
        return None
    problem, solution = a.sourcing.problem, a.sourcing.solution
    periods = max(len(problem.periods), 1)
    rows = []
    for option in problem.options:
        chosen = solution.mix.get(option.id, {})
        rows.append(
            {
                "option": option.id,
                "product": option.product,
                "supplier": option.supplier,
                "origin": option.origin,
                "unit_price": option.unit_price,
                "capacity": option.capacity,
                "quantity": float(chosen.get("quantity", 0.0)),
                "share": float(chosen.get("share", 0.0)),
                "current_quantity": float(problem.current_mix.get(option.id, 0.0)) * periods,
            }
        )
    return pl.DataFrame(rows).sort(["quantity", "option"], descending=[True, False])


def sourcing_binding(a: Analysis) -> pl.DataFrame | None:
    """Binding constraints with their shadow prices (objective change per unit of the constraint)."""
    if a.sourcing is None:
        return None
    rows = [
        {
            "constraint": name,
            "shadow_price": float(v["shadow_price"]),
            "change_per_point": float(v["change_per_point"]) if "change_per_point" in v else None,
        }
        for name, v in a.sourcing.solution.binding.items()
    ]
    return pl.DataFrame(
        rows, schema={"constraint": pl.String, "shadow_price": pl.Float64, "change_per_point": pl.Float64}
    )


def sourcing_figure(a: Analysis) -> go.Figure | None:
    """Current against optimised quantity per option."""
    frame = sourcing_results(a)
    if frame is None:
        return None
    if frame.is_empty():
        return empty_figure("The sourcing problem has no options.")
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=frame.get_column("option").to_list(),
            y=frame.get_column("current_quantity").to_list(),
            name="current mix",
            marker_color="#a5a5a5",
        )
    )
    fig.add_trace(
        go.Bar(
            x=frame.get_column("option").to_list(),
            y=frame.get_column("quantity").to_list(),
            name="optimised mix",
            marker_color=PALETTE[0],
        )
    )
    return style(
        fig,
        title="Supply mix: current and optimised (units over the planning periods)",
        barmode="group",
        yaxis={"title": "units"},
        legend={"orientation": "h", "y": -0.2},
    )


def investment_results(a: Analysis) -> pl.DataFrame | None:
    """One row per appraised project: NPV, IRR, payback, LCOP, expected NPV over the tree, percentiles.

    Columns: project, label, unit, npv, irr, payback_years, lcop, expected_npv, npv_p5, npv_p50, npv_p95,
    prob_npv_negative, floor_value, breakeven_floor, breakeven_note, volatility.
    """
    if not a.investments:
        return None
    rows = []
    for item in a.investments:
        ap = item.appraisal
        rows.append(
            {
                "project": item.name,
                "label": item.label,
                "unit": item.unit,
                "npv": ap.npv,
                "irr": ap.irr,
                "payback_years": ap.payback_years,
                "lcop": ap.lcop,
                "expected_npv": ap.expected_npv,
                "npv_p5": ap.npv_p5,
                "npv_p50": ap.npv_p50,
                "npv_p95": ap.npv_p95,
                "prob_npv_negative": ap.prob_npv_negative,
                "floor_value": ap.floor_value,
                "breakeven_floor": ap.breakeven_floor,
                "breakeven_note": ap.breakeven_note,
                "volatility": ap.volatility,
            }
        )
    text = ("project", "label", "unit", "breakeven_note")
    schema: dict[str, pl.DataType] = {name: pl.String() if name in text else pl.Float64() for name in rows[0]}
    return pl.DataFrame(rows, schema=schema)


def investment_branches(a: Analysis) -> pl.DataFrame | None:
    """NPV of each project under each policy branch of the tree (project, branch, npv)."""
    if not a.investments:
        return None
    rows = [
        {"project": item.name, "branch": branch, "npv": float(value)}
        for item in a.investments
        for branch, value in item.appraisal.npv_by_branch.items()
    ]
    return pl.DataFrame(rows, schema={"project": pl.String, "branch": pl.String, "npv": pl.Float64})


def investment_figure(a: Analysis) -> go.Figure | None:
    """NPV by policy branch for each project (deterministic NPV when no tree was given)."""
    frame = investment_branches(a)
    if frame is None:
        return None
    fig = go.Figure()
    if frame.is_empty():
        results = investment_results(a)
        assert results is not None
        fig.add_trace(
            go.Bar(
                x=results.get_column("project").to_list(),
                y=results.get_column("npv").to_list(),
                marker_color=PALETTE[0],
            )
        )
    for i, (project, part) in enumerate(frame.group_by("project", maintain_order=True)):
        fig.add_trace(
            go.Bar(
                x=part.get_column("branch").to_list(),
                y=part.get_column("npv").to_list(),
                name=str(project[0]),
                marker_color=PALETTE[i % len(PALETTE)],
            )
        )
    return style(
        fig,
        title="Project NPV by policy branch",
        barmode="group",
        yaxis={"title": "NPV (USD)", "tickformat": "$,.3~s"},
        legend={"orientation": "h", "y": -0.3},
    )
