"""What a coordinator's view of one agency reads: adjustments, open returns, who answered, evidence, history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rubrics.answers import NA
from rubrics.compiled import CompiledRubric
from storage import answers as answer_store
from storage.models import Adjustment, AnswerChange, Contact, Evidence, ReturnedIndicator, VerificationEvent
from storage.models import Answer as AnswerRow
from storage.records import AdjustmentRecord, ChangeRecord, EventRecord, ReturnRecord


def open_returns(session: Session, agency_id: int) -> list[ReturnRecord]:
    rows = session.scalars(
        select(ReturnedIndicator)
        .where(ReturnedIndicator.agency_id == agency_id, ReturnedIndicator.resolved_at.is_(None))
        .order_by(ReturnedIndicator.id)
    )
    return [ReturnRecord(r.indicator, r.comment, r.by, r.at) for r in rows]


class AgencyDetail:
    """Reads for one agency's pages, for one unit of work."""

    def __init__(self, session: Session):
        self.session = session

    def names(self, campaign_id: int) -> dict[int, str]:
        """Telegram id → name of every contact of the campaign who gave a name."""
        rows = self.session.execute(
            select(Contact.telegram_user_id, Contact.full_name).where(Contact.campaign_id == campaign_id)
        )
        return {user_id: name for user_id, name in rows if name}

    def adjustments(self, agency_id: int) -> dict[str, AdjustmentRecord]:
        rows = self.session.scalars(select(Adjustment).where(Adjustment.agency_id == agency_id))
        return {a.indicator: AdjustmentRecord(a.indicator, a.points, a.reason, a.by, a.at) for a in rows}

    def open_returns(self, agency_id: int) -> list[ReturnRecord]:
        return open_returns(self.session, agency_id)

    def answered(self, agency_id: int, question_ids: list[str]) -> dict[str, tuple[int | None, datetime, str]]:
        """Question id → (who, when, source) of the current answers among ``question_ids`` (source
        "carried": kept from last year)."""
        rows = self.session.execute(
            select(AnswerRow.question_id, AnswerRow.set_by, AnswerRow.set_at, AnswerRow.source).where(
                AnswerRow.agency_id == agency_id, AnswerRow.question_id.in_(question_ids)
            )
        )
        return {qid: (by, at, source) for qid, by, at, source in rows}

    def evidence(self, agency_id: int, question_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Question id → its evidence: a file by its name, a link by its address, or a document reference with
        its date as a date."""
        found: dict[str, list[dict[str, Any]]] = {}
        rows = self.session.scalars(
            select(Evidence)
            .where(Evidence.agency_id == agency_id, Evidence.question_id.in_(question_ids))
            .order_by(Evidence.id)
        )
        for item in rows:
            reference = item.reference or {}
            found.setdefault(item.question_id, []).append(
                {
                    "kind": item.kind,
                    "file_name": item.file_name,
                    "url": item.url,
                    "so_hieu": reference.get("so_hieu"),
                    "ngay": date.fromisoformat(reference["ngay"]) if reference.get("ngay") else None,
                    "trich_yeu": reference.get("trich_yeu"),
                }
            )
        return found

    def changes(self, rubric: CompiledRubric, agency_id: int, limit: int) -> list[ChangeRecord]:
        """The latest answer changes of the agency, newest first, for questions the rubric still has."""
        rows = self.session.scalars(
            select(AnswerChange)
            .where(AnswerChange.agency_id == agency_id)
            .order_by(AnswerChange.changed_at.desc(), AnswerChange.id.desc())
            .limit(limit)
        )
        return [
            ChangeRecord(
                c.question_id,
                NA if c.not_applicable else answer_store.decoded(rubric, c.question_id, c.value),
                c.changed_by,
                c.changed_at,
                c.source,
            )
            for c in rows
            if c.question_id in rubric.by_id
        ]

    def events(self, agency_id: int) -> list[EventRecord]:
        rows = self.session.scalars(
            select(VerificationEvent)
            .where(VerificationEvent.agency_id == agency_id)
            .order_by(VerificationEvent.at.desc(), VerificationEvent.id.desc())
        )
        return [EventRecord(e.kind, e.indicator, e.points, e.note, e.by, e.at) for e in rows]
