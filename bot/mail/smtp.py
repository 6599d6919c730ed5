"""One message to the SMTP server of ``CQDT_SMTP_URL`` with aiosmtplib, its failure told apart.

- :class:`MailRefused`: the server refused this message for good (a 5xx at ``RCPT`` or ``DATA``: an
  unknown mailbox, a bounce reported at SMTP time). Recorded on the row, not tried again.
- :class:`MailDeferred`: the server said "try again later" (a 4xx) for this message.
- :class:`MailServerDown`: no server to talk to (refused connection, timeout, a login the server
  refuses): nothing else will go either.

No reason ever carries the password: they are the server's replies and the exceptions' class names.
"""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from common.mail_server import MailServer

TIMEOUT = 30  # seconds, for each step of the conversation with the server


class MailFailure(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class MailRefused(MailFailure):
    pass


class MailDeferred(MailFailure):
    pass


class MailServerDown(MailFailure):
    pass


def _reply(code: int, message: str) -> str:
    return f"{code} {message}".strip()


def _by_code(code: int, reason: str) -> MailFailure:
    return MailDeferred(reason) if 400 <= code < 500 else MailRefused(reason)


async def deliver(server: MailServer, message: EmailMessage, timeout: float = TIMEOUT) -> None:
    """Send ``message`` as its own policy writes it (aiosmtplib would fold its headers again); raises a
    :class:`MailFailure` when it was not accepted."""
    try:
        await aiosmtplib.send(
            message.as_bytes(),
            sender=message["From"].addresses[0].addr_spec,
            recipients=[address.addr_spec for address in message["To"].addresses],
            hostname=server.host,
            port=server.port,
            username=server.username,
            password=server.password.get_secret_value() if server.password else None,
            use_tls=server.use_tls,
            start_tls=server.start_tls,
            timeout=timeout,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        refused = exc.recipients[0]
        raise _by_code(refused.code, f"{refused.recipient}: {_reply(refused.code, refused.message)}") from None
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise MailServerDown(f"login refused: {_reply(exc.code, exc.message)}") from None
    except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError) as exc:
        raise MailServerDown(f"{type(exc).__name__}: {exc}") from None
    except aiosmtplib.SMTPResponseException as exc:
        raise _by_code(exc.code, _reply(exc.code, exc.message)) from None
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise MailServerDown(type(exc).__name__) from None
