"""Rewrite the table of in-force measures in docs/measures.md from the shipped library.

Usage: python scripts/build_measures_doc.py   (tests/policy/test_docs.py fails while the table is stale)
"""

from __future__ import annotations

from pathlib import Path

from critmin.policy.catalogue import BEGIN, END, markdown_table

DOC = Path(__file__).resolve().parents[1] / "docs" / "measures.md"


def main() -> None:
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    DOC.write_text(text[:start] + markdown_table() + text[end:], encoding="utf-8")


if __name__ == "__main__":
    main()
