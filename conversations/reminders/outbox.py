"""The outbox as the sender and the command line use it: plan, claim one row at a time, mark the result.

Each call is one transaction over :class:`storage.outbox.OutboxStore`; all of it
is synchronous, and :mod:`bot.reminders.sender` runs it from the event loop. A
row is claimed (``pending`` → ``claimed``), its attempt is recorded (``claimed``
→ ``sending``) in a transaction committed before the HTTP request, and it is
marked right after. What a sender that stopped left behind is settled by the
next :meth:`Outbox.prepare`, from any process:

- claimed and never attempted, for :data:`CLAIM_RELEASED_AFTER`: certainly not
  sent, so pending again and sent by the next tick while within its catch-up
  window;
- attempted with no answer recorded, for :data:`UNANSWERED_AFTER`: the request
  may have reached Telegram. A kind of :data:`RESENT_IF_UNCERTAIN` is sent again
  while it has had fewer than :data:`MAX_ATTEMPTS` requests: at least once. Any
  other kind becomes ``uncertain`` and is never sent again: at most once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from conversations.reminders.mail import EMAIL, MailChannel, invitation_rows, mail_notices
from conversations.reminders.notices import Claimed, describe, telegram_notices
from conversations.reminders.plan import digests, plan, replan
from storage.db import Database
from storage.outbox import OutboxStore, opened
from storage.policy import ReminderPolicy
from storage.records import CampaignFacts

log = logging.getLogger(__name__)

UNWRITABLE = (LookupError, TypeError, ValueError, AttributeError)  # a payload or context this code cannot read


def not_written(exc: Exception) -> str:
    """The reason stored on a row whose message could not be written."""
    return f"not written: {type(exc).__name__}: {exc}"[:500]


# A live sender attempts a claimed row within a second or two (its pacing); while it waits out a 429
# the row is claimed again and the wait is at most sender.MAX_RETRY_WAIT (60 s). Claimed this long: its
# sender stopped.
CLAIM_RELEASED_AFTER = timedelta(minutes=2)
# A request is answered or timed out within seconds (with the network retries, under a minute).
UNANSWERED_AFTER = timedelta(minutes=10)
# Sent again when perhaps sent: a second copy is harmless, a missing one is not. The receipt is the
# contact's proof of submission; a return for correction tells the contact what to fix. Reminders,
# overdue notices and the coordinators' notices and digests are sent at most once: a duplicate is
# noise, and the next reminder or digest says the same.
RESENT_IF_UNCERTAIN = frozenset({"receipt", "returned"})
MAX_ATTEMPTS = 5  # requests in all, network retries included
PLANNED_AFTER_CLOSING = timedelta(days=1)  # a campaign closed longer ago is no longer planned
TELEGRAM = "telegram"
# A mail server that is down, or answers "try again later" (4xx), is tried again after 1, 2, 4 … minutes,
# at most every half hour, while the row is within its catch-up window.
RETRY_BACKOFF = timedelta(minutes=1)
MAX_RETRY_BACKOFF = timedelta(minutes=30)


class Outbox:
    """The outbox for one worker; with ``mail`` (the e-mail channel is on) it plans e-mail rows too."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        zone: ZoneInfo,
        worker: str,
        mail: MailChannel | None = None,
    ):
        self.db = db
        self.clock = clock
        self.zone = zone
        self.worker = worker
        self.mail = mail
        self.notices = {TELEGRAM: telegram_notices(zone), EMAIL: mail_notices(mail, zone) if mail else {}}

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
                mail = self.mail is not None
                added += outbox.queue(campaign.id, plan(outbox, campaign, self.zone, mail))
                added += outbox.queue(campaign.id, digests(outbox, campaign, now, self.zone, mail))
            released = outbox.release_stale_claims(now - CLAIM_RELEASED_AFTER, campaign_id)
            again, uncertain = outbox.mark_stale_sends(
                now - UNANSWERED_AFTER, RESENT_IF_UNCERTAIN, MAX_ATTEMPTS, campaign_id
            )
            dropped = outbox.drop_missed(now, campaign_id)
        if released:
            log.warning("%d messages were claimed by a sender that stopped before sending; sent now", released)
        if again:
            log.warning("%d messages were being sent when a sender stopped; sent again", again)
        if uncertain:
            log.warning("%d messages were being sent when a sender stopped; not sent again", uncertain)
        if dropped:
            log.warning("dropped %d reminders that missed their catch-up window", dropped)
        return added

    def campaign(self, campaign_id: int) -> CampaignFacts:
        """The campaign's facts; refuses a campaign that does not exist."""
        with opened(self.db) as outbox:
            return outbox.campaign(campaign_id)

    def set_policy(self, campaign_id: int, changes: dict[str, Any]) -> int:
        """Change fields of the campaign's reminder policy and plan its unsent reminders again; how many."""
        with opened(self.db) as outbox:
            policy = ReminderPolicy.model_validate({**outbox.campaign(campaign_id).policy.model_dump(), **changes})
            return replan(outbox, outbox.set_policy(campaign_id, policy), self.zone, self.mail is not None)

    def move_deadline(
        self, campaign_id: int, deadline: datetime, grace_hours: int | None = None
    ) -> tuple[CampaignFacts, int]:
        """Move the deadline (and the grace) and plan the unsent reminders again: the campaign, how many."""
        with opened(self.db) as outbox:
            campaign = outbox.set_deadline(campaign_id, deadline, grace_hours)
            return campaign, replan(outbox, campaign, self.zone, self.mail is not None)

    # -- claiming and marking -----------------------------------------------------------

    def claim(
        self, campaign_id: int | None = None, kinds: tuple[str, ...] | None = None, channel: str = TELEGRAM
    ) -> Claimed | None:
        """The next due row (of one campaign, of some kinds, of a channel), claimed for this worker."""
        with opened(self.db) as outbox:
            return self._claim(outbox, self.clock(), campaign_id, kinds, channel)

    def _claim(
        self,
        outbox: OutboxStore,
        now: datetime,
        campaign_id: int | None,
        kinds: tuple[str, ...] | None,
        channel: str = TELEGRAM,
    ) -> Claimed | None:
        """Claim the next due row; rows that no longer apply are cancelled on the way, and rows whose
        message cannot be written from what they hold are marked failed (once, with the reason) instead of
        stopping every later row behind them."""
        while (row := outbox.next_due(now, campaign_id, kinds, channel)) is not None:
            try:
                claimed = describe(outbox, row, now, self.notices[channel])
            except UNWRITABLE as exc:
                log.exception("notification %s cannot be written; marked failed", row.id)
                outbox.finish(row.id, "failed", not_written(exc), now)
                continue
            if claimed is not None:
                outbox.claim(row.id, self.worker, now)
                return claimed
            outbox.cancel(row.id)
        return None

    def attempt(self, row_id: int) -> bool:
        """Record, committed, that the request is about to go; False if the claim is no longer ours."""
        with opened(self.db) as outbox:
            return outbox.attempt(row_id, self.worker, self.clock())

    def not_delivered(self, row_id: int, error: str) -> None:
        """Telegram said it did not deliver (a 429): claimed again, not perhaps sent."""
        with opened(self.db) as outbox:
            outbox.not_delivered(row_id, error, self.clock())

    def finish(
        self,
        row_id: int,
        status: str,
        error: str | None = None,
        *,
        claim_next: bool = False,
        campaign_id: int | None = None,
        kinds: tuple[str, ...] | None = None,
        channel: str = TELEGRAM,
    ) -> Claimed | None:
        """Mark a row sent (or blocked, failed); with ``claim_next``, claim the next one (of the same
        campaign, kinds and channel) in the same transaction."""
        now = self.clock()
        with opened(self.db) as outbox:
            outbox.finish(row_id, status, error, now)
            return self._claim(outbox, now, campaign_id, kinds, channel) if claim_next else None

    def release(self, row_id: int, error: str) -> None:
        """Give a row back after a network failure, to be tried on the next tick."""
        with opened(self.db) as outbox:
            outbox.release(row_id, error)

    def retry_later(self, row_id: int, error: str, attempts: int) -> None:
        """Give a row back after a transient failure (the mail server down or answering 4xx), due again
        after a backoff that doubles with each attempt (past its catch-up window it is dropped); failed
        after :data:`MAX_ATTEMPTS`."""
        now = self.clock()
        with opened(self.db) as outbox:
            if attempts >= MAX_ATTEMPTS:
                outbox.finish(row_id, "failed", error, now)
            else:
                outbox.retry_later(
                    row_id, error, now + min(RETRY_BACKOFF * 2 ** max(attempts - 1, 0), MAX_RETRY_BACKOFF)
                )

    def queue_invitations(
        self, campaign_id: int, agencies: list[tuple[int, str, str]], language: str, resend: bool
    ) -> int:
        """Queue an invitation letter to each (agency id, address, token) not sent one yet (every one again
        with ``resend``); how many were queued."""
        with opened(self.db) as outbox:
            campaign = outbox.campaign(campaign_id)
            round_ = outbox.keys_starting(f"c{campaign_id}:invitation:") if resend else 0
            return outbox.queue(campaign_id, invitation_rows(campaign, agencies, self.clock(), language, round_))

    # -- for the command line ---------------------------------------------------------

    def listing(self, campaign_id: int) -> list[dict[str, Any]]:
        with opened(self.db) as outbox:
            return outbox.listing(campaign_id)

    def counts(self, campaign_id: int) -> dict[str, int]:
        with opened(self.db) as outbox:
            return outbox.counts(campaign_id)
