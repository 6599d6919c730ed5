"""Contacts' questions to the coordinating office, the office's answers, and the guidance it publishes.

A question is about one question of the agency's rubric; its number (the row's id) is what a coordinator
types in ``/traloi N``. Publishing an answer makes it guidance at that question for every contact of the
campaign; guidance can be carried into a later campaign of the same rubric family.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from storage import campaigns
from storage.models import Agency, Answer, Campaign, Contact, Coordinator, Guidance, OfficeQuestion
from storage.reports import previous_campaign

QUESTION_LIMIT = 1000  # characters of a contact's question
ANSWER_LIMIT = 2000  # characters of the office's answer


@dataclass(frozen=True)
class OfficeQuestionRecord:
    id: int
    campaign_id: int
    agency_id: int
    agency_code: str
    agency_name: str
    level: str
    question_id: str
    asked_by: int
    asker_name: str | None
    text: str
    asked_at: datetime
    answer: str | None
    answered_by: int | None
    answered_at: datetime | None
    published_at: datetime | None


@dataclass(frozen=True)
class GuidanceRecord:
    id: int
    campaign_id: int
    level: str
    question_id: str
    question: str
    text: str
    published_at: datetime
    carried: bool  # carried from an earlier campaign


def _record(row: OfficeQuestion, agency: Agency) -> OfficeQuestionRecord:
    return OfficeQuestionRecord(
        row.id,
        row.campaign_id,
        row.agency_id,
        agency.code,
        agency.name,
        agency.level,
        row.question_id,
        row.asked_by,
        row.asker_name,
        row.text,
        row.asked_at,
        row.answer,
        row.answered_by,
        row.answered_at,
        row.published_at,
    )


def _guidance(row: Guidance) -> GuidanceRecord:
    return GuidanceRecord(
        row.id,
        row.campaign_id,
        row.level,
        row.question_id,
        row.question,
        row.text,
        row.published_at,
        row.carried_from_id is not None,
    )


@cache
def _guidance_at():
    """The guidance at one question, built once: every question's prompt reads it."""
    return (
        select(
            Guidance.id,
            Guidance.campaign_id,
            Guidance.level,
            Guidance.question_id,
            Guidance.question,
            Guidance.text,
            Guidance.published_at,
            Guidance.carried_from_id,
        )
        .where(
            Guidance.campaign_id == bindparam("campaign_id"),
            Guidance.level == bindparam("level"),
            Guidance.question_id == bindparam("question_id"),
        )
        .order_by(Guidance.published_at, Guidance.id)
    )


