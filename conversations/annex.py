"""The published annex of a ranking decision: one table per level, as an xlsx workbook and a Word document.

Each level's table has a title block (the coordinating office, the campaign, "Kèm theo Quyết định số
…/QĐ-UBND ngày …" with blanks or the values given), a two-row header (STT, agency name, each group's
points, with its classification when the rubric classifies per group, total, percentage, band, rank),
a row per ranked agency, by rank, and then, apart, the agencies that did not submit, unranked, with
their progress. The workbook is print-ready (A4 landscape, header rows repeated on every page, frozen
panes, two-decimal numbers) and ends with the targets sheet (:mod:`conversations.targets`). Every text
cell is written as text, never as a formula; every Decimal with its exact digits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, BinaryIO, Protocol

import xlsxwriter
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from conversations.exports import printable, sheet_title
from conversations.targets import EvidenceOf, agency_targets, commonly_missed, missed
from storage.reports import AgencyReport, LevelReport

SCORE_FORMAT = "0.00"
A4 = 9  # XlsxWriter's paper size for A4


class AnnexLabels(Protocol):
    """The words of the annex, in one language."""

    def annex(self, name: str, *args: Any) -> str:
        """One phrase of the annex: the title block, a heading, a status, the targets sheet's columns."""
        ...

    def answer(self, question: Any, value: Any) -> str: ...


@dataclass(frozen=True)
class Heading:
    """What the title block names: the coordinating office and the decision the annex goes with."""

    office: str | None = None
    decision_number: str | None = None
    decision_date: date | None = None


@dataclass(frozen=True)
class HeaderCell:
    text: str
    row: int  # 0 or 1: the header's first or second row
    col: int
    rows: int = 1
    cols: int = 1


@dataclass
class LevelTable:
    """One level's annex, as cells."""

    level: str
    sheet: str
    title: list[str]
    header: list[HeaderCell]
    width: int
    ranked: list[list[Any]] = field(default_factory=list)
    unranked_heading: str = ""
    unranked: list[tuple[int, str, str]] = field(default_factory=list)  # (STT, name, status)


def _grouped_bands(report: LevelReport) -> bool:
    return any(s.applies_to == "groups" for s in report.rubric.rubric.bands)


def title_block(labels: AnnexLabels, report: LevelReport, campaign_name: str, heading: Heading) -> list[str]:
    rubric = report.rubric.rubric
    return [
        labels.annex("office", heading.office),
        labels.annex("title", rubric.level_name),
        campaign_name,
        labels.annex("decision", heading.decision_number, heading.decision_date),
    ]


def level_table(labels: AnnexLabels, report: LevelReport, campaign_name: str, heading: Heading) -> LevelTable:
    rubric = report.rubric
    per_group = _grouped_bands(report)
    header = [HeaderCell(labels.annex("col_number"), 0, 0, rows=2), HeaderCell(labels.annex("col_name"), 0, 1, rows=2)]
    col = 2
    for group in rubric.rubric.groups:
        span = 2 if per_group else 1
        header.append(HeaderCell(labels.annex("col_group", group.code, group.title, group.max), 0, col, cols=span))
        header.append(HeaderCell(labels.annex("col_points"), 1, col))
        if per_group:
            header.append(HeaderCell(labels.annex("col_band"), 1, col + 1))
        col += span
    for name, *args in (("col_total", rubric.max), ("col_percent",), ("col_band",), ("col_rank",)):
        header.append(HeaderCell(labels.annex(name, *args), 0, col, rows=2))
        col += 1
    table = LevelTable(
        report.level,
        rubric.rubric.level_name or report.level,
        title_block(labels, report, campaign_name, heading),
        header,
        col,
        unranked_heading=labels.annex("unranked_heading"),
    )
    for number, entry in enumerate(report.standing(), start=1):
        score = entry.effective
        row: list[Any] = [number, entry.agency.name]
        for group in score.groups:
            row.append(group.converted)
            if per_group:
                row.append(score.group_bands.get(group.code))
        row += [score.total, score.percent, score.band, score.rank]
        table.ranked.append(row)
    for number, entry in enumerate(report.unranked(), start=1):
        table.unranked.append((number, entry.agency.name, status(labels, entry)))
    return table


def status(labels: AnnexLabels, entry: AgencyReport) -> str:
    answered, relevant = entry.progress or (0, 0)
    return labels.annex("status", entry.agency.state, answered, relevant)


