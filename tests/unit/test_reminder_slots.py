"""Working time for reminders: office hours on working days, Vietnamese public holidays, deadlines.

All moments are explicit aware datetimes in Asia/Ho_Chi_Minh (UTC+7, no DST); nothing depends on today's date.
Calendar used below (2019): 2019-10-21 .. 2019-10-28 is Mon..Mon with no holidays; 2019-09-02 (Mon) is
National Day; Tết is 2019-02-04 (Mon) .. 2019-02-08 (Fri), so Fri 2019-02-01 is the last working day before it
and Mon 2019-02-11 the first one after it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from conversations.reminders.slots import WorkingTime
from storage.policy import ReminderPolicy

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=HCM)


@pytest.fixture
def wt() -> WorkingTime:
    return WorkingTime(ReminderPolicy(), HCM)


@pytest.fixture
def custom() -> WorkingTime:
    """08:00–11:30, Monday to Saturday."""
    policy = ReminderPolicy(working_start=time(8, 0), working_end=time(11, 30), working_days=[0, 1, 2, 3, 4, 5])
    return WorkingTime(policy, HCM)


def assert_local(result: datetime | None, expected: datetime) -> None:
    """Same instant, aware, and expressed at UTC+7 (so its wall-clock fields are Hà Nội time)."""
    assert result is not None
    assert result.tzinfo is not None
    assert result.utcoffset() == timedelta(hours=7)
    assert result == expected
    assert result.replace(tzinfo=None) == expected.replace(tzinfo=None)


# --- next_open: moving a moment into working time (default policy: Mon–Fri 07:30–17:30) -----------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        pytest.param(at(2019, 10, 23, 10, 15), at(2019, 10, 23, 10, 15), id="inside-hours-stays"),
        pytest.param(at(2019, 10, 23, 7, 30), at(2019, 10, 23, 7, 30), id="exactly-opening-stays"),
        pytest.param(at(2019, 10, 23, 17, 30), at(2019, 10, 23, 17, 30), id="exactly-closing-stays"),
        pytest.param(at(2019, 10, 22, 6, 0), at(2019, 10, 22, 7, 30), id="before-opening-same-day"),
        pytest.param(at(2019, 10, 23, 17, 31), at(2019, 10, 24, 7, 30), id="after-closing-next-day"),
        pytest.param(at(2019, 10, 25, 18, 0), at(2019, 10, 28, 7, 30), id="friday-evening-to-monday"),
        pytest.param(at(2019, 10, 26, 10, 0), at(2019, 10, 28, 7, 30), id="saturday-to-monday"),
        pytest.param(at(2019, 10, 27, 23, 59), at(2019, 10, 28, 7, 30), id="sunday-to-monday"),
    ],
)
def test_next_open_default_hours(wt, moment, expected):
    assert_local(wt.next_open(moment), expected)


def test_vietnamese_holidays_are_not_working_days(wt):
    assert not wt.is_working_day(date(2019, 9, 2))  # National Day, a Monday
    for day in range(4, 9):  # Tết, Mon 04/02 .. Fri 08/02/2019
        assert not wt.is_working_day(date(2019, 2, day))
    assert wt.is_working_day(date(2019, 9, 3))
    assert wt.is_working_day(date(2019, 2, 1))
    assert wt.is_working_day(date(2019, 2, 11))
    assert not wt.is_open(at(2019, 9, 2, 10, 0))


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        pytest.param(at(2019, 8, 31, 10, 0), at(2019, 9, 3, 7, 30), id="national-day-weekend-to-tuesday"),
        pytest.param(at(2019, 9, 2, 9, 0), at(2019, 9, 3, 7, 30), id="on-national-day-to-tuesday"),
        pytest.param(at(2019, 2, 1, 18, 0), at(2019, 2, 11, 7, 30), id="before-tet-to-after-tet"),
        pytest.param(at(2019, 2, 6, 10, 0), at(2019, 2, 11, 7, 30), id="during-tet-to-after-tet"),
    ],
)
def test_next_open_skips_public_holidays(wt, moment, expected):
    assert_local(wt.next_open(moment), expected)


def test_holidays_count_as_working_days_when_not_skipped():
    wt = WorkingTime(ReminderPolicy(skip_holidays=False), HCM)
    assert wt.is_working_day(date(2019, 9, 2))
    assert wt.is_working_day(date(2019, 2, 5))
    assert_local(wt.next_open(at(2019, 8, 31, 10, 0)), at(2019, 9, 2, 7, 30))
    assert_local(wt.next_open(at(2019, 9, 2, 9, 0)), at(2019, 9, 2, 9, 0))
    assert_local(wt.next_open(at(2019, 2, 1, 18, 0)), at(2019, 2, 4, 7, 30))


# --- custom hours and days: 08:00–11:30, Monday–Saturday ---------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        pytest.param(at(2019, 10, 26, 9, 0), at(2019, 10, 26, 9, 0), id="saturday-morning-is-working"),
        pytest.param(at(2019, 10, 26, 12, 0), at(2019, 10, 28, 8, 0), id="saturday-afternoon-to-monday"),
        pytest.param(at(2019, 10, 27, 9, 0), at(2019, 10, 28, 8, 0), id="sunday-to-monday"),
        pytest.param(at(2019, 10, 23, 7, 30), at(2019, 10, 23, 8, 0), id="before-custom-opening"),
        pytest.param(at(2019, 10, 23, 11, 30), at(2019, 10, 23, 11, 30), id="exactly-custom-closing"),
        pytest.param(at(2019, 10, 23, 13, 0), at(2019, 10, 24, 8, 0), id="after-custom-closing"),
    ],
)
def test_next_open_custom_hours_and_days(custom, moment, expected):
    assert_local(custom.next_open(moment), expected)


def test_custom_place_falls_back_to_morning_of_deadline_day(custom):
    # Deadline Mon 28/10 14:00; 2 h before is 12:00, after the 11:30 close; the next slot (Tue 08:00) is too
    # late, so the reminder goes to the last working minute before the deadline: Monday 11:30.
    deadline = at(2019, 10, 28, 14, 0)
    assert_local(custom.place(deadline - timedelta(hours=2), deadline), at(2019, 10, 28, 11, 30))
    # 1 day before is Sunday 14:00 -> Monday 08:00, still before the deadline.
    assert_local(custom.place(deadline - timedelta(days=1), deadline), at(2019, 10, 28, 8, 0))


# --- last_open_before ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deadline", "expected"),
    [
        pytest.param(at(2019, 10, 28, 14, 0), at(2019, 10, 28, 13, 59), id="midday-one-minute-before"),
        pytest.param(at(2019, 10, 28, 20, 0), at(2019, 10, 28, 17, 30), id="evening-same-day-close"),
        pytest.param(at(2019, 10, 28, 7, 30), at(2019, 10, 25, 17, 30), id="at-opening-previous-friday"),
        pytest.param(at(2019, 10, 27, 12, 0), at(2019, 10, 25, 17, 30), id="sunday-previous-friday"),
        pytest.param(at(2019, 2, 11, 7, 0), at(2019, 2, 1, 17, 30), id="after-tet-back-before-tet"),
    ],
)
def test_last_open_before(wt, deadline, expected):
    result = wt.last_open_before(deadline)
    assert_local(result, expected)
    assert wt.is_open(result)


# --- place: the default offsets before the example deadline, 14h00 Monday 28/10/2019 --------------------------


def test_default_offsets_are_7d_3d_1d_2h():
    assert ReminderPolicy().offsets_minutes == [7 * 24 * 60, 3 * 24 * 60, 24 * 60, 120]


@pytest.mark.parametrize(
    ("offset_minutes", "expected"),
    [
        pytest.param(7 * 24 * 60, at(2019, 10, 21, 14, 0), id="7d-monday-21-stays"),
        pytest.param(3 * 24 * 60, at(2019, 10, 25, 14, 0), id="3d-friday-25-stays"),
        pytest.param(24 * 60, at(2019, 10, 28, 7, 30), id="1d-sunday-27-to-monday-0730"),
        pytest.param(120, at(2019, 10, 28, 12, 0), id="2h-monday-noon-stays"),
    ],
)
def test_place_default_offsets_before_example_deadline(wt, offset_minutes, expected):
    deadline = at(2019, 10, 28, 14, 0)
    result = wt.place(deadline - timedelta(minutes=offset_minutes), deadline)
    assert_local(result, expected)
    assert result < deadline
    assert wt.is_open(result)


def test_place_early_monday_deadline_goes_back_to_friday_close(wt):
    # Deadline Mon 07:00; 2 h before is 05:00 Monday; the next slot, 07:30, is after the deadline,
    # so the reminder goes to the last working time before it: Friday 17:30.
    deadline = at(2019, 10, 28, 7, 0)
    assert_local(wt.place(deadline - timedelta(hours=2), deadline), at(2019, 10, 25, 17, 30))


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        pytest.param(at(2019, 2, 10, 9, 0), at(2019, 2, 11, 7, 30), id="1d-sunday-to-monday-0730"),
        pytest.param(at(2019, 2, 8, 9, 0), at(2019, 2, 11, 7, 30), id="3d-tet-friday-to-monday-0730"),
        pytest.param(at(2019, 2, 4, 9, 0), at(2019, 2, 11, 7, 30), id="7d-tet-monday-to-monday-0730"),
    ],
)
def test_place_deadline_right_after_tet(wt, wanted, expected):
    deadline = at(2019, 2, 11, 9, 0)
    assert_local(wt.place(wanted, deadline), expected)


def test_no_working_days_at_all():
    # Degenerate policy: next_open gives up after a year (so place() raises too); last_open_before is None.
    wt = WorkingTime(ReminderPolicy(working_days=[]), HCM)
    deadline = at(2019, 10, 28, 14, 0)
    with pytest.raises(ValueError):
        wt.next_open(deadline - timedelta(hours=2))
    assert wt.last_open_before(deadline) is None


# --- time zones ---------------------------------------------------------------------------------------------


def test_results_are_aware_and_convert_to_utc(wt):
    # 06:00 Monday in Hà Nội is 23:00 UTC on Sunday; the slot is 07:30 Hà Nội = 00:30 UTC Monday.
    wanted_utc = datetime(2019, 10, 27, 23, 0, tzinfo=UTC)
    result = wt.next_open(wanted_utc)
    assert_local(result, at(2019, 10, 28, 7, 30))
    assert result.astimezone(UTC) == datetime(2019, 10, 28, 0, 30, tzinfo=UTC)
    assert result.astimezone(UTC).replace(tzinfo=None) == datetime(2019, 10, 28, 0, 30)
    # A deadline given in UTC is judged in Hà Nội time too: 07:00 UTC Monday = 14:00 local.
    placed = wt.place(datetime(2019, 10, 27, 7, 0, tzinfo=UTC), datetime(2019, 10, 28, 7, 0, tzinfo=UTC))
    assert_local(placed, at(2019, 10, 28, 7, 30))
    assert wt.is_open(datetime(2019, 10, 28, 0, 30, tzinfo=UTC))
    assert not wt.is_open(datetime(2019, 10, 28, 0, 29, tzinfo=UTC))


# --- a deadline just after opening ---------------------------------------------------------------------


def test_last_open_before_sub_minute_after_opening_stays_in_working_time(wt):
    deadline = at(2019, 10, 28, 7, 30, 30)
    result = wt.last_open_before(deadline)
    assert result is not None and result < deadline
    assert wt.is_open(result)


# --- Vietnam's make-up working Saturdays (the holidays package's working-day calendar) ---------------------


@pytest.mark.parametrize("saturday", [date(2019, 1, 5), date(2019, 5, 4), date(2024, 5, 4)])
def test_make_up_saturdays_are_working_days(wt, saturday):
    assert saturday.weekday() == 5
    assert wt.is_working_day(saturday)
    assert_local(
        wt.next_open(datetime.combine(saturday, time(6, 0), HCM)), datetime.combine(saturday, time(7, 30), HCM)
    )
    assert not wt.is_working_day(saturday + timedelta(days=1))  # the Sunday after stays off


def test_make_up_saturday_is_the_last_slot_before_a_monday_deadline(wt):
    # Fri 2024-05-03 is a working day, Sat 2024-05-04 the make-up day for the 30/4–1/5 bridge.
    assert_local(wt.last_open_before(at(2024, 5, 6, 7, 0)), at(2024, 5, 4, 17, 30))


def test_without_holidays_a_make_up_saturday_is_the_policys_weekend():
    wt = WorkingTime(ReminderPolicy(skip_holidays=False), HCM)
    assert not wt.is_working_day(date(2024, 5, 4))
    assert wt.is_working_day(date(2024, 4, 30))  # Reunification Day counts when holidays are not skipped
