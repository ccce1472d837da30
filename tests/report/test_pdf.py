"""The PDF is the HTML printed by headless Chromium, on paper a person can read; without Chromium the error
says how to get it.

The printed page is measured in the PDF itself: page sizes from each page's MediaBox, and the size at which
each piece of text is set from the page's content stream (font size times the text and transformation
matrices), so a page that Chromium shrank to fit would show here as small type.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from critmin.errors import InputError
from critmin.policy.currency import law_currency
from critmin.report import ChromiumNotFoundError, ReportFiles, find_chromium, render_html
from critmin.report.pdf import ENV_VAR, pdf_skipped_note, write_pdf
from critmin.views import Analysis, executive_summary, sections

LETTER = (612.0, 792.0)
BODY_MIN_PT = 9.0
TABLE_MIN_PT = 8.0


# -- a reader for Chromium's PDFs: enough of the format to find pages, fonts and the text they draw ------

OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)endobj", re.DOTALL)
REF = re.compile(rb"(\d+) 0 R")
TOKEN = re.compile(
    rb"\s*(?:(?P<num>[+-]?(?:\d+\.?\d*|\.\d+))|(?P<name>/[^\s/\[\]()<>{}%]*)|(?P<hex><[0-9A-Fa-f\s]*>)"
    rb"|(?P<str>\()|(?P<open><<|\[)|(?P<close>>>|\])|(?P<op>[A-Za-z'\"*]+))"
)
Matrix = list[float]
IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]


@dataclass(frozen=True)
class Run:
    """One string drawn on a page: its text and the size it is set at, in points."""

    text: str
    size: float


def _entry(body: bytes, key: bytes) -> bytes | None:
    """The value of ``key`` in an object's dictionary (a reference, name, number, array or dictionary)."""
    head = body.split(b"stream", 1)[0]
    found = re.search(re.escape(key) + rb"(?![A-Za-z])\s*", head)
    if not found:
        return None
    i = found.end()
    if head.startswith((b"<<", b"["), i):
        opening, closing = (b"<<", b">>") if head.startswith(b"<<", i) else (b"[", b"]")
        depth, j = 0, i
        while j < len(head):
            if head.startswith(opening, j):
                depth, j = depth + 1, j + len(opening)
            elif head.startswith(closing, j):
                depth, j = depth - 1, j + len(closing)
                if depth == 0:
                    return head[i:j]
            else:
                j += 1
    value = re.match(rb"\d+ 0 R|/\w+|[\d.]+", head[i:])
    return value.group(0) if value else None


def _stream(body: bytes) -> bytes:
    start = re.search(rb"stream\r?\n", body)
    assert start is not None
    raw = body[start.end() : body.rindex(b"endstream")]
    return zlib.decompress(raw) if b"/FlateDecode" in body[: start.start()] else raw


def _literal(data: bytes, i: int) -> tuple[bytes, int]:
    out, depth = bytearray(), 1
    while True:
        c = data[i]
        i += 1
        if c == 0x5C:  # backslash escape
            out.append({0x6E: 10, 0x72: 13, 0x74: 9}.get(data[i], data[i]))
            i += 1
            continue
        depth += (c == 0x28) - (c == 0x29)
        if depth == 0:
            return bytes(out), i
        out.append(c)


def _tokens(data: bytes) -> Iterator[tuple[str, bytes]]:
    i = 0
    while i < len(data):
        found = TOKEN.match(data, i)
        if not found or found.end() == i:
            i += 1
            continue
        i = found.end()
        kind = found.lastgroup or ""
        if kind == "str":
            text, i = _literal(data, i)
            yield "str", text
        elif kind == "hex":
            yield "str", bytes.fromhex(re.sub(rb"\s", b"", found.group("hex")[1:-1]).decode())
        else:
            yield kind, found.group(kind)


def _to_unicode(cmap: bytes) -> dict[int, str]:
    out: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.DOTALL):
        for code, text in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.DOTALL):
        for low, high, first in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            for k, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                out[code] = chr(int(first, 16) + k)
    return out


def _times(m: Matrix, n: Matrix) -> Matrix:
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return [a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s, e * p + f * r + t, e * q + f * s + u]


