"""The notifications outbox as rows to add: every message that goes out later (reminders, digests,
notices of submissions and returns, letters by e-mail) is added here with a unique key, so adding it twice
adds it once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import Notification


@dataclass(frozen=True)
class Planned:
    key: str
    kind: str
    telegram_user_id: int | None
    agency_id: int | None
    due_at: datetime
    catch_up_until: datetime
    payload: dict
    channel: str = "telegram"  # or "email", to ``email``
    email: str | None = None


def store(session: Session, campaign_id: int, rows: list[Planned]) -> int:
    """Add the planned rows that are not in the outbox yet; returns how many were new."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(Notification)
    values = [
        {
            "campaign_id": campaign_id,
            "key": r.key,
            "kind": r.kind,
            "channel": r.channel,
            "telegram_user_id": r.telegram_user_id,
            "email": r.email,
            "agency_id": r.agency_id,
            "payload": r.payload,
            "due_at": r.due_at,
            "catch_up_until": r.catch_up_until,
            "status": "pending",
            "attempts": 0,
        }
        for r in rows
    ]
    inserted = session.execute(
        insert.on_conflict_do_nothing(index_elements=[Notification.key]).returning(Notification.id), values
    )
    return len(inserted.all())