class OfficeQuestions:
    """The office questions and guidance, for one unit of work."""

    def __init__(self, session: Session):
        self.session = session

    def _select(self):
        return select(OfficeQuestion, Agency).join(Agency, Agency.id == OfficeQuestion.agency_id)

    def ask(
        self, campaign_id: int, agency_id: int, question_id: str, text: str, *, by: int, name: str | None, now: datetime
    ) -> OfficeQuestionRecord:
        row = OfficeQuestion(
            campaign_id=campaign_id,
            agency_id=agency_id,
            question_id=question_id,
            asked_by=by,
            asker_name=(name or "")[:200] or None,
            text=text[:QUESTION_LIMIT],
            asked_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return _record(row, self.session.get(Agency, agency_id))

    def get(self, campaign_id: int, number: int) -> OfficeQuestionRecord | None:
        found = self.session.execute(
            self._select().where(OfficeQuestion.id == number, OfficeQuestion.campaign_id == campaign_id)
        ).first()
        return _record(*found) if found is not None else None

    def answer(self, number: int, text: str, *, by: int, now: datetime) -> None:
        self.session.execute(
            update(OfficeQuestion)
            .where(OfficeQuestion.id == number)
            .values(answer=text[:ANSWER_LIMIT], answered_by=by, answered_at=now)
        )

    def publish(self, question: OfficeQuestionRecord, *, by: int, now: datetime) -> tuple[GuidanceRecord, bool]:
        """The guidance of an answered question, and whether it is new (a second publish changes nothing). The
        question's row is locked first, so two coordinators publishing it at once publish it once (SQLite's
        writers take turns anyway)."""
        self.session.execute(select(OfficeQuestion.id).where(OfficeQuestion.id == question.id).with_for_update())
        found = self.session.scalar(select(Guidance).where(Guidance.source_id == question.id))
        if found is not None:
            return _guidance(found), False
        row = Guidance(
            campaign_id=question.campaign_id,
            level=question.level,
            question_id=question.question_id,
            question=question.text,
            text=question.answer or "",
            source_id=question.id,
            published_by=by,
            published_at=now,
        )
        self.session.add(row)
        self.session.execute(
            update(OfficeQuestion).where(OfficeQuestion.id == question.id).values(published_at=now, published_by=by)
        )
        self.session.flush()
        return _guidance(row), True

    def of_agency(self, agency_id: int, limit: int) -> list[OfficeQuestionRecord]:
        """The agency's questions, latest first."""
        rows = self.session.execute(
            self._select()
            .where(OfficeQuestion.agency_id == agency_id)
            .order_by(OfficeQuestion.asked_at.desc(), OfficeQuestion.id.desc())
            .limit(limit)
        ).all()
        return [_record(*r) for r in rows]

    def unanswered(self, campaign_id: int, scope: set[int]) -> list[OfficeQuestionRecord]:
        """The questions of agencies in ``scope`` nobody has answered, oldest first."""
        rows = self.session.execute(
            self._select()
            .where(OfficeQuestion.campaign_id == campaign_id, OfficeQuestion.answered_at.is_(None))
            .order_by(OfficeQuestion.asked_at, OfficeQuestion.id)
        ).all()
        return [_record(*r) for r in rows if r[0].agency_id in scope]

    def guidance(self, campaign_id: int, level: str, question_id: str) -> list[GuidanceRecord]:
        """The guidance at one question, oldest first."""
        rows = self.session.execute(
            _guidance_at(), {"campaign_id": campaign_id, "level": level, "question_id": question_id}
        )
        return [GuidanceRecord(*row[:-1], row[-1] is not None) for row in rows]

    def answered_contacts(self, campaign_id: int, level: str, question_id: str) -> list[tuple[int, int]]:
        """(agency id, Telegram id) of every contact, not blocked, whose agency of ``level`` has an answer to
        the question."""
        rows = self.session.execute(
            select(Contact.agency_id, Contact.telegram_user_id)
            .join(Agency, Agency.id == Contact.agency_id)
            .join(Answer, (Answer.agency_id == Contact.agency_id) & (Answer.question_id == question_id))
            .where(Contact.campaign_id == campaign_id, Agency.level == level, Contact.blocked_at.is_(None))
            .order_by(Contact.id)
        ).all()
        return [(a, u) for a, u in rows]

    def unanswered_count(self, campaign_id: int, scope: set[int]) -> int:
        """How many questions of agencies in ``scope`` wait for the office's answer."""
        rows = self.session.scalars(
            select(OfficeQuestion.agency_id).where(
                OfficeQuestion.campaign_id == campaign_id, OfficeQuestion.answered_at.is_(None)
            )
        )
        return sum(1 for agency_id in rows if agency_id in scope)

    def guidance_by_id(self, guidance_id: int) -> GuidanceRecord | None:
        row = self.session.get(Guidance, guidance_id)
        return _guidance(row) if row is not None else None

    def answering(self, coordinator_id: int) -> int | None:
        """The question the coordinator's next message answers, if they pressed its reply button."""
        return self.session.scalar(select(Coordinator.answering).where(Coordinator.id == coordinator_id))

    def set_answering(self, coordinator_id: int, number: int | None) -> None:
        self.session.execute(update(Coordinator).where(Coordinator.id == coordinator_id).values(answering=number))


def guidance_of(session: Session, campaign_id: int) -> list[GuidanceRecord]:
    rows = session.scalars(
        select(Guidance).where(Guidance.campaign_id == campaign_id).order_by(Guidance.level, Guidance.id)
    )
    return [_guidance(r) for r in rows]


def carry(session: Session, from_id: int, to_id: int, now: datetime) -> list[GuidanceRecord]:
    """Copy the guidance of campaign ``from_id`` into campaign ``to_id``, at the questions the new campaign's
    rubric of the same level still has; what was carried before is not copied again. The copies made."""
    source, target = campaigns.get(session, from_id), campaigns.get(session, to_id)
    rubrics = campaigns.facts_of(target).rubrics
    carried = select(Guidance.carried_from_id).where(
        Guidance.campaign_id == target.id, Guidance.carried_from_id.is_not(None)
    )
    done = set(session.scalars(carried))
    copies = []
    for old in session.scalars(select(Guidance).where(Guidance.campaign_id == source.id).order_by(Guidance.id)):
        rubric = rubrics.get(old.level)
        if old.id in done or rubric is None or old.question_id not in rubric.by_id:
            continue
        row = Guidance(
            campaign_id=target.id,
            level=old.level,
            question_id=old.question_id,
            question=old.question,
            text=old.text,
            carried_from_id=old.id,
            published_by=old.published_by,
            published_at=now,
        )
        session.add(row)
        copies.append(row)
    session.flush()
    return [_guidance(r) for r in copies]


@dataclass(frozen=True)
class CarryOffer:
    """An earlier campaign of the same rubric family whose guidance a new campaign can take."""

    campaign_id: int
    name: str
    guidance: int


def carry_offers(session: Session, campaign_id: int) -> list[CarryOffer]:
    """The previous campaign of each level's family that published guidance (``cqdt campaign create`` says so)."""
    campaign = campaigns.get(session, campaign_id)
    earlier: dict[int, Campaign] = {}
    for level in campaign.levels:
        found = previous_campaign(session, campaign, level.level)
        if found is not None:
            earlier[found.id] = found
    offers = []
    for found in earlier.values():
        count = session.scalar(select(func.count(Guidance.id)).where(Guidance.campaign_id == found.id))
        if count:
            offers.append(CarryOffer(found.id, found.name, count))
    return offers
