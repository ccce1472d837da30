"""What a file really is, read from its first bytes: the file name is the user's claim, the content decides.

A PDF or a workbook renamed ``.csv`` would otherwise be "read" as thousands of junk text rows, and a file
of zero bytes or UTF-16 without a byte-order mark would break the text reader. :func:`sniff` looks at the
first 64 KiB once, before any reader opens the file, and says one of three things:

* a format critmin reads (delimited text, an .xlsx workbook, Parquet), whatever the file is called;
* a format it does not read, named, with the fix (export or save the data as CSV or .xlsx; decompress it;
  extract it from the archive ...): the caller raises that as an :class:`~critmin.errors.InputError`;
* for text, the encoding when the bytes alone prove it (UTF-16 without a byte-order mark: NUL bytes at
  every other position).

Magic numbers are those of the formats' own specifications (PDF ``%PDF-``, ZIP ``PK\\x03\\x04``, OLE2
compound files ``D0 CF 11 E0 A1 B1 1A E1``, gzip ``1F 8B``, PNG, JPEG, GIF ...). Text that is mostly
control bytes is binary data, whatever it starts with.
"""

from __future__ import annotations

import codecs
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

SNIFF_BYTES = 64 * 1024
"""How much of the file is looked at (an XLSX is recognised by its ZIP directory, read separately)."""

BINARY_SHARE = 0.05
"""Share of control bytes (NUL and the others but tab, line breaks and form feed) above which bytes that
are not valid UTF-8, or hold a NUL, are binary data. Text in any 8-bit encoding has next to none; random
bytes have about 11%. Valid UTF-8 without NUL is text whatever it holds: its odd cells are quarantined."""

_UTF16_NUL_SHARE = 0.3
"""UTF-16 text of Latin script has a NUL in at least this share of its high bytes (nearly all of them)."""

_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\r\x0c") + b"\x7f"


class FileKind(StrEnum):
    """What the first bytes say a file is."""

    text = "text"
    xlsx = "xlsx"
    parquet = "parquet"
    refused = "refused"


@dataclass(frozen=True)
class Sniffed:
    """The verdict on one file: its kind, in words, and for text the encoding its bytes prove."""

    kind: FileKind
    what: str
    """the format in words, for messages: "an XLSX workbook", "a PDF document" ..."""
    fix: str = ""
    """for a refused file: what to do instead"""
    encoding: str | None = None
    """for text: an encoding the bytes prove (UTF-16 without a byte-order mark), else None"""

    def refusal(self, path: Path) -> str:
        """The one line the user sees for a file critmin does not read."""
        return f"{path} is {self.what}, not a ledger: {self.fix}"


_EXPORT = "export the entry lines from the system that produced it as CSV (UTF-8) or .xlsx, and import that."

