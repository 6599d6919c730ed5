"""Everything one update about a contact needs, read in one transaction.

:class:`Situation` ties a Telegram user to their contact row, agency, campaign,
submission, rubric and the agency's current answers, and says whether answers
may still change.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from common.errors import Refused
from rubrics.answers import Answers
from rubrics.compiled import CompiledRubric, WalkStep
from rubrics.model import Item
from rubrics.rules import ChildrenFigure, children_figure, children_rules
from rubrics.scoring import AgencyInput, AgencyScore, Scorer
from storage.records import OPEN_STATES, RETURNED, AgencyRecord, CampaignFacts, ContactRecord, SubmissionRecord
from storage.unit import Unit


@dataclass(frozen=True)
class Person:
    """The Telegram user behind an update."""

    user_id: int
    chat_id: int
    name: str | None = None
    language: str | None = None
    update_id: int | None = None  # the Telegram update, so a second delivery of it is not applied twice


@dataclass
class Situation:
    unit: Unit
    now: datetime
    contact: ContactRecord
    agency: AgencyRecord
    campaign: CampaignFacts
    submission: SubmissionRecord
    rubric: CompiledRubric
    answers: dict[str, Any] = field(default_factory=dict)
    returned: dict[str, str] = field(default_factory=dict)  # returned question id → the coordinator's comment

    @property
    def closes_at(self) -> datetime:
        return self.campaign.closes_at

    @property
    def past_deadline(self) -> bool:
        return self.campaign.closed(self.now)

    @property
    def locked(self) -> bool:
        return self.submission.state not in OPEN_STATES

    @property
    def step(self) -> WalkStep | None:
        return self.rubric.by_id.get(self.contact.current_question or "")

    @property
    def correcting(self) -> bool:
        """Indicators were returned for correction: only their questions may change, even after the deadline."""
        return self.submission.state == RETURNED

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

    @cached_property
    def children(self) -> dict[str, list[Answers]]:
        """The answers of the agency's children that its rules add up (a district's submitted communes)."""
        levels = Scorer(self.rubric).child_levels
        return self.unit.children_answers(self.campaign.id, self.agency.id, levels) if levels else {}

    def children_figures(self) -> list[tuple[Item, list[ChildrenFigure]]]:
        """Each indicator computed from the children, with the figures it read (nothing to retype)."""
        found = []
        for item in self.rubric.indicators:
            rules = children_rules(item.rule)
            if rules:
                found.append((item, [children_figure(rule, self.children) for rule in rules]))
        return found

    def provisional_score(self) -> AgencyScore:
        """This agency's score on its own (an indicator relative to the cohort counts against itself), its
        children's figures read from those of them that have submitted."""
        return Scorer(self.rubric).score_cohort([AgencyInput(self.agency.id, self.answers, self.children)])[0]

    def earlier_score(self) -> AgencyScore | None:
        """The provisional score of the answers as they were last submitted (before a return), if any."""
        at = self.submission.submitted_at
        if at is None:
            return None
        answers = self.unit.answers.as_of(self.rubric, self.agency.id, at)
        return Scorer(self.rubric).score_cohort([AgencyInput(self.agency.id, answers, self.children)])[0]

    def evidence_questions(self) -> set[str]:
        return self.unit.evidence.questions(self.agency.id)

    def new_prompt_token(self) -> str:
        self.contact.prompt_token = secrets.token_urlsafe(6)
        return self.contact.prompt_token

    def new_menu_token(self) -> str:
        self.contact.menu_token = secrets.token_urlsafe(6)
        return self.contact.menu_token


def situation(unit: Unit, who_id: int, now: datetime, *, lock: bool = False) -> Situation | None:
    """The contact's world, or None if the user is no contact; with ``lock`` the agency's submission is
    locked for the transaction, so two contacts of one agency (or two bot processes) write its answers
    one after the other."""
    world = unit.contacts.world(who_id, lock=lock)
    if world is None:
        return None
    rubric = world.campaign.rubrics[world.agency.level]
    found = Situation(unit, now, world.contact, world.agency, world.campaign, world.submission, rubric)
    found.answers = unit.answers.of(rubric, world.agency.id)
    if world.submission.state == RETURNED:
        found.returned = unit.verification.returned_questions(rubric, world.agency.id)
    return found
