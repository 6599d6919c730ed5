"""kill -9 during an e-mail fan-out, then a restart: nothing the outbox marked sent is lost or sent twice.

``cqdt invites --send-email`` runs as a subprocess against a real SMTP server on 127.0.0.1 (aiosmtpd in
this process). When the server has received the k-th letter, before it answers, it kills the command with
SIGKILL: that letter's row is left ``sending`` (perhaps sent). The command is run again and sends the rest;
an hour later the outbox settles the row left ``sending`` as ``uncertain`` and never sends it again. In the
end every address got its letter exactly once, and every row is sent or uncertain. On SQLite and
PostgreSQL, at three points of the fan-out.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from zoneinfo import ZoneInfo

import pytest
from dialogue_helpers import Clock
from mail_helpers import MailServer
from sqlalchemy import func, select
from test_webhook import CQDT

from bot.mail.letters import mail_channel
from bot.mail.sender import MailSender
from common.mail_server import parse_smtp_url
from conversations.reminders.outbox import Outbox
from rubrics.bundled import bundled
from storage import campaigns
from storage.agency_import import import_csv
from storage.campaigns import CampaignSpec
from storage.models import Notification

AGENCIES = 30
TIMEOUT = 60
SENDER = Address("Sở Khoa học và Công nghệ tỉnh Quảng Ninh", "cqdt", "sokhcn.quangninh.gov.vn")
HEADER = "code,name,level,parent_code,contact_name,contact_phone,contact_email\n"


def address(n: int) -> str:
    return f"vanthu{n:02d}@xa{n:02d}.quangninh.gov.vn"


def campaign(db) -> int:
    rows = "".join(f"X{n:02d},UBND Xã Số {n},xa,,,,{address(n)}\n" for n in range(AGENCIES))
    with db.session() as session:
        created = campaigns.create(
            session,
            CampaignSpec(
                "Đánh giá CQĐT năm 2019", {"xa": bundled()["qn2018-xa"]}, datetime.now(UTC) + timedelta(days=14)
            ),
        )
        import_csv(session, created, HEADER + rows)
        return created.id


def fan_out(database_url: str, smtp: MailServer, campaign_id: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "CQDT_DATABASE_URL": database_url,
        "CQDT_SMTP_URL": smtp.url,
        "CQDT_MAIL_FROM": str(SENDER),
        "CQDT_BOT_USERNAME": "cqdt_qn_bot",
    }
    return subprocess.Popen(
        [CQDT, "invites", "--campaign", str(campaign_id), "--send-email"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def statuses(db) -> Counter:
    """The invitation rows by status (the restart also plans the deadline reminders, due later)."""
    with db.session() as session:
        query = select(Notification.status, func.count()).where(Notification.kind == "invitation")
        return Counter(dict(session.execute(query.group_by(Notification.status)).all()))


@pytest.mark.parametrize("killed_at", [1, 12, AGENCIES])
def test_kill_during_an_email_fan_out_loses_and_duplicates_nothing_marked_sent(db, database_url, killed_at):
    smtp = MailServer().start()
    try:
        campaign_id = campaign(db)
        process = fan_out(database_url, smtp, campaign_id)
        smtp.on_data = lambda count: os.kill(process.pid, signal.SIGKILL) if count == killed_at else None
        assert process.wait(timeout=TIMEOUT) == -signal.SIGKILL
        left = statuses(db)
        assert left == Counter({"sent": killed_at - 1, "sending": 1, "pending": AGENCIES - killed_at}) - Counter()
        assert len(smtp.messages) == killed_at

        smtp.on_data = None
        again = fan_out(database_url, smtp, campaign_id)
        assert again.wait(timeout=TIMEOUT) == 0, again.stderr.read().decode()
        assert statuses(db) == Counter({"sent": AGENCIES - 1, "sending": 1})

        later = Clock(datetime.now(UTC) + timedelta(hours=1))
        outbox = Outbox(db, later, ZoneInfo("Asia/Ho_Chi_Minh"), "restart", mail_channel(SENDER))
        sender = MailSender(outbox, "Asia/Ho_Chi_Minh", parse_smtp_url(smtp.url), SENDER, lambda: "cqdt_qn_bot")
        assert asyncio.run(sender.tick(campaign_id)) == 0
        assert statuses(db) == Counter({"sent": AGENCIES - 1, "uncertain": 1})
        received = Counter(m["To"] for m in smtp.messages)
        assert received == Counter({address(n): 1 for n in range(AGENCIES)})
    finally:
        smtp.stop()
