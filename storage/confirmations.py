"""The tokens of /nhacnho's confirmation button, kept in the database so any bot process accepts them.

The bot issues one token per /nhacnho that has reminders to send: for that coordinator, that campaign
and that scope, valid for :data:`REMIND_CONFIRMATION_VALIDITY`. Pressing the button uses the token in
one conditional UPDATE, so of two presses (in one process or two) exactly one queues the reminders.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.models import RemindConfirmation
from storage.records import CoordinatorRecord

REMIND_CONFIRMATION_VALIDITY = timedelta(minutes=30)
KEPT_AFTER_EXPIRY = timedelta(days=1)  # an expired token is still told apart from a forged one for a day
TOKEN_BYTES = 12  # 16 characters in the button's data (64 bytes at most)

# what pressing the button found
REDEEMED = "redeemed"
UNKNOWN = "unknown"  # never issued, or issued to someone else or for another scope
USED = "used"
EXPIRED = "expired"


class RemindConfirmations:
    def __init__(self, session: Session):
        self.session = session

    def issue(self, coordinator: CoordinatorRecord, now: datetime) -> str:
        """A new token for this coordinator's scope; tokens long expired are deleted on the way."""
        self.session.execute(delete(RemindConfirmation).where(RemindConfirmation.expires_at < now - KEPT_AFTER_EXPIRY))
        token = secrets.token_urlsafe(TOKEN_BYTES)
        self.session.add(
            RemindConfirmation(
                token=token,
                campaign_id=coordinator.campaign_id,
                telegram_user_id=coordinator.telegram_user_id,
                scope_agency_id=coordinator.scope_agency_id,
                created_at=now,
                expires_at=now + REMIND_CONFIRMATION_VALIDITY,
            )
        )
        self.session.flush()
        return token

    def redeem(self, coordinator: CoordinatorRecord, token: str, now: datetime) -> str:
        """Use the token if it is this coordinator's, for their campaign and scope, unused and not expired:
        :data:`REDEEMED`; otherwise why not (:data:`UNKNOWN`, :data:`USED`, :data:`EXPIRED`), changing nothing."""
        if not token or len(token) > 32:
            return UNKNOWN
        scope = coordinator.scope_agency_id
        column = RemindConfirmation.scope_agency_id
        mine = (
            RemindConfirmation.token == token,
            RemindConfirmation.campaign_id == coordinator.campaign_id,
            RemindConfirmation.telegram_user_id == coordinator.telegram_user_id,
            column.is_(None) if scope is None else column == scope,
        )
        used = self.session.execute(
            update(RemindConfirmation)
            .where(*mine, RemindConfirmation.used_at.is_(None), RemindConfirmation.expires_at > now)
            .values(used_at=now)
        ).rowcount
        if used == 1:
            return REDEEMED
        found = self.session.execute(
            select(RemindConfirmation.used_at, RemindConfirmation.expires_at).where(*mine)
        ).first()
        if found is None:
            return UNKNOWN
        return USED if found.used_at is not None else EXPIRED
