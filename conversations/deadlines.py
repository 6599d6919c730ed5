"""What a coordinator should be told about a deadline before it is set: already past, on a weekend or on
one of Vietnam's public holidays (the same calendar the reminders skip)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from conversations.reminders.slots import holiday_names

WEEKEND = (5, 6)  # Saturday, Sunday


@dataclass(frozen=True)
class DeadlineCheck:
    local: datetime  # the deadline in the office's time zone
    past: bool
    weekend: bool
    holiday: str | None  # the holiday's Vietnamese name

    @property
    def doubtful(self) -> bool:
        """Whether the coordinator should confirm this deadline."""
        return self.past or self.weekend or self.holiday is not None


def check_deadline(deadline: datetime, now: datetime, zone: ZoneInfo) -> DeadlineCheck:
    local = deadline.astimezone(zone)
    return DeadlineCheck(
        local=local,
        past=deadline <= now,
        weekend=local.weekday() in WEEKEND,
        holiday=holiday_names(local.year).get(local.date()),
    )
