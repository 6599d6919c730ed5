"""Reading and writing an agency's answers, with an append-only history of every change."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import JSON, bindparam, case, func, insert, select, type_coerce, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from common.errors import Refused
from rubrics import answers as values
from rubrics.answers import NA
from rubrics.compiled import CompiledRubric
from storage import audit
from storage.models import OPEN_STATES, AnswerChange, Contact, Submission
from storage.models import Answer as AnswerRow
from storage.records import IN_PROGRESS, NOT_STARTED, SubmissionRecord


def set_answer(
    session: Session,
    rubric: CompiledRubric,
    agency,
    question_id: str,
    value: Any,
    *,
    by: int | None,
    source: str,
    now: datetime,
    current: dict[str, Any] | None = None,
    submission: SubmissionRecord | None = None,
) -> None:
    """Store one answer of ``agency`` (anything with an ``id``) after checking it against its question
    and the agency's other answers.

    ``value`` is the answer, :data:`~rubrics.answers.NA` for "Không áp dụng", or
    None for "Bỏ qua" (skipping an optional question). The write is an upsert, so two
    contacts (or two processes) answering the same question at once both succeed and
    the later one wins; the history keeps both. A ``submission`` record passed in is
    kept up to date with the row.
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
    if session.autoflush:
        session.flush()  # what the ORM would flush first; the writes below are the tables' own statements
    mark_started(session, agency.id, now, submission)
    connection = session.connection()
    connection.execute(
        _upsert(session.get_bind().dialect.name),
        {
            "agency_id": agency.id,
            "question_id": question_id,
            "value": stored,
            "not_applicable": not_applicable,
            "set_by": by,
            "source": source,
            "set_at": now,
        },
    )
    connection.execute(
        _HISTORY,
        {
            "agency_id": agency.id,
            "question_id": question_id,
            "value": stored,
            "not_applicable": not_applicable,
            "changed_by": by,
            "source": source,
            "changed_at": now,
        },
    )
    audit.append(
        session,
        agency.id,
        audit.ANSWER,
        at=now,
        by=by,
        question_id=question_id,
        data={"value": stored, "not_applicable": not_applicable, "source": source},
        locked=True,  # mark_started updated the submission row: this transaction holds its lock
    )


@cache
def _upsert(dialect: str):
    """The answer upsert, built once per dialect on the table (not through the ORM's bulk path); each answer
    only binds its values."""
    table = AnswerRow.__table__
    insert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(table)
    return insert.on_conflict_do_update(
        index_elements=[table.c.agency_id, table.c.question_id],
        set_={k: insert.excluded[k] for k in ("value", "not_applicable", "set_by", "source", "set_at")},
    )


_HISTORY = insert(AnswerChange.__table__)


def _check_dependents(rubric: CompiledRubric, question_id: str, value: Any, others: dict[str, Any]) -> None:
    """A new total must not leave an answer bounded by it out of range (e.g. more computers than staff)."""
    after = {**others, question_id: value}
    for dependent in rubric.bound_dependents.get(question_id, ()):
        current = others.get(dependent)
        if current is None or current is NA:
            continue
        if values.check(rubric.question(dependent), current, after) is not None:
            raise Refused("answer_breaks_dependent", number=rubric.by_id[dependent].number, value=current)


def mark_started(session: Session, agency_id: int, now: datetime, submission: SubmissionRecord | None = None) -> None:
    """An answer changed: the submission is in progress (if it was not started) and its revision moves on."""
    if submission is not None and submission.state not in OPEN_STATES:
        raise Refused("submission_locked")
    changed = session.connection().execute(_STARTED, {"for_agency": agency_id, "now": now}).rowcount
    if not changed:
        raise Refused("submission_locked")
    if submission is not None:
        submission.state = IN_PROGRESS if submission.state == NOT_STARTED else submission.state
        submission.revision += 1


_SUBMISSIONS = Submission.__table__.c
_STARTED = (
    update(Submission.__table__)
    .where(_SUBMISSIONS.agency_id == bindparam("for_agency"), _SUBMISSIONS.state.in_(OPEN_STATES))
    .values(
        state=case((_SUBMISSIONS.state == NOT_STARTED, IN_PROGRESS), else_=_SUBMISSIONS.state),
        started_at=func.coalesce(_SUBMISSIONS.started_at, bindparam("now", type_=_SUBMISSIONS.started_at.type)),
        updated_at=bindparam("now", type_=_SUBMISSIONS.updated_at.type),
        revision=_SUBMISSIONS.revision + 1,
    )
)


