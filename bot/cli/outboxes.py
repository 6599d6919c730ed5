"""The outbox as the commands use it: the command's clock and zone, and e-mail when the channel is on."""

from __future__ import annotations

import os
import socket

from bot.cli.context import CliContext
from bot.mail.wiring import channel_of
from conversations.reminders.outbox import Outbox


def outbox_for(cli: CliContext) -> Outbox:
    return Outbox(cli.db, cli.now, cli.zone, f"cli:{socket.gethostname()}:{os.getpid()}", channel_of(cli.settings))
