"""The second year through the real bot over HTTP: last year's answers kept one press at a time, a question
to refresh offering nothing, /tieptuc's keep-all offer made once, and the coordinator's /donvi showing it."""

from __future__ import annotations

import re

import pytest
from dialogue_helpers import Clock
from second_year_helpers import NEXT_START, REFRESHED, second_year
from sqlalchemy import select

from bot.app import build_application
from bot.demo.fake_telegram import FakeTelegram, run_application
from common.settings import Settings
from storage.models import Agency, AnswerChange

pytestmark = pytest.mark.e2e
HEADER = re.compile(r"· Câu (\d+) · (\d+)/(\d+)")
KEEP = "Giữ như năm trước"
USER = 700


def is_prompt(message) -> bool:
    return bool(HEADER.search(message.text or ""))


def number_of(message) -> int:
    return int(HEADER.search(message.text).group(1))


@pytest.fixture
def running(db):
    year = second_year(db, state="verified")
    with FakeTelegram() as fake:
        settings = Settings(token=fake.token, telegram_api_url=fake.api_url)
        with run_application(build_application(settings, db, clock=Clock(NEXT_START))):
            fake.wait_for_long_poll()
            yield fake, year


def history(db, campaign_id: int) -> dict[str, list[tuple[str, int | None]]]:
    with db.session() as session:
        agency = session.scalar(select(Agency).where(Agency.campaign_id == campaign_id, Agency.code == "06652"))
        rows = session.scalars(
            select(AnswerChange).where(AnswerChange.agency_id == agency.id).order_by(AnswerChange.id)
        )
        found: dict[str, list[tuple[str, int | None]]] = {}
        for row in rows:
            found.setdefault(row.question_id, []).append((row.source, row.changed_by))
        return found


def test_a_second_year_contact_keeps_last_years_answers(running, db):
    fake, year = running
    user = fake.user(USER, "Thu Hà")
    user.send_command(f"/start {year.tokens['06652']}")
    prompt = user.wait_for_reply(match=is_prompt)
    assert number_of(prompt) == 1 and "Năm trước" not in prompt.text  # asked under a new id this year
    assert KEEP not in prompt.button_texts
    prompt = user.wait_for_reply(after_update=user.send_text("Nguyễn Thu Hà, công chức Văn phòng"), match=is_prompt)
    kept_numbers = []
    for _ in range(3):  # questions 2, 3 and 4: one press each
        assert "Năm trước:" in prompt.text and "(đã thẩm định)" in prompt.text
        kept_numbers.append(number_of(prompt))
        update = user.press(KEEP, message_id=prompt.message_id)
        prompt = user.wait_for_reply(after_update=update, match=is_prompt)
        assert "✓ Câu" in prompt.text
    assert kept_numbers == [2, 3, 4]
    assert number_of(prompt) == 5  # applications received in the period: refreshed every year
    assert "Năm trước:" in prompt.text and "cần số liệu của năm nay" in prompt.text
    assert KEEP not in prompt.button_texts
    prompt = user.wait_for_reply(after_update=user.send_text("120"), match=is_prompt)
    assert number_of(prompt) == 6
    changes = history(db, year.id)
    assert [changes[q] for q in ("cbcc_tong", "may_tinh_tong", "so_tthc")] == [[("carried", USER)]] * 3
    assert changes[REFRESHED] == [("telegram", USER)]

    offer = user.wait_for_reply(after_update=user.send_command("/tieptuc"), match="Năm trước Quý cơ quan")
    keep_all = next(t for t in offer.button_texts if t.startswith("✅ Giữ tất cả"))
    count = int(re.search(r"Giữ tất cả (\d+) câu", keep_all).group(1))
    assert count > 10 and "Trả lời lần lượt ▶" in offer.button_texts
    update = user.press(keep_all, message_id=offer.message_id)
    done = user.wait_for_reply(after_update=update, match="Đã giữ")
    assert f"Đã giữ {count} câu trả lời như năm trước" in done.text
    following = user.wait_for_reply(after_update=update, match=is_prompt)
    assert number_of(following) == 17  # the plan's document: kept here, since its evidence is asked at once
    assert KEEP in following.button_texts and "Cần minh chứng" in following.text
    update = user.press(KEEP, message_id=following.message_id)
    asked = user.wait_for_reply(after_update=update, match=is_prompt)
    assert number_of(asked) == 17 and "Xin gửi tệp minh chứng" in asked.text
    update = user.send_document("ke-hoach.pdf", b"%PDF-1.4", "application/pdf")
    assert "Đã nhận" in user.wait_for_reply(after_update=update).text
    user.wait_for_reply(after_update=update, match=is_prompt)  # the question again, with its evidence
    changes = history(db, year.id)
    carried = [q for q, rows in changes.items() if rows[-1] == ("carried", USER)]
    assert len(carried) == 3 + count + 1
    again = user.wait_for_reply(after_update=user.send_command("/tieptuc"), match=is_prompt)
    assert not any(t.startswith("✅ Giữ tất cả") for t in again.button_texts)
    # the first question left: applications handled at the one-stop desk, bounded by this year's 120
    # applications received, which last year's figure exceeds: not shown, not offered
    assert number_of(again) == 35 and "Năm trước" not in again.text

    coordinator = fake.user(901, "Phòng VHTT")
    user_update = coordinator.send_command(f"/start {year.coordinator_token}")
    coordinator.wait_for_reply(after_update=user_update)
    summary = coordinator.wait_for_reply(after_update=coordinator.send_command("/donvi 06652"))
    page = coordinator.wait_for_reply(
        after_update=coordinator.press("Trang sau ▶", message_id=summary.message_id), match="Thông tin chung"
    )
    lines = page.text.splitlines()
    marked = [lines[i - 1].split(".")[0] for i, line in enumerate(lines) if "↩ giữ từ năm trước" in line]
    assert marked == ["2", "3", "4"]
