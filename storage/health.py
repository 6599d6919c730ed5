"""What ``GET /health`` asks of the database: does it answer, at which schema revision, is that the code's head."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError

from storage.db import Database, DatabaseUnavailable, first_line, head_revision


@dataclass(frozen=True)
class SchemaState:
    revision: str | None  # None: no migration has run
    head: str | None

    @property
    def current(self) -> bool:
        return self.revision == self.head


class Probe:
    """Asks one database how it is; the code's head revision is read once, from the migration scripts."""

    def __init__(self, db: Database):
        self.engine = db.engine
        self.head = head_revision(self.engine)

    def schema(self) -> SchemaState:
        """``SELECT 1``, then the schema's revision; DatabaseUnavailable when the database does not answer."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                revision = None
                if inspect(connection).has_table("alembic_version"):
                    revision = connection.scalar(text("SELECT version_num FROM alembic_version"))
        except SQLAlchemyError as exc:
            raise DatabaseUnavailable(first_line(getattr(exc, "orig", None) or exc)) from exc
        return SchemaState(revision, self.head)
