"""Questions to the office through the real bot: a contact asks at a question, a coordinator answers it and
publishes the answer; a contact of another agency sees the guidance at that question, and a contact whose
agency had already answered it gets it once, however often it is published or the outbox runs."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

import pytest
from dialogue_helpers import START, Clock, answer_all, make_campaign
from telegram import Bot

from bot.app import build_application
from bot.demo.fake_telegram import FakeTelegram, run_application
from bot.reminders.sender import Sender
from common.settings import Settings
from conversations.office_questions import KINDS
from conversations.reminders.outbox import Outbox
from rubrics.bundled import bundled
from storage import campaigns
from storage.invitations import coordinator_invitation

ZONE = "Asia/Ho_Chi_Minh"
GUIDANCE = "Cơ quan điều phối vừa ban hành hướng dẫn"


@pytest.fixture
def running(db):
    clock = Clock(START)
    campaign = make_campaign(db, START)
    answer_all(db, "06652", 1)  # Hà Phong has answered every question already
    with db.session() as session:  # the office of Hà Khẩu only
        campaign.tokens["office-06655"] = coordinator_invitation(
            session, campaigns.get(session, campaign.id), START, "06655"
        ).token
    with FakeTelegram() as fake:
        application = build_application(Settings(token=fake.token, telegram_api_url=fake.api_url), db, clock=clock)
        with run_application(application):
            fake.wait_for_long_poll()
            yield fake, campaign, Sender(Outbox(db, clock, ZoneInfo(ZONE), "test"), ZONE)


def tick(fake, sender) -> int:
    """One round of the outbox for these kinds, as the scheduler runs it; how many were sent."""

    async def once():
        async with Bot(fake.token, base_url=fake.api_url) as bot:
            return await sender.tick(bot, kinds=KINDS)

    return asyncio.run(once())


def join(fake, user_id, token, messages):
    user = fake.user(user_id)
    fake.wait_for_calls("sendMessage", messages, chat_id=user_id, after=user.send_command(f"/start {token}"))
    return user


def indicator_step():
    """A question of an indicator that every agency is asked (it depends on no earlier answer)."""
    return next(s for s in bundled()["qn2018-xa"].steps if s.indicator is not None and s.question.when is None)


def texts(user) -> list[str]:
    return [m.text or "" for m in user.messages()]


def test_a_question_answered_and_published_reaches_everyone_once(running):
    fake, campaign, sender = running
    step = indicator_step()
    item = step.indicator
    office = join(fake, 900, campaign.coordinator_token, 1)
    answered = join(fake, 702, campaign.tokens["06652"], 2)  # Hà Phong: everything answered already
    asker = join(fake, 701, campaign.tokens["06655"], 2)  # Hà Khẩu: at its first question

    shown = asker.wait_for_reply(after_update=asker.send_command(f"/sua {step.number}"))
    assert "❓ Hỏi cơ quan điều phối" in shown.button_texts, shown.text
    invited = asker.wait_for_reply(after_update=asker.press("❓ Hỏi cơ quan điều phối", message_id=shown.message_id))
    assert f"câu {step.number} (chỉ tiêu {item.code}" in invited.text and "/huy" in invited.text
    empty = asker.wait_for_reply(after_update=asker.send_text("   "))
    assert "Câu hỏi chưa có nội dung" in empty.text
    update = asker.send_text("Có tính cả văn bản ký số của năm trước không?")
    acknowledged = asker.wait_for_reply(after_update=update, match="Đã gửi câu hỏi số")
    number = int(acknowledged.text.split("Đã gửi câu hỏi số ")[1].split()[0])
    again = asker.wait_for_reply(match=f"Câu {step.number}")
    assert "❓ Hỏi cơ quan điều phối" in again.button_texts  # the same question, shown again

    assert tick(fake, sender) == 1  # to the one coordinator in scope
    notice = office.wait_for_reply(match="❓ Câu hỏi số")
    assert "UBND Phường Hà Khẩu (06655)" in notice.text and f"chỉ tiêu {item.code}" in notice.text
    assert "Có tính cả văn bản ký số của năm trước không?" in notice.text
    listing = office.wait_for_reply(after_update=office.send_command("/hoidap"))
    assert f"Số {number} · UBND Phường Hà Khẩu" in listing.text

    prompt = office.wait_for_reply(after_update=office.press("✍️ Trả lời câu hỏi này", message_id=notice.message_id))
    assert f"câu hỏi số {number}" in prompt.text
    reply = office.wait_for_reply(after_update=office.send_text("Có, tính cả văn bản ký số trong kỳ số liệu."))
    assert f"Đã gửi câu trả lời cho câu hỏi số {number}" in reply.text
    assert "📢 Công bố làm hướng dẫn chung" in reply.button_texts
    assert "Không có câu hỏi nào đang chờ" in office.wait_for_reply(after_update=office.send_command("/hoidap")).text

    assert tick(fake, sender) == 1
    told = asker.wait_for_reply(match="đã trả lời câu hỏi số")
    assert "Có, tính cả văn bản ký số trong kỳ số liệu." in told.text
    mine = asker.wait_for_reply(after_update=asker.send_command("/hoidap"))
    assert "Trả lời: «Có, tính cả văn bản ký số trong kỳ số liệu.»" in mine.text

    published = office.wait_for_reply(
        after_update=office.press("📢 Công bố làm hướng dẫn chung", message_id=reply.message_id)
    )
    assert "Đã công bố câu trả lời" in published.text and "cho 1 cán bộ đầu mối" in published.text
    assert tick(fake, sender) == 1
    guidance = answered.wait_for_reply(match=GUIDANCE)
    assert "Có, tính cả văn bản ký số trong kỳ số liệu." in guidance.text and f"/sua {step.number}" in guidance.text

    repeated = office.wait_for_reply(after_update=office.send_command(f"/congbo {number}"))
    assert "đã được công bố trước đó" in repeated.text
    assert tick(fake, sender) == 0
    assert sum(GUIDANCE in t for t in texts(answered)) == 1
    assert not any(GUIDANCE in t for t in texts(asker))  # Hà Khẩu had not answered that question

    seen = answered.wait_for_reply(after_update=answered.send_command(f"/sua {step.number}"))
    assert "💡 Hướng dẫn của cơ quan điều phối: Có, tính cả văn bản ký số trong kỳ số liệu." in seen.text


def test_a_city_coordinator_answers_only_its_own_agencies(running):
    fake, campaign, _ = running
    city = join(fake, 901, campaign.coordinator_token, 1)
    asker = join(fake, 702, campaign.tokens["06652"], 2)
    asker.wait_for_reply(after_update=asker.send_command(f"/sua {indicator_step().number}"))
    asker.press("❓ Hỏi cơ quan điều phối")
    asker.wait_for_reply(match="Xin Đồng chí gõ câu hỏi")
    acknowledged = asker.wait_for_reply(after_update=asker.send_text("Hỏi thử?"), match="Đã gửi câu hỏi số")
    number = int(acknowledged.text.split("Đã gửi câu hỏi số ")[1].split()[0])
    prompt = asker.wait_for_reply(match="Câu trả lời hiện tại")
    asker.press("❓ Hỏi cơ quan điều phối", message_id=prompt.message_id)
    asker.wait_for_reply(match="Xin Đồng chí gõ câu hỏi")
    cancelled = asker.wait_for_reply(after_update=asker.send_command("/huy"), match="huỷ")
    assert "Đã huỷ thao tác đang chờ" in cancelled.text  # no longer asking: the next text is an answer again
    asker.wait_for_reply(match="Câu trả lời hiện tại")  # the question again, after /huy
    stored = asker.wait_for_reply(after_update=asker.send_text("12"))
    assert stored.text.startswith(f"✓ Câu {indicator_step().number}: 12")
    other = join(fake, 903, campaign.tokens["office-06655"], 1)
    for command in (f"/traloi {number} Có.", f"/congbo {number}"):  # a contact is no coordinator
        assert "không có quyền" in asker.wait_for_reply(after_update=asker.send_command(command)).text
    refused = other.wait_for_reply(after_update=other.send_command(f"/traloi {number} Có."))
    assert refused.text.startswith(f"Không có câu hỏi số {number} trong phạm vi")
    forged = other.press(data=f"k:h:{number}")
    assert f"Không có câu hỏi số {number}" in other.wait_for_reply(after_update=forged).text
    assert "Không có câu hỏi nào đang chờ" in other.wait_for_reply(after_update=other.send_command("/hoidap")).text
    city_list = city.wait_for_reply(after_update=city.send_command("/hoidap"))
    assert f"Số {number} · UBND Phường Hà Phong" in city_list.text
    answered = city.wait_for_reply(after_update=city.send_command(f"/traloi {number} Có."))
    assert f"Đã gửi câu trả lời cho câu hỏi số {number}" in answered.text
