"""Runtime settings from the environment; command-line flags override each."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

DEFAULT_API_URL = "https://api.telegram.org/bot"
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


@dataclass
class Settings:
    database_url: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    telegram_api_url: str = DEFAULT_API_URL
    token: str | None = field(default=None, repr=False)
    bot_username: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("CQDT_DATABASE_URL") or None,
            timezone=os.environ.get("CQDT_TIMEZONE") or DEFAULT_TIMEZONE,
            telegram_api_url=os.environ.get("CQDT_TELEGRAM_API_URL") or DEFAULT_API_URL,
            token=os.environ.get("TELEGRAM_BOT_TOKEN") or None,
            bot_username=os.environ.get("CQDT_BOT_USERNAME") or None,
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
