"""The outbox's SQL: claiming, marking and listing rows of ``notifications``, and the reads planning needs.

A sender claims a row (``pending`` → ``claimed``) in its own transaction,
records the attempt (``claimed`` → ``sending``, ``claimed_at`` then being the
attempt's time) in another one committed just before the HTTP request, and marks
it ``sent`` right after. So a row found ``claimed`` long after was never sent (its
sender stopped first) and is given back; only a row found ``sending`` may have
reached Telegram. On PostgreSQL the next due row is taken ``FOR UPDATE SKIP LOCKED``, so
several bot processes share the work without sending anything twice; on SQLite
the database's single writer does the same. Everything comes back as plain
records: :mod:`conversations.reminders` decides what is planned and what each
message says. Rows of the e-mail channel (``channel = 'email'``) follow the same
steps; each sender claims the rows of its own channel only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from rubrics.compiled import CompiledRubric
from storage import answers, campaigns
from storage.invitations import agency_invitations
from storage.models import Agency, Campaign, Contact, Coordinator, Invitation, Notification, Submission
from storage.notifications import Planned, store
from storage.office_questions import OfficeQuestions
from storage.pace import Activity, activity
from storage.policy import ReminderPolicy
from storage.reach import Unreachable, reached_by_telegram, unreachable
from storage.records import CampaignFacts
from storage.scope import agencies_in_scope

if TYPE_CHECKING:
    from storage.db import Database

ERROR_LENGTH = 300


def _of(campaign_id: int | None) -> tuple:
    """The condition "of this campaign", or none."""
    return () if campaign_id is None else (Notification.campaign_id == campaign_id,)


class Pending(NamedTuple):
    """A due row, as the message builders read it."""

    id: int
    campaign_id: int
    kind: str
    telegram_user_id: int | None
    agency_id: int | None
    payload: dict[str, Any]
    channel: str = "telegram"
    email: str | None = None
    attempts: int = 0


class AgencyStatus(NamedTuple):
    id: int
    code: str
    name: str
    level: str
    state: str  # of its submission
    submitted_at: datetime | None


class Recipient(NamedTuple):
    """Whom a message goes to: a contact who has not blocked the bot, or a coordinator and their scope."""

    telegram_user_id: int
    language_code: str | None
    scope_agency_id: int | None = None


class BlockedContact(NamedTuple):
    full_name: str | None
    agency_name: str


class Mailbox(NamedTuple):
    """A coordinator's e-mail address (given with their invitation), their language and scope."""

    email: str
    language_code: str | None
    scope_agency_id: int | None


@contextmanager
def opened(db: Database) -> Iterator[OutboxStore]:
    """The outbox over one transaction, committed when the block ends."""
    with db.session() as session:
        yield OutboxStore(session)


