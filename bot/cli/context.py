"""What every CLI command shares: settings, the database, the clock and output."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import click

from bot.texts import render
from common.settings import Settings
from storage.db import Database


def to_jsonable(value: Any) -> Any:
    """Decimals as exact strings ("150.77"), times as ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dump_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=to_jsonable)


@dataclass
class CliContext:
    settings: Settings
    _db: Database | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.settings.database_url)
        return self._db

    @property
    def database_url(self) -> str:
        return self.settings.database_url

    @property
    def timezone(self) -> str:
        return self.settings.timezone

    @property
    def zone(self) -> ZoneInfo:
        return self.settings.zone

    @property
    def telegram_api_url(self) -> str:
        return self.settings.telegram_api_url

    @property
    def token(self) -> str | None:
        """The bot's token itself, for the Bot API client; never print it."""
        return self.settings.token_value()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()

    def emit(self, template: str, data: Any, as_json: bool, **context) -> None:
        if as_json:
            click.echo(dump_json(data))
        else:
            click.echo(render(template, lang="cli", zone=self.timezone, **context))


pass_cli = click.make_pass_decorator(CliContext)
