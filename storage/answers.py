"""Reading and writing an agency's answers, with an append-only history of every change."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rubrics import answers as values
from rubrics.answers import Answer
from rubrics.compiled import CompiledRubric
from storage.errors import Refused
from storage.models import Agency, AnswerChange, Submission
from storage.models import Answer as AnswerRow

EDITABLE_STATES = ("not_started", "in_progress", "returned")


def set_answer(session: Session, rubric: CompiledRubric, agency: Agency, question_id: str, value: Any, *,
               not_applicable: bool = False, by: int | None, source: str, now: datetime,
               current: dict[str, Answer] | None = None) -> AnswerRow:
    """Store one answer after checking it against its question and the agency's other answers."""
    question = rubric.question(question_id)
    if not_applicable:
        if not question.allow_na:
            raise Refused("na_not_allowed")
        value = None
    else:
        others = current if current is not None else load_agency_answers(session, rubric, agency.id)
        fault = values.check(question, value, others)
        if fault is not None:
            raise Refused(f"answer_{fault.kind}", **fault.params)
    stored = values.to_json(question, value)
    row = session.scalar(select(AnswerRow).where(AnswerRow.agency_id == agency.id,
                                                 AnswerRow.question_id == question_id))
    if row is None:
        row = AnswerRow(agency_id=agency.id, question_id=question_id)
        session.add(row)
    row.value, row.not_applicable, row.set_by, row.source, row.set_at = stored, not_applicable, by, source, now
    session.add(AnswerChange(agency_id=agency.id, question_id=question_id, value=stored,
                             not_applicable=not_applicable, changed_by=by, source=source, changed_at=now))
    mark_started(session, agency.id, now)
    session.flush()
    return row


def mark_started(session: Session, agency_id: int, now: datetime) -> None:
    submission = session.scalar(select(Submission).where(Submission.agency_id == agency_id))
    if submission.state not in EDITABLE_STATES:
        raise Refused("submission_locked")
    if submission.state == "not_started":
        submission.state, submission.started_at = "in_progress", now
    submission.updated_at = now


def decode(rubric: CompiledRubric, question_id: str, raw: Any, not_applicable: bool) -> Answer | None:
    """A stored answer as a rubric value; None for a question the rubric no longer has."""
    step = rubric.by_id.get(question_id)
    if step is None:
        return None
    if not_applicable:
        return Answer(None, True)
    return Answer(values.from_json(step.question, raw))


def load_agency_answers(session: Session, rubric: CompiledRubric, agency_id: int) -> dict[str, Answer]:
    return load_many(session, {agency_id: rubric})[agency_id]


def load_many(session: Session, rubric_of: dict[int, CompiledRubric]) -> dict[int, dict[str, Answer]]:
    """The answers of many agencies, each decoded with its own rubric."""
    result: dict[int, dict[str, Answer]] = defaultdict(dict)
    ids = list(rubric_of)
    for chunk_start in range(0, len(ids), 5000):
        chunk = ids[chunk_start:chunk_start + 5000]
        rows = session.execute(select(AnswerRow.agency_id, AnswerRow.question_id, AnswerRow.value,
                                      AnswerRow.not_applicable).where(AnswerRow.agency_id.in_(chunk)))
        _decode_rows(rows, rubric_of, result)
    return {agency_id: result.get(agency_id, {}) for agency_id in ids}


def _decode_rows(rows: Iterable, rubric_of: dict[int, CompiledRubric], result: dict) -> None:
    for agency_id, question_id, raw, na in rows:
        answer = decode(rubric_of[agency_id], question_id, raw, na)
        if answer is not None:
            result[agency_id][question_id] = answer