class PdfText:
    """Pages of a PDF written by Chromium (Skia): sizes, and the text runs each page draws."""

    def __init__(self, data: bytes) -> None:
        self.objects = {int(m.group(1)): m.group(2) for m in OBJECT.finditer(data)}
        self.fonts: dict[int, dict[int, str]] = {}
        self._runs: dict[int, list[Run]] = {}
        catalog = next(v for v in self.objects.values() if re.search(rb"/Type\s*/Catalog", v))
        self.pages = list(self._leaves(self._ref(_entry(catalog, b"/Pages"))))

    @staticmethod
    def _ref(value: bytes | None) -> int:
        found = REF.search(value or b"")
        assert found, value
        return int(found.group(1))

    def _leaves(self, number: int) -> Iterator[int]:
        body = self.objects[number]
        if re.search(rb"/Type\s*/Pages", body):
            for ref in REF.finditer(_entry(body, b"/Kids") or b""):
                yield from self._leaves(int(ref.group(1)))
        else:
            yield number

    def _resolve(self, value: bytes | None) -> bytes:
        if value is not None and REF.fullmatch(value.strip()):
            return self.objects[self._ref(value)]
        return value or b""

    def size(self, page: int) -> tuple[float, float]:
        x0, y0, x1, y1 = (
            float(v)
            for v in (_entry(self.objects[self.pages[page]], b"/MediaBox") or b"").strip(b"[]").split()
        )
        return round(x1 - x0, 1), round(y1 - y0, 1)

    def runs(self, page: int) -> list[Run]:
        if page not in self._runs:
            self._runs[page] = self._read(page)
        return self._runs[page]

    def _read(self, page: int) -> list[Run]:
        body = self.objects[self.pages[page]]
        contents = b"\n".join(
            _stream(self.objects[int(r)]) for r in REF.findall(_entry(body, b"/Contents") or b"")
        )
        out: list[Run] = []
        self._draw(contents, self._resolve(_entry(body, b"/Resources")), IDENTITY, out)
        return out

    def text(self, page: int) -> str:
        """The page's text with all white space removed (line breaks fall between runs, not in them)."""
        return self.sized_text(page)[0]

    def sized_text(self, page: int) -> tuple[str, list[float]]:
        """The page's text without white space, and the size each of its characters is set at."""
        runs = [(_squeeze(r.text), r.size) for r in self.runs(page)]
        return "".join(t for t, _ in runs), [size for t, size in runs for _ in t]

    def _font_maps(self, resources: bytes) -> dict[str, dict[int, str]]:
        out = {}
        for name, ref in re.findall(rb"/(\w+)\s+(\d+) 0 R", self._resolve(_entry(resources, b"/Font"))):
            number = int(ref)
            if number not in self.fonts:
                cmap = _entry(self.objects[number], b"/ToUnicode")
                self.fonts[number] = _to_unicode(_stream(self._resolve(cmap))) if cmap else {}
            out[name.decode()] = self.fonts[number]
        return out

    def _draw(self, data: bytes, resources: bytes, ctm: Matrix, out: list[Run]) -> None:
        """Follow the content stream's graphics state far enough to size every string it shows."""
        fonts = self._font_maps(resources)
        forms = dict(re.findall(rb"/(\w+)\s+(\d+) 0 R", self._resolve(_entry(resources, b"/XObject"))))
        saved: list[Matrix] = []
        operands: list[tuple[str, bytes]] = []
        arrays: list[list[tuple[str, bytes]]] = []
        text_matrix = line_matrix = IDENTITY
        glyphs: dict[int, str] = {}
        size = leading = 0.0
        for kind, value in _tokens(data):
            if kind == "open":
                arrays.append([])
                continue
            if kind == "close":
                inner = arrays.pop() if arrays else []
                (arrays[-1] if arrays else operands).extend(inner)
                continue
            if arrays:
                arrays[-1].append((kind, value))
                continue
            if kind != "op":
                operands.append((kind, value))
                continue
            op = value.decode()
            numbers = [float(v) for k, v in operands if k == "num"]
            if op == "q":
                saved.append(ctm)
            elif op == "Q" and saved:
                ctm = saved.pop()
            elif op == "cm":
                ctm = _times(numbers, ctm)
            elif op == "BT":
                text_matrix = line_matrix = IDENTITY
            elif op == "Tf":
                glyphs = fonts.get(operands[0][1][1:].decode(), {})
                size = numbers[-1]
            elif op == "Tm":
                text_matrix = line_matrix = numbers
            elif op in ("Td", "TD", "T*"):
                dx, dy = numbers[:2] if op != "T*" else (0.0, -leading)
                leading = -dy if op == "TD" else leading
                text_matrix = line_matrix = _times([1, 0, 0, 1, dx, dy], line_matrix)
            elif op == "TL":
                leading = numbers[0]
            elif op in ("Tj", "TJ", "'", '"'):
                raw = b"".join(v for k, v in operands if k == "str")
                text = "".join(
                    glyphs.get(int.from_bytes(raw[i : i + 2], "big"), "") for i in range(0, len(raw), 2)
                )
                m = _times(text_matrix, ctm)
                out.append(Run(text, round(size * math.sqrt(abs(m[0] * m[3] - m[1] * m[2])), 1)))
            elif op == "Do" and operands and operands[0][1][1:] in forms:
                form = self.objects[int(forms[operands[0][1][1:]])]
                if re.search(rb"/Subtype\s*/Form", form):
                    matrix = _entry(form, b"/Matrix")
                    inner = [float(v) for v in matrix.strip(b"[]").split()] if matrix else IDENTITY
                    own = self._resolve(_entry(form, b"/Resources")) or resources
                    self._draw(_stream(form), own, _times(inner, ctm), out)
            operands = []


