"""The executive summary: the few numbers management asks for, and the same numbers as plain sentences."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from critmin.policy.currency import law_currency
from critmin.views.analysis import Analysis
from critmin.views.breakdown import exposure
from critmin.views.formatting import pct, signed_pct, usd
from critmin.views.risk import dfars_summary
from critmin.views.scenarios import scenario_comparison


def _top(a: Analysis, by: str, scenario: str | None = None) -> dict[str, Any] | None:
    frame = exposure(a, by, scenario)  # type: ignore[arg-type]
    frame = frame.filter(pl.col("duty") > 0)
    if frame.is_empty():
        return None
    row = frame.row(0, named=True)
    return {
        "key": row["key"],
        "label": row["label"],
        "annual_duty": row["annual_duty"],
        "share_of_duty": row["share_of_duty"],
    }


def _origin_shares(a: Analysis) -> dict[str, float | None]:
    """FEOC and partner shares of the value of lines classified to a critical mineral (each line once)."""
    lines = a.risk.exposure.lines.unique("line_id", keep="first").filter(pl.col("mineral_id").is_not_null())
    total = float(lines.get_column("customs_value_usd").sum()) if lines.height else 0.0
    if total <= 0:
        return {"classified_value_usd": 0.0, "feoc_share": None, "partner_share": None}
    feoc = float(lines.filter(pl.col("is_feoc").fill_null(False)).get_column("customs_value_usd").sum())
    partner = float(lines.filter(pl.col("is_partner").fill_null(False)).get_column("customs_value_usd").sum())
    return {"classified_value_usd": total, "feoc_share": feoc / total, "partner_share": partner / total}


def executive_summary(a: Analysis) -> dict[str, Any]:
    """Headline numbers (``numbers``) and the sentences that say them (``sentences``).

    ``numbers`` keys: ledger, as_of, today (duty, annual_duty, effective_rate, annual_low, annual_high),
    scenarios (one dict per scenario: id, title, eval_date, annual_duty, annual_change, change_pct,
    lines_reached),
    highest_scenario, simulation (mean, p95, cvar95, tree, draws; None without one), top_mineral,
    top_origin, top_supplier, origin_shares, dfars, next_deadline.
    """
    comparison = scenario_comparison(a)
    baseline_row = comparison.row(0, named=True)
    scenario_rows = comparison.filter(~pl.col("baseline")).to_dicts()
    highest = max(scenario_rows, key=lambda r: r["annual_duty"]) if scenario_rows else None
    sim = a.simulation
    simulation = None
    if sim is not None:
        simulation = {
            "mean": sim.mean,
            "p95": sim.p95,
            "p5": sim.p5,
            "cvar95": sim.cvar95,
            "tree": sim.tree_id,
            "tree_title": sim.tree_title,
            "tree_note": sim.tree_note,
            "draws": sim.draws,
            "start": sim.start,
            "months": sim.months,
        }
    upcoming = a.timeline.head(1).to_dicts()
    numbers: dict[str, Any] = {
        "ledger": {
            "name": a.ledger_name,
            "lines": a.lines.height,
            "rows_in": a.rows_in,
            "rows_quarantined": a.rows_quarantined,
            "customs_value_usd": baseline_row["customs_value_usd"],
            "first_entry": a.period.first,
            "last_entry": a.period.last,
            "months": a.period.months,
            "annual_factor": a.period.annual_factor,
        },
        "as_of": a.as_of,
        "content_case": a.content,
        "today": {
            "scenario": a.baseline.id,
            "duty": baseline_row["duty"],
            "annual_duty": baseline_row["annual_duty"],
            "effective_rate": baseline_row["effective_rate"],
            "annual_low": baseline_row["annual_low"],
            "annual_high": baseline_row["annual_high"],
            "refund_eligible": baseline_row["refund_eligible"],
        },
        "scenarios": [
            {
                k: r[k]
                for k in (
                    "scenario",
                    "title",
                    "eval_date",
                    "duty",
                    "annual_duty",
                    "annual_change",
                    "change_pct",
                    "annual_paid_to_exporter",
                    "unavailable_value",
                    "lines_reached",
                )
            }
            for r in scenario_rows
        ],
        "highest_scenario": highest["scenario"] if highest else None,
        "simulation": simulation,
        "top_mineral": _top(a, "mineral"),
        "top_origin": _top(a, "origin"),
        "top_supplier": _top(a, "supplier"),
        "top_mineral_highest": _top(a, "mineral", highest["scenario"]) if highest else None,
        "origin_shares": _origin_shares(a),
        "dfars": dfars_summary(a),
        "next_deadline": upcoming[0] if upcoming else None,
        "law": law_currency().as_dict(),
    }
    return {"numbers": numbers, "sentences": _sentences(a, numbers)}


def _ledger_sentence(ledger: dict[str, Any]) -> str:
    first, last = ledger["first_entry"], ledger["last_entry"]
    period = (
        f"entries from {first:%d %b %Y} to {last:%d %b %Y}, {ledger['months']} months" if first else "undated"
    )
    return (
        f"{ledger['name']}: {ledger['lines']:,} import lines worth {usd(ledger['customs_value_usd'])} "
        f"({period}); {ledger['rows_quarantined']:,} of {ledger['rows_in']:,} rows were quarantined and are "
        "not counted."
    )


def _today_sentence(as_of: date, today: dict[str, Any]) -> str:
    low, high = today["annual_low"], today["annual_high"]
    spread = f"; {usd(low)} to {usd(high)} across the content-factor range" if abs(high - low) >= 0.5 else ""
    return (
        f"Under the measures in force on {as_of:%d %B %Y}, these lines pay {usd(today['duty'])} in duty, "
        f"{usd(today['annual_duty'])} a year ({pct(today['effective_rate'])} of customs value{spread})."
    )


def _scenario_sentence(s: dict[str, Any]) -> str:
    direction = "more" if s["annual_change"] >= 0 else "less"
    reached = s.get("lines_reached")
    reach = "" if reached is None else f"; its measures reach {reached:,} line{'' if reached == 1 else 's'}"
    return (
        f"Under “{s['title']}” ({s['scenario']}, as if entered on {s['eval_date']:%d %b %Y}{reach}) they "
        f"would pay {usd(s['annual_duty'])} a year, {usd(abs(s['annual_change']))} {direction} than today "
        f"({signed_pct(s['change_pct'])})."
    )


def _simulation_sentence(sim: dict[str, Any]) -> str:
    return (
        f"Weighting the branches of the tree “{sim['tree_title']}” by their example probabilities "
        f"({sim['draws']:,} draws), the expected cost (duty plus payments to exporters) of the "
        f"{sim['months']} months from {sim['start']:%b %Y} is {usd(sim['mean'])}; in 1 case in 20 it exceeds "
        f"{usd(sim['p95'])}. The probabilities are illustrative judgement, not a forecast."
    )


def _risk_sentences(n: dict[str, Any]) -> list[str]:
    out = []
    top, origin = n["top_mineral"], n["top_origin"]
    if top and origin:
        out.append(
            f"Today the largest share of duty falls on {top['label']} ({pct(top['share_of_duty'])}), and on "
            f"goods from {origin['label']} ({pct(origin['share_of_duty'])})."
        )
    shares = n["origin_shares"]
    if shares["feoc_share"] is not None:
        out.append(
            f"Of the {usd(shares['classified_value_usd'])} of lines classified to a critical mineral, "
            f"{pct(shares['feoc_share'])} comes from foreign entities of concern and "
            f"{pct(shares['partner_share'])} from agreement partners."
        )
    dfars = n["dfars"]
    if dfars["prohibited_lines"] or dfars["review_lines"]:
        out.append(
            f"DFARS 252.225-7052: {dfars['prohibited_lines']} line(s) worth "
            f"{usd(dfars['prohibited_value_usd'])} hold a covered material from a covered country"
            + (f"; {dfars['review_lines']} more need review." if dfars["review_lines"] else ".")
        )
    return out


def _sentences(a: Analysis, n: dict[str, Any]) -> list[str]:
    out = [
        _ledger_sentence(n["ledger"]),
        _today_sentence(n["as_of"], n["today"]),
        f"How current the law is: {n['law']['line']}.",
    ]
    out += [_scenario_sentence(s) for s in n["scenarios"]]
    if n["simulation"] is not None:
        out.append(_simulation_sentence(n["simulation"]))
    out += _risk_sentences(n)
    deadline = n["next_deadline"]
    if deadline:
        out.append(
            f"Next on the calendar: {deadline['title']} "
            f"({deadline['date']:%d %b %Y}, {deadline['countdown']})."
        )
    return out


def headline_table(a: Analysis) -> pl.DataFrame:
    """The headline numbers as a small table (item, annual_usd, change_vs_today): what the demo prints."""
    comparison = scenario_comparison(a)
    today = a.baseline.duty * a.period.annual_factor
    rows: list[tuple[str, float, float | None]] = [("Annual duty, measures in force today", today, None)]
    rows += [
        (f"Annual duty, {r['scenario']}", r["annual_duty"], r["annual_change"])
        for r in comparison.filter(~pl.col("baseline")).to_dicts()
    ]
    if a.simulation is not None:
        rows += [
            ("Simulated year: expected cost", a.simulation.mean, a.simulation.mean - today),
            ("Simulated year: 95th percentile of cost", a.simulation.p95, a.simulation.p95 - today),
        ]
    return pl.DataFrame(
        rows,
        schema={"item": pl.String, "annual_usd": pl.Float64, "change_vs_today": pl.Float64},
        orient="row",
    )
