"""Reading tables that come from elsewhere: CSV and XLSX exports of other packages.

Exports come from many packages and from Excel: `;`-separated with decimal commas (Dutch
Excel), `,` or tab separated, UTF-8 with or without a byte order mark, or Windows-1252, or an
XLSX workbook. A title row or two may precede the header. Files are hostile until read: the
size and number of rows are limited, a workbook's unpacked size is checked before it is opened
(a zip bomb), and every problem is a `TableError` with a message for the person who chose the
file, never an exception from deep inside a parser.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l

DELIMITERS = (";", "\t", ",")
HEADER_SEARCH_ROWS = 10
SNIFF_ROWS = 25
XLSX_MAX_UNPACKED = 200 * 1024 * 1024  # bytes a workbook may unpack to
XLSX_MAX_RATIO = 200                  # unpacked / packed for any part of it
XLSX_MAGIC = b"PK\x03\x04"


class TableError(ValueError):
    """Why a file cannot be read as a table, for the person who chose it."""


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def normalise_header(name: str) -> str:
    """`RGS-code`, ` Debet (€) ` -> `rgs code`, `debet`: lower case, accents and signs gone."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"\((?:eur|euro)?\)|\b(?:in\s+)?(?:eur|euro)\b", " ", text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def roles(header: Sequence[str], aliases: Mapping[str, tuple[str, ...]]) -> dict[str, int]:
    """Role -> column index, the first column whose name is one of the role's aliases."""
    found: dict[str, int] = {}
    names = [normalise_header(cell) for cell in header]
    for role, role_aliases in aliases.items():
        for alias in role_aliases:  # alias order is preference order
            if alias in names and names.index(alias) not in found.values():
                found[role] = names.index(alias)
                break
    return found


def sniff(text: str, aliases: Mapping[str, tuple[str, ...]]) -> tuple[str, int, int]:
    """(delimiter, header row index, header score) that best explain the first rows."""
    head = text[:20000].splitlines()[:SNIFF_ROWS]
    best: tuple[tuple[int, int, int], str, int] | None = None
    for delimiter in DELIMITERS:
        rows = list(csv.reader(head, delimiter=delimiter))
        header_index, header_score = 0, 0
        for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
            score = len(roles(row, aliases))
            if score > header_score:
                header_index, header_score = index, score
        widths = [len(r) for r in rows if any(c.strip() for c in r)]
        width = max(set(widths), key=widths.count) if widths else 0
        consistency = widths.count(width) if width > 1 else 0
        key = (header_score, consistency, -DELIMITERS.index(delimiter))
        if best is None or key > best[0]:
            best = (key, delimiter, header_index)
    assert best is not None
    return best[1], best[2], best[0][0]


@dataclass
class Table:
    """A header and the rows under it, each with the line (CSV) or row (XLSX) it came from."""

    header: list[str]
    rows: list[tuple[int, list[str]]]
    kind: str                 # "csv" or "xlsx"
    delimiter: str | None = None
    encoding: str | None = None


def read_table(data: bytes, aliases: Mapping[str, tuple[str, ...]], *, max_rows: int
               ) -> Table:
    """The table in a CSV or XLSX file (told apart by content, not by name), its header the
    row among the first ten that names most of `aliases`. Empty rows are left out."""
    if data.startswith(XLSX_MAGIC):
        header, rows = _xlsx_rows(data, aliases, max_rows)
        return Table(header, rows, "xlsx")
    if b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE,
                                                       codecs.BOM_UTF16_BE)):
        raise TableError(_l("This file is not a CSV or Excel file. Save the list as CSV or "
                            "XLSX and choose that."))
    text, encoding = decode(data)
    if not text.strip():
        raise TableError(_l("The file is empty."))
    delimiter, header_index, _score = sniff(text, aliases)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] = []
    try:
        for index, row in enumerate(reader):
            if index < header_index:
                continue
            if index == header_index:
                header = [cell.strip() for cell in row]
                continue
            if any(cell.strip() for cell in row):
                rows.append((reader.line_num, [cell.strip() for cell in row]))
                _check_rows(rows, max_rows)
    except csv.Error as exc:
        raise TableError(_l("Line %(line)d cannot be read as CSV (%(problem)s).",
                            line=reader.line_num, problem=str(exc))) from None
    return Table(header, rows, "csv", delimiter, encoding)


def _check_rows(rows: list[Any], max_rows: int) -> None:
    if len(rows) > max_rows:
        raise TableError(_l("The file has more than %(max)d rows. Split it into smaller "
                            "files and import them one after the other.", max=max_rows))


def _xlsx_rows(data: bytes, aliases: Mapping[str, tuple[str, ...]], max_rows: int
               ) -> tuple[list[str], list[tuple[int, list[str]]]]:
    from openpyxl import load_workbook

    not_a_workbook = TableError(_l("This file cannot be opened as an Excel workbook (XLSX). "
                                   "Save the list again as XLSX or CSV."))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise not_a_workbook from None
    unpacked = sum(part.file_size for part in parts)
    if unpacked > XLSX_MAX_UNPACKED or any(
            part.file_size > 1024 * 1024 and part.file_size > XLSX_MAX_RATIO *
            max(part.compress_size, 1) for part in parts):
        raise TableError(_l("This workbook unpacks to far more than its size, as a zip bomb "
                            "does; it is not read. Save the list as CSV and choose that."))
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged workbook
        raise not_a_workbook from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise TableError(_l("The file is empty."))
        raw: list[tuple[int, list[str]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_text(value) for value in values]
            if any(cells):
                raw.append((number, cells))
                _check_rows(raw, max_rows + HEADER_SEARCH_ROWS)
    except TableError:
        raise
    except Exception:
        raise not_a_workbook from None
    finally:
        book.close()
    if not raw:
        raise TableError(_l("The file is empty."))
    best = max(range(min(len(raw), HEADER_SEARCH_ROWS)),
               key=lambda i: (len(roles(raw[i][1], aliases)), -i))
    rows = raw[best + 1:]
    _check_rows(rows, max_rows)
    return raw[best][1], rows


def _text(value: Any) -> str:
    """A workbook cell as the text a person sees: 1001 not 1001.0, dates as 31-12-2026."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        value = value.date() if not (value.hour or value.minute or value.second) else value
        if isinstance(value, datetime):
            return value.strftime("%d-%m-%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d-%m-%Y")
    return str(value).strip()

