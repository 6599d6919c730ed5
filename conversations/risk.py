"""Who is at risk of missing the deadline: an estimate from each agency's pace so far and the working time left.

Pure: it reads the agencies' progress (questions answered of those that apply), their activity
(:class:`storage.pace.Activity`), ``now`` and the campaign's working calendar, and touches no database.

- **Pace** is the questions answered per *working day since the agency's first activity* (counting today only
  once it has worked today), not per sitting: a contact who does twenty questions in a sitting but sits once a
  week finishes at four a day, and counting the working days between covers both how much they do at a time and
  how often they come back. An agency that has not started is given the median pace of those that have (or
  :data:`DEFAULT_PACE` when none has).
- **Working days left** are the working days from today (while today's working hours last) to the deadline's
  day (when the deadline falls after that day's working hours begin), in the office's zone, by the same calendar
  as the reminders (weekends, Vietnam's public holidays and make-up working days).
- An open agency is **at risk** when the campaign's deadline has passed (``late``); when it has not started and
  either its estimated days exceed those left or at most :data:`NOT_STARTED_DAYS` are left (``not_started``);
  when it has not worked for at least as many whole working days as are left (``stalled``); or when the working
  days it needs at its pace exceed those left (``slow``).
- An agency that has answered everything but not submitted (or resubmitted, when returned) is a risk of another
  kind: it needs one press, not more time. It is listed (``unsubmitted``, "đã trả lời đủ, chưa nộp") only in the
  last :data:`SUBMIT_NUDGE_DAYS` working days, or once the deadline has passed. Submitted agencies are never listed.

The list is sorted most at risk first: late, not started, stalled, slow, then unsubmitted; within a kind, the
largest shortfall of working days first, then the most questions left.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from storage.pace import Activity
from storage.records import OPEN_STATES

DEFAULT_PACE = Decimal(10)  # questions a working day, when no agency has started yet
NOT_STARTED_DAYS = 3  # an agency not started with this few working days left is at risk whatever the pace
SUBMIT_NUDGE_DAYS = 2  # an agency that answered everything is listed in these last working days

LATE, NOT_STARTED, STALLED, SLOW, UNSUBMITTED = "late", "not_started", "stalled", "slow", "unsubmitted"
ORDER = (LATE, NOT_STARTED, STALLED, SLOW, UNSUBMITTED)


class WorkingTime(Protocol):
    """The campaign's working calendar (:class:`conversations.reminders.slots.WorkingTime`)."""

    zone: ZoneInfo

    def working_days(self, start: date, end: date) -> int: ...

    def opens(self, day: date) -> datetime: ...

    def closes(self, day: date) -> datetime: ...


class Agency(Protocol):
    id: int
    name: str
    state: str


@dataclass(frozen=True)
class Risk:
    """An agency at risk, and what its reason says."""

    agency_id: int
    name: str
    reason: str  # one of ORDER
    left: int  # questions that apply and are not answered
    days_left: int  # working days left
    pace: Decimal  # questions a working day, to one decimal (the median's for an agency not started)
    needed: int  # working days needed at that pace
    last_at: datetime | None  # the last answer change (UTC), None when it never worked
    idle: int = 0  # whole working days since then, today not counted

    @property
    def shortfall(self) -> int:
        return self.needed - self.days_left


def working_days_left(now: datetime, deadline: datetime, working: WorkingTime) -> int:
    """The working days from today (while its working hours last) to the deadline's day."""
    if now >= deadline:
        return 0
    local, end = now.astimezone(working.zone), deadline.astimezone(working.zone)
    first = local.date() if local < working.closes(local.date()) else local.date() + timedelta(days=1)
    last = end.date() if end > working.opens(end.date()) else end.date() - timedelta(days=1)
    return working.working_days(first, last)


def pace_of(answered: int, active: Activity, today: date, working: WorkingTime) -> Decimal:
    """Questions answered per working day since the first activity; today counts once the agency worked today."""
    first = active.first_at.astimezone(working.zone).date()
    last = active.last_at.astimezone(working.zone).date()
    end = today if last >= today else today - timedelta(days=1)
    return Decimal(answered) / max(1, working.working_days(first, end))


def idle_days(active: Activity, today: date, working: WorkingTime) -> int:
    """Whole working days since the last activity, today not counted."""
    last = active.last_at.astimezone(working.zone).date()
    return working.working_days(last + timedelta(days=1), today - timedelta(days=1))


def estimate(
    agencies: Iterable[Agency],
    progress: Mapping[int, tuple[int, int]],
    activity: Mapping[int, Activity],
    now: datetime,
    deadline: datetime,
    working: WorkingTime,
) -> list[Risk]:
    """The open agencies at risk, most at risk first. ``progress`` is (answered, relevant) by agency id."""
    open_ = [a for a in agencies if a.state in OPEN_STATES]
    today = now.astimezone(working.zone).date()
    days_left = working_days_left(now, deadline, working)
    paces = {
        a.id: pace_of(progress[a.id][0], activity[a.id], today, working)
        for a in open_
        if a.id in activity and progress[a.id][0] > 0
    }
    usual = statistics.median(paces.values()) if paces else DEFAULT_PACE
    risks = []
    for a in open_:
        answered, relevant = progress[a.id]
        left = max(0, relevant - answered)
        active = activity.get(a.id)
        pace = paces.get(a.id, usual)
        last_at = active.last_at if active is not None else None
        idle = idle_days(active, today, working) if active is not None else 0
        shown = pace.quantize(Decimal("0.1"), ROUND_HALF_UP)
        risk = Risk(a.id, a.name, "", left, days_left, shown, math.ceil(left / pace), last_at, idle)
        reason = _reason(risk, answered > 0 or active is not None, now >= deadline)
        if reason is not None:
            risks.append(replace(risk, reason=reason))
    return sorted(risks, key=lambda r: (ORDER.index(r.reason), -r.shortfall, -r.left, r.name))


def _reason(risk: Risk, started: bool, past: bool) -> str | None:
    """Why the agency is at risk, or None."""
    if risk.left == 0:
        return UNSUBMITTED if past or risk.days_left <= SUBMIT_NUDGE_DAYS else None
    if past:
        return LATE
    if not started:
        return NOT_STARTED if risk.shortfall > 0 or risk.days_left <= NOT_STARTED_DAYS else None
    if risk.last_at is not None and risk.idle >= max(1, risk.days_left):
        return STALLED
    return SLOW if risk.shortfall > 0 else None
