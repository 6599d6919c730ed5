"""Verification (thẩm định) of a submitted agency: confirm it, adjust an indicator's points, or return
indicators for correction; and the contact's side of a return.

Every action is logged in ``verification_events`` and bumps the submission's revision, so every
process's scoreboard sees it. Notices to the contacts and coordinators go through the outbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import Refused
from rubrics.compiled import CompiledRubric
from rubrics.conditions import effective, holds
from rubrics.model import Item
from rubrics.rules import quantize
from storage import audit, campaigns
from storage.answers import load_agency_answers
from storage.models import (
    Adjustment,
    Agency,
    Contact,
    ReturnedIndicator,
    Submission,
    VerificationEvent,
)
from storage.notifications import Planned, store
from storage.reach import reached_by_telegram
from storage.records import RETURNED, SUBMITTED_STATES, VERIFIED

VERIFIABLE_STATES = SUBMITTED_STATES


def _checked(submission: Submission, agency: Agency) -> None:
    if submission.state not in VERIFIABLE_STATES:
        raise Refused("not_verifiable", agency=agency.name, state=submission.state)


def indicator_of(rubric: CompiledRubric, code: str) -> Item:
    item = rubric.items.get(code.strip())
    if item is None or item.rule is None:
        raise Refused("unknown_indicator", code=code.strip()[:20])
    return item


def _log(session: Session, agency: Agency, kind: str, by: int | None, now: datetime, **fields) -> None:
    session.add(VerificationEvent(agency_id=agency.id, kind=kind, by=by, at=now, **fields))
    audit.append(session, agency.id, kind, at=now, by=by, question_id=fields.get("indicator"), data=fields or None)


def confirm(session: Session, submission: Submission, agency: Agency, *, by: int | None, now: datetime) -> None:
    _checked(submission, agency)
    submission.state, submission.verified_at, submission.verified_by = VERIFIED, now, by
    submission.revision += 1
    _log(session, agency, "confirmed", by, now)


def parse_points(text: str) -> Decimal:
    """Points as a coordinator types them: 7 · 7,5 · 7.5."""
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise Refused("points_not_number", text=text.strip()[:20]) from None
    if not value.is_finite():
        raise Refused("points_not_number", text=text.strip()[:20])
    return quantize(value)


def adjust(
    session: Session,
    submission: Submission,
    agency: Agency,
    rubric: CompiledRubric,
    code: str,
    points: Decimal,
    reason: str,
    *,
    by: int | None,
    now: datetime,
) -> Item:
    """Set the verified points of one indicator; they replace the self-assessed points in the verified score."""
    _checked(submission, agency)
    item = indicator_of(rubric, code)
    if not 0 <= points <= item.max:
        raise Refused("points_out_of_range", code=item.code, max=item.max)
    if not reason.strip():
        raise Refused("reason_missing")
    row = session.scalar(select(Adjustment).where(Adjustment.agency_id == agency.id, Adjustment.indicator == item.code))
    if row is None:
        row = Adjustment(agency_id=agency.id, indicator=item.code)
        session.add(row)
    row.points, row.reason, row.by, row.at = points, reason.strip(), by, now
    submission.revision += 1
    _log(session, agency, "adjusted", by, now, indicator=item.code, points=points, note=reason.strip())
    return item


def return_indicators(
    session: Session,
    submission: Submission,
    agency: Agency,
    rubric: CompiledRubric,
    codes: list[str],
    comment: str,
    *,
    by: int | None,
    now: datetime,
) -> list[Item]:
    """Send indicators back for correction; the agency's contacts are notified."""
    _checked(submission, agency)
    items = [indicator_of(rubric, code) for code in codes if code.strip()]
    if not items:
        raise Refused("indicators_missing")
    if not comment.strip():
        raise Refused("comment_missing")
    for item in items:
        session.add(ReturnedIndicator(agency_id=agency.id, indicator=item.code, comment=comment.strip(), by=by, at=now))
        _log(session, agency, "returned", by, now, indicator=item.code, note=comment.strip())
    submission.state, submission.returned_at = RETURNED, now
    submission.revision += 1
    session.flush()
    questions = applying(session, rubric, agency.id, returned_questions(rubric, open_returns(session, agency.id)))
    payload = {
        "indicators": [{"code": i.code, "title": i.title} for i in items],
        "comment": comment.strip(),
        "questions": questions,
    }
    contacts = list(session.scalars(select(Contact.telegram_user_id).where(Contact.agency_id == agency.id)))
    key = f"c{agency.campaign_id}:returned:a{agency.id}:r{submission.revision}"
    rows = [
        Planned(f"{key}:u{user_id}", "returned", user_id, agency.id, now, now + timedelta(days=7), payload)
        for user_id in contacts
    ]
    every = campaigns.facts(session, agency.campaign_id).policy.email_to == "all"
    if agency.contact_email and (every or not reached_by_telegram(session, agency.id)):
        rows.append(
            Planned(
                f"{key}:e",
                "returned",
                None,
                agency.id,
                now,
                now + timedelta(days=7),
                payload,
                "email",
                agency.contact_email,
            )
        )
    store(session, agency.campaign_id, rows)
    return items


