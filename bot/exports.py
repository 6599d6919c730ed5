"""A campaign's results as data: dictionaries for JSON, and xlsx and csv files for the report.

The xlsx has one sheet per level (frozen Vietnamese header row; a row per agency
with every answer, every indicator's points, group subtotals, total, band, rank
and submission time) and a sheet listing the questions. Rank, total, band and
group figures are the verified ones where the agency was verified; the
self-assessed and verified totals stand side by side, and where an earlier
campaign used the same rubric family, its total and the change since then.
Every figure comes from the same :mod:`storage.reports` scoring as ``cqdt scores``.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from bot.texts import environment
from rubrics import answers as values
from rubrics.answers import NA
from rubrics.compiled import CompiledRubric
from rubrics.formatting import vn_date
from rubrics.scoring import AgencyScore, ItemScore
from storage.models import Campaign
from storage.reports import AgencyReport, LevelReport

GROUP_PARTS = ("max", "excluded", "applicable", "achieved", "percent", "converted")


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


def campaign_dict(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "name": campaign.name,
        "deadline": campaign.deadline,
        "grace_hours": campaign.grace_hours,
        "period_from": campaign.period_from,
        "period_to": campaign.period_to,
        "state": campaign.state,
    }


def report_dict(campaign: Campaign, reports: dict[str, LevelReport], *, detail: bool) -> dict[str, Any]:
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


class Labels:
    """The label macros of ``{lang}/labels.j2``."""

    def __init__(self, lang: str = "vi", zone: str = "Asia/Ho_Chi_Minh"):
        self.module = environment(zone).get_template(f"{lang}/labels.j2").module

    def __getattr__(self, name: str):
        macro = getattr(self.module, name)
        return lambda *args, **kwargs: str(macro(*args, **kwargs)).strip()


def display_answer(labels: Labels, rubric: CompiledRubric, qid: str, value: Any) -> Any:
    """An answer as a cell shows it: numbers stay numbers, choices become their labels."""
    if value is None:
        return None
    if value is NA:
        return labels.not_applicable()
    question = rubric.question(qid)
    kind = question.type
    if kind == "yes_no":
        return labels.yes() if value else labels.no()
    if kind in ("single_choice", "multi_choice"):
        names = {o.value: o.label for o in question.options}
        chosen = value if isinstance(value, list) else [value]
        return "; ".join(names.get(v, v) for v in chosen)
    if kind == "date":
        return vn_date(value)
    if kind == "document":
        return labels.document(value.get("so_hieu"), value.get("ngay"), value.get("trich_yeu"))
    if kind == "file":
        return value.get("file_name") or value.get("file_id")
    if kind == "integer":
        return int(value)
    return value


def _local(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    return value.astimezone(zone).replace(tzinfo=None) if value else None


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


def summary_header(labels: Labels) -> list[str]:
    """The columns every export starts with: rank, agency, state, submission time, the self-assessed and
    verified totals, the total that ranks, band, and the previous campaign's total with the change."""
    return [getattr(labels, f"col_{column}")() for column in SUMMARY_COLUMNS]


def summary_row(entry: AgencyReport, labels: Labels, submitted: Any) -> list[Any]:
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


def level_header(labels: Labels, report: LevelReport) -> list[str]:
    rubric = report.rubric
    head = summary_header(labels)
    group_bands = any(s.applies_to == "groups" for s in rubric.rubric.bands)
    for group in rubric.rubric.groups:
        head += [labels.col_group(group.code, part) for part in GROUP_PARTS]
        if group_bands:
            head.append(labels.col_group(group.code, "band"))
        if report.previous_campaign:
            head.append(labels.col_group(group.code, "change"))
    head += [labels.col_indicator(item.code) for item in rubric.indicators]
    head += [labels.col_question(step.number, step.question.id) for step in rubric.steps]
    return head


def level_rows(labels: Labels, report: LevelReport, zone: ZoneInfo):
    rubric = report.rubric
    group_bands = any(s.applies_to == "groups" for s in rubric.rubric.bands)
    for entry in report.ranked():
        score = entry.effective
        row = summary_row(entry, labels, _local(entry.agency.submitted_at, zone))
        for group in score.groups:
            row += [group.max, group.excluded, group.applicable, group.achieved, group.percent, group.converted]
            if group_bands:
                row.append(score.group_bands.get(group.code))
            if report.previous_campaign:
                row.append(entry.group_change(group.code))
        row += [score.indicators[item.code].achieved for item in rubric.indicators]
        row += [
            display_answer(labels, rubric, step.question.id, entry.answers.get(step.question.id))
            for step in rubric.steps
        ]
        yield row


def sheet_title(report: LevelReport, taken: set[str]) -> str:
    base = "".join(ch for ch in f"{report.rubric.rubric.level_name}" if ch not in "[]:*?/\\")[:28] or report.level
    title, n = base, 2
    while title in taken:
        title, n = f"{base[:26]} {n}", n + 1
    taken.add(title)
    return title


def write_xlsx(
    path: Path, reports: dict[str, LevelReport], *, lang: str = "vi", zone: str = "Asia/Ho_Chi_Minh"
) -> None:
    labels, tz = Labels(lang, zone), ZoneInfo(zone)
    workbook = Workbook(write_only=True)
    taken: set[str] = set()
    for report in reports.values():
        sheet = workbook.create_sheet(sheet_title(report, taken))
        sheet.freeze_panes = "A2"
        sheet.append(level_header(labels, report))
        for row in level_rows(labels, report, tz):
            sheet.append(row)
    questions = workbook.create_sheet(labels.sheet_questions())
    questions.freeze_panes = "A2"
    questions.append(
        [
            labels.col_level(),
            labels.col_number(),
            labels.col_question_id(),
            labels.col_section(),
            labels.col_question_text(),
        ]
    )
    for report in reports.values():
        for step in report.rubric.steps:
            section = " › ".join(f"{i.code} {i.title}" for i in step.section.path)
            questions.append([report.level, step.number, step.question.id, section, step.question.text])
    workbook.save(path)


def write_csv(path: Path, reports: dict[str, LevelReport], *, lang: str = "vi", zone: str = "Asia/Ho_Chi_Minh") -> None:
    """One row per agency, all levels; group columns are the union of the levels' group codes."""
    labels, tz = Labels(lang, zone), ZoneInfo(zone)
    codes: list[str] = []
    for report in reports.values():
        codes += [g.code for g in report.rubric.rubric.groups if g.code not in codes]
    head = [labels.col_level(), *summary_header(labels)]
    head += [labels.col_group(code, part) for code in codes for part in GROUP_PARTS + ("band",)]
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(head)
        for level, report in reports.items():
            for entry in report.ranked():
                score = entry.effective
                submitted = _local(entry.agency.submitted_at, tz)
                row = [level, *summary_row(entry, labels, submitted.strftime("%d/%m/%Y %H:%M") if submitted else "")]
                by_code = {g.code: g for g in score.groups}
                for code in codes:
                    group = by_code.get(code)
                    row += (
                        [
                            group.max,
                            group.excluded,
                            group.applicable,
                            group.achieved,
                            group.percent,
                            group.converted,
                            score.group_bands.get(code) or "",
                        ]
                        if group
                        else [""] * (len(GROUP_PARTS) + 1)
                    )
                writer.writerow(["" if v is None else v for v in row])
