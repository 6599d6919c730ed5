"""Reading and writing an agency's answers, with an append-only history of every change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, func, select, type_coerce
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from common.errors import Refused
from rubrics import answers as values
from rubrics.answers import NA
from rubrics.compiled import CompiledRubric
from storage.models import OPEN_STATES, Agency, AnswerChange, Submission
from storage.models import Answer as AnswerRow


def set_answer(
    session: Session,
    rubric: CompiledRubric,
    agency: Agency,
    question_id: str,
    value: Any,
    *,
    by: int | None,
    source: str,
    now: datetime,
    current: dict[str, Any] | None = None,
    submission: Submission | None = None,
) -> None:
    """Store one answer after checking it against its question and the agency's other answers.

    ``value`` is the answer, :data:`~rubrics.answers.NA` for "Không áp dụng", or
    None for "Bỏ qua" (skipping an optional question). The write is an upsert, so two
    contacts (or two processes) answering the same question at once both succeed and
    the later one wins; the history keeps both.
    """
    question = rubric.question(question_id)
    not_applicable = value is NA
    if not_applicable and not question.allow_na:
        raise Refused("na_not_allowed")
    if value is None and question.required:
        raise Refused("skip_not_allowed")
    if not not_applicable and value is not None:
        others = current if current is not None else load_agency_answers(session, rubric, agency.id)
        fault = values.check(question, value, others)
        if fault is not None:
            raise Refused(f"answer_{fault.kind}", **fault.params)
        _check_dependents(rubric, question_id, value, others)
    stored = None if not_applicable else values.to_json(question, value)
    mark_started(session, submission or _submission(session, agency.id), now)
    row = {
        "agency_id": agency.id,
        "question_id": question_id,
        "value": stored,
        "not_applicable": not_applicable,
        "set_by": by,
        "source": source,
        "set_at": now,
    }
    dialect = session.get_bind().dialect.name
    upsert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(AnswerRow).values(**row)
    upsert = upsert.on_conflict_do_update(
        index_elements=[AnswerRow.agency_id, AnswerRow.question_id],
        set_={k: upsert.excluded[k] for k in ("value", "not_applicable", "set_by", "source", "set_at")},
    )
    session.execute(upsert)
    session.add(
        AnswerChange(
            agency_id=agency.id,
            question_id=question_id,
            value=stored,
            not_applicable=not_applicable,
            changed_by=by,
            source=source,
            changed_at=now,
        )
    )
    session.flush()


def _check_dependents(rubric: CompiledRubric, question_id: str, value: Any, others: dict[str, Any]) -> None:
    """A new total must not leave an answer bounded by it out of range (e.g. more computers than staff)."""
    after = {**others, question_id: value}
    for dependent in rubric.bound_dependents.get(question_id, ()):
        current = others.get(dependent)
        if current is None or current is NA:
            continue
        if values.check(rubric.question(dependent), current, after) is not None:
            raise Refused("answer_breaks_dependent", number=rubric.by_id[dependent].number, value=current)


def _submission(session: Session, agency_id: int) -> Submission:
    return session.scalar(select(Submission).where(Submission.agency_id == agency_id))


def mark_started(session: Session, submission: Submission, now: datetime) -> None:
    if submission.state not in OPEN_STATES:
        raise Refused("submission_locked")
    if submission.state == "not_started":
        submission.state, submission.started_at = "in_progress", now
    submission.updated_at = now
    submission.revision += 1


def load_agency_answers(session: Session, rubric: CompiledRubric, agency_id: int) -> dict[str, Any]:
    return load_many(session, {agency_id: rubric})[agency_id]


def load_many(session: Session, rubric_of: dict[int, CompiledRubric]) -> dict[int, dict[str, Any]]:
    """The answers of many agencies, each decoded with its own rubric.

    The database gathers each agency's answers into one JSON object and its
    not-applicable questions into one JSON array (``json_group_object`` on
    SQLite, ``json_object_agg`` on PostgreSQL), so a campaign of thousands of
    agencies comes back as one row per agency rather than one per answer.
    """
    result: dict[int, dict[str, Any]] = {agency_id: {} for agency_id in rubric_of}
    ids = list(rubric_of)
    answered, not_applicable = AnswerRow.not_applicable.is_(False), AnswerRow.not_applicable.is_(True)
    if session.get_bind().dialect.name == "postgresql":
        values_of = func.json_object_agg(AnswerRow.question_id, AnswerRow.value).filter(answered)
        na_of = func.json_agg(AnswerRow.question_id).filter(not_applicable)
    else:
        values_of = func.json_group_object(AnswerRow.question_id, func.json(AnswerRow.value)).filter(answered)
        na_of = func.json_group_array(AnswerRow.question_id).filter(not_applicable)
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        rows = session.execute(
            select(AnswerRow.agency_id, type_coerce(values_of, JSON), type_coerce(na_of, JSON))
            .where(AnswerRow.agency_id.in_(chunk))
            .group_by(AnswerRow.agency_id)
        )
        for agency_id, answered_values, na_ids in rows:
            result[agency_id] = _decode(rubric_of[agency_id], answered_values or {}, na_ids or ())
    return result


def decoded(rubric: CompiledRubric, question_id: str, stored: Any) -> Any:
    """One stored JSON value as a rubric value (None stays None: a skipped question)."""
    if stored is None or question_id not in rubric.needs_decoding:
        return stored
    return values.from_json(rubric.question(question_id), stored)


def _decode(rubric: CompiledRubric, stored: dict[str, Any], na_ids) -> dict[str, Any]:
    """Stored JSON as rubric values; answers to questions the rubric does not have are left out."""
    by_id = rubric.by_id
    decoded = {qid: raw for qid, raw in stored.items() if qid in by_id}
    for qid in rubric.needs_decoding.intersection(decoded):
        decoded[qid] = values.from_json(by_id[qid].question, decoded[qid])
    for qid in na_ids:
        if qid in by_id:
            decoded[qid] = NA
    return decoded
