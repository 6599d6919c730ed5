"""Everything one update about a contact needs, read in one transaction.

:class:`Situation` ties a Telegram user to their contact row, agency, campaign,
submission, rubric and the agency's current answers, and says whether answers
may still change.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import Refused
from rubrics.compiled import CompiledRubric, WalkStep
from rubrics.scoring import AgencyInput, AgencyScore, Scorer
from storage import answers as answer_store
from storage import campaigns
from storage.models import OPEN_STATES, Agency, Campaign, Contact, Coordinator, Evidence, Submission
from storage.verification import open_returns, returned_questions


@dataclass(frozen=True)
class Person:
    """The Telegram user behind an update."""

    user_id: int
    chat_id: int
    name: str | None = None
    language: str | None = None


@dataclass
class Situation:
    session: Session
    now: datetime
    contact: Contact
    agency: Agency
    campaign: Campaign
    submission: Submission
    rubric: CompiledRubric
    answers: dict[str, Any] = field(default_factory=dict)
    returned: dict[str, str] = field(default_factory=dict)  # returned question id → the coordinator's comment

    @property
    def closes_at(self) -> datetime:
        return self.campaign.deadline + timedelta(hours=self.campaign.grace_hours)

    @property
    def past_deadline(self) -> bool:
        return self.now >= self.closes_at

    @property
    def locked(self) -> bool:
        return self.submission.state not in OPEN_STATES

    @property
    def step(self) -> WalkStep | None:
        return self.rubric.by_id.get(self.contact.current_question or "")

    @property
    def correcting(self) -> bool:
        """Indicators were returned for correction: only their questions may change, even after the deadline."""
        return self.submission.state == "returned"

    def edit_refusal(self, question_id: str | None = None) -> Refused | None:
        """Why answers (or the given question's answer) may not change now, if they may not."""
        if self.locked:
            return Refused("submission_locked")
        if self.correcting:
            if question_id is not None and question_id not in self.returned:
                numbers = sorted(self.rubric.by_id[q].number for q in self.returned if q in self.rubric.by_id)
                return Refused("not_returned", numbers=numbers)
            return None
        if self.past_deadline:
            return Refused("deadline_passed", deadline=self.campaign.deadline)
        return None

    def provisional_score(self) -> AgencyScore:
        """This agency's score on its own (an indicator relative to the cohort counts against itself)."""
        return Scorer(self.rubric).score_cohort([AgencyInput(self.agency.id, self.answers)])[0]

    def evidence_questions(self) -> set[str]:
        return set(self.session.scalars(select(Evidence.question_id).where(Evidence.agency_id == self.agency.id)))

    def new_prompt_token(self) -> str:
        self.contact.prompt_token = secrets.token_urlsafe(6)
        return self.contact.prompt_token

    def new_menu_token(self) -> str:
        self.contact.menu_token = secrets.token_urlsafe(6)
        return self.contact.menu_token

    def reload_answers(self) -> None:
        self.answers = answer_store.load_agency_answers(self.session, self.rubric, self.agency.id)


def find_contact(session: Session, user_id: int) -> Contact | None:
    """The user's contact row in their most recently joined campaign."""
    return session.scalar(
        select(Contact).where(Contact.telegram_user_id == user_id).order_by(Contact.joined_at.desc(), Contact.id.desc())
    )


def find_coordinator(session: Session, user_id: int) -> Coordinator | None:
    """The user's coordinator row in their most recently joined campaign."""
    return session.scalar(
        select(Coordinator)
        .where(Coordinator.telegram_user_id == user_id)
        .order_by(Coordinator.joined_at.desc(), Coordinator.id.desc())
    )


def situation(session: Session, contact: Contact, now: datetime, *, lock: bool = False) -> Situation:
    """Load the contact's world; with ``lock`` the agency's submission row is locked for the transaction,
    so two contacts of one agency (or two bot processes) write its answers one after the other."""
    query = (
        select(Submission, Agency)
        .join(Agency, Agency.id == Submission.agency_id)
        .where(Submission.agency_id == contact.agency_id)
    )
    if lock:
        query = query.with_for_update(of=Submission)
    submission, agency = session.execute(query).one()
    campaign = campaigns.get(session, contact.campaign_id)
    rubric = campaigns.rubrics_by_level(campaign)[agency.level]
    found = Situation(session, now, contact, agency, campaign, submission, rubric)
    found.reload_answers()
    if submission.state == "returned":
        found.returned = returned_questions(rubric, open_returns(session, agency.id))
    return found
