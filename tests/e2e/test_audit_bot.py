"""/kiemtra through the real bot: a real receipt's hash matches for its own contact and for the coordinators
whose scope holds the agency; another agency's contact and a coordinator of another scope are told only
that it is not one of theirs."""

from __future__ import annotations

import re

import pytest
from dialogue_helpers import START, Clock, answer_all, make_campaign

from bot.app import build_application
from bot.demo.fake_telegram import FakeTelegram, run_application
from common.settings import Settings
from storage import audit, campaigns
from storage.invitations import coordinator_invitation


@pytest.fixture
def running(db):
    campaign = make_campaign(db, START)
    answer_all(db, "06652", 1)
    with db.session() as session:
        city = coordinator_invitation(session, campaigns.get(session, campaign.id), START, "06655").token
    with FakeTelegram() as fake:
        application = build_application(
            Settings(token=fake.token, telegram_api_url=fake.api_url), db, clock=Clock(START)
        )
        with run_application(application):
            fake.wait_for_long_poll()
            yield fake, campaign, city


def join(fake, user_id, token, messages):
    user = fake.user(user_id)
    fake.wait_for_calls("sendMessage", messages, chat_id=user_id, after=user.send_command(f"/start {token}"))
    return user


def ask(user, text: str) -> str:
    return user.wait_for_reply(after_update=user.send_command(text)).text


def test_a_real_receipt_hash_is_checked_within_what_each_person_may_see(running, db):
    fake, campaign, city = running
    contact = join(fake, 300, campaign.tokens["06652"], 2)
    reply = contact.wait_for_reply(after_update=contact.send_command("/nop"))
    assert "xác nhận nộp" in reply.text
    contact.press("✅ Xác nhận nộp", message_id=reply.message_id)
    receipt = contact.wait_for_reply(match="BIÊN NHẬN").text
    receipt_hash = re.search(r"SHA-256\): ([0-9a-f]{64})", receipt).group(1)
    with db.session() as session:
        assert audit.verify(session, campaign.id)[1] == []
        assert audit.find_receipt(session, receipt_hash).agency_code == "06652"

    assert "Mã băm khớp lần nộp của UBND Phường Hà Phong lúc" in ask(contact, f"/kiemtra {receipt_hash}")
    assert "không khớp lần nộp nào" in ask(contact, "/kiemtra " + "0" * 64)
    assert "Xin gửi kèm mã băm" in ask(contact, "/kiemtra")

    other = join(fake, 301, campaign.tokens["06655"], 2)
    refused = ask(other, f"/kiemtra {receipt_hash}")
    assert "không khớp lần nộp nào của đơn vị mà Đồng chí phụ trách" in refused and "Hà Phong" not in refused

    province = join(fake, 900, campaign.coordinator_token, 1)
    assert "khớp lần nộp của UBND Phường Hà Phong" in ask(province, f"/kiemtra {receipt_hash}")
    city_office = join(fake, 901, city, 1)
    assert "Hà Phong" not in ask(city_office, f"/kiemtra {receipt_hash}")
    stranger = fake.user(555)
    assert "chưa đăng ký" in ask(stranger, f"/kiemtra {receipt_hash}")
