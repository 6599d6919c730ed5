"""Rubrics in the database: stored once per exact content, read back as compiled rubrics."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from rubrics.bundled import bundled
from rubrics.compiled import CompiledRubric
from rubrics.errors import RubricError
from rubrics.loader import load_text
from rubrics.table_import import TABLE_SUFFIXES, load_source
from storage.models import StoredRubric


def resolve(id_or_file: str, level: str | None = None) -> CompiledRubric:
    """A bundled rubric by id, or a rubric file or criteria table (.xlsx, read for ``level``) by path."""
    catalogue = bundled()
    if id_or_file in catalogue:
        return catalogue[id_or_file]
    path = Path(id_or_file)
    if path.suffix.lower() in (".yaml", ".yml", *TABLE_SUFFIXES) or path.exists():
        return load_source(path, level)
    raise RubricError(None, id_or_file, "unknown_rubric", known=sorted(catalogue))


def store(session: Session, rubric: CompiledRubric) -> StoredRubric:
    """The stored row for this exact rubric text, added if new."""
    row = session.scalar(
        select(StoredRubric).where(
            StoredRubric.rubric_id == rubric.id, StoredRubric.content_hash == rubric.content_hash
        )
    )
    if row is None:
        row = StoredRubric(
            rubric_id=rubric.id,
            version=rubric.rubric.version,
            family=rubric.rubric.family,
            level=rubric.level,
            title=rubric.rubric.title,
            content_hash=rubric.content_hash,
            source_text=rubric.source_text,
        )
        session.add(row)
        session.flush()
    return row


_compiled: dict[str, CompiledRubric] = {}


def compiled(row: StoredRubric) -> CompiledRubric:
    """The rubric exactly as stored, even if the file it came from has changed since.

    Compiled once per content hash and process; the stored text is read only then.
    """
    found = _compiled.get(row.content_hash)
    if found is None:
        found = _compiled[row.content_hash] = load_text(row.source_text, f"{row.rubric_id}@{row.content_hash[:8]}")
    return found
