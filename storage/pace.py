"""How each agency has been working so far: its sittings (the local days with an answer change), its first and
last activity, and how many changes it made, from ``answer_history``.

One grouped query, by agency and day of the database (``date()`` on SQLite and PostgreSQL alike), with the first
and the last change of each group. Such a day covers at most two local days, and when changes fall on both, the
first change is on the earlier and the last on the later; so the local dates of those two moments, gathered per
agency, are exactly the days the agency's people sat down, in the zone they see, with no zone arithmetic in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import AnswerChange

CHUNK = 5000  # agency ids per statement, under every driver's limit of bound parameters


class Activity(NamedTuple):
    """An agency's work on its answers so far."""

    agency_id: int
    sittings: int  # local days with at least one answer change
    first_at: datetime  # UTC
    last_at: datetime  # UTC
    changes: int


def activity(session: Session, agency_ids: Iterable[int], zone: ZoneInfo) -> dict[int, Activity]:
    """The activity of each of ``agency_ids`` that changed an answer at least once (the others are left out)."""
    ids = list(agency_ids)
    day = func.date(AnswerChange.changed_at)
    days: dict[int, set[date]] = {}
    first: dict[int, datetime] = {}
    last: dict[int, datetime] = {}
    changes: dict[int, int] = {}
    for start in range(0, len(ids), CHUNK):
        statement = (
            select(
                AnswerChange.agency_id,
                func.min(AnswerChange.changed_at),
                func.max(AnswerChange.changed_at),
                func.count(AnswerChange.id),
            )
            .where(AnswerChange.agency_id.in_(ids[start : start + CHUNK]))
            .group_by(AnswerChange.agency_id, day)
        )
        for agency_id, earliest, latest, count in session.execute(statement):
            days.setdefault(agency_id, set()).update({earliest.astimezone(zone).date(), latest.astimezone(zone).date()})
            first[agency_id] = min(first.get(agency_id, earliest), earliest)
            last[agency_id] = max(last.get(agency_id, latest), latest)
            changes[agency_id] = changes.get(agency_id, 0) + count
    return {a: Activity(a, len(days[a]), first[a], last[a], changes[a]) for a in days}