def _squeeze(text: str) -> str:
    return "".join(text.split())


def _sizes_of(pdf: PdfText, phrase: str) -> list[float]:
    """The sizes the first 40 characters of ``phrase`` are set at, wherever they are printed."""
    wanted = _squeeze(phrase)[:40]
    found: list[float] = []
    for page in range(len(pdf.pages)):
        chars, sizes = pdf.sized_text(page)
        start = chars.find(wanted)
        if start >= 0:
            found.extend(sizes[start : start + len(wanted)])
    return found


@pytest.fixture(scope="module")
def printed(report_files: ReportFiles) -> PdfText:
    assert report_files.pdf is not None
    data = Path(report_files.pdf).read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    return PdfText(data)


# -- the printed report ---------------------------------------------------------------------------------


def test_pdf_is_us_letter_by_default(printed: PdfText) -> None:
    assert len(printed.pages) >= 5  # a multi-page report
    assert {printed.size(i) for i in range(len(printed.pages))} == {LETTER}


def test_text_is_printed_at_a_readable_size(analysis: Analysis, printed: PdfText) -> None:
    """Nothing is shrunk to fit: tables at 8 pt or more, the sentences of the report at 9 pt or more."""
    sizes = [r.size for i in range(len(printed.pages)) for r in printed.runs(i) if r.text.strip()]
    assert min(sizes) >= TABLE_MIN_PT
    paragraphs = [
        *executive_summary(analysis)["sentences"],
        *(text for s in sections(analysis) for text in s.text),
        *(item for s in sections(analysis) for item in s.items),
    ]
    for paragraph in paragraphs:
        found = _sizes_of(printed, paragraph)
        assert found, f"not printed: {paragraph[:60]}"
        assert min(found) >= BODY_MIN_PT, (paragraph[:60], min(found))


def test_every_page_has_its_number_and_the_running_header(analysis: Analysis, printed: PdfText) -> None:
    pages = len(printed.pages)
    for i in range(pages):
        text = printed.text(i)
        assert f"Page{i + 1}of{pages}" in text, f"page {i + 1}"
        assert _squeeze(analysis.ledger_name) in text
        assert f"reportdate{analysis.as_of},lawasof{law_currency().as_of}" in text


def test_a_table_wider_than_the_page_is_printed_whole_in_parts(analysis: Analysis, printed: PdfText) -> None:
    """The 19 columns of the scenario comparison do not fit the page: every column still prints."""
    comparison = next(t for s in sections(analysis) for t in s.tables if t.id == "scenario_comparison")
    text = "".join(printed.text(i) for i in range(len(printed.pages)))
    for column in ("annual_high", "refund_eligible", "lines_paying", "issues"):
        assert column in comparison.frame.columns
        assert _squeeze(column.replace("_", " ")) in text, column
    assert "Part3of3" in text or "Part2of2" in text


def test_paper_a4_and_letter_set_the_printed_page(analysis: Analysis) -> None:
    assert "size: letter;" in render_html(analysis)
    a4 = render_html(analysis, paper="A4")
    assert "size: A4;" in a4 and "size: letter" not in a4
    with pytest.raises(InputError, match="letter, a4"):
        render_html(analysis, paper="legal")


# -- without Chromium --------------------------------------------------------------------------------------


def test_missing_chromium_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "no-such-browser"))
    with pytest.raises(ChromiumNotFoundError, match="apt-get install -y chromium"):
        find_chromium()
    monkeypatch.delenv(ENV_VAR)
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on the PATH
    with pytest.raises(ChromiumNotFoundError, match="--no-pdf") as caught:
        write_pdf(tmp_path / "report.html", tmp_path / "report.pdf")
    note = pdf_skipped_note(caught.value, "critmin demo --out demo-output")
    assert note == (
        "PDF skipped: no Chromium on the PATH; install chromium (Debian: apt-get install chromium) or set "
        "CRITMIN_CHROMIUM=/path/to/chromium, then run: critmin demo --out demo-output"
    )