_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "a PDF document", "a PDF cannot be read as a table; " + _EXPORT),
    (
        b"\xd0\xcf\x11\xe0",  # OLE2 compound file, D0 CF 11 E0 A1 B1 1A E1 ("DOCFILE")
        "an old-format Office file (an Excel 97-2003 .xls workbook, a password-protected workbook, or a "
        "Word/Outlook file)",
        "open it in Excel (remove any password) and save it as .xlsx or CSV (UTF-8).",
    ),
    (
        b"\x1f\x8b",
        "a gzip-compressed file",
        "decompress it first (gunzip, 7-Zip) and import the file inside.",
    ),
    (
        b"\xfd7zXZ\x00",
        "an xz-compressed file",
        "decompress it first (unxz, 7-Zip) and import the file inside.",
    ),
    (b"(\xb5/\xfd", "a zstd-compressed file", "decompress it first (unzstd) and import the file inside."),
    (b"7z\xbc\xaf'\x1c", "a 7-Zip archive", "extract the ledger from it and import that file."),
    (b"Rar!\x1a\x07", "a RAR archive", "extract the ledger from it and import that file."),
    (b"\x89PNG\r\n\x1a\n", "a PNG image", "an image of a table cannot be read; " + _EXPORT),
    (b"\xff\xd8\xff", "a JPEG image", "an image of a table cannot be read; " + _EXPORT),
    (b"GIF87a", "a GIF image", "an image of a table cannot be read; " + _EXPORT),
    (b"GIF89a", "a GIF image", "an image of a table cannot be read; " + _EXPORT),
    (b"II*\x00", "a TIFF image", "an image of a table cannot be read; " + _EXPORT),
    (b"MM\x00*", "a TIFF image", "an image of a table cannot be read; " + _EXPORT),
    (b"SQLite format 3\x00", "an SQLite database", "export the table of entry lines as CSV and import that."),
    (b"ARROW1", "an Arrow IPC (Feather) file", "write the table as Parquet or CSV and import that."),
    (b"\x7fELF", "a program (ELF executable)", "choose the ledger file itself."),
    (b"{\\rtf", "an RTF document", "a word-processor document cannot be read as a table; " + _EXPORT),
)

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
"""A ZIP file's first bytes: a local file header, an empty archive's end record, a spanned archive."""

_TEXT_MARKUP: tuple[tuple[bytes, str, str], ...] = (
    (
        b"<!doctype html",
        "an HTML page (some systems save an 'Excel' export as a web page)",
        "open it in Excel and save it as .xlsx or CSV (UTF-8).",
    ),
    (
        b"<html",
        "an HTML page (some systems save an 'Excel' export as a web page)",
        "open it in Excel and save it as .xlsx or CSV (UTF-8).",
    ),
    (
        b"<table",
        "an HTML table (some systems save an 'Excel' export as a web page)",
        "open it in Excel and save it as .xlsx or CSV (UTF-8).",
    ),
)


def sniff(path: Path) -> Sniffed:
    """Decide what ``path`` is from its first bytes (see the module docstring). The file must exist."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head:
        return Sniffed(FileKind.refused, "empty (0 bytes)", "export the ledger again.")
    if head.startswith(_ZIP_MAGIC):
        return _sniff_zip(path)
    if head.startswith(b"PAR1"):
        return Sniffed(FileKind.parquet, "a Parquet file")
    for magic, what, fix in _MAGIC:
        if head.startswith(magic):
            return Sniffed(FileKind.refused, what, fix)
    if head.startswith(b"BZh") and head[4:10] == b"1AY&SY":  # "BZh" + block size digit + block magic
        return Sniffed(
            FileKind.refused,
            "a bzip2-compressed file",
            "decompress it (bunzip2, 7-Zip) and import the file inside.",
        )
    return _sniff_text(head)


def _sniff_zip(path: Path) -> Sniffed:
    """A ZIP container: an .xlsx workbook, another Office document, or an archive (its members named)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            declared = b""
            if "mimetype" in names:  # OpenDocument: the first member names the format
                with archive.open("mimetype") as member:
                    declared = member.read(100)  # never the whole member: it could be anything
            mimetype = declared.decode("ascii", "replace")
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError, RuntimeError, NotImplementedError):
        # damaged, cut short, encrypted (RuntimeError) or compressed with a method zipfile lacks
        return Sniffed(
            FileKind.refused,
            "a damaged ZIP file (an .xlsx workbook is a ZIP file; this one may be cut short)",
            "download or export it again, or open it in Excel and save it as .xlsx or CSV (UTF-8).",
        )
    if "xl/workbook.xml" in names:
        return Sniffed(FileKind.xlsx, "an XLSX workbook")
    if "xl/workbook.bin" in names:
        return Sniffed(
            FileKind.refused,
            "an Excel binary workbook (.xlsb)",
            "open it in Excel and save it as .xlsx or CSV (UTF-8).",
        )
    if "word/document.xml" in names:
        return Sniffed(FileKind.refused, "a Word document (.docx)", "a document is not a table; " + _EXPORT)
    if "ppt/presentation.xml" in names:
        return Sniffed(FileKind.refused, "a PowerPoint presentation (.pptx)", _EXPORT)
    if mimetype.startswith("application/vnd.oasis.opendocument.spreadsheet"):
        return Sniffed(
            FileKind.refused,
            "an OpenDocument spreadsheet (.ods)",
            "open it in LibreOffice or Excel and save it as .xlsx or CSV (UTF-8).",
        )
    if mimetype.startswith("application/vnd.oasis.opendocument"):
        return Sniffed(FileKind.refused, "an OpenDocument file", _EXPORT)
    members = [name for name in names if not name.endswith("/")]
    listed = ", ".join(members[:3]) + (f" and {len(members) - 3} more" if len(members) > 3 else "")
    return Sniffed(
        FileKind.refused,
        f"a ZIP archive ({listed or 'empty'})",
        "extract the ledger from it and import that file.",
    )


