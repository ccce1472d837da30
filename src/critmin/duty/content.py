"""Content bases: the value and mass of a named metal or mineral inside a line.

Section 232 copper charges 50% on the value of the copper content and nothing on the rest; a price floor per
kg of contained neodymium needs the kg of neodymium. Known content (``content_mineral`` with
``content_kg``/``content_value_usd`` on the line) is used as given (mass converts to value, and back, at the
shipped mineral price, which the output states). Unknown content is estimated from the shipped content
factors by longest HTS prefix, in three cases - low, central, high - and every amount that depends on it is
reported in all three.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from critmin.duty.lines import longest_prefix_join
from critmin.duty.references import References
from critmin.errors import ReferenceDataError
from critmin.policy.models import ContentSpec

CASES: tuple[str, ...] = ("low", "central", "high")

_MASS_UNITS = {
    "kg/kg": 1.0,
    "kg_per_kg": 1.0,
    "mass_fraction": 1.0,
    "fraction": 1.0,
    "g/g": 1.0,
    "t/t": 1.0,
    "g/kg": 0.001,
    "%": 0.01,
    "pct": 0.01,
    "wt%": 0.01,
    "percent": 0.01,
}
_VALUE_UNITS = {"usd/usd": 1.0, "value_share": 1.0, "share_of_value": 1.0, "value_fraction": 1.0}


def factor_kind(unit: str | None) -> tuple[str, float] | None:
    """('mass', scale) for mass fractions, ('value', scale) for value shares, None for units we cannot use."""
    if unit is None:
        return None
    key = unit.strip().lower().replace(" ", "")
    if key in _MASS_UNITS:
        return "mass", _MASS_UNITS[key]
    if key in _VALUE_UNITS:
        return "value", _VALUE_UNITS[key]
    return None


@dataclass(frozen=True)
class ContentPrices:
    """One USD/kg price per mineral, used to turn content mass into content value (and back)."""

    table: pl.DataFrame  # mineral_id, price_usd_per_kg, price_note

    def mapping(self) -> dict[str, float]:
        return dict(
            zip(self.table["mineral_id"].to_list(), self.table["price_usd_per_kg"].to_list(), strict=True)
        )


def content_prices(refs: References) -> ContentPrices:
    """The latest shipped price of each mineral, preferring the metal stage (what a content value is)."""
    try:
        prices = refs.prices
    except ReferenceDataError:
        prices = pl.DataFrame(
            schema={
                "mineral_id": pl.String,
                "stage": pl.String,
                "year": pl.Int64,
                "estimated": pl.Boolean,
                "price_usd_per_kg": pl.Float64,
                "basis": pl.String,
                "source": pl.String,
            }
        )
    ranked = prices.filter(pl.col("price_usd_per_kg").is_not_null()).with_columns(
        (pl.col("stage") == "metal_powder_alloy").fill_null(False).alias("_metal")
    )
    best = ranked.sort(
        ["mineral_id", "_metal", "year", "basis"], descending=[False, True, True, False]
    ).unique(subset="mineral_id", keep="first", maintain_order=True)
    table = best.select(
        "mineral_id",
        "price_usd_per_kg",
        pl.format("{} {} ({})", pl.col("basis"), pl.col("year"), pl.col("source")).alias("price_note"),
    )
    return ContentPrices(table)


def column(key_index: int, what: str, case: str) -> str:
    return f"_cf{key_index}_{what}_{case}"


def factor_columns(
    dim: pl.DataFrame, spec: ContentSpec, key_index: int, refs: References, prices: ContentPrices
) -> pl.DataFrame:
    """Per-code factor sums for one content spec: mass, value per kg, value share, kg per USD (3 cases)."""
    factors = refs.factors
    names = [column(key_index, w, c) for w in ("mass", "vps", "share", "kpu") for c in CASES]
    empty = dim.with_columns([pl.lit(None, dtype=pl.Float64).alias(n) for n in names])
    if factors.is_empty() or dim.is_empty():
        return empty
    if spec.minerals == "classified":
        pairs = (
            dim.select("hts", "_minerals")
            .explode("_minerals", empty_as_null=True)
            .rename({"_minerals": "mineral_id"})
        )
        pairs = pairs.filter(pl.col("mineral_id").is_not_null() & pl.col("hts").is_not_null())
    else:
        pairs = (
            dim.select("hts")
            .filter(pl.col("hts").is_not_null())
            .join(pl.DataFrame({"mineral_id": list(spec.minerals)}), how="cross")
        )
    if pairs.is_empty():
        return empty
    matched = longest_prefix_join(
        pairs, factors.select("hts_prefix", "mineral_id", "low", "central", "high", "unit"), by=["mineral_id"]
    )
    if matched.is_empty():
        return empty
    kinds = {u: factor_kind(u) for u in matched.get_column("unit").unique().to_list()}
    kind_map = {u: k[0] for u, k in kinds.items() if k is not None}
    scale_map = {u: k[1] for u, k in kinds.items() if k is not None}
    price_map = prices.mapping()
    matched = matched.with_columns(
        pl.col("unit").replace_strict(kind_map, default=None, return_dtype=pl.String).alias("_kind"),
        pl.col("unit").replace_strict(scale_map, default=None, return_dtype=pl.Float64).alias("_scale"),
        pl.col("mineral_id").replace_strict(price_map, default=None, return_dtype=pl.Float64).alias("_price"),
    ).filter(pl.col("_kind").is_not_null())
    aggs: list[pl.Expr] = []
    for case in CASES:
        f = pl.col(case) * pl.col("_scale")
        mass = pl.when(pl.col("_kind") == "mass").then(f)
        value = pl.when(pl.col("_kind") == "value").then(f)
        aggs += [
            _sum_or_null(mass).alias(column(key_index, "mass", case)),
            _sum_or_null(mass * pl.col("_price")).alias(column(key_index, "vps", case)),
            _sum_or_null(value).alias(column(key_index, "share", case)),
            _sum_or_null(value / pl.col("_price")).alias(column(key_index, "kpu", case)),
        ]
    sums = matched.group_by("hts").agg(aggs)
    return dim.join(sums, on="hts", how="left")


def _sum_or_null(expr: pl.Expr) -> pl.Expr:
    """Sum of the non-null values; null when there are none.

    For content value this means minerals without a shipped price are left out of the sum (a lower bound),
    which the documentation states; a mineral without a factor is never counted as zero content.
    """
    return pl.when(expr.is_not_null().any()).then(expr.sum()).otherwise(None)


SOURCE_DTYPE = pl.Enum(["ledger", "factor", "fallback"])
"""Where a line's content came from: stated on the line, the code's content factors, or the fallback share."""


@dataclass(frozen=True)
class ContentExprs:
    """Row expressions of one content spec, per case."""

    value: dict[str, pl.Expr]
    mass: dict[str, pl.Expr]
    known: pl.Expr
    source: pl.Expr


def content_inputs(spec: ContentSpec, prices: ContentPrices, prefix: str) -> list[list[pl.Expr]]:
    """What the ledger line itself says about its content: whether its ``content_mineral`` is one the spec
    covers, and the content value and kg it states (one derived from the other at the shipped price).

    Two steps of columns named ``prefix`` + ``known`` / ``price``, then ``known_value`` / ``known_mass``.
    The engine evaluates them once per measure: every case, the base, the amounts and the source read them,
    and the mineral lookups are the costly part (string hashing per line).
    """
    mineral = pl.col("content_mineral")
    if spec.minerals == "classified":
        known = mineral.is_not_null() & pl.col("_minerals").list.contains(mineral).fill_null(False)
    else:
        known = mineral.is_in(pl.Series(list(spec.minerals), dtype=pl.String).implode()).fill_null(False)
    price = mineral.replace_strict(prices.mapping(), default=None, return_dtype=pl.Float64)
    known_col, price_col = pl.col(f"{prefix}known"), pl.col(f"{prefix}price")
    stated_value = pl.coalesce(pl.col("content_value_usd"), pl.col("content_kg") * price_col)
    stated_mass = pl.coalesce(pl.col("content_kg"), pl.col("content_value_usd") / price_col)
    return [
        [known.alias(f"{prefix}known"), price.alias(f"{prefix}price")],
        [
            pl.when(known_col).then(stated_value).alias(f"{prefix}known_value"),
            pl.when(known_col).then(stated_mass).alias(f"{prefix}known_mass"),
        ],
    ]


def content_exprs(spec: ContentSpec, key_index: int, prefix: str) -> ContentExprs:
    """Content value and mass per case: what the line states (the :func:`content_inputs` columns under
    ``prefix``), else the HTS code's content factors, else the spec's fallback share of the value."""
    known = pl.col(f"{prefix}known")
    known_value = pl.col(f"{prefix}known_value")
    known_mass = pl.col(f"{prefix}known_mass")
    value: dict[str, pl.Expr] = {}
    mass: dict[str, pl.Expr] = {}
    qkg = pl.col("quantity_kg")
    v = pl.col("customs_value_usd")
    fallback = (
        v * pl.lit(spec.fallback_share) if spec.fallback_share is not None else pl.lit(None, dtype=pl.Float64)
    )
    estimated: dict[str, pl.Expr] = {}
    for case in CASES:
        m, vps, share, kpu = (pl.col(column(key_index, w, case)) for w in ("mass", "vps", "share", "kpu"))
        if spec.estimate:
            estimated[case] = _add_defined(share * v, vps * qkg, share, vps)
            est_mass = _add_defined(m * qkg, kpu * v, m, kpu)
        else:  # unstated content is not estimated: the fallback share stands (CBP: the whole value)
            estimated[case] = pl.lit(None, dtype=pl.Float64)
            est_mass = pl.lit(None, dtype=pl.Float64)
        value[case] = pl.coalesce(known_value, estimated[case], fallback)
        mass[case] = pl.coalesce(known_mass, est_mass)
    source = (
        pl.when(known_value.is_not_null())
        .then(pl.lit("ledger", dtype=SOURCE_DTYPE))
        .when(estimated["central"].is_not_null())
        .then(pl.lit("factor", dtype=SOURCE_DTYPE))
        .when(fallback.is_not_null())
        .then(pl.lit("fallback", dtype=SOURCE_DTYPE))
        .otherwise(pl.lit(None, dtype=SOURCE_DTYPE))
    )
    return ContentExprs(value, mass, known, source)


def _add_defined(a: pl.Expr, b: pl.Expr, a_factor: pl.Expr, b_factor: pl.Expr) -> pl.Expr:
    """a + b where each term counts only when its factor exists; null when no factor exists or a needed
    input (quantity in kg, customs value) is missing."""
    has_a = a_factor.is_not_null()
    has_b = b_factor.is_not_null()
    return (
        pl.when(~has_a & ~has_b)
        .then(None)
        .when(has_a & a.is_null())
        .then(None)
        .when(has_b & b.is_null())
        .then(None)
        .otherwise(pl.when(has_a).then(a).otherwise(0.0) + pl.when(has_b).then(b).otherwise(0.0))
    )
