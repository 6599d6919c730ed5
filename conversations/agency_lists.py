"""Agency lists as offices keep them: an Excel workbook or a CSV file, with Vietnamese or English headers.

``read`` turns the file's bytes into :class:`storage.agency_import.SourceRow` records (plain dicts keyed
by the canonical column names, with the line or the cell each value came from); storage validates and
imports them. Nothing here knows SQL.

- xlsx: openpyxl in read-only mode, the first sheet or the one named; a title block above the header row
  and blank rows are skipped; numbers become text without ".0" (a code 22015, a phone typed as a number).
- CSV: comma, semicolon (the list separator of many Vietnamese Windows set-ups) or tab, found by which
  one gives a header row; UTF-8 with or without BOM, UTF-16 with BOM (Excel's "Unicode Text"), or
  Windows-1258 (see :func:`decode`).
- Headers matched by their words, without regard to case, diacritics, spacing or extra words; the most
  specific wins ("Mã đơn vị cấp trên" is the parent's code, not the code). "STT" is ignored.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import BinaryIO

from common.errors import Refused
from common.text import words
from storage.agency_import import COLUMNS, MAX_AGENCIES, REQUIRED, SourceRow

# The template's headers, and the words each column's header may be written with (English: today's codes).
TEMPLATE_HEADERS = {
    "code": "Mã đơn vị",
    "name": "Tên đơn vị",
    "level": "Cấp",
    "parent_code": "Mã đơn vị cấp trên",
    "contact_name": "Họ tên đầu mối",
    "contact_phone": "Điện thoại",
    "contact_email": "Thư điện tử",
}
SYNONYMS = {
    "code": ("Mã đơn vị", "Mã cơ quan", "Mã ĐV", "code", "agency code"),
    "name": ("Tên đơn vị", "Tên cơ quan", "Tên ĐV", "name", "agency name"),
    "level": ("Cấp", "Cấp đơn vị", "level"),
    "parent_code": ("Mã đơn vị cấp trên", "Mã cấp trên", "parent code", "parent"),
    "contact_name": (
        "Họ tên đầu mối",
        "Người đầu mối",
        "Họ và tên",
        "Họ tên",
        "Tên đầu mối",
        "Người liên hệ",
        "contact name",
        "contact",
    ),
    "contact_phone": ("Điện thoại", "Số điện thoại", "ĐT", "SĐT", "Di động", "contact phone", "phone", "tel"),
    "contact_email": ("Thư điện tử", "Email", "E-mail", "Hộp thư", "contact email", "mail"),
}
# Forms too short to look for inside a longer header ("Mã số thuế" is not the code): the whole header only.
EXACT = {"Mã": "code", "Mã số": "code", "Tên": "name"}
IGNORED = ("STT", "TT", "Số TT", "Số thứ tự", "No")
IGNORE = "-"
HEADER_SEARCH = 30  # rows looked at for the header row, below a title block
# The national list (12 000 agencies, with contacts) is about 1 MB as CSV and less as xlsx: a file ten
# times that is refused before it is decoded or unzipped.
MAX_LIST_BYTES = 10_000_000
TEMPLATE_ROWS = 2000  # rows of the template that carry the level drop-down and the text format
TEMPLATE_WIDTHS = {"code": 14, "name": 45, "level": 22, "parent_code": 20, "contact_name": 28,
                   "contact_phone": 16, "contact_email": 34}  # fmt: skip
TEXT_COLUMNS = ("code", "parent_code", "contact_phone")

_FORMS: list[tuple[tuple[str, ...], str]] = sorted(
    [(words(s), column) for column, forms in SYNONYMS.items() for s in forms] + [(words(s), IGNORE) for s in IGNORED],
    key=lambda item: -len(item[0]),
)

_EXACT = {words(form): column for form, column in EXACT.items()}


def match_header(text: str) -> str | None:
    """The canonical column a header names, ``IGNORE`` for a row number, or None.

    A header matches a form when the form's words appear in it in a row ("Mã đơn vị (bắt buộc)" is the
    code); of the forms that match, the longest wins, and a tie between two columns matches neither."""
    found = words(text)
    if not found:
        return None
    if found in _EXACT:
        return _EXACT[found]
    best: set[str] = set()
    size = 0
    for form, column in _FORMS:
        if len(form) < size:
            break
        if any(found[i : i + len(form)] == form for i in range(len(found) - len(form) + 1)):
            best.add(column)
            size = len(form)
    return next(iter(best)) if len(best) == 1 else None


@dataclass(frozen=True)
class AgencyList:
    rows: list[SourceRow]
    headers: dict[str, str]  # canonical column → the header as the file writes it
    sheet: str | None = None


def read(data: bytes, filename: str = "", *, sheet: str | None = None) -> AgencyList:
    """An agency list from a file's bytes: xlsx by its name or content, anything else as CSV."""
    if len(data) > MAX_LIST_BYTES:
        raise Refused("import_too_large", size=len(data), limit=MAX_LIST_BYTES)
    name = filename.lower()
    if data.startswith(b"\xd0\xcf\x11\xe0") or name.endswith(".xls"):
        raise Refused("import_xls")
    if data.startswith(b"PK\x03\x04") or name.endswith((".xlsx", ".xlsm")):
        return read_xlsx(data, sheet)
    if sheet is not None:
        raise Refused("import_sheet_not_xlsx", sheet=sheet)
    return read_csv(data)


