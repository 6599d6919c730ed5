"""A campaign's results as data: dictionaries for JSON, and an xlsx workbook and a csv table for the report.

The xlsx has one sheet per level (frozen header row; a row per agency with every
answer, every indicator's points, group subtotals, total, band, rank and
submission time) and a sheet listing the questions. Rank, total, band and group
figures are the verified ones where the agency was verified; the self-assessed
and verified totals stand side by side, and where an earlier campaign used the
same rubric family, its total and the change since then. Every figure comes from
the same :mod:`storage.reports` scoring as ``cqdt scores``.

The writers print the words of an :class:`ExportLabels` (the bot renders them from
its templates) and write to a binary stream; the xlsx row by row in XlsxWriter's
constant-memory mode. Texts lose the control characters a workbook cannot hold,
in the xlsx each is a text cell, never a formula (a name may begin with "="), and in the csv a text
that begins like a formula is prefixed with an apostrophe.
A Decimal keeps its exact digits (87,10 is stored as 87.10, not 87.09999999999999)
and a score shows two decimals.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, BinaryIO, Protocol
from zoneinfo import ZoneInfo

import xlsxwriter

from rubrics import answers as values
from rubrics.answers import NA
from rubrics.compiled import CompiledRubric
from rubrics.formatting import vn_date
from rubrics.scoring import AgencyScore, ItemScore
from storage.records import CampaignFacts
from storage.reports import AgencyReport, LevelReport

GROUP_PARTS = ("max", "excluded", "applicable", "achieved", "percent", "converted")
SUMMARY_COLUMNS = (
    "rank",
    "code",
    "name",
    "parent",
    "state",
    "submitted",
    "self_assessed",
    "verified",
    "total",
    "max",
    "percent",
    "band",
    "previous",
    "change",
)
QUESTION_COLUMNS = ("level", "number", "question_id", "section", "question_text")
INDICATOR_COLUMNS = (
    "level",
    "indicator_code",
    "indicator_title",
    "max",
    "scoring",
    "evidence",
    "data_source",
    "verified_by",
)
CAMPAIGN_FIELDS = ("campaign_name", "office_name", "office_letter", "office_contact", "deadline", "period")
SCORE_FORMAT = "0.00"
TIME_FORMAT = "dd/mm/yyyy hh:mm"
CSV_TIME = "%d/%m/%Y %H:%M"
# What a workbook cannot hold: C0 controls other than tab, line feed and carriage return, DEL,
# lone surrogates and the two non-characters XML forbids.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may read as the start of a formula
UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


class ExportLabels(Protocol):
    """The words an export prints, in one language."""

    def column(self, name: str) -> str:
        """A column heading: one of :data:`SUMMARY_COLUMNS` or :data:`QUESTION_COLUMNS`."""
        ...

    def group_column(self, code: str, part: str) -> str:
        """A group's column: ``part`` is one of :data:`GROUP_PARTS`, ``band`` or ``change``."""
        ...

    def indicator_column(self, code: str) -> str: ...

    def question_column(self, number: int, question_id: str) -> str: ...

    def questions_sheet(self) -> str: ...

    def indicators_sheet(self) -> str: ...

    def campaign_sheet(self) -> str: ...

    def state(self, name: str) -> str: ...

    def yes(self) -> str: ...

    def no(self) -> str: ...

    def not_applicable(self) -> str: ...

    def document(self, number: str | None, signed: Any, summary: str | None) -> str: ...


# -- dictionaries for JSON ------------------------------------------------------


def group_dict(score: AgencyScore, group: ItemScore) -> dict[str, Any]:
    return {
        "code": group.code,
        "title": group.title,
        "max": group.max,
        "excluded": group.excluded,
        "applicable": group.applicable,
        "achieved": group.achieved,
        "percent": group.percent,
        "converted": group.converted,
        "band": score.group_bands.get(group.code),
    }


def score_dict(score: AgencyScore) -> dict[str, Any]:
    return {
        "rank": score.rank,
        "total": score.total,
        "max": score.max,
        "percent": score.percent,
        "band": score.band,
        "achieved": score.achieved,
        "excluded": score.excluded,
        "groups": [group_dict(score, g) for g in score.groups],
    }


