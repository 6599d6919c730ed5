"""The e-mail channel's server, read from ``CQDT_SMTP_URL``: host, port, TLS, login (the password a secret).

``smtp://user:password@mail.example.gov.vn:587?starttls=true`` (STARTTLS on the submission port),
``smtps://user:password@mail.example.gov.vn:465`` (TLS from the first byte) or ``smtp://127.0.0.1:1025``
(a local relay without login). Without ``starttls`` a ``smtp://`` connection upgrades when the server
offers STARTTLS. The URL is split by :func:`urllib.parse.urlsplit`; user and password are percent-decoded.
"""

from __future__ import annotations

from email.headerregistry import Address
from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, SecretStr

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
TRUE, FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


class MailServer(BaseModel):
    model_config = ConfigDict(frozen=True)

    host: str
    port: int
    use_tls: bool = False
    start_tls: bool | None = None  # None: upgrade when the server offers it
    username: str | None = None
    password: SecretStr | None = None

    def secrets(self) -> list[str]:
        return [self.password.get_secret_value()] if self.password else []


def parse_smtp_url(url: str) -> MailServer:
    """The server of an SMTP URL; ValueError (without the URL, which holds the password) when it does not fit."""
    parts = urlsplit(url.strip())
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError("an smtp:// or smtps:// URL with a host")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise ValueError("a port number") from None
    query = {k.lower(): v[-1].lower() for k, v in parse_qs(parts.query).items()}
    start_tls = None
    if "starttls" in query:
        if query["starttls"] not in TRUE + FALSE:
            raise ValueError("starttls=true or starttls=false")
        start_tls = query["starttls"] in TRUE
    return MailServer(
        host=parts.hostname,
        port=port,
        use_tls=parts.scheme == "smtps",
        start_tls=False if parts.scheme == "smtps" else start_tls,
        username=unquote(parts.username) if parts.username else None,
        password=SecretStr(unquote(parts.password)) if parts.password else None,
    )


def parse_sender(text: str) -> Address:
    """``CQDT_MAIL_FROM``: an address, with the office's name before it if given
    ("Sở Khoa học và Công nghệ <cqdt@sokhcn.quangninh.gov.vn>"); ValueError when the address is not one."""
    name, address = parseaddr(text.strip())
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        raise ValueError("an e-mail address, optionally with a name: Tên cơ quan <dia.chi@example.gov.vn>") from None
    local, _, domain = checked.normalized.rpartition("@")
    return Address(display_name=name, username=local, domain=domain)