def applying(session: Session, rubric: CompiledRubric, agency_id: int, questions: dict[str, str]) -> int:
    """How many of ``questions`` apply given the agency's answers: the count the contact's walk shows."""
    counted = effective(rubric, load_agency_answers(session, rubric, agency_id))
    return sum(
        1
        for s in rubric.steps
        if s.question.id in questions and (s.question.when is None or holds(s.question.when, counted))
    )


def open_returns(session: Session, agency_id: int) -> list[ReturnedIndicator]:
    return list(
        session.scalars(
            select(ReturnedIndicator)
            .where(ReturnedIndicator.agency_id == agency_id, ReturnedIndicator.resolved_at.is_(None))
            .order_by(ReturnedIndicator.id)
        )
    )


def returned_questions(rubric: CompiledRubric, returns: list[ReturnedIndicator]) -> dict[str, str]:
    """The questions a contact may change while indicators are returned, each with the coordinator's comment:
    the questions the indicator's rule reads and those asked under it."""
    comments: dict[str, str] = {}
    for returned in returns:
        item = rubric.items.get(returned.indicator)
        if item is None:
            continue
        inside = [s.question.id for s in rubric.steps if any(section.code == item.code for section in s.section.path)]
        for qid in [*rubric.indicator_questions(item), *inside]:
            comments.setdefault(qid, returned.comment)
    return comments


def resolve_returns(session: Session, agency: Agency, *, by: int | None, now: datetime) -> int:
    """On resubmission: every open return of the agency is resolved; how many were open."""
    returns = open_returns(session, agency.id)
    for returned in returns:
        returned.resolved_at = now
    _log(session, agency, "resubmitted", by, now)
    return len(returns)


def adjustments_of(session: Session, campaign_id: int) -> dict[int, dict[str, Decimal]]:
    """Every adjusted indicator of the campaign: agency id → indicator code → verified points."""
    found: dict[int, dict[str, Decimal]] = {}
    rows = session.execute(
        select(Adjustment.agency_id, Adjustment.indicator, Adjustment.points)
        .join(Agency, Agency.id == Adjustment.agency_id)
        .where(Agency.campaign_id == campaign_id)
    )
    for agency_id, code, points in rows:
        found.setdefault(agency_id, {})[code] = Decimal(points)
    return found


class Verifications:
    """Verification of one agency at a time, and the contact's side of a return, for one unit of work."""

    def __init__(self, session: Session):
        self.session = session

    def _rows(self, agency_id: int) -> tuple[Submission, Agency]:
        return self.session.execute(
            select(Submission, Agency).join(Agency, Agency.id == Submission.agency_id).where(Agency.id == agency_id)
        ).one()

    def confirm(self, agency_id: int, *, by: int | None, now: datetime) -> None:
        submission, agency = self._rows(agency_id)
        confirm(self.session, submission, agency, by=by, now=now)

    def adjust(self, agency_id: int, rubric: CompiledRubric, code: str, points: Decimal, reason: str, **kwargs) -> Item:
        submission, agency = self._rows(agency_id)
        return adjust(self.session, submission, agency, rubric, code, points, reason, **kwargs)

    def return_indicators(
        self, agency_id: int, rubric: CompiledRubric, codes: list[str], comment: str, **kwargs
    ) -> list[Item]:
        submission, agency = self._rows(agency_id)
        return return_indicators(self.session, submission, agency, rubric, codes, comment, **kwargs)

    def returned_questions(self, rubric: CompiledRubric, agency_id: int) -> dict[str, str]:
        """Returned question id → the coordinator's comment, while the agency's indicators are returned."""
        return returned_questions(rubric, open_returns(self.session, agency_id))

    def returned_indicators(self, agency_id: int) -> list[str]:
        """The codes of the agency's indicators returned for correction and not resubmitted yet."""
        return list(dict.fromkeys(r.indicator for r in open_returns(self.session, agency_id)))

    def resubmit(self, agency_id: int, *, by: int | None, now: datetime) -> int:
        """The agency resubmits after a return: its open returns are resolved; how many were open."""
        return resolve_returns(self.session, self._rows(agency_id)[1], by=by, now=now)