def agency_dict(report: AgencyReport, *, detail: bool = False, rubric: CompiledRubric | None = None) -> dict[str, Any]:
    agency = report.agency
    data = {
        "code": agency.code,
        "name": agency.name,
        "level": agency.level,
        "parent_code": agency.parent_code,
        "state": agency.state,
        "submitted_at": agency.submitted_at,
        "ranked": report.ranked,
        "progress": None if report.progress is None else dict(zip(("answered", "relevant"), report.progress)),
        **score_dict(report.effective),
        "self_assessed": report.score.total,
        "verified": report.verified.total if report.verified else None,
        "previous": report.previous.total if report.previous else None,
        "change": report.change,
    }
    if detail and rubric is not None:
        data["indicators"] = {
            code: {
                "max": s.max,
                "points": s.achieved,
                "verified_points": report.verified.indicators[code].achieved if report.verified else None,
                "not_applicable": s.not_applicable,
            }
            for code, s in report.score.indicators.items()
        }
        data["answers"] = {
            qid: "na" if v is NA else values.to_json(rubric.question(qid), v) for qid, v in report.answers.items()
        }
    return data


def campaign_dict(campaign: CampaignFacts) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "name": campaign.name,
        "deadline": campaign.deadline,
        "grace_hours": campaign.grace_hours,
        "period_from": campaign.period_from,
        "period_to": campaign.period_to,
        "state": campaign.state,
        "office": {"name": campaign.office.name, "contact": campaign.office.contact, "letter": campaign.office.letter},
    }


def report_dict(campaign: CampaignFacts, reports: Mapping[str, LevelReport], *, detail: bool) -> dict[str, Any]:
    return {
        "campaign": campaign_dict(campaign),
        "levels": [
            {
                "level": level,
                "rubric": {
                    "id": r.rubric.id,
                    "version": r.rubric.rubric.version,
                    "content_hash": r.rubric.content_hash,
                    "max": r.rubric.max,
                },
                "previous_campaign": r.previous_campaign,
                "agencies": [agency_dict(a, detail=detail, rubric=r.rubric) for a in r.ranked()],
            }
            for level, r in reports.items()
        ],
    }


# -- rows, shared by the xlsx and the csv ---------------------------------------


def printable(text: str) -> str:
    """The text without the control characters a workbook cannot hold."""
    return UNPRINTABLE.sub("", text)


def answer_cell(labels: ExportLabels, rubric: CompiledRubric, question_id: str) -> Callable[[Any], Any]:
    """How a cell shows the answers to one question: numbers stay numbers, choices become their labels."""
    question = rubric.question(question_id)
    kind = question.type
    if kind == "yes_no":
        yes, no = labels.yes(), labels.no()

        def shown(value: Any) -> Any:
            return yes if value else no

    elif kind in ("single_choice", "multi_choice"):
        names = {o.value: o.label for o in question.options}

        def shown(value: Any) -> Any:
            return "; ".join(names.get(v, v) for v in (value if isinstance(value, list) else [value]))

    elif kind == "document":

        def shown(value: Any) -> Any:
            return labels.document(value.get("so_hieu"), value.get("ngay"), value.get("trich_yeu"))

    elif kind == "file":

        def shown(value: Any) -> Any:
            return value.get("file_name") or value.get("file_id")

    else:
        shown = {"date": vn_date, "integer": int}.get(kind, lambda value: value)
    not_applicable = labels.not_applicable()

    def cell(value: Any) -> Any:
        return None if value is None else not_applicable if value is NA else shown(value)

    return cell


