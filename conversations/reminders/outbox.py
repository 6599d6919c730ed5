"""The outbox as the sender and the command line use it: plan, claim one row at a time, mark the result.

Each call is one transaction over :class:`storage.outbox.OutboxStore`; all of it
is synchronous, and :mod:`bot.reminders.sender` runs it from the event loop. A
row is claimed (``pending`` → ``sending``) before it is sent and marked right
after, so a restart never sends a row twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from conversations.reminders.notices import Claimed, describe
from conversations.reminders.plan import digests, plan, replan
from storage.db import Database
from storage.outbox import OutboxStore, opened
from storage.policy import ReminderPolicy
from storage.records import CampaignFacts

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=10)  # a row claimed this long ago and not marked: its sender stopped
PLANNED_AFTER_CLOSING = timedelta(days=1)  # a campaign closed longer ago is no longer planned


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
        with opened(self.db) as outbox:
            if campaign_id is not None:
                outbox.campaign(campaign_id)  # refuses a campaign that does not exist
            for campaign in outbox.open_campaigns(campaign_id):
                if now > campaign.closes_at + PLANNED_AFTER_CLOSING:
                    continue
                added += outbox.queue(campaign.id, plan(outbox, campaign, self.zone))
                added += outbox.queue(campaign.id, digests(outbox, campaign, now, self.zone))
            dropped = outbox.drop_missed(now)
            uncertain = outbox.mark_stale_claims(now - STALE_CLAIM)
        if dropped:
            log.warning("dropped %d reminders that missed their catch-up window", dropped)
        if uncertain:
            log.warning("%d messages were being sent when a sender stopped; not sent again", uncertain)
        return added

    def campaign(self, campaign_id: int) -> CampaignFacts:
        """The campaign's facts; refuses a campaign that does not exist."""
        with opened(self.db) as outbox:
            return outbox.campaign(campaign_id)

    def set_policy(self, campaign_id: int, changes: dict[str, Any]) -> int:
        """Change fields of the campaign's reminder policy and plan its unsent reminders again; how many."""
        with opened(self.db) as outbox:
            policy = ReminderPolicy.model_validate({**outbox.campaign(campaign_id).policy.model_dump(), **changes})
            return replan(outbox, outbox.set_policy(campaign_id, policy), self.zone)

    def move_deadline(
        self, campaign_id: int, deadline: datetime, grace_hours: int | None = None
    ) -> tuple[CampaignFacts, int]:
        """Move the deadline (and the grace) and plan the unsent reminders again: the campaign, how many."""
        with opened(self.db) as outbox:
            campaign = outbox.set_deadline(campaign_id, deadline, grace_hours)
            return campaign, replan(outbox, campaign, self.zone)

    # -- claiming and marking -----------------------------------------------------------

    def claim(self) -> Claimed | None:
        """The next due row, claimed for this worker."""
        with opened(self.db) as outbox:
            return self._claim(outbox, self.clock())

    def _claim(self, outbox: OutboxStore, now: datetime) -> Claimed | None:
        """Claim the next due row; rows that no longer apply are cancelled on the way."""
        while (row := outbox.next_due(now)) is not None:
            claimed = describe(outbox, row, now)
            if claimed is not None:
                outbox.claim(row.id, self.worker, now)
                return claimed
            outbox.cancel(row.id)
        return None

    def finish(self, row_id: int, status: str, error: str | None = None, *, claim_next: bool = False) -> Claimed | None:
        """Mark a row sent (or blocked, failed); with ``claim_next``, claim the next one in the same transaction."""
        now = self.clock()
        with opened(self.db) as outbox:
            outbox.finish(row_id, status, error, now)
            return self._claim(outbox, now) if claim_next else None

    def release(self, row_id: int, error: str) -> None:
        """Give a row back after a network failure, to be tried on the next tick."""
        with opened(self.db) as outbox:
            outbox.release(row_id, error)

    # -- for the command line ---------------------------------------------------------

    def listing(self, campaign_id: int) -> list[dict[str, Any]]:
        with opened(self.db) as outbox:
            return outbox.listing(campaign_id)

    def counts(self, campaign_id: int) -> dict[str, int]:
        with opened(self.db) as outbox:
            return outbox.counts(campaign_id)
