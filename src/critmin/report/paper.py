"""The printed page: paper size and margins, shared by the HTML's print stylesheet and the PDF printer.

The HTML lays every table out for the width left between the margins (a table wider than that is split
into column groups, see :mod:`critmin.report.html`), and Chromium draws the charts at that width, so
nothing overflows the page and Chromium never shrinks the page to fit: text prints at its stated size.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from critmin.errors import InputError

CSS_PX_PER_INCH = 96


class Paper(StrEnum):
    """Paper the PDF is printed on: US Letter by default, A4 for the rest of the world."""

    letter = "letter"
    a4 = "a4"


DEFAULT_PAPER = Paper.letter


@dataclass(frozen=True)
class PageGeometry:
    """A sheet and its margins, in inches; the top and bottom margins hold the running header and footer."""

    css_size: str
    width_in: float
    height_in: float
    margin_x_in: float = 0.5
    margin_top_in: float = 0.7
    margin_bottom_in: float = 0.6

    @property
    def content_width_px(self) -> int:
        """Width between the side margins in CSS pixels: what tables and charts must fit in."""
        return int((self.width_in - 2 * self.margin_x_in) * CSS_PX_PER_INCH)

    @property
    def css_margin(self) -> str:
        return f"{self.margin_top_in}in {self.margin_x_in}in {self.margin_bottom_in}in"


GEOMETRY: dict[Paper, PageGeometry] = {
    Paper.letter: PageGeometry("letter", 8.5, 11.0),
    Paper.a4: PageGeometry("A4", 210 / 25.4, 297 / 25.4),
}


def geometry(paper: Paper | str) -> PageGeometry:
    """The page of ``paper`` ("letter" or "a4", any case); InputError naming the choices otherwise."""
    try:
        return GEOMETRY[Paper(str(paper).lower())]
    except ValueError as exc:
        choices = ", ".join(p.value for p in Paper)
        raise InputError(f"Unknown paper {paper!r}; use one of: {choices}.") from exc