def local(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    return value.astimezone(zone).replace(tzinfo=None) if value else None


def summary_header(labels: ExportLabels) -> list[str]:
    """The columns every export starts with: rank, agency, state, submission time, the self-assessed and
    verified totals, the total that ranks, band, and the previous campaign's total with the change."""
    return [labels.column(column) for column in SUMMARY_COLUMNS]


def summary_row(entry: AgencyReport, labels: ExportLabels, submitted: Any) -> list[Any]:
    agency, score = entry.agency, entry.effective
    return [
        score.rank,
        agency.code,
        agency.name,
        agency.parent_code,
        labels.state(agency.state),
        submitted,
        entry.score.total,
        entry.verified.total if entry.verified else None,
        score.total,
        score.max,
        score.percent,
        score.band,
        entry.previous.total if entry.previous else None,
        entry.change,
    ]


def _group_bands(report: LevelReport) -> bool:
    return any(s.applies_to == "groups" for s in report.rubric.rubric.bands)


def level_header(labels: ExportLabels, report: LevelReport) -> list[str]:
    """A level sheet's header; its last columns, one per question, hold the answers."""
    rubric = report.rubric
    head = summary_header(labels)
    for group in rubric.rubric.groups:
        head += [labels.group_column(group.code, part) for part in GROUP_PARTS]
        if _group_bands(report):
            head.append(labels.group_column(group.code, "band"))
        if report.previous_campaign:
            head.append(labels.group_column(group.code, "change"))
    head += [labels.indicator_column(item.code) for item in rubric.indicators]
    head.append(labels.column("carried"))
    head += [labels.question_column(step.number, step.question.id) for step in rubric.steps]
    return head


def carried_cell(rubric: CompiledRubric, kept: Collection[str]) -> str | None:
    """The numbers of the questions whose answer was kept from last year: "2, 3, 17"."""
    numbers = sorted(rubric.by_id[qid].number for qid in kept if qid in rubric.by_id)
    return ", ".join(map(str, numbers)) or None


def level_rows(
    labels: ExportLabels, report: LevelReport, zone: ZoneInfo, carried: Mapping[int, Collection[str]] | None = None
) -> Iterator[list[Any]]:
    rubric = report.rubric
    group_bands = _group_bands(report)
    indicators = [item.code for item in rubric.indicators]
    answers = [(step.question.id, answer_cell(labels, rubric, step.question.id)) for step in rubric.steps]
    for entry in report.ranked():
        score = entry.effective
        row = summary_row(entry, labels, local(entry.agency.submitted_at, zone))
        for group in score.groups:
            row += [group.max, group.excluded, group.applicable, group.achieved, group.percent, group.converted]
            if group_bands:
                row.append(score.group_bands.get(group.code))
            if report.previous_campaign:
                row.append(entry.group_change(group.code))
        row += [score.indicators[code].achieved for code in indicators]
        row.append(carried_cell(rubric, (carried or {}).get(entry.agency.id, ())))
        row += [shown(entry.answers.get(qid)) for qid, shown in answers]
        yield row


def question_rows(reports: Mapping[str, LevelReport]) -> Iterator[list[Any]]:
    for report in reports.values():
        for step in report.rubric.steps:
            section = " › ".join(f"{i.code} {i.title}" for i in step.section.path)
            yield [report.level, step.number, step.question.id, section, step.question.text]


def indicator_rows(reports: Mapping[str, LevelReport]) -> Iterator[list[Any]]:
    """Each level's indicators as the criteria table gives them: points, how scored, evidence, data source and
    verifying unit."""
    for report in reports.values():
        for item in report.rubric.indicators:
            fields = (item.scoring, item.evidence, item.data_source, item.verified_by)
            yield [report.level, item.code, item.title, item.max, *fields]


def campaign_rows(campaign: CampaignFacts, labels: ExportLabels, zone: ZoneInfo) -> list[list[Any]]:
    """The campaign and its coordinating office, a field a row."""
    office = campaign.office
    period = f"{vn_date(campaign.period_from)}–{vn_date(campaign.period_to)}" if campaign.period_from else None
    values = (campaign.name, office.name, office.letter, office.contact, local(campaign.deadline, zone), period)
    return [[labels.column(name), value] for name, value in zip(CAMPAIGN_FIELDS, values)]


def sheet_title(name: str, taken: set[str]) -> str:
    """A sheet name Excel accepts (31 characters, none of []:*?/\\, no apostrophe at either end),
    unique in the workbook regardless of case."""
    base = printable("".join(ch for ch in name if ch not in "[]:*?/\\"))[:28].strip("' ") or "Sheet"
    title, n = base, 2
    while title.casefold() in taken:
        title, n = f"{base[:26]} {n}", n + 1
    taken.add(title.casefold())
    return title


# -- xlsx -----------------------------------------------------------------------


class _SheetWriter:
    """Writes rows of cells to one worksheet, each by its type: text as text (never a formula), a Decimal
    with its exact digits, a time as a date cell, nothing for None."""

    def __init__(self, sheet, score, time) -> None:
        self.sheet, self.score, self.time = sheet, score, time

    def write(self, row: int, cells: list[Any], scores_until: int = 0) -> None:
        """A Decimal in a column before ``scores_until`` is a score, shown with two decimals."""
        # XlsxWriter's public write_* only add a conversion of "A1" cell names (row and column are
        # numbers here) to its undecorated _write_* methods: calling those takes the 12 000-agency
        # workbook from 5,23 s to 4,84 s (medians of 3 in one run).
        sheet = self.sheet
        string, number, when = sheet._write_string, sheet._write_number, sheet._write_datetime
        for col, value in enumerate(cells):
            kind = type(value)
            if value is None:
                continue
            if kind is str:
                string(row, col, value if value.isprintable() else printable(value))
            elif kind is Decimal:
                # XlsxWriter writes a number as f"{number:.16G}": a Decimal keeps its own digits there,
                # where a float would turn 87.10 into 87.09999999999999.
                number(row, col, value, self.score if col < scores_until else None)
            elif kind is int:
                number(row, col, value)
            elif kind is datetime:
                when(row, col, value, self.time)
            else:
                string(row, col, printable(str(value)))


def write_xlsx(
    stream: BinaryIO,
    reports: Mapping[str, LevelReport],
    labels: ExportLabels,
    *,
    zone: str,
    campaign: CampaignFacts | None = None,
    carried: Mapping[int, Collection[str]] | None = None,
) -> None:
    """The workbook: one sheet per level, then the questions, the indicators and (given ``campaign``) the
    campaign with its office, written row by row to ``stream``. ``carried`` (agency id → question ids)
    names the answers kept from last year, in a column before the answers."""
    tz = ZoneInfo(zone)
    workbook = xlsxwriter.Workbook(stream, {"constant_memory": True})
    score = workbook.add_format({"num_format": SCORE_FORMAT})
    time = workbook.add_format({"num_format": TIME_FORMAT})
    taken: set[str] = set()
    for report in reports.values():
        sheet = workbook.add_worksheet(sheet_title(report.rubric.rubric.level_name or report.level, taken))
        sheet.freeze_panes(1, 0)
        writer = _SheetWriter(sheet, score, time)
        header = level_header(labels, report)
        answers_from = len(header) - len(report.rubric.steps)
        writer.write(0, header)
        for n, row in enumerate(level_rows(labels, report, tz, carried), start=1):
            writer.write(n, row, answers_from)
    sheet = workbook.add_worksheet(sheet_title(labels.questions_sheet(), taken))
    sheet.freeze_panes(1, 0)
    writer = _SheetWriter(sheet, score, time)
    writer.write(0, [labels.column(column) for column in QUESTION_COLUMNS])
    for n, row in enumerate(question_rows(reports), start=1):
        writer.write(n, row)
    sheet = workbook.add_worksheet(sheet_title(labels.indicators_sheet(), taken))
    sheet.freeze_panes(1, 0)
    writer = _SheetWriter(sheet, score, time)
    writer.write(0, [labels.column(column) for column in INDICATOR_COLUMNS])
    for n, row in enumerate(indicator_rows(reports), start=1):
        writer.write(n, row)
    if campaign is not None:
        writer = _SheetWriter(workbook.add_worksheet(sheet_title(labels.campaign_sheet(), taken)), score, time)
        for n, row in enumerate(campaign_rows(campaign, labels, tz)):
            writer.write(n, row)
    workbook.close()


# -- csv ------------------------------------------------------------------------


def write_csv(
    stream: BinaryIO,
    reports: Mapping[str, LevelReport],
    labels: ExportLabels,
    *,
    zone: str,
    carried: Mapping[int, Collection[str]] | None = None,
) -> None:
    """One row per agency, all levels, in UTF-8 with a byte order mark (Excel then reads the diacritics);
    group columns are the union of the levels' group codes; the last column names the questions whose
    answer was kept from last year (``carried``: agency id → question ids)."""
    tz = ZoneInfo(zone)
    codes: list[str] = []
    for report in reports.values():
        codes += [g.code for g in report.rubric.rubric.groups if g.code not in codes]
    head = [labels.column("level"), *summary_header(labels)]
    head += [labels.group_column(code, part) for code in codes for part in GROUP_PARTS + ("band",)]
    head.append(labels.column("carried"))
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        writer = csv.writer(text)
        writer.writerow(head)
        for level, report in reports.items():
            for entry in report.ranked():
                kept = carried_cell(report.rubric, (carried or {}).get(entry.agency.id, ()))
                writer.writerow([*_csv_row(level, entry, labels, codes, tz), kept or ""])
        text.flush()
    finally:
        text.detach()  # the caller's stream stays open


def _csv_row(level: str, entry: AgencyReport, labels: ExportLabels, codes: list[str], zone: ZoneInfo) -> list[Any]:
    score = entry.effective
    submitted = local(entry.agency.submitted_at, zone)
    row = [level, *summary_row(entry, labels, submitted.strftime(CSV_TIME) if submitted else "")]
    by_code = {g.code: g for g in score.groups}
    for code in codes:
        group = by_code.get(code)
        if group is None:
            row += [""] * (len(GROUP_PARTS) + 1)
            continue
        row += [group.max, group.excluded, group.applicable, group.achieved, group.percent, group.converted]
        row.append(score.group_bands.get(code) or "")
    return ["" if v is None else csv_text(v) if isinstance(v, str) else v for v in row]


def csv_text(text: str) -> str:
    """The text as a spreadsheet opening the csv takes it: printable, and prefixed with an apostrophe
    when it begins like a formula (=, +, -, @, tab, carriage return), so it stays text."""
    text = printable(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
