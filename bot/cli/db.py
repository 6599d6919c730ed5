"""``cqdt db``: the database schema."""

from __future__ import annotations

import click

from bot.cli.context import CliContext, pass_cli
from bot.texts import render
from storage.db import Database, current_revision, upgrade


@click.group("db")
def db_group() -> None:
    """Cơ sở dữ liệu."""


@db_group.command("upgrade")
@pass_cli
def db_upgrade(cli: CliContext) -> None:
    """Tạo hoặc nâng cấp lược đồ cơ sở dữ liệu lên phiên bản mới nhất."""
    database = Database(cli.database_url, ensure=False)
    try:
        before = current_revision(database.engine)
        upgrade(database.engine)
        after = current_revision(database.engine)
    finally:
        database.dispose()
    click.echo(render("db_upgrade", lang="cli", before=before, after=after))


COMMANDS = [db_group]
