"""An agency's answers in the previous campaign of the same rubric family, for carrying them forward.

Agencies are per campaign and are matched across years by their code. Only a submitted or verified
submission of last year counts; a draft left unsubmitted is offered nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rubrics.answers import NA
from storage import campaigns
from storage.answers import decoded
from storage.models import Agency, Submission
from storage.models import Answer as AnswerRow
from storage.records import CARRIED, SUBMITTED_STATES, VERIFIED, AgencyRecord, CampaignFacts
from storage.reports import previous_campaign_of


@dataclass(frozen=True)
class LastYearValue:
    value: Any  # decoded with last year's question; NA for "Không áp dụng"
    question_type: str  # last year's type of the question
    verified: bool  # last year's submission was verified (thẩm định), not only self-assessed


def carried_answers(session: Session, campaign_id: int, agency_id: int | None = None) -> dict[int, set[str]]:
    """Agency id → the questions whose current answer was kept from last year, for the whole campaign (or
    one agency of it)."""
    query = (
        select(AnswerRow.agency_id, AnswerRow.question_id)
        .join(Agency, Agency.id == AnswerRow.agency_id)
        .where(Agency.campaign_id == campaign_id, AnswerRow.source == CARRIED)
    )
    if agency_id is not None:
        query = query.where(AnswerRow.agency_id == agency_id)
    rows = session.execute(query)
    found: dict[int, set[str]] = {}
    for agency_id, question_id in rows:
        found.setdefault(agency_id, set()).add(question_id)
    return found


class LastYear:
    """Last year's answers, read once per unit of work (one update) and agency."""

    def __init__(self, session: Session):
        self.session = session
        self._read: dict[tuple[int, int], dict[str, LastYearValue]] = {}

    def values(self, campaign: CampaignFacts, agency: AgencyRecord) -> dict[str, LastYearValue]:
        """Question id → the agency's answer in the previous campaign of its level's family (skipped
        questions left out); empty when there is no such campaign or it was not submitted."""
        key = (campaign.id, agency.id)
        if key not in self._read:
            self._read[key] = self._values(campaign, agency)
        return self._read[key]

    def carried(self, campaign_id: int) -> dict[int, set[str]]:
        return carried_answers(self.session, campaign_id)

    def kept(self, agency: AgencyRecord) -> set[str]:
        """The agency's questions whose current answer was kept from last year."""
        return carried_answers(self.session, agency.campaign_id, agency.id).get(agency.id, set())

    def _values(self, campaign: CampaignFacts, agency: AgencyRecord) -> dict[str, LastYearValue]:
        earlier = previous_campaign_of(self.session, campaign.id, agency.level)
        if earlier is None:
            return {}
        rubric = campaigns.facts_of(earlier).rubrics.get(agency.level)
        if rubric is None:
            return {}
        rows = self.session.execute(
            select(AnswerRow.question_id, AnswerRow.value, AnswerRow.not_applicable, Submission.state)
            .join(Agency, Agency.id == AnswerRow.agency_id)
            .join(Submission, Submission.agency_id == Agency.id)
            .where(
                Agency.campaign_id == earlier.id,
                Agency.code == agency.code,
                Agency.level == agency.level,
                Submission.state.in_(SUBMITTED_STATES),
            )
        ).all()
        found = {}
        for question_id, stored, not_applicable, state in rows:
            if question_id not in rubric.by_id or (stored is None and not not_applicable):
                continue
            value = NA if not_applicable else decoded(rubric, question_id, stored)
            found[question_id] = LastYearValue(value, rubric.question(question_id).type, state == VERIFIED)
        return found
