"""Census Bureau international trade API: U.S. imports by HTS code and country, monthly.

Used for national context around an alert ("the U.S. imported $X of this code from China last year").
Endpoint ``<base>/timeseries/intltrade/imports/hs`` with base ``https://api.census.gov/data`` unless
``CRITMIN_CENSUS_URL`` says otherwise. A key is optional (the API allows a small number of keyless calls a
day); it comes from the argument or ``CRITMIN_CENSUS_KEY``.

The API answers with a JSON array of arrays whose first row is the header, every value a string; predicate
variables are echoed as extra columns (sometimes twice). A query with no data answers ``204 No Content``
with an empty body, which is an empty result, not an error.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from critmin.monitor.errors import MalformedResponseError
from critmin.monitor.http import JsonClient

ENV_BASE_URL = "CRITMIN_CENSUS_URL"
ENV_KEY = "CRITMIN_CENSUS_KEY"
PUBLIC_BASE_URL = "https://api.census.gov/data"
IMPORTS_PATH = "timeseries/intltrade/imports/hs"

GET_VARIABLES: tuple[str, ...] = (
    "CTY_CODE",
    "CTY_NAME",
    "I_COMMODITY",
    "I_COMMODITY_SDESC",
    "GEN_VAL_MO",
    "CON_VAL_MO",
    "GEN_QY1_MO",
    "UNIT_QY1",
)
"""Country, commodity, general imports and imports for consumption (USD), first quantity and its unit."""

IMPORTS_SCHEMA: dict[str, pl.DataType] = {
    "period": pl.Date(),  # first day of the month
    "hts": pl.String(),
    "hts_level": pl.String(),  # HS2, HS4, HS6 or HS10
    "description": pl.String(),
    "cty_code": pl.String(),  # Census Schedule C code, e.g. 5700 (China)
    "country": pl.String(),  # ISO 3166 alpha-3 (null for Census aggregates such as regions)
    "country_name": pl.String(),
    "general_value_usd": pl.Float64(),
    "consumption_value_usd": pl.Float64(),
    "quantity": pl.Float64(),
    "quantity_unit": pl.String(),
}

_COLUMN_MAP = {
    "CTY_CODE": "cty_code",
    "CTY_NAME": "country_name",
    "I_COMMODITY": "hts",
    "I_COMMODITY_SDESC": "description",
    "GEN_VAL_MO": "general_value_usd",
    "CON_VAL_MO": "consumption_value_usd",
    "GEN_QY1_MO": "quantity",
    "UNIT_QY1": "quantity_unit",
    "time": "period",
}


def base_url_from_env() -> str:
    return os.environ.get(ENV_BASE_URL, PUBLIC_BASE_URL).rstrip("/")


def census_country_codes() -> pl.DataFrame:
    """(census_code, iso3) from the shipped country table, for joining Census rows to critmin countries."""
    from critmin.refdata.countries import countries

    return (
        countries()
        .select(pl.col("census_code").alias("cty_code"), pl.col("iso3").alias("country"))
        .drop_nulls()
    )


def census_code(country: str) -> str:
    """The Census Schedule C code of a country given as ISO3 or name (raises with suggestions if unknown)."""
    from critmin.errors import UnknownCountryError
    from critmin.refdata.countries import resolve

    iso3 = resolve(country)
    found = census_country_codes().filter(pl.col("country") == iso3)
    if found.height == 0:
        raise UnknownCountryError(country, [f"{iso3} has no Census Schedule C code"])
    return str(found.item(0, "cty_code"))


@dataclass(frozen=True)
class ImportsQuery:
    """Monthly imports of one HTS code (2, 4, 6 or 10 digits), optionally from one country."""

    hts: str
    start: str  # YYYY-MM
    end: str  # YYYY-MM
    cty_code: str | None = None

    def __post_init__(self) -> None:
        digits = "".join(ch for ch in self.hts if ch.isdigit())
        if len(digits) not in (2, 4, 6, 10):
            raise ValueError(
                f"Census imports are published at HS2, HS4, HS6 or HS10; {self.hts!r} has {len(digits)} "
                "digits."
            )
        for label, value in (("start", self.start), ("end", self.end)):
            if len(value) != 7 or value[4] != "-" or not (value[:4] + value[5:]).isdigit():
                raise ValueError(f"ImportsQuery.{label} must be a month as YYYY-MM, got {value!r}.")
        object.__setattr__(self, "hts", digits)

    @property
    def level(self) -> str:
        return f"HS{len(self.hts)}"

    def params(self, key: str | None) -> list[tuple[str, str]]:
        out = [
            ("get", ",".join(GET_VARIABLES)),
            ("I_COMMODITY", self.hts),
            ("COMM_LVL", self.level),
            ("time", f"from {self.start} to {self.end}"),
        ]
        if self.cty_code:
            out.append(("CTY_CODE", self.cty_code))
        if key:
            out.append(("key", key))
        return out


class CensusTradeClient:
    """Read monthly U.S. import statistics from the Census international trade API."""

    def __init__(
        self, base_url: str | None = None, *, key: str | None = None, http: JsonClient | None = None
    ) -> None:
        self.base_url = (base_url or base_url_from_env()).rstrip("/")
        self.key = key if key is not None else os.environ.get(ENV_KEY) or None
        self.http = http or JsonClient()
        self._owns_http = http is None

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> CensusTradeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def imports(self, query: ImportsQuery) -> pl.DataFrame:
        """Monthly imports for one code (and country), one row per month x country, in ``IMPORTS_SCHEMA``."""
        url = f"{self.base_url}/{IMPORTS_PATH}"
        result = self.http.get_json(url, query.params(self.key), allow_empty=True)
        if result.data is None:  # 204 No Content: the query matched nothing
            return pl.DataFrame(schema=IMPORTS_SCHEMA)
        return parse_table(result.data, url=result.url, level=query.level)

    def imports_many(self, queries: Sequence[ImportsQuery]) -> pl.DataFrame:
        frames = [self.imports(query) for query in queries]
        return pl.concat(frames, how="vertical") if frames else pl.DataFrame(schema=IMPORTS_SCHEMA)


def parse_table(data: Any, *, url: str, level: str) -> pl.DataFrame:
    """Turn the API's header-plus-rows array into typed columns, checking the shape as it goes."""
    if not isinstance(data, list) or not data or not isinstance(data[0], list):
        raise MalformedResponseError(
            f"{url} did not return the Census table format (a JSON array whose first element is the header "
            "row).",
            url=url,
        )
    header = [str(name) for name in data[0]]
    rows = data[1:]
    width = len(header)
    for index, row in enumerate(rows, start=2):
        if not isinstance(row, list) or len(row) != width:
            raise MalformedResponseError(
                f"{url}: row {index} has {len(row) if isinstance(row, list) else 'no'} values, the header "
                f"has {width}.",
                url=url,
            )
    positions: dict[str, int] = {}
    for position, name in enumerate(header):
        positions.setdefault(name, position)  # predicates can be echoed twice; the first copy wins
    missing = [name for name in ("CTY_CODE", "I_COMMODITY", "GEN_VAL_MO", "time") if name not in positions]
    if missing:
        raise MalformedResponseError(f"{url}: the header lacks {', '.join(missing)}; got {header}.", url=url)
    columns = {
        target: [row[positions[source]] for row in rows] if source in positions else [None] * len(rows)
        for source, target in _COLUMN_MAP.items()
    }
    frame = pl.DataFrame(columns, schema={name: pl.String() for name in columns})
    numeric = ["general_value_usd", "consumption_value_usd", "quantity"]
    frame = frame.with_columns(
        [pl.col(name).str.strip_chars().cast(pl.Float64, strict=False) for name in numeric]
        + [
            (pl.col("period") + "-01").str.to_date("%Y-%m-%d", strict=False),
            pl.lit(level).alias("hts_level"),
        ]
    )
    bad = frame.filter(pl.col("period").is_null() | pl.col("general_value_usd").is_null())
    if bad.height:
        raise MalformedResponseError(
            f"{url}: {bad.height} row(s) have an unreadable month or value (first: "
            f"{bad.row(0, named=True)}).",
            url=url,
        )
    frame = frame.join(census_country_codes(), on="cty_code", how="left")
    return frame.select(list(IMPORTS_SCHEMA)).sort(["period", "cty_code"])
