"""A real SMTP server on 127.0.0.1 for the tests (aiosmtpd in a thread): what it received, and the
recipients it refuses (550) or defers (451); it can be stopped and started again on the same port. Also a
campaign whose agencies have e-mail addresses, and the e-mail sender over it with the test's clock."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import timedelta
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller
from sqlalchemy import select

from bot.mail.letters import mail_channel
from bot.mail.sender import MailSender
from common.mail_server import parse_smtp_url
from conversations.reminders.outbox import Outbox
from rubrics.bundled import bundled
from storage import campaigns
from storage.agency_import import import_csv
from storage.campaigns import CampaignSpec
from storage.invitations import agency_invitations
from storage.models import Agency, Notification


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailServer:
    """``smtp://127.0.0.1:<port>``: every message it accepted, in order."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.refused: set[str] = set()
        self.deferred: set[str] = set()
        self.on_data: Callable[[int], None] | None = None  # called with the count, before the reply
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> MailServer:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        if address in self.deferred:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(message)
        if self.on_data is not None:
            self.on_data(len(self.messages))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def plain_text(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
BOT = "cqdt_qn_bot"
SENDER = Address("Sở Khoa học và Công nghệ tỉnh Quảng Ninh", "cqdt", "sokhcn.quangninh.gov.vn")
AGENCIES = """code,name,level,parent_code,contact_name,contact_phone,contact_email
193,UBND Thành phố Hạ Long,huyen,,,,vanphong@halong.gov.vn
06652,UBND Phường Hà Phong,xa,193,Nguyễn Thu Hà,0912345678,haphong@halong.gov.vn
06655,UBND Phường Hà Khẩu,xa,193,,,hakhau@halong.gov.vn
06658,UBND Phường Hà Trung,xa,193,,,
"""


def campaign_with_addresses(db, now, deadline=None) -> int:
    rubrics = {"huyen": bundled()["qn2018-huyen"], "xa": bundled()["qn2018-xa"]}
    with db.session() as session:
        campaign = campaigns.create(
            session, CampaignSpec("Đánh giá CQĐT năm 2019", rubrics, deadline or now + timedelta(days=14))
        )
        import_csv(session, campaign, AGENCIES)
        return campaign.id


def agency_id(db, code: str) -> int:
    with db.session() as session:
        return session.scalar(select(Agency.id).where(Agency.code == code))


def tokens_of(db, campaign_id: int, now) -> list[tuple[int, str, str]]:
    with db.session() as session:
        campaign = campaigns.get(session, campaign_id)
        pairs = agency_invitations(session, campaign, now)
        return [(a.id, a.contact_email, inv.token) for a, inv in pairs if a.contact_email]


def mailer(db, clock, smtp: MailServer) -> tuple[Outbox, MailSender]:
    outbox = Outbox(db, clock, ZONE, "test", mail_channel(SENDER))
    return outbox, MailSender(outbox, "Asia/Ho_Chi_Minh", parse_smtp_url(smtp.url), SENDER, lambda: BOT)


def rows(db, **where) -> list[Notification]:
    with db.session() as session:
        found = list(
            session.scalars(select(Notification).filter_by(channel="email", **where).order_by(Notification.id))
        )
        session.expunge_all()
        return found
