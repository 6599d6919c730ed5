"""A Telegram update is applied once: the second delivery of an update id is seen, and old ids are pruned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from storage.models import HandledUpdate
from storage.updates import KEPT, PRUNE_EVERY

NOW = datetime(2019, 10, 21, 2, tzinfo=UTC)


def test_a_second_delivery_is_seen_and_only_a_committed_one_counts(db):
    with db.unit() as unit:
        assert unit.updates.seen(100001, NOW) is False
    with db.unit() as unit:
        assert unit.updates.seen(100001, NOW) is True
        assert unit.updates.seen(None, NOW) is False  # no update behind the call
    try:
        with db.unit() as unit:
            assert unit.updates.seen(100002, NOW) is False
            raise RuntimeError("the dialogue failed")
    except RuntimeError:
        pass
    with db.unit() as unit:  # rolled back with the work it belonged to
        assert unit.updates.seen(100002, NOW) is False


def test_ids_older_than_kept_are_pruned(db):
    with db.unit() as unit:
        unit.updates.seen(1, NOW - KEPT - timedelta(minutes=1))
        unit.updates.seen(2, NOW - timedelta(hours=1))
    with db.unit() as unit:
        unit.updates.seen(PRUNE_EVERY * 3, NOW)
    with db.session() as session:
        kept = session.scalars(select(HandledUpdate.update_id).order_by(HandledUpdate.update_id)).all()
        assert kept == [2, PRUNE_EVERY * 3]
        assert session.scalar(select(func.count()).select_from(HandledUpdate)) == 2