@cache
def _gathered(dialect: str):
    """Each agency's answers gathered into one JSON object and its not-applicable questions into one JSON
    array (``json_group_object`` on SQLite, ``json_object_agg`` on PostgreSQL), one row per agency."""
    answered, not_applicable = AnswerRow.not_applicable.is_(False), AnswerRow.not_applicable.is_(True)
    if dialect == "postgresql":
        values_of = func.json_object_agg(AnswerRow.question_id, AnswerRow.value).filter(answered)
        na_of = func.json_agg(AnswerRow.question_id).filter(not_applicable)
    else:
        values_of = func.json_group_object(AnswerRow.question_id, func.json(AnswerRow.value)).filter(answered)
        na_of = func.json_group_array(AnswerRow.question_id).filter(not_applicable)
    return select(AnswerRow.agency_id, type_coerce(values_of, JSON), type_coerce(na_of, JSON)).group_by(
        AnswerRow.agency_id
    )


@cache
def _gathered_one(dialect: str):
    """:func:`_gathered` for one agency, with who gave its answers (each author once, None for an import),
    built once: each call binds only the agency."""
    authors = (func.json_agg if dialect == "postgresql" else func.json_group_array)(AnswerRow.set_by.distinct())
    return (
        _gathered(dialect).add_columns(type_coerce(authors, JSON)).where(AnswerRow.agency_id == bindparam("agency_id"))
    )


def _load_one(session: Session, rubric: CompiledRubric, agency_id: int) -> tuple[dict[str, Any], set[int | None]]:
    """The agency's answers, and who gave them."""
    if session.autoflush:
        session.flush()
    statement = _gathered_one(session.get_bind().dialect.name)
    found = session.connection().execute(statement, {"agency_id": agency_id}).first()
    if found is None:
        return {}, set()
    return _decode(rubric, found[1] or {}, found[2] or ()), set(found[3] or ())


def load_agency_answers(session: Session, rubric: CompiledRubric, agency_id: int) -> dict[str, Any]:
    return _load_one(session, rubric, agency_id)[0]


def load_many(session: Session, rubric_of: dict[int, CompiledRubric]) -> dict[int, dict[str, Any]]:
    """The answers of many agencies, each decoded with its own rubric.

    The database gathers each agency's answers (:func:`_gathered`), so a campaign of
    thousands of agencies comes back as one row per agency rather than one per answer.
    """
    result: dict[int, dict[str, Any]] = {agency_id: {} for agency_id in rubric_of}
    ids = list(rubric_of)
    gathered = _gathered(session.get_bind().dialect.name)
    if session.autoflush:
        session.flush()  # as a query through the session would; the rows are read on its connection, without the ORM
    for start in range(0, len(ids), 5000):
        statement = gathered.where(AnswerRow.agency_id.in_(ids[start : start + 5000]))
        for agency_id, answered_values, na_ids in session.connection().execute(statement).all():
            result[agency_id] = _decode(rubric_of[agency_id], answered_values or {}, na_ids or ())
    return result


def decoded(rubric: CompiledRubric, question_id: str, stored: Any) -> Any:
    """One stored JSON value as a rubric value (None stays None: a skipped question)."""
    decode = rubric.decoders.get(question_id)
    return stored if stored is None or decode is None else decode(stored)


def _decode(rubric: CompiledRubric, stored: dict[str, Any], na_ids) -> dict[str, Any]:
    """Stored JSON (a dict just parsed, decoded in place) as rubric values; answers to questions
    the rubric does not have are left out."""
    by_id = rubric.by_id
    if not stored.keys() <= by_id.keys():
        stored = {qid: raw for qid, raw in stored.items() if qid in by_id}
    for qid, decode in rubric.decoders.items():
        raw = stored.get(qid)
        if raw is not None:
            stored[qid] = decode(raw)
    for qid in na_ids:
        if qid in by_id:
            stored[qid] = NA
    return stored


