"""The e-mail channel as the commands and the bot set it up from the settings: off when unset."""

from __future__ import annotations

from collections.abc import Callable

from bot.mail.letters import mail_channel
from bot.mail.sender import MailSender
from common.settings import Settings
from conversations.reminders.mail import MailChannel
from conversations.reminders.outbox import Outbox


def channel_of(settings: Settings) -> MailChannel | None:
    """What the outbox plans e-mail rows with, or None when CQDT_SMTP_URL / CQDT_MAIL_FROM are unset."""
    return mail_channel(settings.sender())


def mail_sender(settings: Settings, outbox: Outbox, bot_username: Callable[[], str]) -> MailSender | None:
    """The e-mail sender over ``outbox``, or None when e-mail is off."""
    server = settings.mail_server()
    if server is None:
        return None
    return MailSender(outbox, settings.timezone, server, settings.sender(), bot_username)
