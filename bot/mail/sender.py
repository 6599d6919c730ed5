"""The e-mail tick: send the outbox's due e-mail rows, one SMTP conversation each.

Beside :mod:`bot.reminders.sender` (Telegram) and on the same outbox steps: a row is claimed, its attempt
recorded and committed before the message goes, and it is marked right after, so a sender killed at any
point leaves what :class:`conversations.reminders.outbox.Outbox` settles (a claim never attempted is sent
later; an attempt without an answer is not sent again). A message the server refuses is ``failed`` with the
server's reply; one it defers (4xx) is tried again after a backoff; when the server cannot be reached the
row is given back the same way and the tick stops, the rest waiting for the next one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from email.headerregistry import Address
from email.message import EmailMessage

from jinja2 import TemplateError

from bot.mail.letters import letter_of
from bot.mail.smtp import MailDeferred, MailRefused, MailServerDown, deliver
from common.mail_server import MailServer
from conversations.reminders.mail import EMAIL
from conversations.reminders.outbox import UNWRITABLE, Outbox, not_written

log = logging.getLogger(__name__)


class MailSender:
    def __init__(
        self,
        outbox: Outbox,
        zone: str,
        server: MailServer,
        sender: Address,
        bot_username: Callable[[], str],
        send: Callable[[MailServer, EmailMessage], Awaitable[None]] = deliver,
    ):
        self.outbox = outbox
        self.zone = zone
        self.server = server
        self.sender = sender
        self.bot_username = bot_username
        self.send = send

    async def tick(
        self, campaign_id: int | None = None, kinds: tuple[str, ...] | None = None, *, plan: bool = True
    ) -> int:
        """Plan (unless ``plan`` is False), then send every due e-mail, of one campaign or all and of some
        kinds or all; returns how many were sent."""
        if plan:
            await asyncio.to_thread(self.outbox.prepare, campaign_id)
        sent = 0
        claimed = await asyncio.to_thread(self.outbox.claim, campaign_id, kinds, EMAIL)
        while claimed is not None:
            try:
                message = letter_of(claimed, self.zone, self.sender, self.bot_username())
            except (*UNWRITABLE, TemplateError) as exc:
                log.exception("e-mail %s cannot be written; marked failed", claimed.id)
                claimed = await asyncio.to_thread(
                    self.outbox.finish,
                    claimed.id,
                    "failed",
                    not_written(exc),
                    claim_next=True,
                    campaign_id=campaign_id,
                    kinds=kinds,
                    channel=EMAIL,
                )
                continue
            if not await asyncio.to_thread(self.outbox.attempt, claimed.id):
                log.warning("e-mail %s is no longer claimed by this sender; not sent", claimed.id)
                claimed = await asyncio.to_thread(self.outbox.claim, campaign_id, kinds, EMAIL)
                continue
            try:
                await self.send(self.server, message)
            except MailRefused as exc:
                log.warning("e-mail %s refused: %s", claimed.id, exc.reason)
                status, error = "failed", exc.reason
            except (MailDeferred, MailServerDown) as exc:
                log.warning("e-mail %s not sent, tried again later: %s", claimed.id, exc.reason)
                await asyncio.to_thread(self.outbox.retry_later, claimed.id, exc.reason, claimed.attempts + 1)
                if isinstance(exc, MailServerDown):
                    break
                claimed = await asyncio.to_thread(self.outbox.claim, campaign_id, kinds, EMAIL)
                continue
            else:
                status, error = "sent", None
                sent += 1
            claimed = await asyncio.to_thread(
                self.outbox.finish,
                claimed.id,
                status,
                error,
                claim_next=True,
                campaign_id=campaign_id,
                kinds=kinds,
                channel=EMAIL,
            )
        return sent
