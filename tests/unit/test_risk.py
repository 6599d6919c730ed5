"""The at-risk estimate (conversations/risk.py) on agencies of different paces, with an injected ``now`` and the
campaign's working calendar: weekends and Vietnam's public holidays do not count as time left."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from bot.texts import phrase
from conversations.reminders.slots import WorkingTime
from conversations.risk import (
    DEFAULT_PACE,
    LATE,
    NOT_STARTED,
    SLOW,
    STALLED,
    UNSUBMITTED,
    estimate,
    pace_of,
    working_days_left,
)
from storage.pace import Activity
from storage.policy import ReminderPolicy
from storage.records import IN_PROGRESS, RETURNED, SUBMITTED

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
WORKING = WorkingTime(ReminderPolicy(), ZONE)
DEADLINE = datetime(2019, 10, 28, 17, 0, tzinfo=ZONE)  # a Monday


def at(day: int, hour: int = 9, month: int = 10) -> datetime:
    return datetime(2019, month, day, hour, 0, tzinfo=ZONE)


def agency(id_: int, state: str = IN_PROGRESS) -> SimpleNamespace:
    return SimpleNamespace(id=id_, name=f"UBND xã {id_}", state=state)


def worked(id_: int, first: datetime, last: datetime, sittings: int = 1) -> Activity:
    return Activity(id_, sittings, first, last, 1)


def risks(progress, activity, now, deadline=DEADLINE, states=None):
    agencies = [agency(i, (states or {}).get(i, IN_PROGRESS)) for i in progress]
    return {r.agency_id: r for r in estimate(agencies, progress, activity, now, deadline, WORKING)}


def test_working_days_left_skip_the_weekend_and_count_today_while_it_lasts():
    assert working_days_left(at(25), DEADLINE, WORKING) == 2  # Friday and Monday, not the weekend
    assert working_days_left(at(25, hour=18), DEADLINE, WORKING) == 1  # Friday's working hours are over
    assert working_days_left(at(26), DEADLINE, WORKING) == 1  # Saturday: Monday only
    early = datetime(2019, 10, 28, 7, 0, tzinfo=ZONE)  # before Monday's working hours begin
    assert working_days_left(at(25), early, WORKING) == 1
    assert working_days_left(at(28, hour=18), DEADLINE, WORKING) == 0


def test_a_public_holiday_is_not_time_left():
    deadline = datetime(2019, 9, 3, 17, 0, tzinfo=ZONE)  # Tuesday; Monday 2 September is National Day
    assert working_days_left(at(30, month=8), deadline, WORKING) == 2  # Friday and Tuesday
    every_day = WorkingTime(ReminderPolicy(skip_holidays=False), ZONE)
    assert working_days_left(at(30, month=8), deadline, every_day) == 3


def test_fast_slow_stalled_and_never_started_agencies():
    now = at(24)  # Thursday; Thursday, Friday and Monday are left
    progress = {1: (80, 100), 2: (20, 100), 3: (70, 100), 4: (0, 100)}
    activity = {
        1: worked(1, at(21), at(24)),  # 80 in four working days: 20 a day, 20 left, done in one
        2: worked(2, at(14), at(23)),  # 20 in eight working days (up to yesterday): 2.5 a day, 80 left
        3: worked(3, at(14), at(18)),  # 70 in eight working days, but nothing since Friday 18/10
    }
    found = risks(progress, activity, now)
    assert set(found) == {2, 3, 4}
    assert (found[2].reason, found[2].left, found[2].days_left) == (SLOW, 80, 3)
    assert (found[2].pace, found[2].needed, found[2].idle) == (Decimal("2.5"), 32, 0)
    assert (found[3].reason, found[3].idle) == (STALLED, 3)  # Monday to Wednesday without an answer
    # the agency that never started goes at the others' median pace (20, 2.5, 8.75): 100 left in 12 days
    assert (found[4].reason, found[4].pace, found[4].needed) == (NOT_STARTED, Decimal("8.8"), 12)
    assert phrase("risk", "reason", lang="vi", r=found[2]) == (
        "còn 80 câu, 3 ngày làm việc, mỗi ngày làm việc khoảng 2,5 câu (cần 32 ngày)"
    )


def test_an_agency_never_started_is_safe_with_time_left_and_at_risk_when_it_runs_out():
    progress = {1: (0, 30)}
    assert risks(progress, {}, at(7)) == {}  # three weeks: 30 at the default pace is 3 days
    found = risks(progress, {}, at(24))[1]
    assert (found.reason, found.pace, found.needed, found.last_at) == (NOT_STARTED, DEFAULT_PACE, 3, None)
    assert risks({1: (0, 50)}, {}, at(14)) == {}  # 5 days needed, 11 left
    found = risks({1: (0, 200)}, {}, at(14))[1]  # 20 days needed
    assert (found.reason, found.needed, found.days_left) == (NOT_STARTED, 20, 11)


def test_today_counts_in_the_pace_only_once_the_agency_worked_today():
    this_morning = worked(1, at(24, hour=8), at(24, hour=8))
    assert pace_of(30, this_morning, at(24).date(), WORKING) == 30
    assert pace_of(30, worked(1, at(23), at(23)), at(24).date(), WORKING) == 30  # nothing yet today
    assert pace_of(30, worked(1, at(23), at(24)), at(24).date(), WORKING) == 15
    assert pace_of(30, worked(1, at(18), at(18)), at(21).date(), WORKING) == 30  # a Friday, seen on Monday
    assert pace_of(30, worked(1, at(26), at(26)), at(27).date(), WORKING) == 30  # a Saturday sitting counts
    assert risks({1: (30, 100)}, {1: this_morning}, at(24, hour=10)) == {}  # 70 left at 30 a day: 3 days, 3 left


def test_finished_agencies_are_listed_only_near_the_deadline_and_submitted_ones_never():
    progress = {1: (40, 40), 2: (40, 40), 3: (10, 40)}
    activity = {i: worked(i, at(14), at(23)) for i in progress}
    states = {2: RETURNED, 3: SUBMITTED}
    assert risks(progress, activity, at(14), states=states) == {}
    found = risks(progress, activity, at(25), states=states)
    assert set(found) == {1, 2}
    assert {r.reason for r in found.values()} == {UNSUBMITTED}


def test_after_the_deadline_every_unfinished_agency_is_late():
    progress = {1: (40, 40), 2: (39, 40), 3: (0, 40)}
    activity = {1: worked(1, at(14), at(28)), 2: worked(2, at(14), at(21))}
    found = risks(progress, activity, at(28, hour=18))
    assert {i: r.reason for i, r in found.items()} == {1: UNSUBMITTED, 2: LATE, 3: LATE}
    found = estimate([agency(i) for i in progress], progress, activity, at(29), DEADLINE, WORKING)
    assert [r.agency_id for r in found] == [3, 2, 1]  # the most questions left first, the finished one last


def test_the_list_is_most_at_risk_first():
    progress = {1: (20, 100), 2: (0, 30), 3: (70, 100), 4: (50, 100), 5: (60, 60)}
    activity = {
        1: worked(1, at(14), at(23)),
        3: worked(3, at(14), at(18)),
        4: worked(4, at(21), at(23)),
        5: worked(5, at(14), at(24)),
    }
    order = [
        r.agency_id for r in estimate([agency(i) for i in progress], progress, activity, at(25), DEADLINE, WORKING)
    ]
    assert order == [2, 3, 1, 4, 5]  # not started, stalled, the slowest, the slow, the one to submit


def test_the_reason_reads_as_the_coordinator_expects():
    progress = {1: (76, 100)}
    activity = {1: worked(1, at(14), at(21))}
    (found,) = risks(progress, activity, at(25)).values()
    assert phrase("risk", "reason", lang="vi", r=found) == "còn 24 câu, 2 ngày làm việc, chưa hoạt động từ 21/10"
    assert phrase("risk", "reason", lang="en", r=found) == "24 questions left, 2 working days, no activity since 21/10"
    (late,) = risks(progress, activity, at(29)).values()
    assert phrase("risk", "reason", lang="vi", r=late) == "đã quá hạn nộp, còn 24 câu, chưa hoạt động từ 21/10"
    (never,) = risks({1: (0, 30)}, {}, at(25)).values()
    assert phrase("risk", "reason", lang="vi", r=never) == "còn 30 câu, 2 ngày làm việc, chưa bắt đầu"


def test_a_long_list_shows_ten_and_counts_the_others():
    progress = {i: (0, 30) for i in range(1, 13)}
    listed = estimate([agency(i) for i in progress], progress, {}, at(25), DEADLINE, WORKING)
    text = phrase("risk", "listing", lang="vi", at_risk=listed)
    assert text.startswith("Có nguy cơ trễ hạn (12):\n• UBND xã 1: còn 30 câu")
    assert text.count("\n• UBND xã") == 10 and text.endswith("\n• … và 2 đơn vị khác.")
    assert phrase("risk", "listing", lang="en", at_risk=listed).endswith("\n• … and 2 more.")