# ---------------------------------------------------------------- decoding

_VIETNAMESE_MARKS = {0x0300, 0x0301, 0x0303, 0x0309, 0x0323, 0x0302, 0x0306, 0x031B}
_PUNCTUATION = set("\u00a0–—‘’“”…•°·№")


def _plausible(ch: str) -> bool:
    """A character a Vietnamese agency list may hold beyond ASCII: a Vietnamese letter, a few signs."""
    if ch in "đĐ" or ch in _PUNCTUATION:
        return True
    base, *marks = unicodedata.normalize("NFD", ch)
    return base.isascii() and base.isalpha() and bool(marks) and all(ord(m) in _VIETNAMESE_MARKS for m in marks)


def decode(data: bytes) -> str:
    """The file's text, in NFC.

    UTF-8 (with or without BOM) and UTF-16 with BOM are read as they are. Anything else is tried as
    Windows-1258, which Excel uses for "CSV (Comma delimited)" on a Vietnamese Windows; it writes tone marks
    as combining characters, hence the NFC. Windows-1258 decodes almost any bytes without an error, and
    files in the older TCVN3 (ABC) or VNI encodings would come out as garbage names ("Hµ Néi", "Haø Noäi")
    that nobody would notice until the invitations go out. So the decoded text is accepted only when every
    character beyond ASCII is a Vietnamese letter (a Latin letter with Vietnamese marks only, or đ) or one of
    a few typographic signs; TCVN3's and VNI's bytes give µ, ¸, ©, ø, ä… and are refused, with the advice
    to save the file as "CSV UTF-8"."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return unicodedata.normalize("NFC", data.decode("utf-16"))
        except UnicodeDecodeError:
            raise Refused("import_encoding") from None
    try:
        return unicodedata.normalize("NFC", data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass
    try:
        text = unicodedata.normalize("NFC", data.decode("cp1258"))
    except UnicodeDecodeError:
        raise Refused("import_encoding") from None
    if not all(_plausible(ch) for ch in text if not ch.isascii()):
        raise Refused("import_encoding")
    return text


# ---------------------------------------------------------------- header and rows


@dataclass(frozen=True)
class _Header:
    index: int  # position in the rows
    columns: dict[int, str]  # cell position → canonical column or IGNORE
    unknown: list[str]
    duplicate: list[str]

    @property
    def found(self) -> set[str]:
        return {c for c in self.columns.values() if c != IGNORE}


def _header_of(index: int, cells: Sequence[str]) -> _Header:
    columns: dict[int, str] = {}
    unknown, duplicate = [], []
    for position, text in enumerate(cells):
        if not text.strip():
            continue
        column = match_header(text)
        if column is None:
            unknown.append(text.strip())
        elif column != IGNORE and column in columns.values():
            duplicate.append(text.strip())
        else:
            columns[position] = column
    return _Header(index, columns, unknown, duplicate)


def _find_header(rows: Sequence[tuple[int, list[str]]]) -> _Header | None:
    """The first row, among the first non-blank ones, whose cells name two columns, the code or the name
    among them; the rows above it are a title block."""
    looked = 0
    for index, (_, cells) in enumerate(rows):
        if not any(c.strip() for c in cells):
            continue
        header = _header_of(index, cells)
        if len(header.found) >= 2 and header.found & {"code", "name"}:
            return header
        looked += 1
        if looked >= HEADER_SEARCH:
            break
    return None


def _accepted() -> list[str]:
    return [TEMPLATE_HEADERS[c] for c in COLUMNS]


def _rows(rows: Sequence[tuple[int, list[str]]], where: str | None, cell_ref) -> tuple[list[SourceRow], dict[str, str]]:
    """The rows below the header as SourceRows, or the header's refusal."""
    if not any(c.strip() for _, cells in rows for c in cells):
        raise Refused("import_file_empty")
    header = _find_header(rows)
    if header is None:
        first = next(i for i, (_, cells) in enumerate(rows) if any(c.strip() for c in cells))
        header = _header_of(first, rows[first][1])
    line = rows[header.index][0]
    missing = [TEMPLATE_HEADERS[c] for c in REQUIRED if c not in header.found]
    if missing or header.unknown or header.duplicate:
        raise Refused(
            "import_header",
            missing=missing,
            unknown=header.unknown,
            duplicate=header.duplicate,
            accepted=_accepted(),
            line=line,
            sheet=where,
        )
    names = {column: rows[header.index][1][position].strip() for position, column in header.columns.items()}
    out = []
    for number, cells in rows[header.index + 1 :]:
        if not any(c.strip() for c in cells):
            continue
        values = {c: "" for c in COLUMNS}
        cells_at: dict[str, str] = {}
        for position, column in header.columns.items():
            if column == IGNORE:
                continue
            values[column] = cells[position] if position < len(cells) else ""
            if cell_ref is not None:
                cells_at[column] = cell_ref(number, position)
        extra = sum(1 for p, c in enumerate(cells) if p not in header.columns and c.strip())
        out.append(SourceRow(number, values, cells_at, extra))
    if not out:
        raise Refused("import_empty")
    return out, {c: n for c, n in names.items() if c != IGNORE}