class Answers:
    """An agency's answers, for one unit of work."""

    def __init__(self, session: Session):
        self.session = session
        self._authors: dict[int, set[int | None]] = {}  # agency → who gave its answers, as read in this unit

    def of(self, rubric: CompiledRubric, agency_id: int) -> dict[str, Any]:
        answers, self._authors[agency_id] = _load_one(self.session, rubric, agency_id)
        return answers

    def many(self, rubric_of: dict[int, CompiledRubric]) -> dict[int, dict[str, Any]]:
        """The answers of many agencies, each decoded with its own rubric."""
        return load_many(self.session, rubric_of)

    def set(self, rubric: CompiledRubric, agency, question_id: str, value: Any, **kwargs) -> None:
        set_answer(self.session, rubric, agency, question_id, value, **kwargs)
        authors = self._authors.get(agency.id)
        if authors is not None:  # the agency's answers were read in this unit: its authors stay known
            authors.add(kwargs.get("by"))

    def only_by(self, agency_id: int, user_id: int) -> bool:
        """Whether every answer of the agency read in this unit of work (:meth:`of`) was given by this user
        or by no one in particular (an import): then no colleague's answer is in the way or has replaced one
        of theirs, and nothing needs to be asked of the database about it."""
        authors = self._authors.get(agency_id)
        return authors is not None and authors <= {None, user_id}

    def who_answered(
        self, campaign_id: int, agency_id: int, question_id: str
    ) -> tuple[int | None, datetime, str | None] | None:
        """(Telegram id, when, contact's name) of whoever gave the current answer to the question."""
        found = self.session.execute(
            _WHO_ANSWERED, {"campaign_id": campaign_id, "agency_id": agency_id, "question_id": question_id}
        ).first()
        return tuple(found) if found is not None else None

    def as_of(self, rubric: CompiledRubric, agency_id: int, at: datetime) -> dict[str, Any]:
        """The agency's answers as they stood at ``at``, from the history (e.g. at an earlier submission)."""
        rows = self.session.execute(
            select(AnswerChange.question_id, AnswerChange.value, AnswerChange.not_applicable, AnswerChange.cleared)
            .where(AnswerChange.agency_id == agency_id, AnswerChange.changed_at <= at)
            .order_by(AnswerChange.changed_at, AnswerChange.id)
        ).all()
        stood: dict[str, Any] = {}
        for question_id, value, not_applicable, cleared in rows:
            if question_id not in rubric.by_id or cleared:
                stood.pop(question_id, None)
            else:
                stood[question_id] = NA if not_applicable else decoded(rubric, question_id, value)
        return stood

    def changed_by_colleagues(
        self, campaign_id: int, agency_id: int, user_id: int, since: datetime
    ) -> list[tuple[str, str | None, datetime]]:
        """(question id, colleague's name, when) of each answer the user had given that someone else
        replaced after ``since``."""
        if self.only_by(agency_id, user_id):
            return []
        rows = self.session.execute(
            _CHANGED_BY_COLLEAGUES,
            {"campaign_id": campaign_id, "agency_id": agency_id, "user_id": user_id, "since": since},
        )
        return [tuple(row) for row in rows]


_AUTHOR = (Contact.campaign_id == bindparam("campaign_id")) & (Contact.telegram_user_id == AnswerRow.set_by)
_WHO_ANSWERED = (
    select(AnswerRow.set_by, AnswerRow.set_at, Contact.full_name)
    .outerjoin(Contact, _AUTHOR)
    .where(AnswerRow.agency_id == bindparam("agency_id"), AnswerRow.question_id == bindparam("question_id"))
)
_CHANGED_BY_COLLEAGUES = (
    select(AnswerRow.question_id, Contact.full_name, AnswerRow.set_at)
    .outerjoin(Contact, _AUTHOR)
    .where(
        AnswerRow.agency_id == bindparam("agency_id"),
        AnswerRow.set_by != bindparam("user_id"),
        AnswerRow.set_at > bindparam("since", type_=AnswerRow.set_at.type),
        select(AnswerChange.id)
        .where(
            AnswerChange.agency_id == bindparam("agency_id"),
            AnswerChange.question_id == AnswerRow.question_id,
            AnswerChange.changed_by == bindparam("user_id"),
            AnswerChange.changed_at <= AnswerRow.set_at,
        )
        .exists(),
    )
    .order_by(AnswerRow.set_at)
)
