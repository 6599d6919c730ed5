"""A real SMTP server on 127.0.0.1 for the tests (aiosmtpd in a thread): what it received, and the
recipients it refuses (550) or defers (451); it can be stopped and started again on the same port."""

from __future__ import annotations

import socket
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


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
