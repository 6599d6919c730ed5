"""The grid of a criteria table, as :mod:`rubrics.table_import` reads it: a worksheet of an xlsx workbook
(openpyxl) or a table of a Word document (python-docx), with its merged cells and the lines above it."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docx import Document
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from rubrics.errors import RubricError

MAX_TABLE_BYTES = 5_000_000
MAX_ROWS = 3_000
WORD_SUFFIXES = (".docx",)
TABLE_SUFFIXES = (".xlsx", ".xlsm", *WORD_SUFFIXES)


class Sheet:
    """A worksheet's values with its merged cells resolved: a header takes a merged value in every
    column it spans; in the body, a merged text column is filled down, other merged cells keep their
    top-left value only."""

    def __init__(self, title: str, values: list[list[Any]], merged: list[tuple[int, int, int, int]], preamble=()):
        self.title = title
        self.values = values
        self.merged = merged  # (first row, last row, first column, last column), 1-based
        self.preamble = list(preamble)  # a document's lines above its table

    @classmethod
    def of_worksheet(cls, ws) -> Sheet:
        rows = min(ws.max_row or 0, MAX_ROWS)
        values = [list(r) for r in ws.iter_rows(min_row=1, max_row=rows, values_only=True)]
        merged = [(m.min_row, m.max_row, m.min_col, m.max_col) for m in ws.merged_cells.ranges if m.min_row <= rows]
        return cls(ws.title, values, merged)

    @classmethod
    def of_word_table(cls, title: str, table, preamble: list[str]) -> Sheet:
        """A Word table: python-docx gives a merged cell at every grid position it covers, as one cell."""
        spans: dict[Any, list[int]] = {}  # by the cell's XML element (kept alive here, so one proxy per cell)
        values: list[list[Any]] = []
        for r, row in enumerate(table.rows[:MAX_ROWS], start=1):
            line = []
            for c, cell in enumerate(row.cells, start=1):
                span = spans.get(cell._tc)
                if span is None:
                    spans[cell._tc] = [r, r, c, c]
                    line.append(cell.text.strip() or None)
                else:
                    span[1], span[3] = max(span[1], r), max(span[3], c)
                    line.append(None)
            values.append(line)
        merged = [tuple(span) for span in spans.values() if span[0] != span[1] or span[2] != span[3]]
        return cls(title, values, merged, preamble)

    def raw(self, row: int, col: int) -> Any:
        line = self.values[row - 1] if 0 < row <= len(self.values) else []
        return line[col - 1] if 0 < col <= len(line) else None

    def header_value(self, row: int, col: int) -> Any:
        for r1, r2, c1, c2 in self.merged:
            if r1 <= row <= r2 and c1 <= col <= c2:
                return self.raw(r1, c1)
        return self.raw(row, col)

    def body_value(self, row: int, col: int, fill_down: bool) -> Any:
        for r1, r2, c1, c2 in self.merged:
            if r1 <= row <= r2 and c1 <= col <= c2:
                return self.raw(r1, c1) if fill_down and col == c1 else (self.raw(row, col) if row == r1 else None)
        return self.raw(row, col)

    def cell(self, row: int, col: int) -> str:
        return f"{self.title}!{get_column_letter(col)}{row}"

    @property
    def width(self) -> int:
        return max((len(r) for r in self.values), default=0)


def read_sheets(path: Path, file: str, word_table_name: Callable[[int], str]) -> list[Sheet]:
    """The worksheets of a workbook, or the tables of a Word document (named "Bảng 1", "Bảng 2" …)."""
    try:
        if path.stat().st_size > MAX_TABLE_BYTES:
            raise RubricError(file, None, "too_large", size=path.stat().st_size, limit=MAX_TABLE_BYTES)
        if path.suffix.lower() in WORD_SUFFIXES:
            return _word_tables(Document(str(path)), word_table_name)
        return [Sheet.of_worksheet(ws) for ws in load_workbook(path, data_only=True).worksheets]
    except OSError as exc:
        raise RubricError(file, None, "unreadable", reason=exc.strerror or str(exc)) from None
    except (zipfile.BadZipFile, InvalidFileException, PackageNotFoundError, KeyError, ValueError):
        raise RubricError(file, None, "table_unreadable") from None


def _word_tables(document, name: Callable[[int], str]) -> list[Sheet]:
    """Each table with the paragraphs written above it (its title block)."""
    sheets, lines = [], []
    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            lines.append(" ".join(Paragraph(child, document).text.split()))
        elif child.tag == qn("w:tbl"):
            title = name(len(sheets) + 1)
            sheets.append(Sheet.of_word_table(title, Table(child, document), lines))
            lines = []
    return sheets
