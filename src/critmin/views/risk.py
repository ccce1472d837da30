"""Supply risk of the ledger: concentration of purchases, FEOC and partner shares, DFARS flags, GeoPolRisk.

All figures come from :func:`critmin.risk.company.ledger_risk` as computed in the analysis; these views
select, label and order them.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from critmin.risk.company import LedgerRisk
from critmin.views import labels
from critmin.views.analysis import Analysis
from critmin.views.charts import FEOC_COLOUR, OTHER_COLOUR, PARTNER_COLOUR, empty_figure, style

DFARS_ORDER = {"prohibited": 0, "review": 1, "clear": 2}


def concentration(a: Analysis) -> pl.DataFrame:
    """HHI (0-10,000) of each mineral's purchases across origins, with the largest and top-three suppliers.

    Columns: mineral_id, mineral, n_countries, value_usd, hhi_10000, top1_country, top1_share,
    top3_countries, top3_share. Most concentrated first.
    """
    frame = a.risk.exposure.origin_concentration
    if frame.is_empty():
        return frame
    frame = labels.with_label(frame, "mineral_id", "mineral", "mineral")
    return frame.select(
        "mineral_id",
        "mineral",
        "n_countries",
        pl.col("total").alias("value_usd"),
        "hhi_10000",
        "top1_country",
        "top1_share",
        pl.col("top3_countries").list.join(", "),
        "top3_share",
    ).sort(["hhi_10000", "value_usd"], descending=True)


def partner_shares(a: Analysis) -> pl.DataFrame:
    """Per mineral: value bought, share from foreign entities of concern and from agreement partners.

    Shares are of customs value and, where the mineral mass is known, of contained mineral. A line holding
    several minerals (a magnet) counts toward each. Columns: mineral_id, mineral, lines, value_usd,
    feoc_share_value, partner_share_value, feoc_share_content, partner_share_content,
    dfars_prohibited_lines, dfars_review_lines.
    """
    frame = a.risk.exposure.by_mineral
    if frame.is_empty():
        return frame
    frame = labels.with_label(frame, "mineral_id", "mineral", "mineral")
    return frame.select(
        "mineral_id",
        "mineral",
        pl.col("n_lines").cast(pl.Int64).alias("lines"),
        "value_usd",
        "feoc_share_value",
        "partner_share_value",
        "feoc_share_content",
        "partner_share_content",
        pl.col("dfars_prohibited_lines").cast(pl.Int64),
        pl.col("dfars_review_lines").cast(pl.Int64),
    ).sort("value_usd", descending=True)


def shares_figure(a: Analysis, top: int = 15) -> go.Figure:
    """Stacked bars: share of each mineral's value from FEOC, agreement partners and other origins."""
    frame = partner_shares(a)
    if frame.is_empty():
        return empty_figure("No line maps to a critical mineral.")
    frame = frame.head(top).with_columns(
        (1.0 - pl.col("feoc_share_value") - pl.col("partner_share_value")).clip(0.0, 1.0).alias("other")
    )
    names = frame.get_column("mineral").to_list()[::-1]
    fig = go.Figure()
    for column, name, colour in (
        ("feoc_share_value", "Foreign entity of concern", FEOC_COLOUR),
        ("partner_share_value", "Agreement partner", PARTNER_COLOUR),
        ("other", "Other origins", OTHER_COLOUR),
    ):
        fig.add_trace(
            go.Bar(
                y=names,
                x=frame.get_column(column).to_list()[::-1],
                orientation="h",
                name=name,
                marker_color=colour,
                hovertemplate="%{y}: %{x:.0%}<extra>" + name + "</extra>",
            )
        )
    return style(
        fig,
        title="Share of each mineral's purchases by origin standing (customs value)",
        barmode="stack",
        xaxis={"tickformat": ".0%", "range": [0, 1]},
        height=max(320, 60 + 24 * len(names)),
        legend={"orientation": "h", "y": -0.12},
    )


def dfars_flags(a: Analysis) -> pl.DataFrame:
    """Ledger lines that hold a DFARS 252.225-7052 covered material, prohibited first, then for review.

    One row per line (a magnet line may name several minerals). Columns: line_id, entry_date, hts,
    country_origin, country_smelt_cast, customs_value_usd, material, certainty, regime, flag, reason.
    """
    return ledger_dfars_flags(a.risk)


def ledger_dfars_flags(risk: LedgerRisk) -> pl.DataFrame:
    """:func:`dfars_flags` from a ledger's risk alone, for callers that assess risk without a whole
    analysis (``critmin risk ledger``): the report, the dashboard and the command show the same table."""
    lines = risk.exposure.lines.filter(pl.col("dfars_flag").is_not_null())
    if lines.is_empty():
        return lines.select("line_id", "entry_date", "hts", "country_origin", "customs_value_usd")
    return (
        lines.unique("line_id", keep="first")
        .select(
            "line_id",
            "entry_date",
            "hts",
            "country_origin",
            "country_smelt_cast",
            "customs_value_usd",
            pl.col("dfars_material").alias("material"),
            pl.col("dfars_certainty").alias("certainty"),
            pl.col("dfars_regime").alias("regime"),
            pl.col("dfars_flag").alias("flag"),
            pl.col("dfars_reason").alias("reason"),
        )
        .with_columns(pl.col("flag").replace_strict(DFARS_ORDER, default=9).alias("_order"))
        .sort(["_order", "entry_date", "line_id"])
        .drop("_order")
    )


def dfars_summary(a: Analysis) -> dict[str, float | int]:
    """Counts and value of flagged lines by flag (prohibited, review, clear)."""
    flags = dfars_flags(a)
    out: dict[str, float | int] = {}
    for flag in DFARS_ORDER:
        part = flags.filter(pl.col("flag") == flag) if "flag" in flags.columns else flags.clear()
        out[f"{flag}_lines"] = part.height
        out[f"{flag}_value_usd"] = float(part.get_column("customs_value_usd").sum()) if part.height else 0.0
    return out


def geopolrisk(a: Analysis) -> pl.DataFrame:
    """Company-mode GeoPolRisk per mineral (see :mod:`critmin.risk.company`), with a readable name."""
    frame = a.risk.geopolrisk
    if frame.is_empty():
        return frame
    return labels.with_label(frame, "mineral_id", "mineral", "mineral").select(
        "mineral_id", "mineral", *[c for c in frame.columns if c != "mineral_id"]
    )


def risk_assumptions(a: Analysis) -> list[str]:
    return list(a.risk.assumptions)
