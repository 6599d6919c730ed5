"""Working time: moving a reminder into office hours on a working day, before the deadline.

Working days are the policy's weekdays minus Vietnam's public holidays (from the
``holidays`` package); working hours are local (Asia/Ho_Chi_Minh by default).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from storage.policy import ReminderPolicy


@cache
def holiday_names(year: int) -> dict[date, str]:
    """Vietnam's public holidays of a year, with their Vietnamese names ("Tết Nguyên Đán")."""
    return dict(holidays.country_holidays("VN", years=[year], language="vi"))


def public_holidays(year: int) -> frozenset[date]:
    return frozenset(holiday_names(year))


class WorkingTime:
    def __init__(self, policy: ReminderPolicy, zone: ZoneInfo):
        self.policy = policy
        self.zone = zone

    def is_working_day(self, day: date) -> bool:
        if day.weekday() not in self.policy.working_days:
            return False
        return not (self.policy.skip_holidays and day in public_holidays(day.year))

    def opens(self, day: date) -> datetime:
        return datetime.combine(day, self.policy.working_start, self.zone)

    def closes(self, day: date) -> datetime:
        return datetime.combine(day, self.policy.working_end, self.zone)

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        return self.is_working_day(local.date()) and self.opens(local.date()) <= local <= self.closes(local.date())

    def next_open(self, moment: datetime) -> datetime:
        """``moment`` if it is in working time, else the start of the next working slot."""
        local = moment.astimezone(self.zone)
        if self.is_open(local):
            return local
        day = local.date()
        if self.is_working_day(day) and local < self.opens(day):
            return self.opens(day)
        for _ in range(366):
            day += timedelta(days=1)
            if self.is_working_day(day):
                return self.opens(day)
        raise ValueError("no working day within a year")

    def last_open_before(self, moment: datetime) -> datetime | None:
        """The latest working time strictly before ``moment`` (the deadline), if any in the last year."""
        local = moment.astimezone(self.zone)
        day = local.date()
        if self.is_working_day(day) and self.opens(day) < local:
            return max(self.opens(day), min(local - timedelta(minutes=1), self.closes(day)))
        for _ in range(366):
            day -= timedelta(days=1)
            if self.is_working_day(day):
                return self.closes(day)
        return None

    def place(self, wanted: datetime, deadline: datetime) -> datetime | None:
        """Where a reminder wanted at ``wanted`` goes: the next working slot, or the last one before the
        deadline when the next would be too late."""
        slot = self.next_open(wanted)
        if slot < deadline:
            return slot
        return self.last_open_before(deadline)