class OutboxStore:
    """The notifications table and the campaign reads around it, for one transaction."""

    def __init__(self, session: Session):
        self.session = session
        self.office_questions = OfficeQuestions(session)  # the questions and guidance their notices tell of

    # -- campaigns, agencies and people -----------------------------------------------

    def campaign(self, campaign_id: int) -> CampaignFacts:
        return campaigns.facts(self.session, campaign_id)

    def open_campaigns(self, campaign_id: int | None = None) -> list[CampaignFacts]:
        query = select(Campaign).where(Campaign.state == "open").order_by(Campaign.id)
        if campaign_id is not None:
            query = query.where(Campaign.id == campaign_id)
        return [campaigns.facts_of(c) for c in self.session.scalars(query)]

    def set_policy(self, campaign_id: int, policy: ReminderPolicy) -> CampaignFacts:
        return campaigns.set_reminder_policy(self.session, campaign_id, policy)

    def set_deadline(self, campaign_id: int, deadline: datetime, grace_hours: int | None) -> CampaignFacts:
        return campaigns.set_deadline(self.session, campaign_id, deadline, grace_hours)

    def states(self, campaign_id: int) -> dict[int, str]:
        """Each agency's submission state, by agency id."""
        return dict(
            self.session.execute(
                select(Submission.agency_id, Submission.state).where(Submission.campaign_id == campaign_id)
            ).all()
        )

    def agencies(self, campaign_id: int) -> list[AgencyStatus]:
        """Every agency of the campaign with its submission, by level and code."""
        rows = self.session.execute(
            select(Agency.id, Agency.code, Agency.name, Agency.level, Submission.state, Submission.submitted_at)
            .join(Submission, Submission.agency_id == Agency.id)
            .where(Agency.campaign_id == campaign_id)
            .order_by(Agency.level, Agency.code)
        )
        return [AgencyStatus(*row) for row in rows]

    def agency(self, agency_id: int) -> AgencyStatus | None:
        found = self.session.execute(
            select(Agency.id, Agency.code, Agency.name, Agency.level, Submission.state, Submission.submitted_at)
            .join(Submission, Submission.agency_id == Agency.id)
            .where(Agency.id == agency_id)
        ).first()
        return AgencyStatus(*found) if found is not None else None

    def scope(self, campaign_id: int, scope_agency_id: int | None) -> set[int]:
        """The ids of the scope agency and everything under it (of the whole campaign when None)."""
        return agencies_in_scope(self.session, campaign_id, scope_agency_id)

    def answers(self, rubric_of: dict[int, CompiledRubric]) -> dict[int, dict[str, Any]]:
        """The answers of each agency, decoded with its rubric."""
        return answers.load_many(self.session, rubric_of)

    def activity(self, agency_ids: Iterable[int], zone: ZoneInfo) -> dict[int, Activity]:
        """Each agency's sittings and first and last answer change (those that never changed one are left out)."""
        return activity(self.session, agency_ids, zone)

    def reachable_contacts(self, campaign_id: int) -> list[tuple[int, int]]:
        """(agency id, Telegram id) of every contact who has not blocked the bot."""
        rows = self.session.execute(
            select(Contact.agency_id, Contact.telegram_user_id).where(
                Contact.campaign_id == campaign_id, Contact.blocked_at.is_(None)
            )
        )
        return [(agency_id, user_id) for agency_id, user_id in rows]

    def mail_agencies(self, campaign_id: int) -> list[tuple[int, str]]:
        """(agency id, contact e-mail) of every agency of the campaign with an e-mail address."""
        rows = self.session.execute(
            select(Agency.id, Agency.contact_email).where(
                Agency.campaign_id == campaign_id, Agency.contact_email.is_not(None), Agency.contact_email != ""
            )
        )
        return [(agency_id, email) for agency_id, email in rows]

    def reached_by_telegram(self, agency_id: int) -> bool:
        """Whether a contact of the agency is registered and has not blocked the bot."""
        return reached_by_telegram(self.session, agency_id)

    def mailboxes(self, campaign_id: int) -> list[Mailbox]:
        """The coordinators' e-mail addresses given with their invitations, each address and scope once."""
        rows = self.session.execute(
            select(Invitation.email, func.max(Invitation.language_code), Invitation.scope_agency_id)
            .where(
                Invitation.campaign_id == campaign_id, Invitation.role == "coordinator", Invitation.email.is_not(None)
            )
            .group_by(Invitation.email, Invitation.scope_agency_id)
            .order_by(Invitation.email)
        )
        return [Mailbox(*row) for row in rows]

    def invitation_token(self, campaign_id: int, agency_id: int, now: datetime) -> str:
        """The agency's open invitation token (a new one when the last was used or expired)."""
        campaign = campaigns.get(self.session, campaign_id)
        code = self.session.scalar(select(Agency.code).where(Agency.id == agency_id))
        return agency_invitations(self.session, campaign, now, code)[0][1].token

    def unreachable(self, campaign_id: int, scope: set[int]) -> list[Unreachable]:
        """The agencies in ``scope`` that neither Telegram nor e-mail reaches ("không liên lạc được")."""
        return unreachable(self.session, campaign_id, scope)

    def contact(self, campaign_id: int, user_id: int) -> Recipient | None:
        """The contact to write to, unless they blocked the bot."""
        found = self.session.execute(
            select(Contact.telegram_user_id, Contact.language_code).where(
                Contact.campaign_id == campaign_id, Contact.telegram_user_id == user_id, Contact.blocked_at.is_(None)
            )
        ).first()
        return Recipient(*found) if found is not None else None

    def coordinators(self, campaign_id: int) -> list[Recipient]:
        rows = self.session.execute(
            select(Coordinator.telegram_user_id, Coordinator.language_code, Coordinator.scope_agency_id)
            .where(Coordinator.campaign_id == campaign_id)
            .order_by(Coordinator.id)
        )
        return [Recipient(*row) for row in rows]

    def coordinator(self, campaign_id: int, user_id: int) -> Recipient | None:
        found = self.session.execute(
            select(Coordinator.telegram_user_id, Coordinator.language_code, Coordinator.scope_agency_id).where(
                Coordinator.campaign_id == campaign_id, Coordinator.telegram_user_id == user_id
            )
        ).first()
        return Recipient(*found) if found is not None else None

    def blocked(self, campaign_id: int, scope: set[int]) -> list[BlockedContact]:
        """The contacts of agencies in ``scope`` who blocked the bot."""
        rows = self.session.execute(
            select(Contact.full_name, Agency.name)
            .join(Agency, Agency.id == Contact.agency_id)
            .where(
                Contact.campaign_id == campaign_id,
                Contact.blocked_at.is_not(None),
                Contact.agency_id.in_(scope or {-1}),
            )
        )
        return [BlockedContact(*row) for row in rows]

    # -- adding and planning again ------------------------------------------------------

    def queue(self, campaign_id: int, rows: list[Planned]) -> int:
        """Add the rows whose key is not there yet; how many were new."""
        return store(self.session, campaign_id, rows)

    def forget_pending(self, campaign_id: int, kinds: tuple[str, ...]) -> int:
        """Delete the campaign's unsent rows of these kinds (before planning them again)."""
        return self.session.execute(
            delete(Notification).where(
                Notification.campaign_id == campaign_id,
                Notification.status == "pending",
                Notification.kind.in_(kinds),
            )
        ).rowcount

    def drop_missed(self, now: datetime, campaign_id: int | None = None) -> int:
        """Rows still pending past their catch-up window are dropped, not sent late."""
        return self.session.execute(
            update(Notification)
            .where(Notification.status == "pending", Notification.catch_up_until < now, *_of(campaign_id))
            .values(status="dropped", last_error="missed its catch-up window")
        ).rowcount

    def release_stale_claims(self, claimed_before: datetime, campaign_id: int | None = None) -> int:
        """Rows claimed and never attempted (the sender stopped before sending) are pending again."""
        return self.session.execute(
            update(Notification)
            .where(Notification.status == "claimed", Notification.claimed_at < claimed_before, *_of(campaign_id))
            .values(status="pending", claimed_by=None, last_error="the sender stopped before sending")
        ).rowcount

    def mark_stale_sends(
        self,
        attempted_before: datetime,
        resent_kinds: frozenset[str],
        max_attempts: int,
        campaign_id: int | None = None,
    ) -> tuple[int, int]:
        """Rows attempted and never answered: perhaps sent. Those of ``resent_kinds`` tried fewer than
        ``max_attempts`` times are pending again; the others are ``uncertain`` and never sent again.
        Returns (sent again, uncertain)."""
        stale = (
            Notification.status == "sending",
            Notification.claimed_at < attempted_before,
            *_of(campaign_id),
        )
        again = self.session.execute(
            update(Notification)
            .where(*stale, Notification.kind.in_(resent_kinds or {""}), Notification.attempts < max_attempts)
            .values(status="pending", claimed_by=None, last_error="no answer to the request: sent again")
        ).rowcount
        uncertain = self.session.execute(
            update(Notification)
            .where(*stale)
            .values(status="uncertain", last_error="no answer to the request: perhaps sent, not sent again")
        ).rowcount
        return again, uncertain

    # -- claiming and marking -------------------------------------------------------------

    def next_due(
        self,
        now: datetime,
        campaign_id: int | None = None,
        kinds: tuple[str, ...] | None = None,
        channel: str = "telegram",
    ) -> Pending | None:
        """The earliest pending row of a channel due by ``now``, locked for this transaction (skipping rows
        others hold)."""
        query = (
            select(
                Notification.id,
                Notification.campaign_id,
                Notification.kind,
                Notification.telegram_user_id,
                Notification.agency_id,
                Notification.payload,
                Notification.channel,
                Notification.email,
                Notification.attempts,
            )
            .where(
                Notification.status == "pending",
                Notification.due_at <= now,
                Notification.channel == channel,
                *_of(campaign_id),
            )
            .order_by(Notification.due_at, Notification.id)
            .limit(1)
        )
        if kinds is not None:
            query = query.where(Notification.kind.in_(kinds))
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=Notification)
        found = self.session.execute(query).first()
        return Pending(*found) if found is not None else None

    def claim(self, row_id: int, worker: str, now: datetime) -> None:
        self.session.execute(
            update(Notification)
            .where(Notification.id == row_id)
            .values(status="claimed", claimed_by=worker, claimed_at=now)
        )

    def attempt(self, row_id: int, worker: str, now: datetime) -> bool:
        """Record that this worker's request is about to go (``claimed`` → ``sending``, again before a
        retry); False if the row is no longer this worker's claim (it was given back as stale)."""
        return (
            self.session.execute(
                update(Notification)
                .where(
                    Notification.id == row_id,
                    Notification.status.in_(("claimed", "sending")),
                    Notification.claimed_by == worker,
                )
                .values(status="sending", claimed_at=now, attempts=Notification.attempts + 1)
            ).rowcount
            == 1
        )

    def not_delivered(self, row_id: int, error: str, now: datetime) -> None:
        """Telegram answered that it did not deliver (a 429): the row is this worker's claim again."""
        self.session.execute(
            update(Notification)
            .where(Notification.id == row_id, Notification.status == "sending")
            .values(status="claimed", claimed_at=now, last_error=error[:ERROR_LENGTH])
        )

    def cancel(self, row_id: int) -> None:
        """A row that no longer applies (submitted since, blocked, nothing to report)."""
        self.session.execute(update(Notification).where(Notification.id == row_id).values(status="cancelled"))

    def finish(self, row_id: int, status: str, error: str | None, now: datetime) -> None:
        """Mark a row ``sent``, ``blocked`` or ``failed``; a block marks the recipient's contacts blocked."""
        values: dict[str, Any] = {"status": status, "last_error": error[:ERROR_LENGTH] if error else None}
        if status == "sent":
            values["sent_at"] = now
        campaign_id, user_id = self.session.execute(
            update(Notification)
            .where(Notification.id == row_id)
            .values(**values)
            .returning(Notification.campaign_id, Notification.telegram_user_id)
        ).one()
        if status == "blocked":
            self.session.execute(
                update(Contact)
                .where(Contact.campaign_id == campaign_id, Contact.telegram_user_id == user_id)
                .values(blocked_at=now)
            )

    def release(self, row_id: int, error: str) -> None:
        """Give a row back after a network failure, to be tried on the next tick."""
        self.session.execute(
            update(Notification)
            .where(Notification.id == row_id)
            .values(status="pending", last_error=error[:ERROR_LENGTH], claimed_by=None)
        )

    def retry_later(self, row_id: int, error: str, due_at: datetime) -> None:
        """Give a row back to be tried again at ``due_at`` (a mail server down or answering "try later")."""
        self.session.execute(
            update(Notification)
            .where(Notification.id == row_id)
            .values(status="pending", due_at=due_at, last_error=error[:ERROR_LENGTH], claimed_by=None)
        )

    def keys_starting(self, key_prefix: str) -> int:
        """How many rows have a key starting with this prefix."""
        return self.session.scalar(select(func.count(Notification.id)).where(Notification.key.startswith(key_prefix)))

    # -- for the command line -------------------------------------------------------------

    def listing(self, campaign_id: int) -> list[dict[str, Any]]:
        """Every row of the campaign, by due time, with the agency's code and name or the coordinator's name."""
        rows = self.session.execute(
            select(
                Notification.due_at,
                Notification.kind,
                Notification.status,
                Notification.telegram_user_id,
                Agency.code,
                Agency.name,
                Coordinator.full_name,
                Notification.sent_at,
                Notification.key,
                Notification.channel,
                Notification.email,
                Notification.last_error,
            )
            .outerjoin(Agency, Agency.id == Notification.agency_id)
            .outerjoin(
                Coordinator,
                (Coordinator.campaign_id == Notification.campaign_id)
                & (Coordinator.telegram_user_id == Notification.telegram_user_id),
            )
            .where(Notification.campaign_id == campaign_id)
            .order_by(Notification.due_at, Notification.kind, Notification.id)
        )
        names = (
            "due_at",
            "kind",
            "status",
            "telegram_user_id",
            "agency_code",
            "agency",
            "coordinator",
            "sent_at",
            "key",
            "channel",
            "email",
            "last_error",
        )
        return [dict(zip(names, row, strict=True)) for row in rows]

    def counts(self, campaign_id: int) -> dict[str, int]:
        """How many rows of the campaign are in each status."""
        return dict(
            self.session.execute(
                select(Notification.status, func.count())
                .where(Notification.campaign_id == campaign_id)
                .group_by(Notification.status)
            ).all()
        )