def tables(
    labels: AnnexLabels, reports: Mapping[str, LevelReport], campaign_name: str, heading: Heading
) -> list[LevelTable]:
    return [level_table(labels, report, campaign_name, heading) for report in reports.values()]


# -- xlsx -----------------------------------------------------------------------


class _Cells:
    """Writes one cell by its type: text as text (never a formula), a Decimal with its exact digits."""

    def __init__(self, sheet, formats: dict[str, Any]):
        self.sheet, self.formats = sheet, formats

    def put(self, row: int, col: int, value: Any, kind: str = "cell") -> None:
        fmt = self.formats[kind]
        if value is None:
            self.sheet.write_blank(row, col, None, fmt)
        elif isinstance(value, Decimal):
            self.sheet.write_number(row, col, value, self.formats["score"])
        elif isinstance(value, int):
            self.sheet.write_number(row, col, value, fmt)
        else:
            self.sheet.write_string(row, col, printable(str(value)), fmt)

    def merged(self, first_row: int, first_col: int, last_row: int, last_col: int, text: str, kind: str) -> None:
        if (first_row, first_col) == (last_row, last_col):
            self.put(first_row, first_col, text, kind)
        else:
            self.sheet.merge_range(first_row, first_col, last_row, last_col, "", self.formats[kind])
            self.sheet.write_string(first_row, first_col, printable(text), self.formats[kind])


def _formats(workbook) -> dict[str, Any]:
    border = {"border": 1, "valign": "vcenter", "font_name": "Times New Roman", "font_size": 12}
    return {
        "office": workbook.add_format({"bold": True, "font_name": "Times New Roman", "font_size": 12}),
        "title": workbook.add_format(
            {"bold": True, "align": "center", "font_name": "Times New Roman", "font_size": 14}
        ),
        "subtitle": workbook.add_format({"align": "center", "bold": True, "font_name": "Times New Roman"}),
        "decision": workbook.add_format({"align": "center", "italic": True, "font_name": "Times New Roman"}),
        "head": workbook.add_format(
            {**border, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#F2F2F2"}
        ),
        "cell": workbook.add_format({**border, "text_wrap": True}),
        "score": workbook.add_format({**border, "num_format": SCORE_FORMAT}),
        "block": workbook.add_format({**border, "bold": True, "italic": True}),
    }


def write_annex_xlsx(
    stream: BinaryIO,
    reports: Mapping[str, LevelReport],
    labels: AnnexLabels,
    *,
    campaign_name: str,
    heading: Heading,
    evidence_of: EvidenceOf | None = None,
) -> None:
    """The annex workbook: a sheet per level, then the targets sheet."""
    workbook = xlsxwriter.Workbook(stream, {"strings_to_formulas": False, "strings_to_urls": False})
    formats = _formats(workbook)
    taken: set[str] = set()
    for table in tables(labels, reports, campaign_name, heading):
        sheet = workbook.add_worksheet(sheet_title(table.sheet, taken))
        _level_sheet(sheet, _Cells(sheet, formats), table)
    _targets_sheet(workbook, formats, taken, reports, labels, evidence_of)
    workbook.close()


def _level_sheet(sheet, cells: _Cells, table: LevelTable) -> None:
    last = table.width - 1
    for row, (text, kind) in enumerate(zip(table.title, ("office", "title", "subtitle", "decision"), strict=True)):
        cells.merged(row, 0, row, last if kind != "office" else min(last, 3), text, kind)
    top = len(table.title) + 1
    for cell in table.header:
        first = top + cell.row
        cells.merged(first, cell.col, first + cell.rows - 1, cell.col + cell.cols - 1, cell.text, "head")
    row = top + 2
    for values in table.ranked:
        for col, value in enumerate(values):
            cells.put(row, col, value)
        row += 1
    if table.unranked:
        cells.merged(row, 0, row, last, table.unranked_heading, "block")
        row += 1
        for number, name, state in table.unranked:
            cells.put(row, 0, number)
            cells.put(row, 1, name)
            cells.merged(row, 2, row, last, state, "cell")
            row += 1
    sheet.set_column(0, 0, 6)
    sheet.set_column(1, 1, 36)
    sheet.set_column(2, last, 12)
    sheet.set_row(top, 45)
    sheet.freeze_panes(top + 2, 2)
    sheet.repeat_rows(top, top + 1)
    sheet.set_landscape()
    sheet.set_paper(A4)
    sheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    sheet.center_horizontally()
    sheet.fit_to_pages(1, 0)


def _targets_sheet(workbook, formats, taken, reports, labels: AnnexLabels, evidence_of: EvidenceOf | None) -> None:
    sheet = workbook.add_worksheet(sheet_title(labels.annex("targets_sheet"), taken))
    cells = _Cells(sheet, formats)
    row = 0
    for report in reports.values():
        cells.merged(row, 0, row, 7, labels.annex("targets_level", report.rubric.rubric.level_name), "title")
        row += 1
        head = ["col_indicator", "col_indicator_title", "col_max", "col_missed_by", "col_average_lost"]
        for col, name in enumerate(head):
            cells.put(row, col, labels.annex(name), "head")
        row += 1
        for common in commonly_missed(report):
            values = [common.code, common.title, common.max, labels.annex("of", common.missed_by, common.of)]
            for col, value in enumerate([*values, common.average_lost]):
                cells.put(row, col, value)
            row += 1
        row += 1
        head = ["col_name", "col_indicator", "col_indicator_title", "col_max", "col_achieved", "col_lost"]
        for col, name in enumerate([*head, "col_answer", "col_evidence"]):
            cells.put(row, col, labels.annex(name), "head")
        row += 1
        for entry in report.ranked():
            found = agency_targets(entry, report.rubric, evidence_of) if evidence_of else missed(entry, report.rubric)
            for m in found:
                answer = "; ".join(labels.answer(q, v) for q, v in m.answers)
                proof = "; ".join(labels.annex("evidence", e) for e in m.evidence)
                for col, value in enumerate([entry.agency.name, m.code, m.title, m.max, m.achieved, m.lost, answer]):
                    cells.put(row, col, value)
                cells.put(row, 7, proof or None)
                row += 1
        row += 1
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, 1, 10)
    sheet.set_column(2, 2, 40)
    sheet.set_column(3, 5, 12)
    sheet.set_column(6, 7, 40)
    sheet.set_landscape()
    sheet.set_paper(A4)
    sheet.fit_to_pages(1, 0)


