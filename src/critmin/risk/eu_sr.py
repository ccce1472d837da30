"""EU supply risk, 2017 method, and the criticality thresholds.

``SR = [HHI_WGI,t(GS) · IR/2 + HHI_WGI,t(EU) · (1 − IR/2)] · (1 − EoL_RIR) · SI_SR`` with import reliance
``IR = (I − E) / (P + I − E)`` floored at 0. GS is global supply, EU is actual EU sourcing (domestic
production plus imports by origin). Where EU data were unusable the EU used global supply only, and where
the EU is self-sufficient EU sourcing only; ``scope`` carries that choice. A material is critical when
SR >= 1.0 and EI >= 2.8 (2017, 2020 and 2023 assessments).

Sources: European Commission (2017), *Study on the review of the list of Critical Raw Materials – Final
Report*, doi:10.2873/876644 (§3.4.4 and Table 3, Annex 5 Tables 18–19); *Methodology for establishing the
EU list of critical raw materials* (2017), ISBN 978-92-79-68051-9.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

SR_THRESHOLD = 1.0
EI_THRESHOLD = 2.8
EI_THRESHOLD_2011_2014 = 5.0

Scope = Literal["both", "gs", "eu"]

_SCOPE_LABELS: dict[str, str] = {
    "gs + eus": "both",
    "gs+eus": "both",
    "both": "both",
    "gs only": "gs",
    "gs": "gs",
    "eus only": "eu",
    "eu only": "eu",
    "eu": "eu",
}


def import_reliance(production: pl.Expr, imports: pl.Expr, exports: pl.Expr) -> pl.Expr:
    """EU import reliance (I − E) / (P + I − E), floored at 0 (a net exporter relies on nobody)."""
    net = imports - exports
    return pl.when(production + net > 0).then((net / (production + net)).clip(lower_bound=0.0)).otherwise(0.0)


def scope_expr(label: pl.Expr) -> pl.Expr:
    """The EU's 'supply used' label (``GS + EUS``, ``GS only``, ``EUS only``) as both | gs | eu."""
    return label.str.strip_chars().str.to_lowercase().replace_strict(_SCOPE_LABELS, default=None)


def supply_risk_expr(
    hhi_gs: pl.Expr,
    hhi_eu: pl.Expr,
    ir: pl.Expr,
    eol_rir: pl.Expr,
    si_sr: pl.Expr,
    scope: pl.Expr,
) -> pl.Expr:
    """SR from its parts; IR, EoL-RIR are fractions. With scope gs (eu) only that term is used, unweighted."""
    ir_clean = ir.fill_null(0.0).clip(0.0, 1.0)
    both = hhi_gs * ir_clean / 2 + hhi_eu * (1 - ir_clean / 2)
    blend = (
        pl.when(scope == "gs")
        .then(hhi_gs)
        .when(scope == "eu")
        .then(hhi_eu)
        .when(scope == "both")
        .then(both)
        .otherwise(None)
    )
    return blend * (1 - eol_rir) * si_sr


def supply_risk(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``sr_computed`` to a frame with hhi_wgi_t_gs, hhi_wgi_t_eu, ir, eol_rir, si_sr and scope."""
    return frame.with_columns(
        supply_risk_expr(
            pl.col("hhi_wgi_t_gs"),
            pl.col("hhi_wgi_t_eu"),
            pl.col("ir"),
            pl.col("eol_rir"),
            pl.col("si_sr"),
            pl.col("scope"),
        ).alias("sr_computed")
    )


def criticality_expr(sr: pl.Expr, ei: pl.Expr, *, ei_threshold: float = EI_THRESHOLD) -> pl.Expr:
    """True where both thresholds are met (SR >= 1.0 and EI >= 2.8); null when either input is missing."""
    return (sr >= SR_THRESHOLD) & (ei >= ei_threshold)


def eu_crm_2017(*, recompute: bool = True) -> pl.DataFrame:
    """The EU 2017 assessment as shipped: published inputs, published SR/EI, SR recomputed and the verdict.

    ``critical`` applies the thresholds to the published scores; ``abs_diff`` is |computed − published|.
    The published inputs are rounded to one decimal, so differences up to about 0.3 are rounding.
    """
    from critmin.risk.sources import load_eu_crm2017

    frame = load_eu_crm2017()
    if recompute:
        frame = supply_risk(frame).with_columns(
            (pl.col("sr_computed") - pl.col("sr")).abs().alias("abs_diff"),
        )
    return frame.with_columns(criticality_expr(pl.col("sr"), pl.col("ei")).alias("critical"))


def eu_sr_history(material: str | None = None) -> pl.DataFrame:
    """Published SR and EI per material and assessment (2011–2023), judged by that year's thresholds."""
    from critmin.risk.sources import load_eu_sr_history

    frame = load_eu_sr_history()
    if material is not None:
        frame = frame.filter(
            (pl.col("mineral_id") == material) | (pl.col("material").str.to_lowercase() == material.lower())
        )
    threshold = pl.when(pl.col("year") <= 2014).then(EI_THRESHOLD_2011_2014).otherwise(EI_THRESHOLD)
    return frame.with_columns(
        ((pl.col("sr") >= SR_THRESHOLD) & (pl.col("ei") >= threshold)).alias("critical")
    )
