"""The agencies of a campaign as a coordinator reads them: scope, lookup by code, states, whom to remind."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.contacts import agency_record, submission_record
from storage.models import Agency, Contact, Submission
from storage.records import OPEN_STATES, AgencyRecord, SubmissionRecord
from storage.scope import agencies_in_scope


class AgencyState(NamedTuple):
    id: int
    name: str
    level: str
    parent_id: int | None
    state: str
    revision: int = 0  # the submission's, moved by every answer change


class Agencies:
    """The agencies of every campaign, for one unit of work."""

    def __init__(self, session: Session):
        self.session = session

    def in_scope(self, campaign_id: int, scope_agency_id: int | None) -> set[int]:
        """The ids of the scope agency and everything under it (of the whole campaign when None)."""
        return agencies_in_scope(self.session, campaign_id, scope_agency_id)

    def find(self, campaign_id: int, reference: str) -> tuple[AgencyRecord, SubmissionRecord] | None:
        """The agency named by code (any case) or by ``#id``, with its submission."""
        query = (
            select(Agency, Submission)
            .join(Submission, Submission.agency_id == Agency.id)
            .where(Agency.campaign_id == campaign_id)
        )
        if reference.startswith("#") and reference[1:].isdigit():
            query = query.where(Agency.id == int(reference[1:]))
        else:
            query = query.where(func.lower(Agency.code) == reference.lower())
        found = self.session.execute(query).first()
        return (agency_record(found[0]), submission_record(found[1])) if found is not None else None

    def states(self, campaign_id: int) -> list[AgencyState]:
        rows = self.session.execute(
            select(Agency.id, Agency.name, Agency.level, Agency.parent_id, Submission.state, Submission.revision)
            .join(Submission, Submission.agency_id == Agency.id)
            .where(Agency.campaign_id == campaign_id)
        )
        return [AgencyState(*row) for row in rows]

    def unsubmitted_contacts(self, campaign_id: int) -> list[tuple[int, int]]:
        """(agency id, Telegram id) of every contact who has not blocked the bot, of an unsubmitted agency."""
        rows = self.session.execute(
            select(Contact.agency_id, Contact.telegram_user_id)
            .join(Submission, Submission.agency_id == Contact.agency_id)
            .where(
                Contact.campaign_id == campaign_id,
                Contact.blocked_at.is_(None),
                Submission.state.in_(OPEN_STATES),
            )
            .order_by(Contact.agency_id, Contact.id)
        )
        return [(agency_id, user_id) for agency_id, user_id in rows]
