"""The outbox in the database: planning what is due, claiming one row at a time, marking the result.

Everything here is synchronous database work; :mod:`bot.reminders.sender` runs it
from the event loop. A row is claimed (``pending`` → ``sending``) in its own
transaction before it is sent and marked ``sent`` right after, so a restart
never sends a row twice. On PostgreSQL the claim uses ``FOR UPDATE SKIP
LOCKED``, so several bot processes share the work without sending anything
twice; on SQLite the database's single writer does the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from bot.reminders import plan as planning
from bot.reminders.slots import WorkingTime
from conversations.walk import relevant_steps
from storage import answers as answer_store
from storage import campaigns
from storage.db import Database
from storage.models import LATE_STATES, OPEN_STATES, Agency, Campaign, Contact, Coordinator, Notification, Submission
from storage.notifications import Planned, store
from storage.scope import agencies_in_scope

log = logging.getLogger(__name__)

DIGEST_AT = (8, 0)
DIGEST_CATCH_UP = timedelta(hours=4)
STALE_CLAIM = timedelta(minutes=10)


@dataclass
class Claimed:
    """A claimed row and what its message needs."""

    id: int
    kind: str
    chat_id: int
    language: str | None
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    with_continue_button: bool = False


class Outbox:
    def __init__(self, db: Database, clock: Callable[[], datetime], zone: ZoneInfo, worker: str):
        self.db = db
        self.clock = clock
        self.zone = zone
        self.worker = worker

    # -- planning -----------------------------------------------------------------

    def prepare(self, campaign_id: int | None = None) -> int:
        """Plan what is missing for every open campaign (or one), add today's digests, drop stale rows."""
        now = self.clock()
        added = 0
        with self.db.session() as session:
            query = select(Campaign).where(Campaign.state == "open")
            if campaign_id is not None:
                query = query.where(Campaign.id == campaign_id)
            for campaign in session.scalars(query):
                if now > planning.closes_at(campaign) + timedelta(days=1):
                    continue
                added += store(session, campaign.id, planning.plan(session, campaign, self.zone))
                added += store(session, campaign.id, self._digests(session, campaign, now))
            dropped = session.execute(
                update(Notification)
                .where(Notification.status == "pending", Notification.catch_up_until < now)
                .values(status="dropped", last_error="missed its catch-up window")
            ).rowcount
            uncertain = session.execute(
                update(Notification)
                .where(Notification.status == "sending", Notification.claimed_at < now - STALE_CLAIM)
                .values(status="uncertain", last_error="the sender stopped while sending")
            ).rowcount
        if dropped:
            log.warning("dropped %d reminders that missed their catch-up window", dropped)
        if uncertain:
            log.warning("%d messages were being sent when a sender stopped; not sent again", uncertain)
        return added

    def _digests(self, session, campaign: Campaign, now: datetime) -> list[Planned]:
        """Today's 08:00 digest for each coordinator, on working days while the campaign is open."""
        local = now.astimezone(self.zone)
        working = WorkingTime(planning.policy_of(campaign), self.zone)
        if not working.is_working_day(local.date()) or now > planning.closes_at(campaign):
            return []
        due = datetime(local.year, local.month, local.day, *DIGEST_AT, tzinfo=self.zone)
        day = local.date().isoformat()
        return [
            Planned(
                f"c{campaign.id}:digest:{day}:u{c.telegram_user_id}",
                "digest",
                c.telegram_user_id,
                None,
                due,
                due + DIGEST_CATCH_UP,
                {"scope": sorted(agencies_in_scope(session, campaign.id, c.scope_agency_id))},
            )
            for c in session.scalars(select(Coordinator).where(Coordinator.campaign_id == campaign.id))
        ]

    # -- claiming and marking -----------------------------------------------------------

    def claim(self) -> Claimed | None:
        """The next due row, claimed for this worker."""
        with self.db.session() as session:
            return self._claim(session, self.clock())

    def _claim(self, session, now: datetime) -> Claimed | None:
        """Claim the next due row in ``session``; rows that no longer apply are cancelled on the way."""
        while True:
            query = (
                select(Notification)
                .where(Notification.status == "pending", Notification.due_at <= now)
                .order_by(Notification.due_at, Notification.id)
                .limit(1)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            row = session.scalar(query)
            if row is None:
                return None
            claimed = self._describe(session, row, now)
            if claimed is None:
                row.status = "cancelled"
                session.flush()
                continue
            row.status, row.claimed_by, row.claimed_at = "sending", self.worker, now
            row.attempts += 1
            return claimed

    def finish(self, row_id: int, status: str, error: str | None = None, *, claim_next: bool = False) -> Claimed | None:
        """Mark a row sent (or blocked, failed); with ``claim_next``, claim the next one in the same transaction."""
        now = self.clock()
        with self.db.session() as session:
            row = session.get(Notification, row_id)
            row.status, row.last_error = status, (error or None) and error[:300]
            if status == "sent":
                row.sent_at = now
            if status == "blocked":
                for contact in session.scalars(
                    select(Contact).where(
                        Contact.campaign_id == row.campaign_id, Contact.telegram_user_id == row.telegram_user_id
                    )
                ):
                    contact.blocked_at = now
            return self._claim(session, now) if claim_next else None

    def release(self, row_id: int, error: str) -> None:
        """Give a row back after a network failure, to be tried on the next tick."""
        with self.db.session() as session:
            row = session.get(Notification, row_id)
            row.status, row.last_error, row.claimed_by = "pending", error[:300], None

    # -- what each message says -------------------------------------------------------

    def _describe(self, session, row: Notification, now: datetime) -> Claimed | None:
        campaign = campaigns.get(session, row.campaign_id)
        base = {
            "campaign": campaign,
            "deadline": campaign.deadline,
            "now": now,
            "closes_at": planning.closes_at(campaign),
        }
        if row.kind == "returned":
            contact = self._contact(session, campaign, row.telegram_user_id)
            if contact is None:
                return None
            agency = session.get(Agency, row.agency_id)
            return Claimed(
                row.id,
                row.kind,
                row.telegram_user_id,
                contact.language_code,
                "returned",
                {**base, "agency": agency, **row.payload},
                with_continue_button=True,
            )
        if row.kind in ("reminder", "overdue"):
            agency = session.get(Agency, row.agency_id)
            state = session.scalar(select(Submission.state).where(Submission.agency_id == agency.id))
            if state not in (OPEN_STATES if row.kind == "reminder" else LATE_STATES):
                return None
            contact = self._contact(session, campaign, row.telegram_user_id)
            if contact is None:
                return None
            rubric = campaigns.rubrics_by_level(campaign)[agency.level]
            answers = answer_store.load_agency_answers(session, rubric, agency.id)
            relevant = relevant_steps(rubric, answers)
            answered = sum(1 for s in relevant if s.question.id in answers)
            return Claimed(
                row.id,
                row.kind,
                row.telegram_user_id,
                contact.language_code,
                row.kind,
                {**base, "agency": agency, "state": state, "answered": answered, "relevant": len(relevant)},
                with_continue_button=row.kind == "reminder",
            )
        coordinator = session.scalar(
            select(Coordinator).where(
                Coordinator.campaign_id == campaign.id, Coordinator.telegram_user_id == row.telegram_user_id
            )
        )
        if coordinator is None:
            return None
        if row.kind == "submitted":
            payload = row.payload
            return Claimed(
                row.id,
                row.kind,
                row.telegram_user_id,
                coordinator.language_code,
                "submitted",
                {
                    "agency_name": payload["agency_name"],
                    "at": datetime.fromisoformat(payload["at"]),
                    "total": Decimal(payload["total"]),
                    "max": Decimal(payload["max"]),
                    "again": payload.get("again", False),
                },
            )
        scope = set(row.payload.get("scope") or agencies_in_scope(session, campaign.id, coordinator.scope_agency_id))
        context = {**base, **self._overview(session, campaign, scope, now), **row.payload}
        if row.kind == "escalation" and not context["not_started"]:
            return None
        if row.kind == "overdue_list" and not context["overdue"]:
            return None
        return Claimed(row.id, row.kind, row.telegram_user_id, coordinator.language_code, row.kind, context)

    def _contact(self, session, campaign: Campaign, user_id: int) -> Contact | None:
        """The contact to write to, unless they blocked the bot."""
        contact = session.scalar(
            select(Contact).where(Contact.campaign_id == campaign.id, Contact.telegram_user_id == user_id)
        )
        return None if contact is None or contact.blocked_at is not None else contact

    def _overview(self, session, campaign: Campaign, scope: set[int], now: datetime) -> dict[str, Any]:
        rows = session.execute(
            select(Agency.id, Agency.code, Agency.name, Agency.level, Submission.state, Submission.submitted_at)
            .join(Submission, Submission.agency_id == Agency.id)
            .where(Agency.campaign_id == campaign.id)
            .order_by(Agency.level, Agency.code)
        ).all()
        rows = [r for r in rows if r.id in scope]
        rubrics = campaigns.rubrics_by_level(campaign)
        progress = self._progress(session, rubrics, [r for r in rows if r.state in OPEN_STATES])
        by_level: dict[str, dict[str, int]] = {}
        for r in rows:
            counts = by_level.setdefault(rubrics[r.level].rubric.level_name, {"total": 0, "submitted": 0})
            counts["total"] += 1
            counts["submitted"] += r.state in ("submitted", "verified")
        days_left = (campaign.deadline - now).total_seconds() / 86400
        not_started = [r for r in rows if r.state == "not_started"]
        in_progress = [r for r in rows if r.state in ("in_progress", "returned")]
        at_risk = [
            r
            for r in rows
            if r.state in OPEN_STATES
            and days_left < 3
            and (r.state == "not_started" or progress.get(r.id, (0, 1))[0] * 2 < progress.get(r.id, (0, 1))[1])
        ]
        blocked = session.execute(
            select(Contact.full_name, Agency.name)
            .join(Agency, Agency.id == Contact.agency_id)
            .where(
                Contact.campaign_id == campaign.id,
                Contact.blocked_at.is_not(None),
                Contact.agency_id.in_(scope or {-1}),
            )
        ).all()
        overdue = [r for r in rows if r.state in LATE_STATES] if now >= planning.closes_at(campaign) else []
        return {
            "by_level": by_level,
            "not_started": not_started,
            "in_progress": in_progress,
            "at_risk": at_risk,
            "blocked": blocked,
            "overdue": overdue,
            "progress": progress,
        }

    def _progress(self, session, rubrics, rows) -> dict[int, tuple[int, int]]:
        stored = answer_store.load_many(session, {r.id: rubrics[r.level] for r in rows})
        result = {}
        for r in rows:
            relevant = relevant_steps(rubrics[r.level], stored[r.id])
            result[r.id] = (sum(1 for s in relevant if s.question.id in stored[r.id]), len(relevant))
        return result

    # -- for the command line ---------------------------------------------------------

    def listing(self, campaign_id: int) -> list[dict[str, Any]]:
        with self.db.session() as session:
            rows = session.execute(
                select(Notification, Agency.name, Coordinator.full_name)
                .outerjoin(Agency, Agency.id == Notification.agency_id)
                .outerjoin(
                    Coordinator,
                    (Coordinator.campaign_id == Notification.campaign_id)
                    & (Coordinator.telegram_user_id == Notification.telegram_user_id),
                )
                .where(Notification.campaign_id == campaign_id)
                .order_by(Notification.due_at, Notification.kind, Notification.id)
            ).all()
            return [
                {
                    "due_at": n.due_at,
                    "kind": n.kind,
                    "status": n.status,
                    "telegram_user_id": n.telegram_user_id,
                    "agency": agency,
                    "coordinator": coordinator,
                    "sent_at": n.sent_at,
                    "key": n.key,
                }
                for n, agency, coordinator in rows
            ]

    def counts(self, campaign_id: int) -> dict[str, int]:
        with self.db.session() as session:
            return dict(
                session.execute(
                    select(Notification.status, func.count())
                    .where(Notification.campaign_id == campaign_id)
                    .group_by(Notification.status)
                ).all()
            )
