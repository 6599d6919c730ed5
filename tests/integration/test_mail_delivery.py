"""The e-mail channel against a real SMTP server on 127.0.0.1 (aiosmtpd), on SQLite and PostgreSQL (issue 14).

Invitation letters reach each agency with an address once, with a deep link that registers its contact and
the QR code of that link as an inline image; sending again sends nothing new. An agency whose contact never
registered gets its reminders by e-mail in working hours before the deadline and the overdue notice after
it. A refused recipient is recorded and the others still go; a server that is down is caught up once it is
back, without duplicates. The clock is the test's; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest
from cli_helpers import Cli, without_settings
from dialogue_helpers import START, Clock
from mail_helpers import (
    BOT,
    SENDER,
    ZONE,
    MailServer,
    agency_id,
    campaign_with_addresses,
    mailer,
    plain_text,
    rows,
    tokens_of,
)
from sqlalchemy import func, select

from bot.mail.letters import qr_png
from conversations.contact_dialogue import ContactDialogue
from conversations.reminders.slots import WorkingTime
from conversations.situation import Person
from storage import campaigns
from storage.models import Agency, Contact, Notification
from storage.policy import ReminderPolicy
from storage.reach import unreachable

LINK = re.compile(r"https://t\.me/" + BOT + r"\?start=([A-Za-z0-9_-]+)")


@pytest.fixture
def smtp():
    server = MailServer().start()
    yield server
    server.stop()


def test_invitations_reach_each_agency_once_with_a_working_link_and_its_qr_code(
    db, database_url, smtp, capsys, monkeypatch
):
    """`cqdt invites --send-email` twice: one letter per address (not the agency without one); each
    link registers its agency's contact; the HTML part shows the link's QR code inline."""
    without_settings(monkeypatch)
    monkeypatch.setenv("CQDT_SMTP_URL", smtp.url)
    monkeypatch.setenv("CQDT_MAIL_FROM", str(SENDER))
    monkeypatch.setenv("CQDT_BOT_USERNAME", BOT)
    now = datetime.now(UTC)
    campaign_id = campaign_with_addresses(db, now)
    cli = Cli(capsys, database_url)
    out = cli("invites", "--campaign", str(campaign_id), "--send-email")
    assert "Thư mời mới: 3; đã gửi lần này: 3." in out and "06658" in out  # the one without an address is named
    assert sorted(m["To"] for m in smtp.messages) == [
        "hakhau@halong.gov.vn",
        "haphong@halong.gov.vn",
        "vanphong@halong.gov.vn",
    ]
    again = cli("invites", "--campaign", str(campaign_id), "--send-email")
    assert "Thư mời mới: 0; đã gửi lần này: 0." in again and len(smtp.messages) == 3

    letter = smtp.to("haphong@halong.gov.vn")[0]
    assert letter["Subject"].startswith("Mời tự đánh giá: Đánh giá CQĐT năm 2019 — hạn chót ")
    text = plain_text(letter)
    assert "Kính gửi: UBND Phường Hà Phong" in text and "Sở Khoa học và Công nghệ tỉnh Quảng Ninh" in text
    assert "Mọi vướng mắc xin liên hệ: cqdt@sokhcn.quangninh.gov.vn." in text
    link = LINK.search(text)
    related = letter.get_body(("related",))
    image = next(p for p in related.iter_parts() if p.get_content_type() == "image/png")
    assert f"cid:{image['Content-ID'].strip().strip('<>')}" in related.get_body(("html",)).get_content()
    assert image.get_content() == qr_png(link.group(0))

    outcome = ContactDialogue(db, lambda: now).start(Person(501, 501, "Nguyễn Thu Hà", "vi"), link.group(1))
    assert outcome.replies[0].template == "welcome"
    with db.session() as session:
        contact = session.scalar(select(Contact).where(Contact.telegram_user_id == 501))
        assert contact.agency_id == session.scalar(select(Agency.id).where(Agency.code == "06652"))

    resent = cli("invites", "--campaign", str(campaign_id), "--send-email", "--resend", "--agency", "06655")
    assert "Thư mời mới: 1; đã gửi lần này: 1." in resent and len(smtp.to("hakhau@halong.gov.vn")) == 2


def test_an_unregistered_agency_gets_reminders_in_working_hours_and_the_overdue_notice(db, smtp):
    """Hà Phong's contact registers on Telegram and gets no e-mail; the other agencies with an address get
    every reminder by e-mail, each inside working time before the deadline, then the overdue notice."""
    clock = Clock(START)
    campaign_id = campaign_with_addresses(db, START)
    token = dict((a, t) for a, _, t in tokens_of(db, campaign_id, START))[agency_id(db, "06652")]
    ContactDialogue(db, clock).start(Person(501, 501, "Nguyễn Thu Hà", "vi"), token)
    outbox, sender = mailer(db, clock, smtp)
    with db.session() as session:
        deadline = campaigns.facts(session, campaign_id).deadline
    working = WorkingTime(ReminderPolicy(), ZONE)
    for _ in range(40):
        asyncio.run(sender.tick(campaign_id))
        pending = [r.due_at for r in rows(db, status="pending")]
        if not pending:
            break
        clock.now = max(clock.now, min(pending))
    assert smtp.to("haphong@halong.gov.vn") == []
    for address in ("hakhau@halong.gov.vn", "vanphong@halong.gov.vn"):
        received = smtp.to(address)
        reminders, overdue = received[:-1], received[-1]
        assert len(reminders) == len(ReminderPolicy().offsets_minutes)
        for message in reminders:
            at = parsedate_to_datetime(message["Date"])
            assert at < deadline and working.is_open(at), at
            assert message["Subject"].startswith("Nhắc hạn nộp bản tự đánh giá: Đánh giá CQĐT năm 2019 — hạn chót ")
            assert LINK.search(plain_text(message)) and "Cách trả lời" in plain_text(message)
        assert overdue["Subject"].startswith("Quá hạn nộp bản tự đánh giá")
        assert parsedate_to_datetime(overdue["Date"]) >= deadline
    assert rows(db, status="failed") == []


def test_a_refused_recipient_is_recorded_and_the_others_still_go(db, smtp):
    clock = Clock(START)
    campaign_id = campaign_with_addresses(db, START)
    smtp.refused.add("hakhau@halong.gov.vn")
    outbox, sender = mailer(db, clock, smtp)
    outbox.queue_invitations(campaign_id, tokens_of(db, campaign_id, START), "vi", resend=False)
    assert asyncio.run(sender.tick(campaign_id, plan=False)) == 2
    assert sorted(m["To"] for m in smtp.messages) == ["haphong@halong.gov.vn", "vanphong@halong.gov.vn"]
    (failed,) = rows(db, status="failed")
    assert failed.email == "hakhau@halong.gov.vn" and failed.last_error.startswith("hakhau@halong.gov.vn: 550")
    with db.session() as session:
        assert [u.code for u in unreachable(session, campaign_id)] == ["06655", "06658"]


def test_a_server_down_then_back_is_caught_up_without_duplicates(db, smtp):
    clock = Clock(START)
    campaign_id = campaign_with_addresses(db, START)
    outbox, sender = mailer(db, clock, smtp)
    outbox.queue_invitations(campaign_id, tokens_of(db, campaign_id, START), "vi", resend=False)
    smtp.deferred.add("vanphong@halong.gov.vn")
    assert asyncio.run(sender.tick(campaign_id, plan=False)) == 2  # one deferred (451), tried later
    smtp.stop()
    outbox.queue_invitations(campaign_id, [(agency_id(db, "193"), "vanphong@halong.gov.vn", "x")], "vi", resend=True)
    clock.advance(minutes=1)
    assert asyncio.run(sender.tick(campaign_id, plan=False)) == 0  # down: given back, the tick stops
    assert asyncio.run(sender.tick(campaign_id, plan=False)) == 0  # the other one: down too
    waiting = rows(db, status="pending")
    assert {r.email for r in waiting} == {"vanphong@halong.gov.vn"} and len(waiting) == 2
    assert all(r.due_at > clock.now and "SMTPConnectError" in r.last_error for r in waiting)  # after a backoff
    assert asyncio.run(sender.tick(campaign_id, plan=False)) == 0  # nothing due before it
    smtp.deferred.clear()
    smtp.start()
    clock.advance(minutes=5)
    assert asyncio.run(sender.tick(campaign_id, plan=False)) == 2
    assert sorted(m["To"] for m in smtp.messages) == [
        "hakhau@halong.gov.vn",
        "haphong@halong.gov.vn",
        "vanphong@halong.gov.vn",
        "vanphong@halong.gov.vn",  # the letter and the one sent again with --resend
    ]
    with db.session() as session:
        assert session.scalar(select(func.count()).where(Notification.status == "sent")) == 4
    assert asyncio.run(sender.tick(campaign_id, plan=False)) == 0 and len(smtp.messages) == 4


def test_a_letter_that_cannot_be_written_is_failed_with_its_reason_and_the_others_still_go(db, smtp):
    """A row whose letter cannot be rendered (here a payload with its link token gone) is marked failed once,
    with the reason, instead of staying claimed and being tried again in a loop."""
    clock = Clock(START)
    campaign_id = campaign_with_addresses(db, START)
    outbox, sender = mailer(db, clock, smtp)
    outbox.queue_invitations(campaign_id, tokens_of(db, campaign_id, START), "vi", resend=False)
    with db.session() as session:
        broken = session.scalars(select(Notification).filter_by(email="hakhau@halong.gov.vn")).one()
        broken.payload = {}
        session.commit()
    assert asyncio.run(sender.tick(campaign_id, plan=False)) == 2
    assert sorted(m["To"] for m in smtp.messages) == ["haphong@halong.gov.vn", "vanphong@halong.gov.vn"]
    (failed,) = rows(db, status="failed")
    assert failed.email == "hakhau@halong.gov.vn" and failed.last_error.startswith("not written: KeyError")
    clock.advance(minutes=10)
    assert asyncio.run(sender.tick(campaign_id, plan=False)) == 0 and len(smtp.messages) == 2