# ---------------------------------------------------------------- CSV

DELIMITERS = (",", ";", "\t")


def _within_row_limit(rows: Iterable[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    """The rows, refused as soon as more are filled in than a campaign may have agencies (and a title)."""
    filled = 0
    for row in rows:
        if any(c.strip() for c in row[1]):
            filled += 1
            if filled > MAX_AGENCIES + HEADER_SEARCH:
                raise Refused("import_too_many", count=None, limit=MAX_AGENCIES)
        yield row


def _csv_rows(text: str, delimiter: str, limit: int | None = None) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    for record in _within_row_limit((reader.line_num, record) for record in reader):
        rows.append(record)
        if limit is not None and len(rows) >= limit:
            break
    return rows


def sniff_delimiter(text: str) -> str:
    """The delimiter under which a header row names the most columns; if none does, the one found most
    often in the first non-blank line."""
    best, score = None, 0
    for delimiter in DELIMITERS:
        header = _find_header(_csv_rows(text, delimiter, HEADER_SEARCH * 2))
        if header is not None and len(header.found) > score:
            best, score = delimiter, len(header.found)
    if best is not None:
        return best
    first = next((line for line in text.splitlines() if line.strip()), "")
    return max(DELIMITERS, key=first.count)


def read_csv(data: bytes) -> AgencyList:
    text = decode(data)
    delimiter = sniff_delimiter(text)
    rows, headers = _rows(_csv_rows(text, delimiter), None, None)
    return AgencyList(rows, headers)


# ---------------------------------------------------------------- xlsx


_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def cell_text(value) -> str:
    """A cell's value as the text a person sees: 22015 not 22015.0, a date as 2019-10-28.

    A string has its ``_xHHHH_`` escapes undone, as Excel does: that is how a workbook stores a control
    character (a NUL is ``_x0000_``), which openpyxl hands over as written."""
    if isinstance(value, str):
        return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value) if "_x" in value else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def sheet_ref(title: str) -> str:
    """A sheet's name as a cell reference writes it: Sheet1, 'Danh sách'."""
    return title if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", title) else "'" + title.replace("'", "''") + "'"


def read_xlsx(data: bytes, sheet: str | None = None) -> AgencyList:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise Refused("import_xlsx_unreadable", reason=str(exc) or type(exc).__name__) from None
    try:
        if sheet is None:
            worksheet = workbook.worksheets[0]
        elif sheet in workbook.sheetnames:
            worksheet = workbook[sheet]
        else:
            raise Refused("import_sheet_missing", sheet=sheet, sheets=workbook.sheetnames)
        title = worksheet.title
        worksheet.reset_dimensions()  # a workbook that states too small a range would lose its last rows
        rows = list(
            _within_row_limit(
                (number, [cell_text(v) for v in values])
                for number, values in enumerate(worksheet.iter_rows(min_row=1, values_only=True), start=1)
            )
        )
    finally:
        workbook.close()
    ref = sheet_ref(title)
    found, headers = _rows(rows, title, lambda row, position: f"{ref}!{get_column_letter(position + 1)}{row}")
    return AgencyList(found, headers, title)


# ---------------------------------------------------------------- the empty list to fill in


def write_template_xlsx(stream: BinaryIO, level_names: Iterable[str] = ()) -> None:
    """The empty list: the Vietnamese headers, the header row frozen, the code and phone columns as text
    (a code 06652 keeps its 0), and, given the campaign's level names, a drop-down of them."""
    import xlsxwriter

    level_names = list(level_names)
    workbook = xlsxwriter.Workbook(stream, {"in_memory": True})
    sheet = workbook.add_worksheet("Đơn vị")
    bold = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1})
    text = workbook.add_format({"num_format": "@"})
    for position, column in enumerate(COLUMNS):
        sheet.set_column(position, position, TEMPLATE_WIDTHS[column], text if column in TEXT_COLUMNS else None)
        sheet.write_string(0, position, TEMPLATE_HEADERS[column], bold)
    sheet.freeze_panes(1, 0)
    if level_names:
        # A list of its own: names such as "Cấp sở, ban, ngành" hold commas, which an inline list splits.
        levels = workbook.add_worksheet("Cấp")
        for row, name in enumerate(level_names):
            levels.write_string(row, 0, name)
        levels.hide()
        position = COLUMNS.index("level")
        sheet.data_validation(
            1,
            position,
            TEMPLATE_ROWS,
            position,
            {"validate": "list", "source": f"='Cấp'!$A$1:$A${len(level_names)}"},
        )
    workbook.close()


def template_csv() -> bytes:
    """The CSV header row, UTF-8 with BOM so that Excel opens it with its diacritics."""
    stream = io.StringIO()
    csv.writer(stream, lineterminator="\r\n").writerow(_accepted())
    return stream.getvalue().encode("utf-8-sig")