def _sniff_text(head: bytes) -> Sniffed:
    """Text (with the encoding its bytes prove, if any), or a refusal naming why it is not text."""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return Sniffed(FileKind.text, "UTF-32 text", encoding="utf-32")
    if head.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Sniffed(FileKind.text, "text")  # the reader's encoding scan handles byte-order marks
    if not head.strip(b"\x00"):
        return Sniffed(
            FileKind.refused,
            "only NUL (zero) bytes",
            "the file was not written completely (a failed copy, download or export); export it again.",
        )
    body = head.rstrip(b"\x00")
    if len(head) - len(body) > max(8, BINARY_SHARE * len(head)) and b"\x00" not in body:
        return Sniffed(
            FileKind.refused,
            f"text followed by {len(head) - len(body):,} NUL (zero) bytes",
            "the file was not written completely (a failed copy, download or export); export it again.",
        )
    if not head.strip(b"\x00 \t\r\n\x0c\x0b"):
        return Sniffed(FileKind.refused, "blank (only spaces and line breaks)", "export the ledger again.")
    utf16 = _utf16_without_bom(head)
    if utf16 is not None:
        return Sniffed(FileKind.text, f"UTF-16 text without a byte-order mark ({utf16})", encoding=utf16)
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    for marker, what, fix in _TEXT_MARKUP:
        if start.startswith(marker):
            return Sniffed(FileKind.refused, what, fix)
    control = len(head) - len(head.translate(None, _CONTROL))
    if control > max(8, BINARY_SHARE * len(head)) and (b"\x00" in head or not _is_utf8(head)):
        share = control / len(head)
        return Sniffed(
            FileKind.refused,
            f"binary data ({share:.0%} of its first {len(head):,} bytes are control bytes), not text",
            "choose the ledger itself, saved as CSV (UTF-8), .xlsx or Parquet.",
        )
    return Sniffed(FileKind.text, "text")


def _is_utf8(head: bytes) -> bool:
    """Valid UTF-8, allowing a sequence cut short by the end of the sample."""
    try:
        codecs.getincrementaldecoder("utf-8")(errors="strict").decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _utf16_without_bom(head: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when NUL bytes sit at every other position and the bytes decode.

    Latin-script text in UTF-16 has a NUL high byte in nearly every code unit (odd positions for little
    endian, even for big endian); 8-bit and UTF-8 text has no NUL at all.
    """
    sample = head[: len(head) - len(head) % 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nul >= _UTF16_NUL_SHARE and even_nul < odd_nul / 4:
        encoding = "utf-16-le"
    elif even_nul >= _UTF16_NUL_SHARE and odd_nul < even_nul / 4:
        encoding = "utf-16-be"
    else:
        return None
    try:
        codecs.getincrementaldecoder(encoding)(errors="strict").decode(sample, final=False)
    except UnicodeDecodeError:
        return None
    return encoding
