"""HTS product lists behind Section 301, Section 232, Section 122 and IEEPA measures.

Source: The Budget Lab at Yale, tariff-rate-tracker (MIT licence, "Copyright (c) 2025-2026 The Budget Lab at
Yale"; attribution kept in each dataset's licence field). The lists restate public facts (HTS chapter 99 U.S.
notes, proclamations, executive orders, CBP CSMS messages). Measures in ``critmin/policy/library`` select
from these lists with ``hts_lists: [{dataset: ..., where: {...}}]``; every dataset has an ``hts_prefix``
column of digits that a ledger line's HTS code is matched against by prefix.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from critmin.refdata.registry import DatasetSpec

RAW = "yale-budget-lab-tariff-rate-tracker"
SOURCE = (
    "The Budget Lab at Yale, tariff-rate-tracker, https://github.com/Budget-Lab-Yale/tariff-rate-tracker "
    "(commit 8315fffd697c42559141ed5f8bf7c8fa3da47ae8, 2026-05-11)"
)
LICENCE = (
    "MIT (Copyright (c) 2025-2026 The Budget Lab at Yale; licence text in the source repository's LICENSE)"
)
VINTAGE = "2026-05-11"
RETRIEVED = "2026-11-28"


def _digits(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).str.replace_all(r"[^0-9]", "").alias("hts_prefix")


def _read(raw_dir: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(raw_dir / RAW / name, infer_schema=False)


def _s301_rates(raw_dir: Path) -> pl.DataFrame:
    params = json.loads((raw_dir / RAW / "policy_params.json").read_text(encoding="utf-8"))
    rows = [(item["ch99_pattern"], float(item["s301_rate"])) for item in params["section_301_rates"]]
    return pl.DataFrame(rows, schema={"ch99_code": pl.String, "rate": pl.Float64}, orient="row")


ORIGINAL_LISTS = ("1", "2", "3", "3_addl", "4A", "4B")
"""The original Section 301 (China) lists, oldest first; a code on several is governed by the latest one
in force."""

NEVER_IN_FORCE = ("4B",)
"""List 4B was suspended before it took effect: it never displaces a list that is in force."""


def build_s301(raw_dir: Path) -> pl.DataFrame:
    """Section 301 (China) product lists: hts_prefix (8 digits), list, chapter 99 heading and its rate.

    1,049 codes sit on more than one of the original lists 1, 2, 3, 3_addl, 4A and 4B (1,055 on more than
    one list of any kind, counting the 2024-26 review lists), e.g. 8532.21.00 (tantalum capacitors) on lists
    1 and 3. Only one of those rows may set the duty, or a measure selecting every list would charge the code
    twice: ``governs`` is "yes" on the row of the latest original list in force (1 < 2 < 3 < 3_addl < 4A)
    and "no" on the others; list 4B, suspended before it took effect, governs only codes on no other list
    (2931.90.90, on lists 3, 3_addl and 4B, is governed by 3_addl). Rows of the review lists (``biden_*``,
    ``cranes_301``) are separate actions that measures stack or substitute explicitly, so they always
    govern. ``also_listed`` names the other original
    lists the code is on (";"-joined, oldest first), null if none.
    """
    frame = _read(raw_dir, "s301_product_lists.csv")
    frame = frame.filter(pl.col("list") != "list")  # a stray header row in the source
    out = (
        frame.select(_digits("hts8"), pl.col("list"), pl.col("ch99_code"))
        .join(_s301_rates(raw_dir), on="ch99_code", how="left")
        .unique()
    )
    order = {name: rank for rank, name in enumerate(ORIGINAL_LISTS)}
    order.update({name: -1 for name in NEVER_IN_FORCE})  # below every list in force
    rank = pl.col("list").replace_strict(order, default=None, return_dtype=pl.Int32)
    original = out.select("hts_prefix", pl.col("list").alias("other"), rank.alias("other_rank")).filter(
        pl.col("other_rank").is_not_null()
    )
    latest = original.group_by("hts_prefix").agg(pl.col("other_rank").max().alias("latest"))
    also = (
        out.select("hts_prefix", "list")
        .join(original, on="hts_prefix")
        .filter(pl.col("other") != pl.col("list"))
        .sort("other_rank")
        .group_by(["hts_prefix", "list"], maintain_order=True)
        .agg(pl.col("other").str.join(";").alias("also_listed"))
    )
    out = (
        out.join(latest, on="hts_prefix", how="left")
        .join(also, on=["hts_prefix", "list"], how="left")
        .with_columns(
            pl.when(rank.is_null() | (rank == pl.col("latest")))
            .then(pl.lit("yes"))
            .otherwise(pl.lit("no"))
            .alias("governs")
        )
        .select("hts_prefix", "list", "ch99_code", "rate", "governs", "also_listed")
    )
    return out.sort(["hts_prefix", "list", "ch99_code"])


CHAPTER_METAL = {"72": "steel", "74": "copper", "76": "aluminum"}
"""HTS chapters whose annex rows take their metal from the chapter (see :func:`build_s232`)."""
ANNEX_METAL_CORRECTIONS = 10


def build_s232(raw_dir: Path) -> pl.DataFrame:
    """Section 232 metal product lists in one table.

    ``list`` is ``derivative`` (steel/aluminium derivatives, content basis; ``tranche`` tells the original
    derivatives from the 407 codes added from 2025-08-18), ``copper`` (semi-finished and intensive copper
    derivatives, 9903.78.01) or ``annex_1a``/``annex_1b``/``annex_2``/``annex_3`` (the 2026-04-06 metals
    annexes).

    Correction of the annex rows: Yale's ``s232_annex_products.csv`` labels 10 chapter-76 rows of annex I-A
    ``steel`` (7601, 7604-7609, 7614.10.10, 7616.99.5160, 7616.99.5170). They are aluminium: HTS 2026
    Rev. 6, U.S. note 16(c)(i) and (ii) to subchapter III of chapter 99, lists them as articles of aluminum
    and derivative aluminum articles. ``metal_type`` of an annex row is therefore set from its HTS chapter
    where the chapter settles it: 76 -> aluminum, 74 -> copper, 72 -> steel (``CHAPTER_METAL``). Chapter 73
    is left as labelled: its one row not labelled steel, 7308.20.0035, is on note 16(c)(ii) (derivative
    aluminum articles), so the chapter does not decide the metal there. Other chapters (derivatives in
    82-96) keep their label. ``ANNEX_METAL_CORRECTIONS`` is the number of rows this changes (tested).
    """
    derivative = _read(raw_dir, "s232_derivative_products.csv").select(
        _digits("hts_prefix"),
        pl.lit("derivative").alias("list"),
        pl.col("derivative_type").alias("metal_type"),
        pl.col("ch99_code"),
        pl.col("effective_date").replace("", None).str.to_date().alias("effective_date"),
    )
    derivative = derivative.with_columns(
        pl.when(pl.col("effective_date").is_null())
        .then(pl.lit("initial"))
        .otherwise(pl.col("effective_date").dt.to_string("%Y-%m-%d"))
        .alias("tranche")
    )
    copper = _read(raw_dir, "s232_copper_products.csv").select(
        _digits("hts10"),
        pl.lit("copper").alias("list"),
        pl.lit("copper").alias("metal_type"),
        pl.col("ch99_code"),
        pl.lit(None, dtype=pl.Date).alias("effective_date"),
        pl.lit("initial").alias("tranche"),
    )
    annex = _read(raw_dir, "s232_annex_products.csv").select(
        _digits("hts_prefix"),
        (pl.lit("annex_") + pl.col("annex")).alias("list"),
        pl.col("hts_prefix")
        .str.replace_all(r"[^0-9]", "")
        .str.slice(0, 2)
        .replace_strict(CHAPTER_METAL, default=pl.col("metal_type"))
        .alias("metal_type"),
        pl.lit(None, dtype=pl.String).alias("ch99_code"),
        pl.col("effective_date").str.to_date().alias("effective_date"),
        pl.lit("2026-04-06").alias("tranche"),
    )
    out = pl.concat([derivative, copper, annex], how="vertical")
    return out.unique().sort(["list", "metal_type", "hts_prefix", "tranche"])


def build_s122_exempt(raw_dir: Path) -> pl.DataFrame:
    """HTS subheadings exempt from the Section 122 surcharge (Annex II, 2026-02-24 to 2026-07-23)."""
    frame = _read(raw_dir, "s122_exempt_products.csv")
    return frame.select(_digits("hts8")).unique().sort("hts_prefix")


def build_ieepa_exempt(raw_dir: Path) -> pl.DataFrame:
    """HTS codes exempt from the IEEPA reciprocal tariffs (EO 14257 Annex II and amendments)."""
    frame = _read(raw_dir, "ieepa_exempt_products.csv")
    return frame.select(_digits("hts10")).unique().sort("hts_prefix")


def _spec(id_: str, title: str, description: str, build: object, inputs: tuple[str, ...]) -> DatasetSpec:
    return DatasetSpec(
        id=id_,
        title=title,
        source=SOURCE,
        licence=LICENCE,
        vintage=VINTAGE,
        retrieved=RETRIEVED,
        description=description,
        build=build,  # type: ignore[arg-type]
        raw_inputs=tuple(f"{RAW}/{name}" for name in inputs),
    )


SPECS: list[DatasetSpec] = [
    _spec(
        "s301_product_lists",
        "Section 301 (China) product lists with chapter 99 headings and rates",
        "HTS 8-digit prefixes on Section 301 lists 1, 2, 3, 3_addl, 4A, 4B and the 2024 four-year-review "
        "increases (biden_* lists, cranes_301), with the chapter 99 heading and its rate. governs "
        "('yes'/'no'): of the original lists a code is on, only the latest in force "
        "(1 < 2 < 3 < 3_addl < 4A) governs (4B, never in force, only where no other list has the code); "
        "review-list rows always govern. also_listed: the code's other original lists, ';'-joined. "
        "Adapted from the Yale Budget Lab tariff-rate-tracker (MIT).",
        build_s301,
        ("s301_product_lists.csv", "policy_params.json"),
    ),
    _spec(
        "s232_products",
        "Section 232 steel, aluminium and copper product lists",
        "Steel/aluminium derivative prefixes (content basis; original and 2025-08-18 additions), the Section "
        "232 copper list (9903.78.01, copper content) and the 2026-04-06 metals annexes. Annex metal_type "
        "corrected from the HTS chapter (76 aluminum, 74 copper, 72 steel; 10 chapter-76 rows were labelled "
        "steel). Adapted from the Yale Budget Lab tariff-rate-tracker (MIT).",
        build_s232,
        ("s232_derivative_products.csv", "s232_copper_products.csv", "s232_annex_products.csv"),
    ),
    _spec(
        "s122_exempt_products",
        "Section 122 surcharge exemptions (Annex II)",
        "HTS 8-digit prefixes exempt from the Section 122 import surcharge of 2026-02-24 to 2026-07-23. "
        "Adapted from the Yale Budget Lab tariff-rate-tracker (MIT).",
        build_s122_exempt,
        ("s122_exempt_products.csv",),
    ),
    _spec(
        "ieepa_exempt_products",
        "IEEPA reciprocal-tariff exemptions (EO 14257 Annex II)",
        "HTS 10-digit codes exempt from the IEEPA reciprocal tariffs, including most critical minerals. "
        "Adapted from the Yale Budget Lab tariff-rate-tracker (MIT).",
        build_ieepa_exempt,
        ("ieepa_exempt_products.csv",),
    ),
]
