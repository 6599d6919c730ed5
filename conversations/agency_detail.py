"""One agency in full, for a coordinator, in pages: the summary with the points per indicator, then
each group's answers with their evidence and who gave them when, then the history of changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rubrics.answers import NA
from rubrics.compiled import WalkStep
from storage import answers as answer_store
from storage.models import (
    Adjustment,
    Agency,
    AnswerChange,
    Contact,
    Evidence,
    VerificationEvent,
)
from storage.models import Answer as AnswerRow
from storage.reports import AgencyReport
from storage.verification import open_returns

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


def _names(session: Session, campaign_id: int) -> dict[int, str]:
    rows = session.execute(
        select(Contact.telegram_user_id, Contact.full_name).where(Contact.campaign_id == campaign_id)
    )
    return {user_id: name for user_id, name in rows if name}


def summary(session: Session, agency: Agency, entry: AgencyReport) -> dict[str, Any]:
    adjustments = {a.indicator: a for a in session.scalars(select(Adjustment).where(Adjustment.agency_id == agency.id))}
    returns = open_returns(session, agency.id)
    return {
        "indicators": [
            {
                "item": score,
                "verified": entry.verified.indicators[code] if entry.verified else None,
                "adjustment": adjustments.get(code),
            }
            for code, score in entry.score.indicators.items()
        ],
        "returns": returns,
        "verifiable": agency.submission.state in ("submitted", "verified"),
    }


def answers_page(session: Session, agency: Agency, entry: AgencyReport, section: Section) -> dict[str, Any]:
    ids = [s.question.id for s in section.steps]
    stored = {
        row.question_id: row
        for row in session.scalars(
            select(AnswerRow).where(AnswerRow.agency_id == agency.id, AnswerRow.question_id.in_(ids))
        )
    }
    evidence: dict[str, list[dict[str, Any]]] = {}
    for item in session.scalars(
        select(Evidence).where(Evidence.agency_id == agency.id, Evidence.question_id.in_(ids)).order_by(Evidence.id)
    ):
        evidence.setdefault(item.question_id, []).append(_evidence(item))
    names = _names(session, agency.campaign_id)
    lines = []
    for step in section.steps:
        row = stored.get(step.question.id)
        lines.append(
            {
                "step": step,
                "answered": step.question.id in entry.answers,
                "value": entry.answers.get(step.question.id),
                "na": entry.answers.get(step.question.id) is NA,
                "by": names.get(row.set_by) if row else None,
                "at": row.set_at if row else None,
                "evidence": evidence.get(step.question.id, []),
            }
        )
    return {"section": section, "lines": lines}


def _evidence(item: Evidence) -> dict[str, Any]:
    """A file by its name, or a document reference (số hiệu, ngày, trích yếu) with its date as a date."""
    reference = item.reference or {}
    return {
        "kind": item.kind,
        "file_name": item.file_name,
        "so_hieu": reference.get("so_hieu"),
        "ngay": date.fromisoformat(reference["ngay"]) if reference.get("ngay") else None,
        "trich_yeu": reference.get("trich_yeu"),
    }


def history(session: Session, agency: Agency, rubric) -> dict[str, Any]:
    names = _names(session, agency.campaign_id)
    changes = list(
        session.scalars(
            select(AnswerChange)
            .where(AnswerChange.agency_id == agency.id)
            .order_by(AnswerChange.changed_at.desc(), AnswerChange.id.desc())
            .limit(HISTORY_SHOWN + 1)
        )
    )
    events = list(
        session.scalars(
            select(VerificationEvent)
            .where(VerificationEvent.agency_id == agency.id)
            .order_by(VerificationEvent.at.desc(), VerificationEvent.id.desc())
        )
    )
    shown = []
    for change in changes[:HISTORY_SHOWN]:
        step = rubric.by_id.get(change.question_id)
        if step is None:
            continue
        value = NA if change.not_applicable else answer_store.decoded(rubric, change.question_id, change.value)
        shown.append({"step": step, "value": value, "by": names.get(change.changed_by), "at": change.changed_at})
    return {"changes": shown, "more": len(changes) > HISTORY_SHOWN, "events": events}
