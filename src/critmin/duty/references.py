"""The reference data the duty engine reads, gathered in one object.

The engine is a pure function of (ledger, measures, references): nothing in it reads a file or a global.
:meth:`References.shipped` wires the shipped datasets (HTS schedule, special-programme rates, dated country
groups, the PCMDP scope map, content factors, mineral prices, the HTS product lists behind 301/232/122/IEEPA
measures). A caller that wants different reference data (a newer HTS revision, its own content factors)
builds a ``References`` with those frames instead; the engine cannot tell the difference.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any, Protocol

import polars as pl

from critmin.errors import ReferenceDataError
from critmin.policy.models import HtsListRef


class FlagFn(Protocol):
    def __call__(
        self, frame: pl.DataFrame, group_id: str, *, country_col: str, date_col: str, out: str
    ) -> pl.DataFrame: ...


ClassifyFn = Callable[..., pl.DataFrame]

CONTENT_FACTOR_COLUMNS = ("hts_prefix", "mineral_id", "low", "central", "high", "unit")


def _optional(module: str, attr: str) -> Any | None:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return None
        raise
    return getattr(mod, attr, None)


@dataclass
class References:
    """Reference tables and lookups. Every field may be replaced; ``shipped()`` fills them from refdata."""

    load: Callable[[str], pl.DataFrame]
    flag: FlagFn | None = None
    classify: ClassifyFn | None = None
    content_factors: Callable[[], pl.DataFrame] | None = None
    vintages: Callable[[], dict[str, dict[str, str]]] = field(default=lambda: {})

    @classmethod
    def shipped(cls) -> References:
        from critmin import refdata

        def vintages() -> dict[str, dict[str, str]]:
            return {
                r.id: {"vintage": r.vintage, "sha256": r.sha256, "source": r.source, "licence": r.licence}
                for r in refdata.read_manifest()
            }

        return cls(
            load=refdata.load,
            flag=_optional("critmin.refdata.groups", "flag"),
            classify=_optional("critmin.refdata.scope", "classify"),
            content_factors=_optional("critmin.refdata.content", "factors"),
            vintages=vintages,
        )

    # -----------------------------------------------------------------------------------------------------

    def _dataset(self, dataset_id: str) -> pl.DataFrame:
        try:
            return self.load(dataset_id)
        except ReferenceDataError:
            raise
        except Exception as exc:  # a loader of the caller's own may raise anything
            raise ReferenceDataError(f"Reference dataset {dataset_id!r} could not be loaded: {exc}") from exc

    def hts_prefixes(self, ref: HtsListRef) -> list[str]:
        """The HTS prefixes of a shipped product list, filtered by ``where`` (computed once per list)."""
        cache: dict[str, list[str]] = self.__dict__.setdefault("_prefix_cache", {})
        key = ref.label()
        if key not in cache:
            cache[key] = self._prefixes(ref)
        return cache[key]

    def _prefixes(self, ref: HtsListRef) -> list[str]:
        frame = self._dataset(ref.dataset)
        if "hts_prefix" not in frame.columns:
            raise ReferenceDataError(
                f"Dataset {ref.dataset!r} has no `hts_prefix` column, so it cannot be used in `hts_lists`."
            )
        for column, values in ref.where.items():
            if column not in frame.columns:
                raise ReferenceDataError(
                    f"hts_lists filter on {ref.dataset!r}: no column {column!r}; columns are {frame.columns}."
                )
            frame = frame.filter(pl.col(column).cast(pl.String).is_in(values))
        return sorted(set(frame.get_column("hts_prefix").drop_nulls().to_list()))

    @cached_property
    def schedule_rates(self) -> pl.DataFrame:
        """General (MFN) and column 2 rates per HTS code, ad valorem as a fraction."""
        frame = self._dataset("hts_schedule").filter(
            pl.col("rate_kind").is_not_null() | pl.col("col2_kind").is_not_null()
        )
        return frame.select(
            pl.col("hts"),
            pl.col("rate_kind").alias("g_kind"),
            pl.col("general_text").alias("g_text"),
            (pl.col("ad_valorem_pct") / 100.0).alias("g_av"),
            pl.col("specific_amount").alias("g_sp"),
            pl.col("specific_unit").alias("g_sp_unit"),
            pl.col("specific_qualifier").alias("g_sp_qual"),
            pl.col("specific2_amount").alias("g_sp2"),
            pl.col("specific2_unit").alias("g_sp2_unit"),
            pl.col("col2_kind").alias("c2_kind"),
            pl.col("col2_text").alias("c2_text"),
            (pl.col("col2_ad_valorem_pct") / 100.0).alias("c2_av"),
            pl.col("col2_specific_amount").alias("c2_sp"),
            pl.col("col2_specific_unit").alias("c2_sp_unit"),
            pl.col("col2_specific_qualifier").alias("c2_sp_qual"),
            pl.col("col2_specific2_amount").alias("c2_sp2"),
            pl.col("col2_specific2_unit").alias("c2_sp2_unit"),
        )

    @cached_property
    def special_rates(self) -> pl.DataFrame:
        """Special-programme rates per (HTS code, programme code), ad valorem as a fraction."""
        frame = self._dataset("hts_special_programs")
        return frame.select(
            pl.col("hts"),
            pl.col("program"),
            pl.col("kind").alias("s_kind"),
            pl.col("rate_text").alias("s_text"),
            (pl.col("ad_valorem_pct") / 100.0).alias("s_av"),
            pl.col("specific_amount").alias("s_sp"),
            pl.col("specific_unit").alias("s_sp_unit"),
        ).unique(subset=["hts", "program"], keep="first", maintain_order=True)

    @cached_property
    def prices(self) -> pl.DataFrame:
        """Mineral prices in USD/kg by mineral, stage and year (for content values and floors)."""
        frame = self._dataset("mineral_prices")
        return frame.select("mineral_id", "stage", "year", "estimated", "price_usd_per_kg", "basis", "source")

    @cached_property
    def factors(self) -> pl.DataFrame:
        """Content factors (hts_prefix, mineral_id, low, central, high, unit); empty when none are shipped."""
        if self.content_factors is None:
            return pl.DataFrame(
                schema={
                    "hts_prefix": pl.String,
                    "mineral_id": pl.String,
                    "low": pl.Float64,
                    "central": pl.Float64,
                    "high": pl.Float64,
                    "unit": pl.String,
                }
            )
        frame = self.content_factors()
        missing = [c for c in CONTENT_FACTOR_COLUMNS if c not in frame.columns]
        if missing:
            raise ReferenceDataError(f"content factors lack columns {missing}; they have {frame.columns}.")
        # Only the factor meant for a line known by its HTS code alone, per kg of product (not per kWh).
        if "is_default" in frame.columns:
            frame = frame.filter(pl.col("is_default"))
        if "basis" in frame.columns:
            frame = frame.filter(pl.col("basis") == "per_kg_product")
        return frame.select(
            *CONTENT_FACTOR_COLUMNS, *[c for c in ("basis", "source", "product_id") if c in frame.columns]
        )

    def require_flag(self) -> FlagFn:
        if self.flag is None:
            raise ReferenceDataError(
                "Measures refer to country groups but no group data are available (critmin.refdata.groups)."
            )
        return self.flag


@cache
def shipped_references() -> References:
    """The shipped reference data, loaded once per process (each table on first use)."""
    return References.shipped()
