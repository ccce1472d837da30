"""U.S. exposure: net import reliance and import sources, and what a firm's own ledger is exposed to.

Ledger exposure answers three questions a procurement team is asked: how much of what we buy (by value and
by mineral content) comes from foreign entities of concern, how much from agreement partners, and which
lines fall under the DFARS 252.225-7052 specialty-metals ban on magnets, tungsten and tantalum. Every
share is computed per mineral from the classified ledger in one pass; nothing loops over lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import polars as pl

from critmin.duty.classification import mineral_matches
from critmin.risk.concentration import concentration

FEOC_GROUP = "feoc"
DFARS_GROUP = "dfars_covered"
PARTNER_GROUPS: tuple[str, ...] = ("us_fta", "us_cm_frameworks")

DFARS_RULE_START = date(2019, 4, 30)
DFARS_WIDENING = date(2027, 1, 1)

DFARS_SOURCES = (
    "DFARS 252.225-7052, 10 U.S.C. 4872 (NDAA FY2019 §871): interim rule 84 FR 18156, effective 2019-04-30, "
    "https://thefederalregister.org/2019-04-30/2019-08485 ; final rule DFARS Case 2021-D015 (2024-05-30), "
    "https://regulations.justia.com/regulations/fedreg/2024/05/30/2024-11513.html (retrieved 2026-11-28)"
)


@dataclass(frozen=True)
class DfarsItem:
    """An HTS prefix that identifies a DFARS covered material, and how sure the identification is."""

    hts_prefix: str
    material: str
    mineral_id: str
    certainty: str  # "covered": the code is the covered material; "possible": the code also holds others
    description: str


DFARS_ITEMS: tuple[DfarsItem, ...] = (
    DfarsItem(
        "8505110050", "samarium-cobalt magnet", "samarium", "covered", "sintered SmCo permanent magnets"
    ),
    DfarsItem("8505110070", "neodymium-iron-boron magnet", "neodymium", "covered", "sintered NdFeB magnets"),
    DfarsItem("85051100", "permanent magnet of metal", "neodymium", "possible", "metal permanent magnets"),
    DfarsItem("850519", "permanent magnet, other", "neodymium", "possible", "bonded magnets may be NdFeB"),
    DfarsItem("810110", "tungsten metal powder", "tungsten", "covered", "tungsten powders"),
    DfarsItem("810194", "tungsten heavy alloy", "tungsten", "possible", "unwrought tungsten incl. alloys"),
    DfarsItem("810199", "tungsten heavy alloy", "tungsten", "possible", "tungsten articles incl. alloys"),
    DfarsItem("810196", "tungsten heavy alloy", "tungsten", "possible", "tungsten wire"),
    DfarsItem("810197", "tungsten heavy alloy", "tungsten", "possible", "tungsten waste and scrap"),
    DfarsItem("8103", "tantalum metal and alloys", "tantalum", "covered", "tantalum and articles thereof"),
)
"""HTS identification of DFARS 252.225-7052 covered materials. The rule names materials, not codes: magnets
(SmCo, NdFeB), tungsten metal powder, tungsten heavy alloy and tantalum metal and alloys (tantalum from the
2024 rule); components containing them are covered too, so lines whose declared content is a magnet rare
earth are marked ``possible`` whatever their code. HTS suffixes per the HTSUS 2025 heading 8505."""

MAGNET_CONTENT_MINERALS: frozenset[str] = frozenset(
    {"neodymium", "praseodymium", "dysprosium", "terbium", "samarium"}
)


@dataclass(frozen=True)
class LedgerExposure:
    """Per-line flags and per-mineral shares of one ledger."""

    lines: pl.DataFrame
    by_mineral: pl.DataFrame
    origin_concentration: pl.DataFrame
    assumptions: tuple[str, ...]


# ---------------------------------------------------------------------------------------------------------
# U.S. national indicators (USGS)
# ---------------------------------------------------------------------------------------------------------


def net_import_reliance(mineral_id: str | None = None, year: int | None = None) -> pl.DataFrame:
    """USGS net import reliance (percent of apparent consumption), per mineral and year as shipped."""
    from critmin.risk.sources import load_nir

    frame = load_nir()
    if mineral_id is not None:
        frame = frame.filter(pl.col("mineral_id") == mineral_id)
    if year is not None:
        frame = frame.filter(pl.col("year") == year)
    return frame


def import_sources(mineral_id: str | None = None) -> pl.DataFrame:
    """USGS 'Import Sources' shares (percent) per mineral, with FEOC and partner flags as of today."""
    from critmin.risk.sources import load_import_sources

    frame = load_import_sources()
    if mineral_id is not None:
        frame = frame.filter(pl.col("mineral_id") == mineral_id)
    return frame


# ---------------------------------------------------------------------------------------------------------
# Ledger exposure
# ---------------------------------------------------------------------------------------------------------


def _flag_group(frame: pl.DataFrame, group_id: str, country_col: str, out: str) -> pl.DataFrame:
    from critmin.refdata import groups

    return groups.flag(frame, group_id, country_col=country_col, date_col="_as_of", out=out).with_columns(
        pl.col(out).fill_null(False)
    )


def dfars_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """DFARS 252.225-7052 flag per line, from its HTS code, declared content, countries and date.

    ``lines`` needs line_id, hts, content_mineral, country_origin, country_smelt_cast and ``_as_of`` (the
    date the rule is read at). Output columns: dfars_material, dfars_certainty, dfars_regime,
    dfars_countries_checked, dfars_covered_country, dfars_flag (prohibited | review | clear | null),
    dfars_reason.
    """
    items = pl.DataFrame(
        [(i.hts_prefix, i.material, i.certainty) for i in DFARS_ITEMS],
        schema={"hts_prefix": pl.String, "dfars_material": pl.String, "dfars_certainty": pl.String},
        orient="row",
    )
    base = lines.select("line_id", "hts", "content_mineral", "country_origin", "country_smelt_cast", "_as_of")
    # Longest matching prefix wins: try each length, keep the first hit from the longest.
    matched = base.select("line_id").with_columns(
        pl.lit(None, dtype=pl.String).alias("dfars_material"),
        pl.lit(None, dtype=pl.String).alias("dfars_certainty"),
    )
    for length in sorted(items.get_column("hts_prefix").str.len_chars().unique().to_list(), reverse=True):
        at_len = items.filter(pl.col("hts_prefix").str.len_chars() == length)
        hit = (
            base.with_columns(pl.col("hts").str.slice(0, length).alias("hts_prefix"))
            .join(at_len, on="hts_prefix", how="inner")
            .select("line_id", pl.col("dfars_material").alias("_m"), pl.col("dfars_certainty").alias("_c"))
        )
        matched = (
            matched.join(hit, on="line_id", how="left")
            .with_columns(
                pl.coalesce("dfars_material", "_m").alias("dfars_material"),
                pl.coalesce("dfars_certainty", "_c").alias("dfars_certainty"),
            )
            .drop("_m", "_c")
        )
    magnet_content = pl.col("content_mineral").is_in(list(MAGNET_CONTENT_MINERALS)).fill_null(False)
    out = base.join(matched, on="line_id", how="left").with_columns(
        pl.when(pl.col("dfars_material").is_null() & magnet_content)
        .then(pl.lit("component containing magnets"))
        .otherwise(pl.col("dfars_material"))
        .alias("dfars_material"),
        pl.when(pl.col("dfars_certainty").is_null() & magnet_content)
        .then(pl.lit("possible"))
        .otherwise(pl.col("dfars_certainty"))
        .alias("dfars_certainty"),
    )
    out = _flag_group(out, DFARS_GROUP, "country_origin", "_origin_covered")
    out = _flag_group(out, DFARS_GROUP, "country_smelt_cast", "_smelt_cov")
    widened = pl.col("_as_of") >= DFARS_WIDENING
    in_force = pl.col("_as_of") >= DFARS_RULE_START
    has_smelt = pl.col("country_smelt_cast").is_not_null()
    # The country of origin is where the item was produced (last substantial transformation) and the
    # smelt/cast country, when the ledger has it, where it was melted: either in a covered country is
    # covered under both regimes. From 2027 mining, refining and separation count too; the ledger does
    # not record them, so a covered material from a clean origin is marked 'review'.
    covered_country = pl.col("_origin_covered") | pl.col("_smelt_cov")
    checked = pl.when(has_smelt).then(pl.lit("origin+smelt_cast")).otherwise(pl.lit("origin"))
    is_item = pl.col("dfars_material").is_not_null()
    flag = (
        pl.when(~is_item | ~in_force)
        .then(None)
        .when(pl.col("dfars_covered_country") & (pl.col("dfars_certainty") == "covered"))
        .then(pl.lit("prohibited"))
        .when(pl.col("dfars_covered_country"))
        .then(pl.lit("review"))
        .when(widened)
        .then(pl.lit("review"))
        .otherwise(pl.lit("clear"))
    )
    reason = (
        pl.when(~is_item)
        .then(None)
        .when(~in_force)
        .then(pl.lit("before DFARS 252.225-7052 took effect (2019-04-30)"))
        .when(pl.col("dfars_covered_country") & (pl.col("dfars_certainty") == "covered"))
        .then(pl.lit("covered material from a covered country"))
        .when(pl.col("dfars_covered_country"))
        .then(pl.lit("may be a covered material, from a covered country: check the product"))
        .when(widened)
        .then(pl.lit("from 2027 mining, refining and separation count: origin is clear, upstream unverified"))
        .otherwise(pl.lit("covered material, country of production is not covered"))
    )
    return (
        out.with_columns(
            pl.when(in_force)
            .then(pl.when(widened).then(pl.lit("2027")).otherwise(pl.lit("2019")))
            .alias("dfars_regime"),
            covered_country.alias("dfars_covered_country"),
            checked.alias("dfars_countries_checked"),
        )
        .with_columns(
            pl.when(is_item).then(pl.col("dfars_covered_country")).alias("dfars_covered_country"),
            pl.when(is_item).then(pl.col("dfars_countries_checked")).alias("dfars_countries_checked"),
            pl.when(is_item).then(pl.col("dfars_regime")).alias("dfars_regime"),
        )
        .with_columns(flag.alias("dfars_flag"), reason.alias("dfars_reason"))
        .select(
            "line_id",
            "dfars_material",
            "dfars_certainty",
            "dfars_regime",
            "dfars_countries_checked",
            "dfars_covered_country",
            "dfars_flag",
            "dfars_reason",
        )
    )


def ledger_exposure(
    ledger: pl.DataFrame,
    classification: pl.DataFrame | None = None,
    *,
    as_of: date | None = None,
    partner_groups: Iterable[str] = PARTNER_GROUPS,
) -> LedgerExposure:
    """FEOC and partner shares (by value and by content), origin concentration and DFARS flags.

    ``ledger`` is canonical (critmin.ledger.schema). ``classification`` maps line_id to mineral_id and stage
    (critmin.duty.classification.mineral_matches output); when omitted the ledger is classified here. Group
    membership is read on each line's entry date, or on ``as_of`` for every line when given (a re-dated run).
    """
    if classification is None:
        classification = mineral_matches(ledger)
    assumptions: list[str] = []
    dated = ledger.with_columns(
        (pl.lit(as_of, dtype=pl.Date) if as_of is not None else pl.col("entry_date")).alias("_as_of")
    )
    dated = _flag_group(dated, FEOC_GROUP, "country_origin", "is_feoc")
    partner_cols = []
    for group_id in partner_groups:
        column = f"_in_{group_id}"
        dated = _flag_group(dated, group_id, "country_origin", column)
        partner_cols.append(column)
    dated = dated.with_columns(
        (pl.any_horizontal(partner_cols) if partner_cols else pl.lit(False)).alias("is_partner")
    ).drop(partner_cols)

    mineral_of_line = classification.select("line_id", "mineral_id", "stage", "confidence")
    lines = _with_factors(dated.join(mineral_of_line, on="line_id", how="left"))
    # Content: the mass of the classified mineral in the line. Declared content counts when it is of that
    # mineral; else the shipped content factor (central) times the line's mass; else, for an ore, compound
    # or metal line, its gross weight (an upper bound, stated as an assumption); else unknown.
    declared = pl.col("content_kg").is_not_null() & (
        pl.col("content_mineral") == pl.col("mineral_id")
    ).fill_null(False)
    with_mass = pl.col("quantity_kg").is_not_null()
    factored = pl.col("_factor").is_not_null() & with_mass
    bulk = (
        pl.col("stage")
        .is_in(["ore_concentrate", "oxide_salt_compound", "metal_powder_alloy"])
        .fill_null(False)
    )
    lines = lines.with_columns(
        pl.when(declared)
        .then(pl.col("content_kg"))
        .when(factored)
        .then(pl.col("_factor") * pl.col("quantity_kg"))
        .when(bulk & with_mass)
        .then(pl.col("quantity_kg"))
        .alias("mineral_kg"),
        pl.when(declared)
        .then(pl.lit("declared"))
        .when(factored)
        .then(pl.lit("content factor (central)"))
        .when(bulk & with_mass)
        .then(pl.lit("gross weight"))
        .otherwise(pl.lit("unknown"))
        .alias("mineral_kg_basis"),
    ).drop("_factor")
    if lines.filter(pl.col("mineral_kg_basis") == "gross weight").height:
        assumptions.append(
            "Lines in ore, compound or metal stages without declared content count their gross weight as "
            "mineral content (upper bound; ores and compounds are less than 100% mineral)."
        )
    dfars = dfars_lines(dated)
    lines = lines.join(dfars, on="line_id", how="left")
    if dfars.filter(pl.col("dfars_countries_checked") == "origin").height:
        assumptions.append(
            "DFARS: the country of origin is taken as the place the covered material was produced; with no "
            "smelt/cast country in the ledger it also stands for where it was melted."
        )
    if dfars.filter(pl.col("dfars_regime") == "2027").height:
        assumptions.append(
            "DFARS from 2027-01-01: the ledger records origin (and smelt/cast country) but not where the "
            "material was mined, refined or separated; covered-material lines from other countries are "
            "marked 'review' until the supplier documents the upstream chain."
        )

    value = pl.col("customs_value_usd").fill_null(0.0)
    kg = pl.col("mineral_kg")
    by_mineral = (
        lines.filter(pl.col("mineral_id").is_not_null())
        .group_by("mineral_id")
        .agg(
            pl.len().alias("n_lines"),
            value.sum().alias("value_usd"),
            (value * pl.col("is_feoc")).sum().alias("_feoc_value"),
            (value * pl.col("is_partner")).sum().alias("_partner_value"),
            pl.when(kg.is_not_null().any()).then(kg.sum()).alias("content_kg"),
            (kg * pl.col("is_feoc")).sum().alias("_feoc_kg"),
            (kg * pl.col("is_partner")).sum().alias("_partner_kg"),
            kg.is_not_null().sum().alias("n_lines_with_content"),
            (pl.col("dfars_flag") == "prohibited").sum().alias("dfars_prohibited_lines"),
            (pl.col("dfars_flag") == "review").sum().alias("dfars_review_lines"),
        )
        .with_columns(
            _ratio("_feoc_value", "value_usd").alias("feoc_share_value"),
            _ratio("_partner_value", "value_usd").alias("partner_share_value"),
            _ratio("_feoc_kg", "content_kg").alias("feoc_share_content"),
            _ratio("_partner_kg", "content_kg").alias("partner_share_content"),
        )
        .drop("_feoc_value", "_partner_value", "_feoc_kg", "_partner_kg")
        .sort("mineral_id")
    )
    origin = concentration(
        lines.filter(pl.col("mineral_id").is_not_null()),
        value_col="customs_value_usd",
        country_col="country_origin",
        by=["mineral_id"],
    )
    line_cols = [
        "line_id",
        "entry_date",
        "hts",
        "country_origin",
        "country_smelt_cast",
        "customs_value_usd",
        "quantity_kg",
        "content_mineral",
        "content_kg",
        "content_value_usd",
        "mineral_id",
        "stage",
        "mineral_kg",
        "mineral_kg_basis",
        "is_feoc",
        "is_partner",
        "dfars_material",
        "dfars_certainty",
        "dfars_regime",
        "dfars_countries_checked",
        "dfars_covered_country",
        "dfars_flag",
        "dfars_reason",
    ]
    return LedgerExposure(
        lines=lines.select(line_cols).sort("line_id"),
        by_mineral=by_mineral,
        origin_concentration=origin,
        assumptions=tuple(assumptions),
    )


def _with_factors(lines: pl.DataFrame) -> pl.DataFrame:
    """Attach ``_factor``: the default content factor (kg mineral per kg product) of the longest HTS prefix
    that has one for the line's mineral (critmin.refdata.content), null where none applies."""
    from critmin.refdata import content

    table = content.default_factors("per_kg_product").select("hts_prefix", "mineral_id", "central")
    lengths = sorted(set(table.get_column("hts_prefix").str.len_chars().to_list()), reverse=True)
    keyed = lines.with_row_index("_row")
    hits = []
    for length in lengths:
        at_len = table.filter(pl.col("hts_prefix").str.len_chars() == length)
        hit = (
            keyed.select("_row", "mineral_id", pl.col("hts").str.slice(0, length).alias("hts_prefix"))
            .join(at_len, on=["hts_prefix", "mineral_id"], how="inner")
            .select("_row", pl.col("central").alias(f"_f{length}"))
        )
        keyed = keyed.join(hit, on="_row", how="left")
        hits.append(f"_f{length}")
    factor = pl.coalesce(hits) if hits else pl.lit(None, dtype=pl.Float64)
    return keyed.with_columns(factor.alias("_factor")).drop("_row", *hits)


def _ratio(numerator: str, denominator: str) -> pl.Expr:
    return pl.when(pl.col(denominator) > 0).then(pl.col(numerator) / pl.col(denominator))
