"""The coordinator's chat commands through the real bot: status, ranking pages, exports, scope and refusals."""

from __future__ import annotations

import csv
import io
import random

import pytest
from dialogue_helpers import START, Clock, make_campaign
from bot.demo.fake_bot_api import FakeTelegram, run_application
from openpyxl import load_workbook
from sqlalchemy import select

from bot.app import build_application
from bot.settings import Settings
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
    with db.session() as session:
        rubric = bundled()["qn2018-xa"]
        for code, seed in (("06652", 1), ("06655", 2)):
            agency = session.scalar(select(Agency).where(Agency.code == code))
            current = {}
            for qid, value in sample_answers(rubric, random.Random(seed)).items():
                set_answer(session, rubric, agency, qid, value, by=None, source="test", now=START, current=current)
                current[qid] = value
        city = coordinator_invitation(session, campaigns.get(session, campaign.id), START, "06655").token
    with FakeTelegram() as fake:
        application = build_application(Settings(token=fake.token, telegram_api_url=fake.api_url), db, clock=clock)
        with run_application(application):
            fake.wait_for_long_poll()
            yield fake, campaign, city


def join(fake, user_id, token, messages=1):
    """Register through an invitation; a contact's welcome comes with the first question (two messages)."""
    user = fake.user(user_id)
    fake.wait_for_calls("sendMessage", messages, chat_id=user_id, after=user.send_command(f"/start {token}"))
    return user


def test_status_scores_and_exports_for_the_whole_campaign(running):
    fake, campaign, _ = running
    so = join(fake, 900, campaign.coordinator_token)
    status = so.wait_for_reply(after_update=so.send_command("/tinhhinh")).text
    assert "Cấp xã: đã nộp 0/2 · đang làm 2 · chưa bắt đầu 0" in status
    assert "UBND Thành phố Hạ Long: đã nộp 0/2" in status and len(status) < 4096
    scores = so.wait_for_reply(after_update=so.send_command("/diem xa")).text
    assert "xếp hạng (1/1, 2 đơn vị)" in scores and "UBND Phường Hà Phong" in scores
    update = so.send_command("/xuat")
    fake.wait_for_calls("sendDocument", 2, chat_id=900, after=update)
    documents = {
        c.params["document"].filename: c.params["document"].content
        for c in fake.calls("sendDocument")
        if c.chat_id == 900
    }
    workbook = load_workbook(io.BytesIO(documents[f"cqdt-dot-{campaign.id}.xlsx"]), read_only=True)
    codes = {row[1] for sheet in workbook.worksheets[:-1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert codes == {"193", "06652", "06655"}
    rows = list(csv.DictReader(io.StringIO(documents[f"cqdt-dot-{campaign.id}.csv"].decode("utf-8-sig"))))
    assert {r["Mã đơn vị"] for r in rows} == {"193", "06652", "06655"}


def test_a_city_coordinator_sees_only_its_scope(running):
    fake, campaign, city = running
    coordinator = join(fake, 901, city)
    status = coordinator.wait_for_reply(after_update=coordinator.send_command("/tinhhinh")).text
    assert "Hà Khẩu" in status and "đã nộp 0/1" in status and "Hạ Long" not in status
    scores = coordinator.wait_for_reply(after_update=coordinator.send_command("/diem")).text
    assert "Hà Khẩu" in scores and "Hà Phong" not in scores
    update = coordinator.send_command("/xuat")
    fake.wait_for_calls("sendDocument", 2, chat_id=901, after=update)
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
    codes = {row[1] for sheet in workbook.worksheets[:-1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert codes == {"06655"}
    forged = coordinator.press(data="k:s:huyen:0")  # a level outside the scope: its own levels only
    fake.wait_until_consumed(forged)
    reply = coordinator.wait_for_reply(after_update=forged)
    assert "Hạ Long" not in reply.text


@pytest.mark.parametrize("command", ["/tinhhinh", "/diem", "/xuat"])
def test_anyone_else_is_refused_and_sees_no_data(running, command):
    fake, campaign, _ = running
    contact = join(fake, 300, campaign.tokens["06652"], messages=2)
    stranger = fake.user(301)
    for user in (contact, stranger):
        reply = user.wait_for_reply(after_update=user.send_command(command)).text
        assert "không có quyền" in reply and "Hà Khẩu" not in reply
    assert not [c for c in fake.calls("sendDocument") if c.chat_id in (300, 301)]
