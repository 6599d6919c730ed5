"""What a coordinator is told about a deadline before it is set (conversations/deadlines.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.texts import phrase, refusal
from common.errors import Refused
from conversations.deadlines import check_deadline

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2025, 8, 1, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("local", "past", "weekend", "holiday"),
    [
        (datetime(2025, 8, 12, 14, 0), False, False, None),  # a Tuesday
        (datetime(2025, 7, 29, 14, 0), True, False, None),
        (datetime(2025, 8, 16, 14, 0), False, True, None),  # a Saturday
        (datetime(2025, 9, 2, 14, 0), False, False, "Quốc khánh"),  # a Tuesday, National Day
        (datetime(2025, 8, 1, 10, 0), True, False, None),  # 10h00 local is 03:00 UTC: now, too late already
        (datetime(2025, 8, 1, 10, 1), False, False, None),
    ],
)
def test_a_deadline_is_doubtful_when_past_on_a_weekend_or_a_holiday(local, past, weekend, holiday):
    check = check_deadline(local.replace(tzinfo=ZONE), NOW, ZONE)
    assert (check.past, check.weekend, check.holiday) == (past, weekend, holiday)
    assert check.local.tzinfo == ZONE and check.local.hour == local.hour
    assert check.doubtful == (past or weekend or holiday is not None)


def test_the_deadline_is_shown_with_its_weekday_and_the_doubts_in_one_sentence():
    check = check_deadline(datetime(2025, 8, 30, 14, 0, tzinfo=ZONE), NOW, ZONE)
    assert check.holiday is None and check.weekend
    shown = phrase("deadline", "shown", check=check, zone_name="Asia/Ho_Chi_Minh")
    assert shown == "Hạn chót: 14h00 thứ Bảy, ngày 30/08/2025 (giờ Asia/Ho_Chi_Minh)."
    holiday = check_deadline(datetime(2025, 9, 1, 14, 0, tzinfo=ZONE), datetime(2025, 9, 2, tzinfo=UTC), ZONE)
    params = {"local": holiday.local, "zone": "Asia/Ho_Chi_Minh", "past": holiday.past, "weekend": holiday.weekend}
    sentence = refusal(Refused("deadline_needs_yes", **params, holiday=holiday.holiday), lang="cli")
    assert sentence.startswith("Hạn chót 14h00 thứ Hai, ngày 01/09/2025 (giờ Asia/Ho_Chi_Minh) đã qua, trùng ngày lễ «")
    assert sentence.endswith("hãy chạy lại lệnh với --yes.") and sentence.count("\n") == 0
    english = refusal(Refused("deadline_needs_yes", **params, holiday=holiday.holiday), lang="en")
    assert english.startswith("The deadline 14h00 Monday, 01/09/2025") and "has already passed" in english
