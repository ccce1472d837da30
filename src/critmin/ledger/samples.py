"""Deterministic synthetic import ledgers for three invented companies, at any size.

The companies (``samples/ledger/companies.yaml``) are illustrative: real HTS codes, real supplying countries,
plausible 2025-2026 unit prices, invented names. ``generate_ledger`` draws every column with NumPy in one
vectorised pass (loops run over the dozen products, never over rows) and writes it the way that company's
system would: a customs broker report, an ACE entry-summary extract or an ERP export, each with its own
headers, date format and country spelling, so ingesting a sample exercises header recognition for real.
``with_errors`` plants the mistakes real files contain; ``samples/ledger/README.md`` lists them.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from critmin import yamlfile
from critmin.errors import InputError
from critmin.paths import SAMPLES_DIR
from critmin.refdata import hts as hts_ref
from critmin.refdata.countries import countries

LEDGER_SAMPLES_DIR = SAMPLES_DIR / "ledger"
COMPANIES = ("defense-prime", "battery-maker", "magnet-maker")

_PROGRAM_BY_ORIGIN = {"MEX": "S", "CAN": "S", "KOR": "KR", "CHL": "CL", "AUS": "AU", "ISR": "IL", "SGP": "SG"}
_PROGRAM_NAMES = {
    "S": "USMCA",
    "KR": "KORUS",
    "CL": "Chile FTA",
    "AU": "AUSFTA",
    "IL": "Israel FTA",
    "SG": "Singapore FTA",
}

STYLES: dict[str, dict[str, str]] = {
    "broker": {
        "entry_number": "Entry No.",
        "line_number": "Line No.",
        "entry_date": "Entry Date",
        "hts": "HTS Number",
        "description": "Description",
        "part_number": "Part No.",
        "country_origin": "Country of Origin",
        "country_export": "Country of Export",
        "country_smelt_cast": "Country of Smelt/Cast",
        "supplier": "Manufacturer",
        "quantity": "Quantity",
        "unit": "UOM",
        "weight": "Net Wt (kg)",
        "value": "Entered Value (USD)",
        "program": "SPI",
    },
    "ace": {
        "entry_number": "Entry Summary Number",
        "line_number": "Entry Summary Line Number",
        "entry_date": "Entry Date",
        "hts": "HTS Number - Full",
        "description": "Merchandise Description",
        "part_number": "Part Number",
        "country_origin": "Country of Origin Code",
        "country_export": "Country of Export Code",
        "country_smelt_cast": "Country of Smelt and Cast",
        "supplier": "Manufacturer Name",
        "quantity": "Line Tariff Quantity",
        "unit": "Line Tariff UOM Code",
        "weight": "Net Weight",
        "value": "Line Goods Value Amount",
        "program": "Line SPI Code",
    },
    "erp": {
        "line_id": "Line ID",
        "entry_date": "Import Date",
        "hts": "Tariff Code",
        "description": "Material Description",
        "part_number": "Material No",
        "country_origin": "Origin",
        "supplier": "Vendor",
        "quantity": "Qty",
        "unit": "Unit",
        "weight": "Net Weight KG",
        "value": "Line Value USD",
        "program": "FTA",
    },
}


@cache
def profiles() -> dict[str, Any]:
    """The company profiles (parsed ``companies.yaml``)."""
    data: dict[str, Any] = yamlfile.read(LEDGER_SAMPLES_DIR / "companies.yaml").data
    return data


def _profile(company: str) -> dict[str, Any]:
    known = profiles()
    if company not in known:
        raise InputError(f"Unknown sample company {company!r}; choose one of {', '.join(known)}.")
    profile: dict[str, Any] = known[company]
    return profile


def _product_table(company: str) -> pl.DataFrame:
    """One row per (product, origin) with shares, price ranges and the preference claimed."""
    rows: list[dict[str, Any]] = []
    for index, product in enumerate(_profile(company)["products"]):
        for origin, spec in product["origins"].items():
            per_kg = "price_per_kg" in spec
            low, high = spec["price_per_kg"] if per_kg else spec["price"]
            rows.append(
                {
                    "product": index,
                    "hts": product["hts"],
                    "digits": product["hts"].replace(".", ""),
                    "description": product["description"],
                    "part": product["part"],
                    "unit": product["unit"],
                    "qty_lo": float(product["qty"][0]),
                    "qty_hi": float(product["qty"][1]),
                    "piece_lo": float(product.get("piece_kg", [0.0, 0.0])[0]),
                    "piece_hi": float(product.get("piece_kg", [0.0, 0.0])[1]),
                    "weight": float(product["weight"]),
                    "smelt_cast": bool(product.get("smelt_cast", False)),
                    "origin": origin,
                    "share": float(spec["share"]),
                    "price_lo": float(low),
                    "price_hi": float(high),
                    "price_per_kg": per_kg,
                    "suppliers": list(spec["suppliers"]),
                    "program": _PROGRAM_BY_ORIGIN.get(origin),
                }
            )
    table = pl.DataFrame(rows)
    rates = hts_ref.schedule().select(
        pl.col("hts").alias("digits"), pl.col("general_text"), pl.col("special_text")
    )
    table = table.join(rates, on="digits", how="left")
    listed = (
        pl.col("special_text")
        .fill_null("")
        .str.contains(r"[(,\s]" + pl.col("program").fill_null("~~") + r"[,)\s*+]")
    )
    dutiable = pl.col("general_text").fill_null("Free").str.to_lowercase() != "free"
    return table.with_columns(
        pl.when(listed & dutiable & pl.col("program").is_not_null())
        .then(pl.col("program"))
        .otherwise(None)
        .alias("program")
    ).drop("general_text", "special_text")


def generate_frame(
    company: str,
    rows: int,
    seed: int = 1,
    *,
    start: date = date(2025, 1, 2),
    end: date = date(2026, 12, 30),
) -> pl.DataFrame:
    """The ledger as typed values (before formatting): one row per entry line, in entry-date order."""
    if rows < 1:
        raise InputError("A sample ledger needs at least one row (--rows 1 or more).")
    profile = _profile(company)
    rng = np.random.default_rng(seed)
    table = _product_table(company)
    products = table.unique("product", keep="first", maintain_order=True).sort("product")
    weights = products.get_column("weight").to_numpy()
    product = rng.choice(products.height, size=rows, p=weights / weights.sum())

    option = np.zeros(rows, dtype=np.int64)
    offsets = (
        table.with_row_index("option")
        .group_by("product", maintain_order=True)
        .agg(pl.col("option"), pl.col("share"))
    )
    for prod, options, shares in offsets.iter_rows():  # one pass per product, not per row
        where = np.nonzero(product == prod)[0]
        if where.size:
            share = np.asarray(shares, dtype=float)
            option[where] = rng.choice(np.asarray(options), size=where.size, p=share / share.sum())
    picked = table.select(pl.all().gather(option))

    qty_lo = picked.get_column("qty_lo").to_numpy()
    qty_hi = picked.get_column("qty_hi").to_numpy()
    quantity = np.exp(rng.uniform(np.log(qty_lo), np.log(qty_hi)))
    counted = picked.get_column("unit").to_numpy() != "kg"
    quantity = np.where(counted, np.maximum(np.round(quantity), 1.0), np.round(quantity, 1))
    piece = rng.uniform(picked.get_column("piece_lo").to_numpy(), picked.get_column("piece_hi").to_numpy())
    net_kg = np.where(counted, quantity * piece, quantity)
    price = rng.uniform(picked.get_column("price_lo").to_numpy(), picked.get_column("price_hi").to_numpy())
    per_kg = picked.get_column("price_per_kg").to_numpy()
    value = np.round(np.where(per_kg, net_kg * price, quantity * price), 2)

    entry_sizes = rng.integers(1, 4, size=rows)
    entry_of_row = np.repeat(np.arange(rows), entry_sizes)[:rows]
    first_of_entry = np.r_[True, entry_of_row[1:] != entry_of_row[:-1]]
    line_number = np.arange(rows) - np.maximum.accumulate(np.where(first_of_entry, np.arange(rows), 0)) + 1
    n_entries = int(entry_of_row.max()) + 1
    span = (end - start).days
    entry_days = np.sort(rng.integers(0, span + 1, size=n_entries))
    serial = 1_000_000 + np.cumsum(rng.integers(1, 40, size=n_entries))
    supplier_lists = table.get_column("suppliers").to_list()
    flat = np.array([name for names in supplier_lists for name in names], dtype=object)
    counts = np.array([len(names) for names in supplier_lists])
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    pick = starts[option] + np.floor(rng.random(rows) * counts[option]).astype(np.int64)
    supplier = flat[pick].tolist()
    claim = rng.random(rows) < 0.92

    frame = picked.select(
        "hts", "description", "part", "unit", "origin", "program", "smelt_cast"
    ).with_columns(
        pl.Series("entry_serial", serial[entry_of_row]),
        pl.Series("line_number", line_number),
        (pl.lit(start) + pl.duration(days=pl.lit(pl.Series(entry_days[entry_of_row])))).alias("entry_date"),
        pl.Series("quantity", quantity),
        pl.Series("net_kg", np.round(net_kg, 3)),
        pl.Series("value", value),
        pl.Series("supplier", supplier),
        pl.Series("claim", claim),
    )
    prefix = profile["entry_prefix"]
    return frame.with_columns(
        (
            pl.lit(prefix + "-")
            + pl.col("entry_serial").cast(pl.String)
            + pl.lit("-")
            + (pl.col("entry_serial") % 10).cast(pl.String)
        ).alias("entry_number"),
        pl.when(pl.col("claim")).then(pl.col("program")).alias("program"),
        pl.when(pl.col("smelt_cast")).then(pl.col("origin")).alias("smelt_cast_country"),
    ).drop("claim", "entry_serial", "smelt_cast")


def _country_spellings() -> pl.DataFrame:
    return countries().select(
        pl.col("iso3").alias("origin"), "iso2", pl.col("display_name").alias("country_name")
    )


def format_ledger(frame: pl.DataFrame, style: str) -> pl.DataFrame:
    """Write typed values the way a broker report, an ACE extract or an ERP export prints them."""
    heads = STYLES[style]
    spell = _country_spellings()
    frame = frame.join(spell, on="origin", how="left", maintain_order="left")
    smelt = spell.rename({"origin": "smelt_cast_country", "iso2": "smelt_iso2", "country_name": "smelt_name"})
    frame = frame.join(smelt, on="smelt_cast_country", how="left", maintain_order="left")
    counted = pl.col("unit") != "kg"
    if style == "broker":
        quantity = (
            pl.when(counted)
            .then(pl.col("quantity").cast(pl.Int64).cast(pl.String))
            .otherwise(pl.col("quantity").round(1).cast(pl.String))
        )
        value = pl.col("value").map_batches(_thousands, return_dtype=pl.String)
        out = {
            heads["entry_number"]: pl.col("entry_number"),
            heads["line_number"]: pl.col("line_number").cast(pl.String),
            heads["entry_date"]: pl.col("entry_date").dt.strftime("%m/%d/%Y"),
            heads["hts"]: pl.col("hts"),
            heads["description"]: pl.col("description"),
            heads["part_number"]: pl.col("part"),
            heads["country_origin"]: pl.col("iso2"),
            heads["country_export"]: pl.col("iso2"),
            heads["country_smelt_cast"]: pl.col("smelt_iso2"),
            heads["supplier"]: pl.col("supplier"),
            heads["quantity"]: quantity,
            heads["unit"]: pl.when(counted).then(pl.lit("NO")).otherwise(pl.lit("KG")),
            heads["weight"]: pl.col("net_kg").round(3).cast(pl.String),
            heads["value"]: value,
            heads["program"]: pl.col("program"),
        }
    elif style == "ace":
        out = {
            heads["entry_number"]: pl.col("entry_number").str.replace_all("-", ""),
            heads["line_number"]: pl.col("line_number").cast(pl.String).str.zfill(3),
            heads["entry_date"]: pl.col("entry_date").dt.strftime("%Y-%m-%d"),
            heads["hts"]: pl.col("hts").str.replace_all(r"\.", ""),
            heads["description"]: pl.col("description").str.to_uppercase(),
            heads["part_number"]: pl.col("part"),
            heads["country_origin"]: pl.col("iso2"),
            heads["country_export"]: pl.col("iso2"),
            heads["country_smelt_cast"]: pl.col("smelt_iso2"),
            heads["supplier"]: pl.col("supplier").str.to_uppercase(),
            heads["quantity"]: pl.when(counted)
            .then(pl.col("quantity").cast(pl.Int64).cast(pl.String))
            .otherwise(pl.col("quantity").round(1).cast(pl.String)),
            heads["unit"]: pl.when(counted).then(pl.lit("NO")).otherwise(pl.lit("KG")),
            heads["weight"]: pl.col("net_kg").round(0).cast(pl.Int64).cast(pl.String),
            heads["value"]: pl.col("value").round(0).cast(pl.Int64).cast(pl.String),
            heads["program"]: pl.col("program"),
        }
    else:
        names = pl.col("program").replace_strict(_PROGRAM_NAMES, default=None, return_dtype=pl.String)
        out = {
            heads["line_id"]: pl.lit("PO")
            + pl.col("entry_date").dt.year().cast(pl.String)
            + pl.lit("-")
            + pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(6),
            heads["entry_date"]: pl.col("entry_date").dt.strftime("%d-%b-%Y"),
            heads["hts"]: pl.col("hts"),
            heads["description"]: pl.col("description"),
            heads["part_number"]: pl.col("part"),
            heads["country_origin"]: pl.col("country_name"),
            heads["supplier"]: pl.col("supplier"),
            heads["quantity"]: pl.when(counted)
            .then(pl.col("quantity").cast(pl.Int64).cast(pl.String))
            .otherwise(pl.col("quantity").round(1).cast(pl.String)),
            heads["unit"]: pl.when(counted).then(pl.lit("pcs")).otherwise(pl.lit("kg")),
            heads["weight"]: pl.col("net_kg").round(3).cast(pl.String),
            heads["value"]: pl.col("value").round(2).cast(pl.String),
            heads["program"]: names,
        }
    return frame.select([expr.alias(name) for name, expr in out.items()])


def _thousands(values: pl.Series) -> pl.Series:
    """``1234567.8`` -> ``1,234,567.80`` (as a broker report prints money)."""
    cents = (values * 100).round(0).cast(pl.Int64)
    whole = (cents // 100).cast(pl.String)
    frac = (cents % 100).cast(pl.String).str.zfill(2)
    grouped = whole.str.reverse().str.replace_all(r"(\d{3})", "$1,").str.strip_chars_end(",").str.reverse()
    return pl.select(pl.lit(grouped) + pl.lit(".") + pl.lit(frac)).to_series()


PLANTED_ERRORS: tuple[tuple[str, str], ...] = (
    ("hts_unknown", "an HTS number with a wrong statistical suffix (8505.11.00.80)"),
    ("country_unknown", "a misspelt country of origin (Chinaa)"),
    ("value_invalid", "a value still to be determined (TBD)"),
    ("date_missing", "an empty entry date"),
    ("duplicate_line", "a line exported twice"),
    ("unit_unknown", "a unit of BOX"),
    ("value_negative", "a credit line with a negative value"),
    ("hts_repaired", "an HTS number that a spreadsheet turned into 8112.921 (loaded, with a warning)"),
    ("preference_unknown", "a preference claim under the expired NAFTA"),
    ("date_invalid", "an impossible date (30 February)"),
)


def _excel_mangled(code: str) -> str:
    """How a spreadsheet shows an HTS number typed as a number: ``8112.92.10.00`` -> ``8112.921``."""
    digits = code.replace(".", "")
    return (digits[:4] + "." + digits[4:]).rstrip("0").rstrip(".")


def _first_at_or_after(rows: list[dict[str, Any]], start: int, stop: int, column: str, prefix: str) -> int:
    """The first row in [start, stop) whose code starts with ``prefix``, else ``start``."""
    for index in range(start, stop):
        value = rows[index].get(column) or ""
        if value.replace(".", "").startswith(prefix):
            return index
    return start


def plant_errors(text: pl.DataFrame, style: str) -> pl.DataFrame:
    """Put one of each :data:`PLANTED_ERRORS` into a formatted ledger, at fixed relative positions.

    Runs over the ten planted rows only (small, fixed work), not over the ledger.
    """
    heads = STYLES[style]
    n = text.height
    if n < 20:
        raise InputError("--with-errors needs at least 20 rows.")
    rows = text.to_dicts()
    at = [int(n * f) for f in (0.05, 0.11, 0.17, 0.23, 0.29, 0.35, 0.41, 0.53, 0.59, 0.65)]
    bad_date = {"broker": "02/30/2025", "ace": "2025-02-30", "erp": "30-Feb-2025"}[style]
    hts = heads["hts"]
    wrong = _first_at_or_after(rows, at[0], at[1], hts, "850511")
    code = rows[wrong][hts]
    rows[wrong][hts] = code[:-2] + ("81" if code.endswith("80") else "80")
    rows[at[1]][heads["country_origin"]] = "Chinaa"
    rows[at[2]][heads["value"]] = "TBD"
    rows[at[3]][heads["entry_date"]] = None
    rows[at[5]][heads["unit"]] = "BOX"
    rows[at[6]][heads["value"]] = "-1,250.00" if style == "broker" else "-1250.00"
    mangled = _first_at_or_after(rows, at[7], at[8], hts, "81129210")
    if mangled == at[7]:  # no gallium line: any code whose shortened form shows it was cut
        odd = [i for i in range(at[7], at[8]) if len(_excel_mangled(rows[i][hts]).replace(".", "")) % 2]
        mangled = odd[0] if odd else at[7]
    rows[mangled][hts] = _excel_mangled(rows[mangled][hts])
    rows[at[8]][heads["program"]] = "NAFTA"
    rows[at[9]][heads["entry_date"]] = bad_date
    duplicate = dict(rows[at[4]])
    rows.insert(at[4] + 1, duplicate)
    return pl.DataFrame(rows, schema=text.schema)


def generate_ledger(company: str, rows: int, seed: int = 1, *, with_errors: bool = False) -> pl.DataFrame:
    """A sample ledger as the company's system would export it (all columns text)."""
    style = _profile(company)["style"]
    text = format_ledger(generate_frame(company, rows, seed), style)
    return plant_errors(text, style) if with_errors else text


def write_ledger(frame: pl.DataFrame, out: Path) -> Path:
    """Write a generated ledger as CSV, TSV, Excel or Parquet, chosen by the file suffix."""
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".xlsx":
        frame.write_excel(out, worksheet="ledger")
    elif suffix in {".parquet", ".pq"}:
        frame.write_parquet(out)
    elif suffix in {".tsv", ".tab"}:
        frame.write_csv(out, separator="\t")
    else:
        frame.write_csv(out)
    return out


def sample_path(name: str) -> Path:
    """Path of a shipped sample file (``defense_prime_ledger.csv``, ``battery_maker_bom.csv``, ...)."""
    path = LEDGER_SAMPLES_DIR / name
    if not path.exists():
        available = sorted(p.name for p in LEDGER_SAMPLES_DIR.glob("*.csv"))
        raise InputError(f"No sample {name!r}; shipped samples: {', '.join(available)}.")
    return path
