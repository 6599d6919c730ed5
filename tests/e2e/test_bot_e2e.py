"""The real bot over real HTTP against the fake Telegram Bot API on 127.0.0.1.

In-process tests run the Application in a background thread with a controlled
clock; the restart test runs ``cqdt run`` as a separate process and kills it
with SIGKILL in the middle of the walk.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dialogue_helpers import START, Clock, make_campaign
from sqlalchemy import select

from bot.app import build_application
from bot.demo.contacts import typed
from bot.demo.fake_telegram import FakeTelegram, run_application
from common.settings import Settings
from rubrics.answers import NA
from rubrics.bundled import bundled
from rubrics.sample_answers import sample_answers
from storage import answers as answer_store
from storage import campaigns
from storage.db import Database, upgrade
from storage.invitations import agency_invitations
from storage.models import Agency, Submission

HEADER = re.compile(r"· (?:Câu|Question) (\d+) · (?:trả lại |returned )?(\d+)/(\d+)")
RUBRIC = bundled()["qn2018-xa"]


def is_prompt(message) -> bool:
    return bool(HEADER.search(message.text or ""))


def step_of(message):
    return RUBRIC.steps[int(HEADER.search(message.text).group(1)) - 1]


def answer(user, prompt, value):
    """Answer the question shown in ``prompt`` the way a contact would; returns the next bot message."""
    question = step_of(prompt).question
    labels = {o.value: o.label for o in getattr(question, "options", [])}
    if value is NA:
        update = user.press("Không áp dụng", message_id=prompt.message_id)
    elif value is None:
        update = user.press("Bỏ qua", message_id=prompt.message_id)
    elif question.type == "yes_no":
        update = user.press("Có" if value else "Không", message_id=prompt.message_id)
    elif question.type == "single_choice":
        update = user.press(labels[value], message_id=prompt.message_id)
    elif question.type == "multi_choice":
        message = prompt
        for option in value:
            user.press(f"☐ {labels[option]}", message_id=message.message_id)
            message = user.wait_for_reply(match=lambda m, o=labels[option]: f"☑ {o}" in str(m.buttons))
        update = user.press("Xong ✓", message_id=prompt.message_id)
    elif question.type == "file":
        update = user.send_document(value["file_name"], b"%PDF-1.4 minh chung", "application/pdf")
    else:
        update = user.send_text(typed(question, value))
    reply = user.wait_for_reply(after_update=update, match=lambda m: is_prompt(m) or "đã trả lời" in m.text)
    if "Để sau ▶" in reply.button_texts:  # asked for evidence at once: give it later
        update = user.press("Để sau ▶", message_id=reply.message_id)
        reply = user.wait_for_reply(after_update=update, match=lambda m: is_prompt(m) or "đã trả lời" in m.text)
    return reply


@pytest.fixture
def fake():
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def running(fake, db, tmp_path):
    """The bot running in this process against the fake server, with a controlled clock."""
    clock = Clock(START)
    campaign = make_campaign(db, START)
    settings = Settings(token=fake.token, telegram_api_url=fake.api_url)
    application = build_application(settings, db, clock=clock, evidence_dir=tmp_path / "evidence")
    with run_application(application):
        fake.wait_for_long_poll()
        yield fake, clock, campaign


def stored_answers(db, code="06652"):
    with db.session() as session:
        agency = session.scalar(select(Agency).where(Agency.code == code))
        return answer_store.load_agency_answers(session, RUBRIC, agency.id)


def test_menu_and_start_without_a_token(running):
    fake, clock, campaign = running
    commands = fake.commands()
    assert [c["command"] for c in commands] == ["tieptuc", "xemlai", "sua", "trangthai", "nop", "hoidap", "trogiup"]
    assert all(c["description"] for c in commands) and "Tiếp tục" in commands[0]["description"]
    english = fake.commands(language_code="en")
    assert [c["command"] for c in english] == ["continue", "review", "edit", "status", "submit", "questions", "help"]
    assert english[0]["description"].startswith("Continue")
    user = fake.user(11)
    user.send_command("/start")
    assert "đường dẫn mời" in user.wait_for_reply().text
    user.send_command("/start sai-ma")
    assert "không dùng được" in user.wait_for_reply().text


def test_a_contact_completes_the_whole_rubric_and_submits(running, db, tmp_path):
    fake, clock, campaign = running
    user = fake.user(100, "Thu Hà")
    user.send_command(f"/start {campaign.tokens['06652']}")
    prompt = user.wait_for_reply(match=is_prompt)
    assert prompt.text.startswith("Thông tin chung · Câu 1 · 1/31")
    plans = (sample_answers(RUBRIC, random.Random(seed), na_rate=0.2) for seed in range(500))
    plan = next(
        p
        for p in plans
        if len({RUBRIC.question(q).type for q, v in p.items() if v is not NA}) == 10 and NA in p.values()
    )
    types = set()
    while is_prompt(prompt):
        question = step_of(prompt).question
        types.add(question.type)
        value = plan.get(question.id, None if not question.required else "Nội dung")
        prompt = answer(user, prompt, value)
    assert "đã trả lời" in prompt.text
    assert len(types) == 10
    stored = stored_answers(db)
    assert {q: v for q, v in stored.items() if RUBRIC.question(q).type != "file"} == {
        q: v for q, v in plan.items() if RUBRIC.question(q).type != "file"
    }
    files = list((tmp_path / "evidence").rglob("*"))
    assert any(f.is_file() and f.read_bytes().startswith(b"%PDF") for f in files)
    update = user.send_command("/nop")
    reply = user.wait_for_reply(after_update=update)
    while reply.text.startswith("Chưa thể nộp"):  # evidence still missing: upload it question by question
        number = re.search(r"Minh chứng câu (\d+)", reply.text).group(1)
        user.wait_for_reply(after_update=user.send_command(f"/sua {number}"), match=is_prompt)
        update = user.send_document("minh-chung.pdf", b"%PDF-1.4", "application/pdf")
        user.wait_for_reply(after_update=update, match="Đã nhận minh chứng")
        user.wait_for_reply(after_update=update, match=is_prompt)
        update = user.send_command("/nop")
        reply = user.wait_for_reply(after_update=update)
    assert "xác nhận nộp" in reply.text
    user.press("✅ Xác nhận nộp", message_id=reply.message_id)
    receipt = user.wait_for_reply(match="BIÊN NHẬN")
    assert "SHA-256" in receipt.text and "Hà Phong" in receipt.text
    update = user.send_command("/sua 2")
    assert "đã nộp" in user.wait_for_reply(after_update=update).text
    with db.session() as session:
        assert session.scalar(select(Submission.state).join(Agency).where(Agency.code == "06652")) == "submitted"


def test_bad_input_stale_and_forged_buttons(running, db):
    fake, clock, campaign = running
    user = fake.user(200)
    user.send_command(f"/start {campaign.tokens['06652']}")
    user.wait_for_reply(match=is_prompt)
    user.send_command("/sua cbcc_tong")
    user.wait_for_reply(match=is_prompt)
    for bad, expected in [("mười", "số nguyên"), ("12,5", "số nguyên"), ("1" * 4000, "")]:
        update = user.send_text(bad)
        refusal = user.wait_for_reply(after_update=update)
        assert expected in refusal.text and len(refusal.text) < 4096
        again = user.wait_for_reply(match=is_prompt)
        assert step_of(again).question.id == "cbcc_tong"
    # over Telegram's 4 096 characters (only a forged request): one sentence from the handler, no work
    refusal = user.wait_for_reply(after_update=user.send_text("1" * 5000))
    assert "quá 4.096 ký tự" in refusal.text
    for send, expected in [
        (user.send_sticker, "chữ"),
        (user.send_voice, "chữ"),
        (lambda: user.send_photo(b"\x89PNG fake"), "không cần tệp"),
    ]:
        update = send()
        assert expected in user.wait_for_reply(after_update=update).text
        user.wait_for_reply(after_update=update, match=is_prompt)
    update = user.send_text("1.234")
    user.wait_for_reply(after_update=update, match=is_prompt)
    assert stored_answers(db)["cbcc_tong"] == 1234
    # the computers question is bounded by the total just given
    user.wait_for_reply(after_update=user.send_command("/sua cbcc_may_tinh"), match=is_prompt)
    update = user.send_text("5.000")
    assert "không được lớn hơn 1.234" in user.wait_for_reply(after_update=update).text
    assert step_of(user.wait_for_reply(after_update=update, match=is_prompt)).question.id == "cbcc_may_tinh"
    # stale: a button of an older question; double tap; forged data
    yes_no = user.wait_for_reply(after_update=user.send_command("/sua co_lan"), match=is_prompt)
    update = user.press("Có", message_id=yes_no.message_id)
    user.wait_for_reply(after_update=update, match=is_prompt)
    before = stored_answers(db)
    answered = len(fake.calls("answerCallbackQuery"))
    user.press(data=yes_no.callback_data("Không"))  # the old question's other button (and a double tap)
    user.press(data="q:AAAAAAAA:a:1")  # forged: a token that was never issued
    user.press(data="xoá hết")  # garbage
    fake.wait_for_calls("answerCallbackQuery", answered + 3)
    notices = [c.text for c in user.answered_callbacks()[-3:]]
    assert notices[0].startswith("Nút này thuộc tin nhắn cũ") and notices[1].startswith("Nút này thuộc tin nhắn cũ")
    assert "không hợp lệ" in notices[2]
    assert stored_answers(db) == before


def test_two_contacts_of_one_agency_work_at_once(running, db):
    fake, clock, campaign = running
    lan, minh = fake.user(301, "Lan"), fake.user(302, "Minh")
    lan.send_command(f"/start {campaign.tokens['06652']}")
    lan.wait_for_reply(match=is_prompt)
    second = _second_invitation(db, campaign.id, clock.now)
    minh.send_command(f"/start {second}")
    minh.wait_for_reply(match=is_prompt)
    lan.send_command("/sua cbcc_tong")
    minh.send_command("/sua so_tthc")
    lan.wait_for_reply(match=is_prompt)
    minh.wait_for_reply(match=is_prompt)
    lan.send_text("40")
    minh.send_text("120")
    lan.wait_for_reply(match=is_prompt)
    minh.wait_for_reply(match=is_prompt)
    assert {k: stored_answers(db)[k] for k in ("cbcc_tong", "so_tthc")} == {"cbcc_tong": 40, "so_tthc": 120}
    minh.send_command("/sua cbcc_tong")
    assert "(do Lan trả lời" in minh.wait_for_reply(match=is_prompt).text


def _second_invitation(db, campaign_id, now):
    with db.session() as session:
        return next(
            inv.token for _, inv in agency_invitations(session, campaigns.get(session, campaign_id), now, "06652")
        )


def test_the_deadline_passes(running, db):
    fake, clock, campaign = running
    user = fake.user(400)
    user.send_command(f"/start {campaign.tokens['06652']}")
    user.wait_for_reply(match=is_prompt)
    user.send_text("Nguyễn Văn A")
    user.wait_for_reply(match=is_prompt)
    clock.now = campaign.deadline
    update = user.send_text("25")
    assert "Đã hết hạn" in user.wait_for_reply(after_update=update).text
    update = user.send_command("/nop")
    assert "hết hạn" in user.wait_for_reply(after_update=update).text
    user.wait_for_reply(after_update=update, match="Trạng thái")
    update = user.send_command("/xemlai")
    assert user.wait_for_reply(after_update=update).text.startswith("Xem lại")
    assert stored_answers(db) == {"dau_moi": "Nguyễn Văn A"}


def test_english_telegram_users_get_english(running):
    fake, clock, campaign = running
    user = fake.user(500, "Anna", language_code="en")
    user.send_command(f"/start {campaign.tokens['06652']}")
    assert "Question 1 · 1/31" in user.wait_for_reply(match=is_prompt).text


def test_review_pages_and_edit_from_review(running, db):
    fake, clock, campaign = running
    user = fake.user(600)
    user.send_command(f"/start {campaign.tokens['06652']}")
    user.wait_for_reply(match=is_prompt)
    user.send_text("Lê Thị B")
    user.wait_for_reply(match=is_prompt)
    user.send_command("/xemlai")
    page = user.wait_for_reply()
    assert "Lê Thị B" in page.text and "Tổng điểm tạm tính" in page.text
    user.press("Nhóm sau ▶", message_id=page.message_id)
    second = user.wait_for_reply(match=lambda m: m.message_id == page.message_id and m.text != page.text)
    assert second.text.startswith("Xem lại (2/")
    user.send_command("/xemlai")
    first = user.wait_for_reply()
    user.press("✎ 1", message_id=first.message_id)
    prompt = user.wait_for_reply(match=is_prompt)
    assert step_of(prompt).number == 1 and "Lê Thị B" in prompt.text


# --- a separate process, killed with SIGKILL ----------------------------------------------


def start_bot(url: str, fake: FakeTelegram, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "CQDT_TELEGRAM_API_URL": fake.api_url,
        "CQDT_DATABASE_URL": url,
    }
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "cqdt"), "run"],
        env=env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[2],
    )


def test_kill_9_mid_walk_then_restart_continues_at_the_same_question(fake, database_url, tmp_path):
    db = Database(database_url, ensure=False)
    upgrade(db.engine)
    campaign = make_campaign(db, datetime.now(UTC))  # the bot process runs on the real clock
    log = tmp_path / "bot.log"
    process = start_bot(database_url, fake, log)
    try:
        user = fake.user(700)
        user.send_command(f"/start {campaign.tokens['06652']}")
        prompt = user.wait_for_reply(match=is_prompt, timeout=30)
        acknowledged = {}
        for text in ("Trần Văn C", "120", "80"):
            question = step_of(prompt).question
            update = user.send_text(text)
            prompt = user.wait_for_reply(after_update=update, match=is_prompt)
            acknowledged[question.id] = text
        current = step_of(prompt)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        assert fake.token not in log.read_text()
        process = start_bot(database_url, fake, log)
        fake.wait_for_long_poll(timeout=30)
        update = user.send_text("15")  # typed straight away: the bot knows which question is open
        after = user.wait_for_reply(after_update=update, match=is_prompt, timeout=30)
        stored = stored_answers(db)
        assert stored[current.question.id] == 15
        assert stored["dau_moi"] == "Trần Văn C"
        assert [str(stored[q]) for q in list(acknowledged)[1:]] == ["120", "80"]
        assert step_of(after).number > current.number
        user.send_command("/tieptuc")
        assert step_of(user.wait_for_reply(match=is_prompt)).number == step_of(after).number
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        db.dispose()
    assert fake.token not in log.read_text()
