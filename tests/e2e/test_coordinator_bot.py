"""The coordinator's chat commands through the real bot: status, ranking pages, one agency, verification,
charts, exports, reminders now, the command menu, scope and refusals."""

from __future__ import annotations

import asyncio
import csv
import io
import random
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from dialogue_helpers import START, Clock, answer_all, make_campaign, yes_no_indicator
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select
from telegram import Bot

from bot.app import build_application
from bot.demo.fake_telegram import FakeTelegram, run_application
from bot.reminders.sender import Sender
from common.settings import Settings
from conversations.reminders.outbox import Outbox
from conversations.walk import relevant_steps
from rubrics.bundled import bundled
from rubrics.sample_answers import sample_answers
from storage import campaigns
from storage.answers import set_answer
from storage.invitations import coordinator_invitation
from storage.models import Agency


@pytest.fixture
def running(db):
    clock = Clock(START)
    campaign = make_campaign(db, START)
    answer_all(db, "06652", 1)
    with db.session() as session:
        rubric = bundled()["qn2018-xa"]
        agency = session.scalar(select(Agency).where(Agency.code == "06655"))
        current = {}
        for qid, value in sample_answers(rubric, random.Random(2)).items():
            set_answer(session, rubric, agency, qid, value, by=None, source="test", now=START, current=current)
            current[qid] = value
        city = coordinator_invitation(session, campaigns.get(session, campaign.id), START, "06655").token
    with FakeTelegram() as fake:
        application = build_application(Settings(token=fake.token, telegram_api_url=fake.api_url), db, clock=clock)
        with run_application(application):
            fake.wait_for_long_poll()
            yield fake, campaign, city, Sender(Outbox(db, clock, ZoneInfo("Asia/Ho_Chi_Minh"), "test"), ZONE)


ZONE = "Asia/Ho_Chi_Minh"


def tick(fake, sender) -> None:
    """One round of the outbox, as the scheduler runs it."""

    async def once():
        async with Bot(fake.token, base_url=fake.api_url) as bot:
            await sender.tick(bot)

    asyncio.run(once())


def join(fake, user_id, token, messages=1):
    """Register through an invitation; a contact's welcome comes with the first question (two messages)."""
    user = fake.user(user_id)
    fake.wait_for_calls("sendMessage", messages, chat_id=user_id, after=user.send_command(f"/start {token}"))
    return user


