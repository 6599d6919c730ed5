"""Connecting to the database and keeping its schema current.

SQLite (the default, ``cqdt.db`` in the working directory) is created and
upgraded on first use. PostgreSQL is upgraded explicitly with ``cqdt db upgrade``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from common.settings import load
from storage.unit import Unit

MIGRATIONS = Path(__file__).parent / "migrations"
READ_ONLY = "cqdt_read_only"


class SchemaOutdated(RuntimeError):
    """The database is behind the code's migrations."""


class DatabaseUnavailable(RuntimeError):
    """The database could not be reached or could not do the work (the driver's operational error);
    ``reason`` is the first line of what the driver said."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]


def _unavailable(context: ExceptionContext) -> BaseException | None:
    """SQLAlchemy's OperationalError, on connecting or on a statement, raised as DatabaseUnavailable."""
    if isinstance(context.sqlalchemy_exception, OperationalError):
        return DatabaseUnavailable(first_line(context.original_exception))
    return None


def database_url(override: str | None = None) -> str:
    """The URL given, else the settings' (CQDT_DATABASE_URL, by default SQLite's cqdt.db)."""
    return override or load().database_url


def _dumps(value) -> str:
    return orjson.dumps(value).decode()


def _loads(value):
    """orjson for JSON text; SQLite hands back a bare JSON number as a number already."""
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def make_engine(url: str | None = None) -> Engine:
    url = database_url(url)
    json_options = {"json_serializer": _dumps, "json_deserializer": _loads}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **json_options)
        event.listen(engine, "handle_error", _unavailable)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            dbapi_connection.isolation_level = None  # transactions are begun below, not by the driver
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection) -> None:
            # A writing transaction takes the write lock at the start, so two processes updating the
            # same rows wait for each other instead of failing when a reader turns writer; a read-only
            # one reads a snapshot (WAL) without waiting for writers.
            read_only = connection.get_execution_options().get(READ_ONLY)
            connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    # No pre-ping round trip per transaction: a connection the server dropped fails its first statement
    # once and the pool replaces it; recycling keeps connections younger than the server's idle timeouts.
    engine = create_engine(url, pool_recycle=1800, **json_options)
    event.listen(engine, "handle_error", _unavailable)
    return engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def ensure_schema(engine: Engine) -> None:
    """Upgrade SQLite in place; refuse to run on an outdated server database."""
    if current_revision(engine) == head_revision(engine):
        return
    if engine.dialect.name == "sqlite":
        upgrade(engine)
        return
    raise SchemaOutdated(engine.url.render_as_string(hide_password=True))


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str | None = None, *, ensure: bool = True):
        self.engine = make_engine(url)
        if ensure:
            ensure_schema(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time. Threads of this process queue on a lock, which hands
        # over at once, instead of on SQLite's busy handler, which sleeps up to 100 ms per retry;
        # other processes still wait on SQLite's own lock.
        self._writer = threading.Lock() if self.engine.dialect.name == "sqlite" else nullcontext()

    @property
    def serial_writes(self) -> bool:
        """Whether this process's writes run one at a time anyway (SQLite's single writer)."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on error. A read-only one (``write=False``)
        does not queue for SQLite's single writer."""
        with self._writer if write else nullcontext(), self.sessions() as session, session.begin():
            if not write:
                session.connection(execution_options={READ_ONLY: True})
            yield session

    @contextmanager
    def unit(self, *, write: bool = True) -> Iterator[Unit]:
        """One update's unit of work: the repositories over one transaction, committed on success."""
        with self.session(write=write) as session:
            unit = Unit(session)
            yield unit
            unit.finish()

    def dispose(self) -> None:
        self.engine.dispose()
