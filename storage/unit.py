"""One update's unit of work: the repositories the dialogues call, over one transaction.

A dialogue opens ``with db.unit() as unit:`` and gets plain records back from
``unit.contacts``, ``unit.answers``, ``unit.office_questions`` and the rest, never a session. When the
block ends, what the dialogue changed on a contact's place in the walk is
written back, and the transaction commits before the bot sends anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import campaigns, cohort
from storage.agencies import Agencies
from storage.agency_detail import AgencyDetail
from storage.answers import Answers
from storage.audit import AuditLog
from storage.confirmations import RemindConfirmations
from storage.contacts import Contacts
from storage.evidence import EvidenceStore
from storage.invitations import Invitations
from storage.last_year import LastYear
from storage.models import Campaign
from storage.notifications import Planned, store
from storage.office_questions import OfficeQuestions
from storage.pace import Activity, activity
from storage.reach import Unreachable, unreachable
from storage.records import CampaignFacts
from storage.reports import LevelReport, Scoreboard
from storage.submissions import Submissions
from storage.updates import HandledUpdates
from storage.verification import Verifications


class Unit:
    def __init__(self, session: Session):
        self._session = session
        self.contacts = Contacts(session)
        self.agencies = Agencies(session)
        self.answers = Answers(session)
        self.evidence = EvidenceStore(session)
        self.invitations = Invitations(session)
        self.submissions = Submissions(session)
        self.verification = Verifications(session)
        self.detail = AgencyDetail(session)
        self.remind_confirmations = RemindConfirmations(session)
        self.updates = HandledUpdates(session)
        self.audit = AuditLog(session)
        self.office_questions = OfficeQuestions(session)
        self.last_year = LastYear(session)

    def campaign(self, campaign_id: int) -> CampaignFacts:
        return campaigns.facts(self._session, campaign_id)

    def open_campaigns(self) -> list[CampaignFacts]:
        rows = self._session.scalars(select(Campaign).where(Campaign.state == "open").order_by(Campaign.id))
        return [campaigns.facts_of(c) for c in rows]

    def report(
        self, scoreboard: Scoreboard, campaign_id: int, levels: list[str] | None = None
    ) -> dict[str, LevelReport]:
        """The campaign's scored reports by level, from the process's scoreboard, refreshed as needed."""
        return scoreboard.report(self._session, campaigns.get(self._session, campaign_id), levels)

    def children_answers(self, campaign_id: int, agency_id: int, levels: list[str]) -> dict[str, list]:
        """The cohort's answers of the agency's children of these levels (a district's submitted communes)."""
        return cohort.children_answers(self._session, campaigns.get(self._session, campaign_id), agency_id, levels)

    def unreachable(self, campaign_id: int, scope: set[int]) -> list[Unreachable]:
        """The agencies in ``scope`` that neither Telegram nor e-mail reaches."""
        return unreachable(self._session, campaign_id, scope)

    def activity(self, agency_ids: Iterable[int], zone: ZoneInfo) -> dict[int, Activity]:
        """Each agency's sittings and first and last answer change (those that never changed one are left out)."""
        return activity(self._session, agency_ids, zone)

    def queue(self, campaign_id: int, rows: list[Planned]) -> int:
        """Add messages to the outbox (a key already there is skipped); how many were new."""
        return store(self._session, campaign_id, rows)

    def finish(self) -> None:
        self.contacts.write_back()
