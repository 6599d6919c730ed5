"""The e-mail part of ``cqdt demo``: a local SMTP server (aiosmtpd on 127.0.0.1, no network), the
invitation letters sent by e-mail, and the reminders and overdue notices that the agencies which never
open their invitation now receive by e-mail.

The demo's agency list has no contact details; :func:`give_addresses` re-imports it with an address for
every agency but the last :data:`WITHOUT_ADDRESS` that never open their invitation, which the coordinator
then sees as "không liên lạc được". Every message the server accepts is saved as
``thu-dien-tu/NNN-<kind>-<code>.eml``. The phases take the scenario's ``Demo`` (not imported here).
"""

from __future__ import annotations

import csv
import io
import socket
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage
from importlib.resources import files
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from bot.mail.letters import mail_channel
from bot.mail.sender import MailSender
from common.mail_server import MailServer
from conversations.reminders.mail import INVITATION
from conversations.reminders.outbox import Outbox
from storage import campaigns
from storage.agency_import import import_csv
from storage.invitations import agency_invitations

SENDER = Address("Sở Thông tin và Truyền thông tỉnh Quảng Ninh", "cqdt", "stttt.quangninh.gov.vn")
WITHOUT_ADDRESS = 2
FOLDER = "thu-dien-tu"
KIND_NAMES = {
    "invitation": "thu-moi",
    "reminder": "nhac-han",
    "overdue": "qua-han",
    "returned": "tra-lai",
    "digest": "ban-tin",
    "escalation": "chua-bat-dau",
    "overdue_list": "danh-sach-qua-han",
}


def address_of(code: str) -> str:
    return f"vanthu.{code}@quangninh.gov.vn"


class Inbox:
    """The SMTP server's handler: every message accepted, in order."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []  # as received, saved as is

    async def handle_DATA(self, server, session, envelope):
        self.raw.append(envelope.content)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@dataclass
class DemoMail:
    """The local server, what it received, and the e-mail sender over the demo's outbox."""

    inbox: Inbox
    port: int
    sender: MailSender | None = None
    codes: dict[str, str] = field(default_factory=dict)  # address → agency code
    saved: list[Path] = field(default_factory=list)

    def shown(self) -> list[dict[str, Any]]:
        """What the report shows: the letters of the first agency that got e-mail reminders (its
        invitation, its first reminder and the overdue notice), each with the file it was saved as."""
        reminded = next((m["To"] for m in self.inbox.messages if m["X-CQDT-Kind"] == "reminder"), None)
        picked, kinds = [], ["invitation", "reminder", "overdue"]
        for path, message in zip(self.saved, self.inbox.messages):
            if message["To"] == reminded and message["X-CQDT-Kind"] in kinds:
                kinds.remove(message["X-CQDT-Kind"])
                text = message.get_body(("plain",)).get_content().strip()
                picked.append({"file": path, "to": message["To"], "subject": message["Subject"], "text": text})
        return picked


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def give_addresses(demo: Any, never: list[str]) -> dict[str, str]:
    """The agency list again, with an address for each agency but the last of those that never open their
    invitation; address → code."""
    rows = list(csv.DictReader(files("bot.demo").joinpath("agencies.csv").read_text("utf-8").splitlines()))
    unaddressed = set(never[-WITHOUT_ADDRESS:])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "contact_email": "" if row["code"] in unaddressed else address_of(row["code"])})
    with demo.db.session() as session:
        import_csv(session, campaigns.get(session, demo.campaign_id), out.getvalue())
    return {address_of(r["code"]): r["code"] for r in rows if r["code"] not in unaddressed}


def start_mail(demo: Any, never: list[str], bot_username: str) -> DemoMail:
    """The SMTP server on 127.0.0.1, the addresses, and the e-mail sender beside the Telegram one."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    demo.stack.callback(controller.stop)
    mail = DemoMail(inbox, port, codes=give_addresses(demo, never))
    outbox = Outbox(demo.db, demo.clock, demo.clock.now.tzinfo, "demo-mail", mail_channel(SENDER))
    server = MailServer(host="127.0.0.1", port=port, start_tls=False)
    mail.sender = MailSender(outbox, "Asia/Ho_Chi_Minh", server, SENDER, lambda: bot_username)
    return mail


def send_invitations(demo: Any, mail: DemoMail) -> int:
    """``cqdt invites --send-email``: a letter to every agency with an address; how many went."""
    with demo.db.session() as session:
        campaign = campaigns.get(session, demo.campaign_id)
        pairs = agency_invitations(session, campaign, demo.clock.now)
        addressed = [(a.id, a.contact_email, inv.token) for a, inv in pairs if a.contact_email]
    mail.sender.outbox.queue_invitations(demo.campaign_id, addressed, "vi", resend=False)
    return demo.loop.run_until_complete(mail.sender.tick(demo.campaign_id, kinds=(INVITATION,), plan=False))


def save(mail: DemoMail, out: Path) -> dict[str, Any]:
    """Every message received as a named .eml file; the counts by kind."""
    folder = out / FOLDER
    folder.mkdir(exist_ok=True)
    for stale in folder.glob("*.eml"):
        stale.unlink()
    for number, (message, raw) in enumerate(zip(mail.inbox.messages, mail.inbox.raw), 1):
        kind = message["X-CQDT-Kind"]
        name = f"{number:03d}-{KIND_NAMES.get(kind, kind)}-{mail.codes.get(message['To'], 'dieu-phoi')}.eml"
        path = folder / name
        path.write_bytes(raw)
        mail.saved.append(path)
    return {"folder": folder, "files": len(mail.saved), "kinds": Counter(m["X-CQDT-Kind"] for m in mail.inbox.messages)}
