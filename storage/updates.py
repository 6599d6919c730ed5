"""Which Telegram updates the contacts' dialogues have applied, so a second delivery of one is not applied again."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import HandledUpdate

KEPT = timedelta(days=2)  # Telegram keeps an unconfirmed update for 24 hours
PRUNE_EVERY = 500  # update ids: one update in this many deletes what is older than KEPT


class HandledUpdates:
    def __init__(self, session: Session):
        self.session = session

    def seen(self, update_id: int | None, now: datetime) -> bool:
        """Whether this update was applied before; if not, it is recorded as applied, in this transaction,
        so it counts only if the dialogue's work commits. A concurrent delivery in another process waits
        on the first one's row and then sees it. None (no update behind the call: tests, the CLI) is never seen."""
        if update_id is None:
            return False
        record = _record(self.session.get_bind().dialect.name)
        # RETURNING: whether the row was added, on both databases
        added = self.session.connection().execute(record, {"update_id": update_id, "handled_at": now}).first()
        if added is not None and update_id % PRUNE_EVERY == 0:
            self.session.execute(delete(HandledUpdate).where(HandledUpdate.handled_at < now - KEPT))
        return added is None


@cache
def _record(dialect: str):
    """The insert of a handled update (nothing when it is there already), built once per dialect on the table
    (not through the ORM's bulk path)."""
    table = HandledUpdate.__table__
    insert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(table)
    return insert.on_conflict_do_nothing(index_elements=[table.c.update_id]).returning(table.c.update_id)
