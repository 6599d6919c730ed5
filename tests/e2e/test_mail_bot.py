"""``cqdt run`` with the e-mail channel on: the bot's own reminder tick writes to the agencies whose
contact never registered, through a real SMTP server on 127.0.0.1, and not to the one whose contact did;
its log never shows the SMTP URL."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mail_helpers import SENDER, MailServer, campaign_with_addresses, plain_text
from sqlalchemy import update

from bot.demo.fake_telegram import FakeTelegram
from conversations.contact_dialogue import ContactDialogue
from conversations.situation import Person
from storage import campaigns
from storage.invitations import agency_invitations
from storage.models import Campaign

FIRST_TICK = 30  # seconds: bot.reminders.sender.TICK_SECONDS
TIMEOUT = FIRST_TICK + 60
ADDRESSED = {"vanphong@halong.gov.vn", "hakhau@halong.gov.vn"}  # 06652's contact registers on Telegram


def test_the_running_bot_sends_email_reminders_to_the_unregistered(db, database_url, tmp_path):
    now = datetime.now(UTC)
    campaign_id = campaign_with_addresses(db, now, deadline=now + timedelta(minutes=30))
    with db.session() as session:
        session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(
                reminder_policy={
                    "offsets_minutes": [60],
                    "working_days": list(range(7)),
                    "working_start": "00:00:00",
                    "working_end": "23:59:00",
                }
            )
        )
        tokens = {a.code: i.token for a, i in agency_invitations(session, campaigns.get(session, campaign_id), now)}
    ContactDialogue(db, lambda: now).start(Person(501, 501, "Nguyễn Thu Hà", "vi"), tokens["06652"])
    smtp = MailServer().start()
    both = threading.Event()
    smtp.on_data = lambda count: both.set() if {m["To"] for m in smtp.messages} >= ADDRESSED else None
    log = tmp_path / "bot.log"
    with FakeTelegram() as fake:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "CQDT_TELEGRAM_API_URL": fake.api_url,
            "CQDT_DATABASE_URL": database_url,
            "CQDT_SMTP_URL": smtp.url,
            "CQDT_MAIL_FROM": str(SENDER),
        }
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "cqdt"), "run"], env=env, stdout=log.open("a"), stderr=subprocess.STDOUT
        )
        try:
            assert both.wait(TIMEOUT), log.read_text()
        finally:
            process.terminate()
            process.wait(timeout=20)
            smtp.stop()
    assert sorted(m["To"] for m in smtp.messages) == sorted(ADDRESSED)
    for message in smtp.messages:
        assert message["Subject"].startswith("Nhắc hạn nộp bản tự đánh giá: Đánh giá CQĐT năm 2019")
        assert f"https://t.me/{fake.bot_username}?start=" in plain_text(message)
    assert smtp.url not in log.read_text()
