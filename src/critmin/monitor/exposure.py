"""Which ledger lines a (watch entry, document) pair touches, decided with joins over whole frames.

The rule, per pair, in order:

1. **document** — the document names products (HTS codes or minerals): the lines matching them.
2. **document_countries** — it names no product but names countries: the lines from those countries
   (within the entry's product scope, if the entry has one).
3. **watchlist** — it names neither: the lines in the entry's product scope (its ``hts`` and ``minerals``).
4. **none** — nothing to go on: no lines.

An entry's ``countries`` always narrow the result to lines from those origins. Lines whose origin the document
names are flagged ``origin_mentioned``. With ``require_mention`` an entry's pair is *suppressed* unless the
document names something in the entry's scope (a code either way along the HTS tree, a mineral allowing for
the rare-earth/PGM aggregates, or a country).
"""

from __future__ import annotations

import polars as pl

from critmin.monitor.match import country_matches, mineral_expansion, product_matches, vocabulary
from critmin.monitor.watchlist import Watchlist

PAIR_SCHEMA: dict[str, pl.DataType] = {"entry_id": pl.String(), "document_number": pl.String()}


def entry_frames(watchlist: Watchlist) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(entries, scope criteria (key, kind, value), entry countries (entry_id, iso3)) from a watchlist."""
    entries = pl.DataFrame(
        [
            {
                "entry_id": e.id,
                "has_scope": bool(e.hts or e.minerals),
                "has_countries": bool(e.countries),
                "require_mention": e.require_mention,
                "measure_id": e.measure,
            }
            for e in watchlist.entries
        ],
        schema={
            "entry_id": pl.String,
            "has_scope": pl.Boolean,
            "has_countries": pl.Boolean,
            "require_mention": pl.Boolean,
            "measure_id": pl.String,
        },
    )
    scope_rows = [{"key": e.id, "kind": "hts", "value": code} for e in watchlist.entries for code in e.hts]
    scope_rows += [
        {"key": e.id, "kind": "mineral", "value": m} for e in watchlist.entries for m in e.minerals
    ]
    scope = pl.DataFrame(scope_rows, schema={"key": pl.String, "kind": pl.String, "value": pl.String})
    countries = pl.DataFrame(
        [{"entry_id": e.id, "iso3": c} for e in watchlist.entries for c in e.countries],
        schema={"entry_id": pl.String, "iso3": pl.String},
    )
    return entries, scope, countries


def classify_pairs(pairs: pl.DataFrame, mentions: pl.DataFrame, watchlist: Watchlist) -> pl.DataFrame:
    """Each pair with its alert id, basis and suppression flag (and the entry's measure)."""
    entries, scope, countries = entry_frames(watchlist)
    flags = mentions.group_by("document_number").agg(
        pl.col("kind").is_in(["hts", "mineral"]).any().alias("doc_products"),
        (pl.col("kind") == "country").any().alias("doc_countries"),
    )
    out = (
        pairs.join(flags, on="document_number", how="left")
        .join(entries, on="entry_id", how="left")
        .with_columns(
            pl.col("doc_products").fill_null(False),
            pl.col("doc_countries").fill_null(False),
            (pl.col("entry_id") + "/" + pl.col("document_number")).alias("alert_id"),
        )
        .with_columns(
            pl.when(pl.col("doc_products"))
            .then(pl.lit("document"))
            .when(pl.col("doc_countries"))
            .then(pl.lit("document_countries"))
            .when(pl.col("has_scope"))
            .then(pl.lit("watchlist"))
            .otherwise(pl.lit("none"))
            .alias("basis")
        )
    )
    mentioned = _mentions_in_scope(out.filter(pl.col("require_mention")), mentions, scope, countries)
    return out.join(mentioned, on="alert_id", how="left").with_columns(
        (pl.col("require_mention") & ~pl.col("in_scope").fill_null(False)).alias("suppressed")
    )


def _mentions_in_scope(
    pairs: pl.DataFrame, mentions: pl.DataFrame, scope: pl.DataFrame, countries: pl.DataFrame
) -> pl.DataFrame:
    base = pairs.select("alert_id", "entry_id", "document_number")
    doc = mentions.select("document_number", "kind", "value")
    hts = (
        base.join(doc.filter(pl.col("kind") == "hts"), on="document_number")
        .join(scope.filter(pl.col("kind") == "hts"), left_on="entry_id", right_on="key", suffix="_scope")
        .filter(
            pl.col("value").str.starts_with(pl.col("value_scope"))
            | pl.col("value_scope").str.starts_with(pl.col("value"))
        )
        .select("alert_id")
    )
    expansion = mineral_expansion(vocabulary().mineral_ids)
    minerals = (
        base.join(doc.filter(pl.col("kind") == "mineral"), on="document_number")
        .join(expansion, left_on="value", right_on="mentioned")
        .join(
            scope.filter(pl.col("kind") == "mineral"),
            left_on=["entry_id", "on_line"],
            right_on=["key", "value"],
        )
        .select("alert_id")
    )
    named = (
        base.join(doc.filter(pl.col("kind") == "country"), on="document_number")
        .join(countries, left_on=["entry_id", "value"], right_on=["entry_id", "iso3"])
        .select("alert_id")
    )
    return pl.concat([hts, minerals, named]).unique().with_columns(pl.lit(True).alias("in_scope"))


def touched_lines(
    pairs: pl.DataFrame,
    mentions: pl.DataFrame,
    watchlist: Watchlist,
    lines: pl.DataFrame,
    line_minerals: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Lines touched, computed once per distinct *selection* rather than once per alert.

    Pairs that select lines the same way (same basis, same named products and countries, same entry scope and
    country filter) share a ``selection`` key, so a thousand notices naming the same code cost one join.
    Returns ``(alert_id, selection)`` and ``(selection, line_id, via: list[str], origin_mentioned)``.
    """
    _, scope, countries = entry_frames(watchlist)
    docs = mentions.group_by("document_number").agg(
        pl.concat_str("kind", pl.lit(":"), "value")
        .filter(pl.col("kind").is_in(["hts", "mineral"]))
        .unique()
        .sort()
        .str.join(",")
        .alias("products"),
        pl.col("value").filter(pl.col("kind") == "country").unique().sort().str.join(",").alias("named"),
    )
    entry_countries = countries.group_by("entry_id").agg(
        pl.col("iso3").unique().sort().str.join(",").alias("ec")
    )
    uses_scope = (pl.col("basis") == "watchlist") | (
        (pl.col("basis") == "document_countries") & pl.col("has_scope")
    )
    keyed = (
        pairs.join(docs, on="document_number", how="left")
        .join(entry_countries, on="entry_id", how="left")
        .with_columns(
            pl.concat_str(
                [
                    pl.col("basis"),
                    pl.when(pl.col("basis") == "document").then(pl.col("products")).otherwise(pl.lit("")),
                    pl.col("named").fill_null(""),
                    pl.when(uses_scope).then(pl.col("entry_id")).otherwise(pl.lit("")),
                    pl.when(pl.col("has_countries")).then(pl.col("ec")).otherwise(pl.lit("")),
                ],
                separator="|",
            ).alias("selection")
        )
    )
    selections = keyed.group_by("selection").agg(
        pl.col("basis").first(),
        pl.col("document_number").first().alias("doc"),
        pl.col("entry_id").first().alias("entry"),
        pl.col("has_scope").first(),
        pl.col("has_countries").first(),
    )
    doc_criteria = selections.select("selection", "doc").join(
        mentions, left_on="doc", right_on="document_number"
    )
    by_doc = product_matches(
        doc_criteria.filter(pl.col("kind").is_in(["hts", "mineral"])).select(
            pl.col("selection").alias("key"), "kind", "value"
        ),
        lines,
        line_minerals,
    )
    by_country = country_matches(
        doc_criteria.filter(pl.col("kind") == "country").select(pl.col("selection").alias("key"), "value"),
        lines,
    )
    in_scope = product_matches(scope, lines, line_minerals).select(
        pl.col("key").alias("entry"), "line_id", "via"
    )

    def of(basis: str) -> pl.DataFrame:
        return selections.filter(pl.col("basis") == basis)

    a = of("document").join(by_doc, left_on="selection", right_on="key")
    b_all = of("document_countries").join(by_country, left_on="selection", right_on="key")
    b = pl.concat(
        [
            b_all.filter(~pl.col("has_scope")),
            b_all.filter(pl.col("has_scope")).join(
                in_scope.select("entry", "line_id"), on=["entry", "line_id"], how="semi"
            ),
        ]
    )
    c = of("watchlist").join(in_scope, on="entry")
    cols = ["selection", "entry", "has_countries", "line_id", "via"]
    touched = pl.concat([a.select(cols), b.select(cols), c.select(cols)]).join(
        lines.select("line_id", "country_origin"), on="line_id"
    )
    touched = pl.concat(
        [
            touched.filter(~pl.col("has_countries")),
            touched.filter(pl.col("has_countries")).join(
                countries, left_on=["entry", "country_origin"], right_on=["entry_id", "iso3"], how="semi"
            ),
        ]
    )
    origin_named = by_country.select(pl.col("key").alias("selection"), "line_id").unique()
    touched = (
        touched.group_by("selection", "line_id")
        .agg(pl.col("via").unique().sort())
        .join(
            origin_named.with_columns(pl.lit(True).alias("origin_mentioned")),
            on=["selection", "line_id"],
            how="left",
        )
        .with_columns(pl.col("origin_mentioned").fill_null(False))
    )
    return keyed.select("alert_id", "selection"), touched
