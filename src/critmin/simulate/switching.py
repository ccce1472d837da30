"""Switching a supplier: the source supplier's lines, bought instead from the target supplier.

The switched lines keep their HTS code, month and kg. They take the target's origin, country of export,
country of smelt and cast and preference claim, and its unit value per kg, as the target ships them for the
same HTS code (value-weighted; the most valuable origin when it ships from several). Where the target does
not ship that code, its main origin and countries are used, no preference is claimed and the unit value is
kept. The expected value of switching is then the mean, over the same draws, of the cost difference.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import polars as pl

from critmin.errors import InputError

PROFILE = ("country_origin", "country_export", "country_smelt_cast", "preference_program")


@dataclass(frozen=True)
class Switch:
    source: str
    target: str

    @property
    def label(self) -> str:
        return f"{self.source} -> {self.target}"

    @classmethod
    def parse(cls, text: str) -> Switch:
        source, sep, target = text.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise InputError(f"--switch {text!r}: write FROM=TO with two supplier names as in the ledger.")
        return cls(source.strip(), target.strip())


def check(frame: pl.DataFrame, switch: Switch) -> None:
    suppliers = sorted(s for s in frame.get_column("supplier").unique().to_list() if s is not None)
    for name in (switch.source, switch.target):
        if name not in suppliers:
            close = difflib.get_close_matches(name, suppliers, n=3)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise InputError(f"Supplier {name!r} is not in the ledger.{hint}")
    if switch.source == switch.target:
        raise InputError(f"Switching {switch.source!r} to itself changes nothing; name another supplier.")


def switched_lines(frame: pl.DataFrame, switch: Switch) -> pl.DataFrame:
    """The source supplier's placed lines as bought from the target (same columns as ``frame``)."""
    check(frame, switch)
    target = frame.filter(pl.col("supplier") == switch.target)
    by_code = _profile(target, ["hts"])
    overall = _profile(target.with_columns(pl.lit("*").alias("_all")), ["_all"]).drop("_all")
    lines = frame.filter(pl.col("supplier") == switch.source)
    joined = lines.join(
        by_code.rename({c: f"_c_{c}" for c in [*PROFILE, "_usd_per_kg"]}), on="hts", how="left"
    )
    known = pl.col("_c_country_origin").is_not_null()
    out = joined.with_columns(
        [
            pl.when(known).then(pl.col(f"_c_{c}")).otherwise(pl.lit(overall[c][0])).alias(c)
            for c in PROFILE[:3]
        ]
    ).with_columns(
        pl.when(known).then(pl.col("_c_preference_program")).otherwise(None).alias("preference_program"),
        pl.lit(switch.target).alias("supplier"),
    )
    priced = known & pl.col("_c__usd_per_kg").is_not_null() & pl.col("quantity_kg").is_not_null()
    new_value = (
        pl.when(priced)
        .then(pl.col("_c__usd_per_kg") * pl.col("quantity_kg"))
        .otherwise(pl.col("customs_value_usd"))
    )
    ratio = (
        pl.when(pl.col("customs_value_usd") > 0).then(new_value / pl.col("customs_value_usd")).otherwise(1.0)
    )
    out = out.with_columns(
        (pl.col("content_value_usd") * ratio).alias("content_value_usd"),
        new_value.alias("customs_value_usd"),
    )
    return out.select(frame.columns)


def _profile(frame: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Per ``by``: the most valuable origin (with its export/smelt countries and claim) and USD per kg."""
    origins = (
        frame.group_by([*by, *PROFILE], maintain_order=True)
        .agg(pl.col("customs_value_usd").sum().alias("_v"))
        .sort(
            [*by, "_v", *PROFILE],
            descending=[False] * len(by) + [True] + [False] * len(PROFILE),
            nulls_last=True,
        )
        .unique(subset=by, keep="first", maintain_order=True)
        .drop("_v")
    )
    priced = frame.filter(pl.col("quantity_kg") > 0)
    unit = priced.group_by(by).agg(
        (pl.col("customs_value_usd").sum() / pl.col("quantity_kg").sum()).alias("_usd_per_kg")
    )
    return origins.join(unit, on=by, how="left")


def candidates(frame: pl.DataFrame, expected: dict[str, float], k: int = 3) -> list[Switch]:
    """For the ``k`` suppliers with the highest expected cost, the supplier that ships most of the same HTS
    codes from another country (none when no other supplier ships them)."""
    out: list[Switch] = []
    ranked = sorted(((v, s) for s, v in expected.items() if v > 0 and s != "unknown"), reverse=True)
    for _, source in ranked:
        if len(out) == k:
            break
        own = frame.filter(pl.col("supplier") == source)
        codes = own.get_column("hts").unique()
        origins = set(own.get_column("country_origin").unique().to_list())
        others = (
            frame.filter(
                pl.col("hts").is_in(codes.implode())
                & (pl.col("supplier") != source)
                & pl.col("supplier").is_not_null()
                & ~pl.col("country_origin").is_in(pl.Series(sorted(o for o in origins if o)).implode())
            )
            .group_by("supplier")
            .agg(pl.col("customs_value_usd").sum())
            .sort(["customs_value_usd", "supplier"], descending=[True, False])
        )
        if others.height:
            out.append(Switch(source, str(others.get_column("supplier")[0])))
    return out
