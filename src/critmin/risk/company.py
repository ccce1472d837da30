"""A firm's own supply risk from its import ledger: exposure shares, DFARS flags and company-mode GeoPolRisk.

Company mode replaces a country's imports by the firm's purchases: for each mineral, the quantity bought
from each origin, weighted by that origin's political stability, over the total bought (a firm produces
none of it itself), times the concentration of world production. The price is the firm's own average.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import polars as pl

from critmin.risk.exposure import PARTNER_GROUPS, LedgerExposure, ledger_exposure
from critmin.risk.geopolrisk import CU_MIDPOINT, company_geopolrisk

BULK_STAGES = ("ore_concentrate", "oxide_salt_compound", "metal_powder_alloy")

# Individual rare earths have no production table of their own; their mining is the rare-earth total's.
MATERIAL_FALLBACK_GROUPS = ("light_ree", "heavy_ree", "other_ree")
FALLBACK_MATERIAL = "rare_earths"


@dataclass(frozen=True)
class LedgerRisk:
    """Everything ``critmin risk ledger`` reports for one ledger."""

    exposure: LedgerExposure
    geopolrisk: pl.DataFrame
    n_lines: int
    n_classified: int

    @property
    def assumptions(self) -> tuple[str, ...]:
        return self.exposure.assumptions


def _material_map() -> pl.DataFrame:
    """mineral_id -> GeoPolRisk material (itself, or the rare-earth total for single rare earths)."""
    from critmin.refdata import load
    from critmin.risk.sources import gpr_materials

    direct = (
        gpr_materials().filter(pl.col("mineral_id") == pl.col("material")).select("mineral_id", "material")
    )
    ree = (
        load("minerals")
        .filter(pl.col("group").is_in(list(MATERIAL_FALLBACK_GROUPS)))
        .select("mineral_id", pl.lit(FALLBACK_MATERIAL).alias("material"))
    )
    return pl.concat([direct, ree.filter(~pl.col("mineral_id").is_in(direct["mineral_id"].implode()))])


def company_purchases(lines: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The ledger's classified lines as GeoPolRisk purchases, and the lines left out with the reason.

    Quantities are the mineral mass of each line (``mineral_kg`` from the exposure step) in tonnes; values
    are customs values in thousand USD. The year is the entry year, clamped to the production data's span.
    """
    from critmin.risk.sources import load_production

    years = load_production().filter(pl.col("quantity_t") > 0).get_column("year")
    first, last = int(years.min()), int(years.max())  # type: ignore[arg-type]
    mapped = lines.filter(pl.col("mineral_id").is_not_null()).join(
        _material_map(), on="mineral_id", how="left"
    )
    usable = (
        pl.col("material").is_not_null()
        & pl.col("mineral_kg").is_not_null()
        & (pl.col("mineral_kg") > 0)
        & pl.col("country_origin").is_not_null()
    )
    reason = (
        pl.when(pl.col("material").is_null())
        .then(pl.lit("no world production table for this mineral"))
        .when(pl.col("mineral_kg").is_null() | (pl.col("mineral_kg") <= 0))
        .then(pl.lit("mineral content unknown (declare content_kg or a mass quantity)"))
        .when(pl.col("country_origin").is_null())
        .then(pl.lit("country of origin missing"))
    )
    # The price must be the mineral's, not a product's: a line that is the material itself (ore, compound,
    # metal) prices it by its customs value; a product containing it only by a declared content value.
    is_material = pl.col("stage").is_in(BULK_STAGES).fill_null(False)
    mineral_value = (
        pl.when(is_material)
        .then(pl.col("customs_value_usd"))
        .when(pl.col("content_mineral") == pl.col("mineral_id"))
        .then(pl.col("content_value_usd"))
    )
    purchases = mapped.filter(usable).select(
        pl.col("mineral_id").alias("material"),
        pl.col("entry_date").dt.year().clip(first, last).alias("year"),
        pl.col("country_origin").alias("exporter"),
        (pl.col("mineral_kg") / 1000.0).alias("quantity_t"),
        (mineral_value / 1000.0).alias("value_kusd"),
    )
    left_out = mapped.filter(~usable).select("line_id", "mineral_id", reason.alias("reason"))
    return purchases, left_out