def test_status_scores_and_exports_for_the_whole_campaign(running):
    fake, campaign, _, _ = running
    so = join(fake, 900, campaign.coordinator_token)
    status = so.wait_for_reply(after_update=so.send_command("/tinhhinh")).text
    assert "Cấp xã: đã nộp 0/2 · đang làm 2 · chưa bắt đầu 0" in status
    assert "UBND Thành phố Hạ Long: đã nộp 0/2" in status and len(status) < 4096
    scores = so.wait_for_reply(after_update=so.send_command("/diem xa")).text
    assert "xếp hạng (1/1, 0/2 đơn vị đã nộp)" in scores and "UBND Phường Hà Phong" in scores
    assert "Chưa xếp hạng (chưa nộp; điểm tạm tính)" in scores  # neither ward has submitted
    update = so.send_command("/xuat")
    fake.wait_for_calls("sendDocument", 4, chat_id=900, after=update)
    documents = {
        c.params["document"].filename: c.params["document"].content
        for c in fake.calls("sendDocument")
        if c.chat_id == 900
    }
    workbook = load_workbook(io.BytesIO(documents[f"cqdt-dot-{campaign.id}.xlsx"]), read_only=True)
    levels = [sheet for sheet in workbook.worksheets if sheet.title.startswith("Cấp")]  # not questions, indicators
    codes = {row[1] for sheet in levels for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert codes == {"193", "06652", "06655"}
    rows = list(csv.DictReader(io.StringIO(documents[f"cqdt-dot-{campaign.id}.csv"].decode("utf-8-sig"))))
    assert {r["Mã đơn vị"] for r in rows} == {"193", "06652", "06655"}
    assert {f"cqdt-dot-{campaign.id}-phu-luc.xlsx", f"cqdt-dot-{campaign.id}-phu-luc.docx"} <= documents.keys()


def test_status_lists_the_agencies_at_risk_in_scope(db):
    """Two working days before the deadline (Friday 25/10, the deadline Monday 09:00): Hạ Long never started,
    Hà Khẩu stopped after a few answers on 14/10, Hà Phong answered everything but did not submit."""
    campaign = make_campaign(db, START)
    answer_all(db, "06652", 1)
    rubric = bundled()["qn2018-xa"]
    with db.session() as session:
        agency = session.scalar(select(Agency).where(Agency.code == "06655"))
        current = {}
        for qid, value in list(sample_answers(rubric, random.Random(2), na_rate=0).items())[:5]:
            set_answer(session, rubric, agency, qid, value, by=None, source="test", now=START, current=current)
            current[qid] = value
        city = coordinator_invitation(session, campaigns.get(session, campaign.id), START, "06655").token
    clock = Clock(START + timedelta(days=11))
    with FakeTelegram() as fake:
        application = build_application(Settings(token=fake.token, telegram_api_url=fake.api_url), db, clock=clock)
        with run_application(application):
            fake.wait_for_long_poll()
            so, city_office = join(fake, 900, campaign.coordinator_token), join(fake, 901, city)
            status = so.wait_for_reply(after_update=so.send_command("/tinhhinh")).text
            mine = city_office.wait_for_reply(after_update=city_office.send_command("/tinhhinh")).text
    khau = f"• UBND Phường Hà Khẩu: còn {len(relevant_steps(rubric, current)) - 5} câu, 2 ngày làm việc, "
    assert (
        "Có nguy cơ trễ hạn (3):\n"
        f"• UBND Thành phố Hạ Long: còn {len(relevant_steps(bundled()['qn2018-huyen'], {}))} câu, "
        "2 ngày làm việc, chưa bắt đầu\n"
        f"{khau}chưa hoạt động từ 14/10\n"
        "• UBND Phường Hà Phong: đã trả lời đủ, chưa nộp"
    ) in status
    assert f"Có nguy cơ trễ hạn (1):\n{khau}" in mine and "Hạ Long" not in mine and "Hà Phong" not in mine


def test_a_city_coordinator_sees_only_its_scope(running):
    fake, campaign, city, _ = running
    coordinator = join(fake, 901, city)
    status = coordinator.wait_for_reply(after_update=coordinator.send_command("/tinhhinh")).text
    assert "Hà Khẩu" in status and "đã nộp 0/1" in status and "Hạ Long" not in status
    scores = coordinator.wait_for_reply(after_update=coordinator.send_command("/diem")).text
    assert "Hà Khẩu" in scores and "Hà Phong" not in scores
    update = coordinator.send_command("/xuat")
    fake.wait_for_calls("sendDocument", 4, chat_id=901, after=update)
    csv_content = next(
        c.params["document"].content
        for c in fake.calls("sendDocument")
        if c.chat_id == 901 and c.params["document"].filename.endswith(".csv")
    )
    rows = list(csv.DictReader(io.StringIO(csv_content.decode("utf-8-sig"))))
    assert [r["Mã đơn vị"] for r in rows] == ["06655"]
    xlsx = next(
        c.params["document"].content
        for c in fake.calls("sendDocument")
        if c.chat_id == 901 and c.params["document"].filename.endswith(".xlsx")
    )
    workbook = load_workbook(io.BytesIO(xlsx), read_only=True)
    levels = [sheet for sheet in workbook.worksheets if sheet.title.startswith("Cấp")]  # not questions, indicators
    codes = {row[1] for sheet in levels for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert codes == {"06655"}
    forged = coordinator.press(data="k:s:huyen:0")  # a level outside the scope: its own levels only
    fake.wait_until_consumed(forged)
    reply = coordinator.wait_for_reply(after_update=forged)
    assert "Hạ Long" not in reply.text


@pytest.mark.parametrize(
    "command",
    [
        "/tinhhinh",
        "/diem",
        "/donvi 06652",
        "/thamdinh 06652",
        "/xacnhan 06652",
        "/dieuchinh 06652 1.1 0 lý do",
        "/tralai 06652 1.1 sửa",
        "/bieudo",
        "/xuat",
        "/nhacnho",
    ],
)
def test_anyone_else_is_refused_and_sees_no_data(running, command):
    fake, campaign, _, _ = running
    contact = join(fake, 300, campaign.tokens["06652"], messages=2)
    stranger = fake.user(301)
    for user in (contact, stranger):
        reply = user.wait_for_reply(after_update=user.send_command(command)).text
        assert "không có quyền" in reply and "Hà Khẩu" not in reply
    assert not [c for c in fake.calls("sendDocument") + fake.calls("sendPhoto") if c.chat_id in (300, 301)]


def test_verification_round_trip_charts_and_reminders_now(running):
    fake, campaign, _, sender = running
    rubric = bundled()["qn2018-xa"]
    item, step = yes_no_indicator(rubric)
    so = join(fake, 900, campaign.coordinator_token)
    fake.wait_for_calls("setMyCommands", 3)  # the bot's two menus at start, then this coordinator's own
    assert "donvi" in {c["command"] for c in fake.commands(scope={"type": "chat", "chat_id": 900})}
    lan = join(fake, 300, campaign.tokens["06652"], messages=2)
    lan.wait_for_reply(after_update=lan.send_command("/nop"), match="xác nhận nộp")
    assert "BIÊN NHẬN" in lan.wait_for_reply(after_update=lan.press("✅ Xác nhận nộp")).text
    tick(fake, sender)
    assert "đã nộp bản tự đánh giá" in so.wait_for_reply(match="Hà Phong").text

    summary = so.wait_for_reply(after_update=so.send_command("/donvi 06652"))
    assert "Tự đánh giá" in summary.text and "trang 1/" in summary.text
    page = so.press("Trang sau ▶", message_id=summary.message_id)
    assert "trang 2/" in so.wait_for_reply(after_update=page).text

    returned = so.wait_for_reply(after_update=so.send_command(f"/tralai 06652 {item.code} Thiếu quyết định"))
    assert "Đã trả lại 1 chỉ tiêu" in returned.text
    tick(fake, sender)
    notice = lan.wait_for_reply(match="trả lại")
    assert "Thiếu quyết định" in notice.text
    question = lan.wait_for_reply(after_update=lan.press("Tiếp tục trả lời ▶", message_id=notice.message_id))
    assert step.question.text[:30] in question.text and "Thiếu quyết định" in question.text
    refused = lan.wait_for_reply(after_update=lan.send_command("/sua 1")).text
    assert "không thuộc các chỉ tiêu được trả lại" in refused
    done = lan.wait_for_reply(after_update=lan.press("Có", message_id=question.message_id))
    assert "nộp lại bằng /nop" in done.text
    lan.wait_for_reply(after_update=lan.send_command("/nop"), match="xác nhận nộp")
    assert "BIÊN NHẬN" in lan.wait_for_reply(after_update=lan.press("✅ Xác nhận nộp")).text
    tick(fake, sender)
    assert "nộp lại" in so.wait_for_reply(match="nộp lại").text

    adjusted = so.wait_for_reply(after_update=so.send_command(f"/dieuchinh 06652 {item.code} 0 Quyết định hết hạn"))
    assert "được điều chỉnh thành 0,00" in adjusted.text
    assert "Đã xác nhận" in so.wait_for_reply(after_update=so.send_command("/xacnhan 06652")).text
    assert "✓ thẩm định, tự chấm" in so.wait_for_reply(after_update=so.send_command("/diem xa")).text

    for command in ("/bieudo xa", "/bieudo xeploai"):
        photo = fake.wait_for_calls("sendPhoto", 1, chat_id=900, after=so.send_command(command))[-1]
        image = Image.open(io.BytesIO(photo.params["photo"].content))
        assert image.format == "PNG" and image.width > 300 and image.height > 200

    update = so.send_command("/xuat")
    fake.wait_for_calls("sendDocument", 2, chat_id=900, after=update)
    xlsx = next(c.params["document"].content for c in fake.calls("sendDocument") if c.chat_id == 900)
    sheet = load_workbook(io.BytesIO(xlsx), read_only=True)["Cấp xã"]
    rows = list(sheet.iter_rows(values_only=True))
    head, by_code = rows[0], {row[1]: row for row in rows[1:]}
    verified = by_code["06652"][head.index("Thẩm định")]
    assert verified is not None and verified <= by_code["06652"][head.index("Tự đánh giá")]
    assert by_code["06655"][head.index("Thẩm định")] is None

    khau = join(fake, 301, campaign.tokens["06655"], messages=2)
    asked = so.wait_for_reply(after_update=so.send_command("/nhacnho"))
    assert "Gửi ngay 1 tin nhắc" in asked.text
    send = asked.callback_data("🔔 Gửi 1 tin nhắc")
    assert "Đã xếp 1 tin nhắc" in so.wait_for_reply(after_update=so.press(data=send, message_id=asked.message_id)).text
    fake.wait_until_consumed(so.press(data=send, message_id=asked.message_id))  # a second press queues nothing
    tick(fake, sender)
    tick(fake, sender)
    reminders = [m for m in khau.messages() if "Nhắc hạn" in (m.text or "")]
    assert len(reminders) == 1
