"""One agency in full, for a coordinator, in pages: the summary with the points per indicator, then
each group's answers with their evidence and who gave them when, then the history of changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rubrics.answers import NA
from rubrics.compiled import WalkStep
from storage.agency_detail import AgencyDetail
from storage.records import CARRIED, SUBMITTED_STATES, AgencyRecord, SubmissionRecord
from storage.reports import AgencyReport

HISTORY_SHOWN = 25


@dataclass(frozen=True)
class Section:
    """A page of answers: one top-level group of the rubric, or the general questions before them."""

    code: str | None
    title: str | None
    steps: list[WalkStep]


def sections(rubric) -> list[Section]:
    found: dict[str | None, Section] = {}
    for step in rubric.steps:
        top = step.section.path[0] if step.section.path else None
        key = top.code if top else None
        if key not in found:
            found[key] = Section(key, top.title if top else None, [])
        found[key].steps.append(step)
    return list(found.values())


def scope_rank(entry: AgencyReport, entries: list[AgencyReport], scope: set[int]) -> tuple[int, int]:
    """The agency's rank among the agencies of a coordinator's scope (equal scores share a rank, as in the
    campaign's ranking), and how many are ranked there."""
    kept = [e for e in entries if e.agency.id in scope and e.ranked]
    total = entry.effective.total
    return 1 + sum(1 for e in kept if e.effective.total > total), len(kept)


def summary(detail: AgencyDetail, agency: AgencyRecord, submission: SubmissionRecord, entry: AgencyReport):
    adjustments = detail.adjustments(agency.id)
    return {
        "indicators": [
            {
                "item": score,
                "verified": entry.verified.indicators[code] if entry.verified else None,
                "adjustment": adjustments.get(code),
            }
            for code, score in entry.score.indicators.items()
        ],
        "returns": detail.open_returns(agency.id),
        "verifiable": submission.state in SUBMITTED_STATES,
    }


def answers_page(detail: AgencyDetail, agency: AgencyRecord, entry: AgencyReport, section: Section) -> dict[str, Any]:
    ids = [s.question.id for s in section.steps]
    answered = detail.answered(agency.id, ids)
    evidence = detail.evidence(agency.id, ids)
    names = detail.names(agency.campaign_id)
    lines = []
    for step in section.steps:
        by, at, source = answered.get(step.question.id, (None, None, None))
        lines.append(
            {
                "step": step,
                "answered": step.question.id in entry.answers,
                "value": entry.answers.get(step.question.id),
                "na": entry.answers.get(step.question.id) is NA,
                "by": names.get(by) if by is not None else None,
                "at": at,
                "carried": source == CARRIED,
                "evidence": evidence.get(step.question.id, []),
            }
        )
    return {"section": section, "lines": lines}


def history(detail: AgencyDetail, agency: AgencyRecord, rubric) -> dict[str, Any]:
    names = detail.names(agency.campaign_id)
    changes = detail.changes(rubric, agency.id, HISTORY_SHOWN + 1)
    shown = [
        {
            "step": rubric.by_id[c.question_id],
            "value": c.value,
            "by": names.get(c.changed_by),
            "at": c.changed_at,
            "carried": c.source == CARRIED,
        }
        for c in changes[:HISTORY_SHOWN]
    ]
    return {"changes": shown, "more": len(changes) > HISTORY_SHOWN, "events": detail.events(agency.id)}