# -- docx -----------------------------------------------------------------------


def _repeat_as_header(row) -> None:
    """Word repeats a table's header rows at the top of every page (w:tblHeader)."""
    properties = row._tr.get_or_add_trPr()
    mark = OxmlElement("w:tblHeader")
    mark.set(qn("w:val"), "true")
    properties.append(mark)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    return printable(str(value))


def write_annex_docx(
    stream: BinaryIO, reports: Mapping[str, LevelReport], labels: AnnexLabels, *, campaign_name: str, heading: Heading
) -> None:
    """The same annex as a Word document: a landscape A4 section per level, its header rows repeated."""
    document = Document()
    style = document.styles["Normal"]
    style.font.name, style.font.size = "Times New Roman", Pt(12)
    for index, table in enumerate(tables(labels, reports, campaign_name, heading)):
        section = document.sections[0] if index == 0 else document.add_section()
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(297), Mm(210)
        section.left_margin = section.right_margin = Mm(15)
        section.top_margin = section.bottom_margin = Mm(15)
        for line, (text, kind) in enumerate(zip(table.title, ("office", "title", "subtitle", "decision"), strict=True)):
            paragraph = document.add_paragraph()
            run = paragraph.add_run(printable(text))
            run.bold = kind != "decision"
            run.italic = kind == "decision"
            if line:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _docx_table(document, table)
    document.save(stream)


def _docx_table(document, table: LevelTable) -> None:
    grid = document.add_table(rows=2, cols=table.width)
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell in table.header:
        first = grid.cell(cell.row, cell.col)
        target = grid.cell(cell.row + cell.rows - 1, cell.col + cell.cols - 1)
        merged = first.merge(target) if target is not first else first
        merged.text = printable(cell.text)
        for paragraph in merged.paragraphs:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            for run in paragraph.runs:
                run.bold = True
    for row in grid.rows:
        _repeat_as_header(row)
    for values in table.ranked:
        cells = grid.add_row().cells
        for col, value in enumerate(values):
            cells[col].text = _text(value)
    if table.unranked:
        block = grid.add_row().cells
        merged = block[0].merge(block[-1])
        merged.text = printable(table.unranked_heading)
        merged.paragraphs[0].runs[0].italic = True
        for number, name, state in table.unranked:
            cells = grid.add_row().cells
            cells[0].text, cells[1].text = str(number), printable(name)
            cells[2].merge(cells[-1]).text = printable(state)
