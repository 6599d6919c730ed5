"""Shared fixtures: a fresh database on SQLite, and on PostgreSQL when CQDT_TEST_DATABASE_URL names one;
and each test marked by its folder (unit, integration, e2e), so ``pytest -m "not e2e"`` works as well as
``pytest tests/unit``."""

from __future__ import annotations

import os
import uuid
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from storage.db import Database, upgrade

PG_URL = os.environ.get("CQDT_TEST_DATABASE_URL")


def _pg_schema_url(schema: str) -> str:
    separator = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """The URL of an empty database, once per backend; each PostgreSQL test gets its own schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cqdt.db'}"
        return
    if not PG_URL:
        pytest.skip("CQDT_TEST_DATABASE_URL is not set")
    schema = f"cqdt_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db(database_url):
    database = Database(database_url, ensure=False)
    upgrade(database.engine)
    yield database
    database.dispose()


KINDS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items):
    for item in items:
        kind = item.path.parent.name
        if kind in KINDS:
            item.add_marker(getattr(pytest.mark, kind))
