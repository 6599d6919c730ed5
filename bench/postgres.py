"""A schema of its own on a benchmark's PostgreSQL server, dropped after the run."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from urllib.parse import quote

from sqlalchemy import create_engine, text


def postgres_schema(base: str, prefix: str = "cqdt_bench") -> tuple[str, Callable[[], None]]:
    """The URL of a new empty schema on the server ``base`` names, and the function that drops it."""
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options={quote(f'-csearch_path={schema}')}", drop
