"""HTS 2026 Rev. 6 chapter 99 headings (dataset ``hts_ch99_2026_rev6``) and the lookup in ``refdata.ch99``."""

from __future__ import annotations

import json

import polars as pl
import pytest

from critmin.paths import raw_data_dir
from critmin.refdata import ch99
from critmin.refdata.builders.tariff_2026 import rate_kind_and_pct


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return ch99.load_ch99()


def test_counts_and_columns(frame: pl.DataFrame) -> None:
    counts = dict(frame.group_by(pl.col("heading").str.slice(0, 4)).len().iter_rows())
    assert counts == {"9902": 1655, "9903": 487}
    assert frame["heading"].is_unique().all()
    assert frame["heading"].str.contains(r"^99\d{2}\.\d{2}\.\d{2}$").all()
    assert frame.schema["rate_pct"] == pl.Float64
    assert frame.select(pl.col("revision").unique()).item() == "2026 Rev. 6"
    assert str(frame.select(pl.col("revision_date").unique()).item()) == "2026-04-23"
    # every heading has its description; no soft hyphen (Latin-1 0xAD) is left in any text
    assert (frame["description"].str.len_chars() > 0).all()
    for column in ("description", "superior", "rate_text"):
        assert not frame[column].drop_nulls().str.contains("\u00ad").any(), column


@pytest.mark.parametrize(
    ("number", "pct", "text"),
    [
        ("9903.82.02", 50.0, "The duty provided in the applicable subheading + 50%"),
        ("9903.82.04", 25.0, "The duty provided in the applicable subheading + 25%"),
        ("9903.82.05", 15.0, None),  # its "15%" is printed on the line of 9903.82.06
        ("9903.88.01", 25.0, "The duty provided in the applicable subheading plus 25%"),
        ("9903.88.15", 7.5, None),
        ("9903.03.01", 10.0, "The duty provided in the applicable subheading + 10%"),
        ("9903.01.01", 25.0, None),
        ("9903.01.10", 35.0, None),
        ("9903.01.15", 10.0, "The duty provided in the applicable subheading +10%"),  # no space in the source
        ("9903.85.67", 200.0, None),
        ("9903.88.05", 0.0, "The duty provided in the applicable subheading"),
        ("9903.79.01", 25.0, None),
    ],
)
def test_known_rates(number: str, pct: float, text: str | None) -> None:
    found = ch99.heading(number)
    assert found is not None
    assert found.rate_pct == pct
    if text is not None:
        assert found.rate_text == text


def test_rates_that_are_not_one_additional_percent() -> None:
    combined = ch99.heading("9903.82.07")  # combined total of 10 %, printed above its heading row
    assert combined is not None and combined.rate_text == "10%" and combined.rate_pct is None
    no_change = ch99.heading("9903.82.03")
    assert no_change is not None and no_change.rate_text == "No change" and no_change.rate_pct is None
    content = ch99.heading("9903.94.03")
    assert content is not None and content.rate_pct is None
    assert content.rate_text is not None and "non-U.S. content" in content.rate_text
    column2_only = ch99.heading("9903.01.29")  # general note 3(b) countries: no column 1 rate
    assert column2_only is not None and column2_only.rate_text is None
    reduction = ch99.heading("9902.01.04")
    assert reduction is not None and reduction.rate_text == "7.2%" and reduction.rate_pct is None


def test_section_301_china_rates_agree_with_yale() -> None:
    """Every Section 301 heading rate Yale's tracker uses is the one the Rev. 6 text prints."""
    params = json.loads(
        (raw_data_dir() / "yale-budget-lab-tariff-rate-tracker" / "policy_params.json").read_text()
    )
    for item in params["section_301_rates"]:
        found = ch99.heading(item["ch99_pattern"])
        assert found is not None, item["ch99_pattern"]
        assert found.rate_pct == pytest.approx(100 * float(item["s301_rate"])), item["ch99_pattern"]


def test_rates_drifting_down_the_page_are_paired_in_order() -> None:
    # On that page the PDF text prints each rate one or two heading rows below its own.
    expected = {"02": 50, "03": 100, "04": 25, "05": 50, "06": 25, "07": 50, "08": 100}
    for suffix, pct in expected.items():
        found = ch99.heading(f"9903.91.{suffix}")
        assert found is not None and found.rate_pct == pct, suffix


def test_section_232_metal_rates_agree_with_the_heading_table(frame: pl.DataFrame) -> None:
    from critmin import refdata

    table = refdata.load("s232_metals_2026_headings").filter(
        pl.col("rate_mechanic").str.starts_with("additional")
    )
    joined = table.join(frame, on="heading", how="left")
    assert joined.height == 12  # .02, .04-.06, .09, .12, .14-.17 and 9903.85.67/.68
    assert (joined["rate"] * 100 == joined["rate_pct"]).all()


def test_heading_lookup_accepts_both_spellings() -> None:
    dotted = ch99.heading("9903.82.02")
    assert dotted is not None
    assert ch99.heading("99038202") == dotted
    assert ch99.heading(" 9903 82 02 ") == dotted
    assert "(c)(i)\u2013(v) of U.S. note 16" in dotted.description
    assert dotted.description.startswith("Except as provided for in headings 9903.82.14")
    assert not dotted.description.endswith(".")
    assert ch99.heading("9903.82.01") is None  # added by Rev. 7
    assert ch99.heading("9903.05.20") is None  # Section 301 forced labor came after Rev. 6
    assert ch99.heading("8505.11.00") is None
    assert ch99.heading("not a heading") is None
    assert ch99.normalise_heading("99038202") == "9903.82.02"


def test_superior_text_is_kept_for_indented_headings(frame: pl.DataFrame) -> None:
    row = frame.filter(pl.col("heading") == "9903.01.13").row(0, named=True)
    assert row["description"].startswith("Crude oil, natural gas")
    assert row["superior"].endswith("articles the product of Canada:")
    assert frame.filter(pl.col("heading") == "9903.82.02")["superior"].item() is None


@pytest.mark.parametrize(
    ("text", "kind", "pct"),
    [
        ("The duty provided in the applicable subheading + 25%", "additional", 25.0),
        ("The duty provided in the applicable subheading plus 7.5%", "additional", 7.5),
        ("The duty provided inthe applicable subheading+ 25%", "additional", 25.0),
        ("The duty provided in the applicable subheading", "subheading", 0.0),
        ("15%", "rate", None),
        ("Free", "free", None),
        ("no change", "no_change", None),
        ("The duty provided in subheadings 8716.39.00, 8716.90.30 or 8716.90.50 + 100%", "other", None),
        (None, None, None),
    ],
)
def test_rate_kinds(text: str | None, kind: str | None, pct: float | None) -> None:
    assert rate_kind_and_pct(text) == (kind, pct)
