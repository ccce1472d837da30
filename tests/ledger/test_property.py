"""Property tests: malformed input never crashes ingest and never loses a row.

The oracle for "how many rows are there" is Python's own csv module reading the same bytes: every record
after the header that is not wholly blank must be either loaded or quarantined.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from critmin.errors import InputError
from critmin.ledger.ingest import ingest

HEADER = ["Entry Date", "HTS", "COO", "Value", "Qty", "UOM", "Line ID"]

cell = st.one_of(
    st.sampled_from(
        [
            "2025-03-14",
            "03/14/2025",
            "8505.11.00.70",
            "8112.921",
            "CN",
            "Chinaa",
            "1,234.50",
            "-5",
            "kg",
            "BOX",
            "",
            " ",
            "N/A",
            "45730",
            "TBD",
            "L-1",
            "L-2",
            '"',
            "a,b",
            "12 kg",
            "x\ny",
            "\t",
        ]
    ),
    # a bare carriage return is a line break to every CSV reader; writers quote it only sometimes
    st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00\r"), max_size=12),
)
row = st.lists(cell, min_size=0, max_size=9)


def _records(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(row, min_size=0, max_size=25), chunk=st.sampled_from([3, 7, 1000]))
def test_every_row_is_loaded_or_quarantined(rows: list[list[str]], chunk: int) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    text = buffer.getvalue()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.csv"
        path.write_text(text, encoding="utf-8")
        result = ingest(path, chunk_rows=chunk)
    assert result.rows_in == result.rows_loaded + result.rows_quarantined
    records = _records(text)[1:]
    non_blank = [r for r in records if any(c.strip() for c in r)]
    assert result.rows_in == len(non_blank)
    assert result.lines.get_column("line_id").n_unique() == result.rows_loaded
    quarantined = set(result.quarantine.get_column("source_row").to_list())
    assert len(quarantined) == result.rows_quarantined


@settings(max_examples=30, deadline=None)
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "junk.csv"
        path.write_bytes(b"Entry Date,HTS,COO,Value\n" + data)
        try:
            result = ingest(path, chunk_rows=5)
        except InputError:
            return  # a clear "cannot be read" is allowed; a crash is not
        assert result.rows_in == result.rows_loaded + result.rows_quarantined


def test_truncated_utf8_with_a_byte_cp1252_lacks_is_read_as_latin1() -> None:
    # valid UTF-8 until the last two bytes, an unfinished 3-byte sequence containing 0x8d (undefined in
    # CP1252): only the final decode shows the file is not UTF-8, and CP1252 cannot decode it either
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "junk.csv"
        path.write_bytes(b"Entry Date,HTS,COO,Value\n2026-01-05,8505110070,CHN,100\n\xe2\x8d")
        result = ingest(path, chunk_rows=5)
        assert result.rows_in == result.rows_loaded + result.rows_quarantined