def _priced(gpr: pl.DataFrame, purchases: pl.DataFrame, materials: pl.DataFrame) -> pl.DataFrame:
    """Price from the firm's lines that carry the mineral's own value; otherwise the U.S. import unit value
    of the material that year (BACI), and the price column says which."""
    from critmin.risk.sources import load_trade

    own = (
        purchases.filter(pl.col("value_kusd").is_not_null())
        .group_by("material", "year")
        .agg((pl.col("value_kusd").sum() / pl.col("quantity_t").sum()).alias("_own_price"))
    )
    unit_value = pl.col("value_kusd").fill_null(0.0).sum() / pl.col("quantity_t").fill_null(0.0).sum()
    us = (
        load_trade()
        .filter(pl.col("importer") == "USA")
        .join(materials.rename({"material": "_gpr"}), left_on="material", right_on="_gpr", how="inner")
        .group_by("mineral_id", "year")
        .agg(unit_value.alias("_us_price"))
        .rename({"mineral_id": "material"})
    )
    priced = gpr.join(own, on=["material", "year"], how="left").join(us, on=["material", "year"], how="left")
    price = pl.coalesce("_own_price", "_us_price")
    return (
        priced.with_columns(
            price.alias("price"),
            pl.when(pl.col("_own_price").is_not_null())
            .then(pl.lit("firm's own unit value"))
            .when(pl.col("_us_price").is_not_null())
            .then(pl.lit("U.S. import unit value (BACI): the lines are products containing the mineral"))
            .alias("price_basis"),
        )
        .with_columns((pl.col("score") * pl.col("price")).alias("midpoint"))
        .with_columns((pl.col("midpoint") / CU_MIDPOINT).alias("cf"))
        .drop("_own_price", "_us_price")
    )


def ledger_risk(
    ledger: pl.DataFrame,
    classification: pl.DataFrame | None = None,
    *,
    as_of: date | None = None,
    partner_groups: Iterable[str] = PARTNER_GROUPS,
) -> LedgerRisk:
    """Exposure shares, DFARS flags and company-mode GeoPolRisk for a canonical ledger."""
    from critmin.risk.sources import load_governance, load_production

    exposure = ledger_exposure(ledger, classification, as_of=as_of, partner_groups=partner_groups)
    purchases, left_out = company_purchases(exposure.lines)
    # Production re-keyed by mineral id, so each mineral is assessed on its own even where two share a
    # production table (single rare earths all use the rare-earth total).
    materials = _material_map()
    production = (
        load_production()
        .join(materials.rename({"mineral_id": "_key"}), on="material", how="inner")
        .select(pl.col("_key").alias("material"), "year", "country", "quantity_t")
    )
    gpr = company_geopolrisk(
        purchases.with_columns(pl.col("value_kusd").fill_null(0.0)), production, load_governance()
    )
    gpr = _priced(gpr.drop("importer"), purchases, materials)
    gpr = gpr.rename({"material": "mineral_id"}).join(
        materials.rename({"material": "production_basis"}), on="mineral_id", how="left"
    )
    skipped = (
        left_out.group_by("mineral_id", "reason")
        .agg(pl.len().alias("n_lines"))
        .sort("mineral_id", "reason")
        .group_by("mineral_id", maintain_order=True)
        .agg(
            pl.concat_str(pl.col("n_lines").cast(pl.String), pl.lit(" lines left out: "), pl.col("reason"))
            .str.join("; ")
            .alias("left_out")
        )
    )
    gpr = gpr.join(skipped, on="mineral_id", how="full", coalesce=True).sort("mineral_id", "year")
    classified = exposure.lines.filter(pl.col("mineral_id").is_not_null())["line_id"].n_unique()
    return LedgerRisk(
        exposure=exposure,
        geopolrisk=gpr,
        n_lines=ledger.height,
        n_classified=classified,
    )
