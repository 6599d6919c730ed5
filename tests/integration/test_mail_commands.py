"""The e-mail channel in the commands and the coordinator's views, on SQLite and PostgreSQL (issue 14):
``cqdt remind`` lists e-mail rows with their channel, ``campaign show`` counts who each channel reaches,
``coordinator invite --email`` adds the digest and the overdue list by e-mail, a return for correction
goes by e-mail to an agency whose contact blocked the bot, and /tinhhinh names the agencies nothing
reaches ("không liên lạc được")."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from cli_helpers import Cli, without_settings
from dialogue_helpers import START, Clock, answer_all
from mail_helpers import BOT, SENDER, MailServer, agency_id, campaign_with_addresses, mailer, plain_text, rows
from sqlalchemy import select, update

from bot.labels import by_language
from bot.rendering import text_of
from conversations.contact_dialogue import ContactDialogue
from conversations.coordinator_dialogue import CoordinatorDialogue
from conversations.situation import Person
from storage import campaigns
from storage.invitations import agency_invitations, coordinator_invitation
from storage.models import Contact

ZONE = "Asia/Ho_Chi_Minh"
COORDINATOR = Person(900, 900, "Hoàng Minh", "vi")
CONTACT = Person(300, 300, "Thu Hà", "vi")


@pytest.fixture
def smtp():
    server = MailServer().start()
    yield server
    server.stop()


def submit(contacts, who=CONTACT):
    """/nop, then the confirmation button."""
    contacts.command(who, "nop")
    with contacts.db.session() as session:
        token = session.scalar(select(Contact.menu_token).where(Contact.telegram_user_id == who.user_id))
    assert contacts.button(who, f"m:{token}:c:").notice == "submitted"


@pytest.fixture
def cli(capsys, monkeypatch, database_url, smtp):
    without_settings(monkeypatch)
    monkeypatch.setenv("CQDT_SMTP_URL", smtp.url)
    monkeypatch.setenv("CQDT_MAIL_FROM", str(SENDER))
    monkeypatch.setenv("CQDT_BOT_USERNAME", BOT)
    return Cli(capsys, database_url)


def test_remind_lists_email_rows_and_campaign_show_counts_the_reach(db, cli):
    now = datetime.now(UTC)
    campaign_id = campaign_with_addresses(db, now)
    with db.session() as session:
        token = dict(
            (a.code, i.token) for a, i in agency_invitations(session, campaigns.get(session, campaign_id), now)
        )
    ContactDialogue(db, lambda: now).start(CONTACT, token["06652"])
    listing = json.loads(cli("remind", "--campaign", str(campaign_id), "--json"))["notifications"]
    mailed = {(r["agency_code"], r["email"]) for r in listing if r["channel"] == "email"}
    assert mailed == {("193", "vanphong@halong.gov.vn"), ("06655", "hakhau@halong.gov.vn")}  # not Hà Phong
    assert {r["agency_code"] for r in listing if r["channel"] == "telegram"} == {"06652"}
    shown = cli("remind", "--campaign", str(campaign_id))
    assert "(thư điện tử hakhau@halong.gov.vn)" in shown and "(Telegram 300)" in shown
    out = cli("campaign", "show", str(campaign_id))
    assert "Liên lạc được: qua Telegram 1 · chỉ qua thư điện tử 2 · không liên lạc được 1." in out
    reach = json.loads(cli("campaign", "show", str(campaign_id), "--json"))["reach"]
    assert reach == {"telegram": 1, "email_only": 2, "neither": 1}


def test_a_coordinators_address_gets_the_digest_and_the_overdue_list(db, cli, smtp):
    campaign_id = campaign_with_addresses(db, START, deadline=START + timedelta(days=1))
    out = cli(
        "coordinator", "invite", "--campaign", str(campaign_id), "--scope", "193", "--email", "Ha.Noi@Halong.gov.vn"
    )
    told = "Bản tin hằng ngày, cảnh báo đơn vị chưa bắt đầu và danh sách đơn vị quá hạn cũng được gửi tới"
    assert f"{told} Ha.Noi@halong.gov.vn." in out
    assert "không phải địa chỉ thư điện tử" in cli(
        "coordinator", "invite", "--campaign", str(campaign_id), "--email", "vanphong@", expect=1
    )
    clock = Clock(START.replace(hour=1))  # 08h00 in Hà Nội: the digest is due
    _, sender = mailer(db, clock, smtp)
    asyncio.run(sender.tick(campaign_id))
    warning, digest = smtp.to("Ha.Noi@halong.gov.vn")  # the deadline is tomorrow: who has not started, at once
    assert digest["Subject"].startswith("Tình hình đợt Đánh giá CQĐT năm 2019")
    assert warning["Subject"] == "Đơn vị chưa bắt đầu trả lời: Đánh giá CQĐT năm 2019"
    assert "Không liên lạc được (1): UBND Phường Hà Trung" in plain_text(digest)
    clock.now = START + timedelta(days=1)
    asyncio.run(sender.tick(campaign_id))
    overdue_list = smtp.to("Ha.Noi@halong.gov.vn")[-1]
    assert overdue_list["Subject"] == "Danh sách đơn vị quá hạn: Đánh giá CQĐT năm 2019"
    assert "UBND Phường Hà Khẩu (06655)" in plain_text(overdue_list)


def test_a_coordinators_address_gets_the_warning_of_agencies_not_started_three_days_before(db, cli, smtp):
    campaign_id = campaign_with_addresses(db, START)  # the deadline is 09h00 on Monday 28/10/2019
    cli("coordinator", "invite", "--campaign", str(campaign_id), "--scope", "193", "--email", "ha.noi@halong.gov.vn")
    clock = Clock(START)
    _, sender = mailer(db, clock, smtp)
    asyncio.run(sender.tick(campaign_id))
    assert [m["Subject"] for m in smtp.to("ha.noi@halong.gov.vn")] == [
        "Tình hình đợt Đánh giá CQĐT năm 2019 — 14/10/2019"
    ]
    clock.now = START + timedelta(days=11)  # Friday 25/10, three days before
    asyncio.run(sender.tick(campaign_id))
    asyncio.run(sender.tick(campaign_id))
    (warning,) = [m for m in smtp.to("ha.noi@halong.gov.vn") if m["Subject"].startswith("Đơn vị chưa bắt đầu")]
    assert warning["Subject"] == "Đơn vị chưa bắt đầu trả lời: Đánh giá CQĐT năm 2019"
    assert "UBND Phường Hà Khẩu (06655)" in plain_text(warning) and "chưa bắt đầu trả lời" in plain_text(warning)


def test_a_return_goes_by_email_when_the_contact_blocked_the_bot_and_the_status_names_the_unreachable(db, smtp):
    clock = Clock(START)
    campaign_id = campaign_with_addresses(db, START)
    answer_all(db, "06652", 1)
    contacts = ContactDialogue(db, clock)
    with db.session() as session:
        campaign = campaigns.get(session, campaign_id)
        token = dict((a.code, i.token) for a, i in agency_invitations(session, campaign, START))["06652"]
        coordinator = coordinator_invitation(session, campaign, START).token
    contacts.start(CONTACT, token)
    contacts.start(COORDINATOR, coordinator)
    submit(contacts)
    with db.session() as session:
        session.execute(update(Contact).where(Contact.telegram_user_id == CONTACT.user_id).values(blocked_at=START))
    coordinators = CoordinatorDialogue(db, clock, ZONE, by_language(ZONE))
    coordinators.return_indicators(COORDINATOR, "06652 1.1.1 Đề nghị bổ sung minh chứng")
    _, sender = mailer(db, clock, smtp)
    asyncio.run(sender.tick(campaign_id, kinds=("returned",), plan=False))
    (notice,) = smtp.to("haphong@halong.gov.vn")
    assert notice["Subject"] == "Đề nghị chỉnh sửa bản tự đánh giá: Đánh giá CQĐT năm 2019"
    text = plain_text(notice)
    assert "- 1.1.1 " in text and "«Đề nghị bổ sung minh chứng»" in text and f"t.me/{BOT}?start=" in text
    assert [r.kind for r in rows(db, status="sent")] == ["returned"]

    status = "\n".join(text_of(r, "vi", ZONE) for r in coordinators.status(COORDINATOR).replies)
    assert "Không liên lạc được (1, " in status and "UBND Phường Hà Trung" in status
    blocked = agency_id(db, "06652")
    with db.session() as session:
        assert session.scalar(select(Contact.blocked_at).where(Contact.agency_id == blocked))
