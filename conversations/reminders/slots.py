"""Working time: moving a reminder into office hours on a working day, before the deadline.

Working days are the policy's weekdays minus Vietnam's public holidays, plus the official make-up
working days (a Saturday worked for a bridged holiday, e.g. 2024-05-04): the ``holidays`` package's
working-day calendar, with the policy's other weekdays as its weekend. Without ``skip_holidays`` they
are the policy's weekdays alone. Working hours are local (Asia/Ho_Chi_Minh by default).
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


def working_calendar(policy: ReminderPolicy) -> holidays.HolidayBase:
    """The library's calendar for ``is_working_day``/``get_nth_working_day``: Vietnam's holidays and
    make-up working days when the policy skips holidays, an empty calendar otherwise; the weekend is
    every day the policy does not work."""
    calendar = holidays.country_holidays("VN") if policy.skip_holidays else holidays.HolidayBase()
    calendar.weekend = set(range(7)) - set(policy.working_days)
    return calendar


class WorkingTime:
    def __init__(self, policy: ReminderPolicy, zone: ZoneInfo):
        self.policy = policy
        self.zone = zone
        self.calendar = working_calendar(policy)

    def is_working_day(self, day: date) -> bool:
        return bool(self.policy.working_days) and self.calendar.is_working_day(day)

    def working_days(self, start: date, end: date) -> int:
        """How many working days ``start`` to ``end`` holds, both included (0 when ``end`` is before ``start``)."""
        if end < start or not self.policy.working_days:
            return 0
        return self.calendar.get_working_days_count(start, end)

    def _nth_working_day(self, day: date, n: int) -> date | None:
        """The library's next (``n=1``) or previous (``n=-1``) working day; None for a policy without days."""
        return self.calendar.get_nth_working_day(day, n) if self.policy.working_days else None

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
        following = self._nth_working_day(day, 1)
        if following is None:
            raise ValueError("the policy has no working days")
        return self.opens(following)

    def last_open_before(self, moment: datetime) -> datetime | None:
        """The latest working time strictly before ``moment`` (the deadline); None for a policy without days."""
        local = moment.astimezone(self.zone)
        day = local.date()
        if self.is_working_day(day) and self.opens(day) < local:
            return max(self.opens(day), min(local - timedelta(minutes=1), self.closes(day)))
        previous = self._nth_working_day(day, -1)
        return None if previous is None else self.closes(previous)

    def place(self, wanted: datetime, deadline: datetime) -> datetime | None:
        """Where a reminder wanted at ``wanted`` goes: the next working slot, or the last one before the
        deadline when the next would be too late."""
        slot = self.next_open(wanted)
        if slot < deadline:
            return slot
        return self.last_open_before(deadline)
