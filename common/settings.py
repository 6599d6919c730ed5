"""The settings of a run: read from the environment in one place, with the command line's flags over them.

:func:`load` is the only reader of the environment; the CLI calls it once per command and hands the
:class:`Settings` to the bot and to storage. ``Settings(...)`` itself reads nothing: it holds the values
given and the defaults. The bot's token, the webhook's secret and the SMTP URL (it holds the mail
password) are :class:`~pydantic.SecretStr`, shown as ``**********`` by ``repr``, ``str``, logs and JSON
dumps alike. A value that does not fit (an unknown
time zone, a log format that does not exist) is refused with the variable to fix, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from email.headerregistry import Address
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.errors import Refused
from common.mail_server import MailServer, parse_sender, parse_smtp_url

DEFAULT_DATABASE_URL = "sqlite:///cqdt.db"
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
DEFAULT_API_URL = "https://api.telegram.org/bot"
PREFIX = "CQDT_"
TOKEN_VARIABLE = "TELEGRAM_BOT_TOKEN"
# The file types evidence can be, by extension: scans and photos, office documents, signed PDFs, archives of
# them. A province narrows or widens it with CQDT_EVIDENCE_TYPES ("pdf,jpg,png,docx,zip").
DEFAULT_EVIDENCE_TYPES = (
    "pdf,doc,docx,odt,rtf,txt,xls,xlsx,ods,csv,ppt,pptx,odp,xml,jpg,jpeg,png,gif,bmp,tif,tiff,heic,heif,webp,zip,rar,7z"
)


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = DEFAULT_TIMEZONE
    telegram_api_url: str = DEFAULT_API_URL
    token: SecretStr | None = None
    bot_username: str | None = None
    evidence_dir: Path | None = None
    log_format: Literal["text", "json"] = "text"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    smtp_url: SecretStr | None = None
    mail_from: str | None = None
    evidence_types: str = DEFAULT_EVIDENCE_TYPES

    @field_validator("evidence_types")
    @classmethod
    def _extensions(cls, value: str) -> str:
        found = [part.strip().lstrip(".").lower() for part in value.replace(";", ",").replace(" ", ",").split(",")]
        found = [part for part in found if part]
        if not found or not all(part.isalnum() and part.isascii() for part in found):
            raise ValueError("file extensions separated by commas, e.g. pdf,jpg,docx")
        return ",".join(found)

    @property
    def evidence_extensions(self) -> frozenset[str]:
        """The extensions (lower case, no dot) of the files evidence may be."""
        return frozenset(self.evidence_types.split(","))

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone") from None
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_smtp_url(value.get_secret_value())
        return value

    @field_validator("mail_from")
    @classmethod
    def _mail_from(cls, value: str | None) -> str | None:
        if value is not None:
            parse_sender(value)
        return value

    @property
    def mail_enabled(self) -> bool:
        """Whether the e-mail channel is on: both CQDT_SMTP_URL and CQDT_MAIL_FROM are set."""
        return self.smtp_url is not None and self.mail_from is not None

    def mail_server(self) -> MailServer | None:
        """The SMTP server, when the e-mail channel is on; its password is a secret."""
        return parse_smtp_url(self.smtp_url.get_secret_value()) if self.mail_enabled else None

    def sender(self) -> Address | None:
        """The From address (with the office's name), when the e-mail channel is on."""
        return parse_sender(self.mail_from) if self.mail_enabled else None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def token_value(self) -> str | None:
        """The token itself, for the Bot API client and the log filter that scrubs it; never print it."""
        return self.token.get_secret_value() if self.token else None

    def secret_values(self) -> list[str]:
        """The secrets other than the token (the webhook's secret token, the SMTP URL and its password), for the
        log filter; never print them."""
        secrets = [secret.get_secret_value() for secret in (self.webhook_secret, self.smtp_url) if secret is not None]
        server = parse_smtp_url(self.smtp_url.get_secret_value()) if self.smtp_url is not None else None
        return secrets + (server.secrets() if server else [])

    def override(self, **flags) -> Settings:
        """These settings with the flags that were given (not None) over them."""
        given = _given(flags)
        return _checked(lambda: Settings(**{**dict(self), **given})) if given else self


class _Environment(BaseSettings, Settings):
    """The same fields, read from ``CQDT_…`` variables and ``TELEGRAM_BOT_TOKEN``; an empty one is unset."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_ignore_empty=True, populate_by_name=True)

    token: SecretStr | None = Field(None, validation_alias=TOKEN_VARIABLE)


def variable(name: str) -> str:
    """The environment variable of a setting."""
    return TOKEN_VARIABLE if name == "token" else PREFIX + name.upper()


def _given(flags: dict) -> dict:
    return {name: value for name, value in flags.items() if value is not None}


def _checked(build: Callable[[], Settings]) -> Settings:
    """What ``build`` makes, a value that does not fit refused with its variable."""
    try:
        return build()
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else ""
        if name == "timezone":
            raise Refused("timezone_unknown", timezone=error["input"], variable=variable(name)) from None
        # The value itself is left out: it may be a secret.
        raise Refused(
            "setting_invalid", variable=variable(name), expected=error.get("ctx", {}).get("expected")
        ) from None


def load(**flags) -> Settings:
    """The environment's settings, read now, with the flags that were given (not None) over them."""
    given = _given(flags)
    return _checked(lambda: Settings(**dict(_Environment(**given))))
