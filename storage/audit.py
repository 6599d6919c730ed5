"""Every agency's hash-chained record: each change of an answer, evidence, verification step and submission
is appended, in the same transaction as the change, as an entry holding the previous entry's SHA-256.

An entry's hash is the SHA-256 of its canonical JSON (sorted keys, Decimals as exact strings, times as UTC
ISO 8601). A submission's receipt hash is the chain's head at submission.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from storage.models import Agency, AuditEntry, Submission
from storage.models import Answer as AnswerRow
from storage.scope import agencies_in_scope

ANSWER, EVIDENCE, SUBMITTED = "answer", "evidence", "submitted"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def entry_hash(
    agency_id: int,
    seq: int,
    kind: str,
    question_id: str | None,
    data: Any,
    by: int | None,
    at: datetime,
    prev: str | None,
) -> str:
    canonical = {
        "agency": agency_id,
        "seq": seq,
        "kind": kind,
        "question": question_id,
        "data": _plain(data),
        "by": by,
        "at": _plain(at),
        "prev": prev,
    }
    text = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_LOCK = select(Submission.id).where(Submission.agency_id == bindparam("agency_id")).with_for_update()
_HEAD = (
    select(AuditEntry.seq, AuditEntry.hash)
    .where(AuditEntry.agency_id == bindparam("agency_id"))
    .order_by(AuditEntry.seq.desc())
    .limit(1)
)
_INSERT = insert(AuditEntry.__table__)  # every column bound, as the ORM wrote them (a None data is JSON null)


def append(
    session: Session,
    agency_id: int,
    kind: str,
    *,
    at: datetime,
    by: int | None = None,
    question_id: str | None = None,
    data: Any = None,
    locked: bool = False,
) -> str:
    """Append one entry to the agency's chain; its hash. The agency's submission row is locked first
    (on PostgreSQL), so two writers never both extend the same head; ``locked``: this transaction holds
    that lock already (it updated the row). SQLite's writers take turns for the whole transaction anyway."""
    if session.autoflush:
        session.flush()  # the change the entry records, added just before, is written first, as before
    connection = session.connection()  # the statements below are the tables' own, past the ORM
    if not locked and connection.dialect.name != "sqlite":
        connection.execute(_LOCK, {"agency_id": agency_id})
    head = connection.execute(_HEAD, {"agency_id": agency_id}).first()
    seq, prev = (head[0] + 1, head[1]) if head is not None else (1, None)
    data = _plain(data)
    digest = entry_hash(agency_id, seq, kind, question_id, data, by, at, prev)
    connection.execute(
        _INSERT,
        {
            "agency_id": agency_id,
            "seq": seq,
            "kind": kind,
            "question_id": question_id,
            "data": data,
            "by": by,
            "at": at,
            "prev_hash": prev,
            "hash": digest,
        },
    )
    return digest


@dataclass(frozen=True)
class Entry:
    seq: int
    kind: str
    question_id: str | None
    data: Any
    by: int | None
    at: datetime
    hash: str


@dataclass(frozen=True)
class Fault:
    """Where an agency's record no longer holds: ``seq`` the entry, ``what`` one of chain_broken,
    hash_mismatch, answer_differs, answer_unrecorded."""

    agency_code: str
    agency_name: str
    seq: int | None
    kind: str | None
    question_id: str | None
    what: str


def _rows(session: Session, agency_id: int) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.agency_id == agency_id).order_by(AuditEntry.seq)))


def find_agency(session: Session, code: str, campaign_id: int | None = None) -> Agency | None:
    """The agency with this code in the campaign (None: the latest campaign that has it)."""
    query = select(Agency).where(Agency.code == code)
    if campaign_id is not None:
        query = query.where(Agency.campaign_id == campaign_id)
    return session.scalars(query.order_by(Agency.campaign_id.desc())).first()


def chain(session: Session, agency_id: int) -> list[Entry]:
    return [Entry(r.seq, r.kind, r.question_id, r.data, r.by, r.at, r.hash) for r in _rows(session, agency_id)]


def _check_agency(session: Session, agency: Agency) -> Fault | None:
    prev: str | None = None
    last_answer: dict[str, AuditEntry] = {}
    rows = _rows(session, agency.id)
    started = rows[0].at if rows else None
    for expected, row in enumerate(rows, start=1):
        fault = None
        if row.seq != expected or row.prev_hash != prev:
            fault = "chain_broken"
        elif entry_hash(agency.id, row.seq, row.kind, row.question_id, row.data, row.by, row.at, prev) != row.hash:
            fault = "hash_mismatch"
        if fault is not None:
            return Fault(agency.code, agency.name, row.seq, row.kind, row.question_id, fault)
        if row.kind == ANSWER:
            last_answer[row.question_id] = row
        prev = row.hash
    if not last_answer:
        return None
    for answer in session.scalars(select(AnswerRow).where(AnswerRow.agency_id == agency.id)):
        entry = last_answer.get(answer.question_id)
        if entry is None and answer.set_at < started:
            continue  # given before the audit log existed (migration 0011): its chain starts later
        if entry is None:
            return Fault(agency.code, agency.name, None, None, answer.question_id, "answer_unrecorded")
        stored = {"value": _plain(answer.value), "not_applicable": bool(answer.not_applicable)}
        if stored != {k: entry.data.get(k) for k in stored}:
            return Fault(agency.code, agency.name, entry.seq, entry.kind, answer.question_id, "answer_differs")
    return None


def verify(session: Session, campaign_id: int) -> tuple[int, list[Fault]]:
    """Recompute every chain of the campaign: (agencies checked, the first fault of each that has one)."""
    agencies = list(session.scalars(select(Agency).where(Agency.campaign_id == campaign_id).order_by(Agency.code)))
    faults = [fault for agency in agencies if (fault := _check_agency(session, agency)) is not None]
    return len(agencies), faults


@dataclass(frozen=True)
class Match:
    agency_id: int
    agency_code: str
    agency_name: str
    campaign_id: int
    at: datetime


def find_receipt(session: Session, receipt_hash: str, agency_ids: set[int] | None = None) -> Match | None:
    """The submission (or chain entry) whose hash this is, among ``agency_ids`` (None: every agency)."""
    text = receipt_hash.strip().lower()
    if len(text) != 64:
        return None
    found = session.execute(
        select(Agency.id, Agency.code, Agency.name, Agency.campaign_id, AuditEntry.at)
        .join(AuditEntry, AuditEntry.agency_id == Agency.id)
        .where(AuditEntry.hash == text, AuditEntry.kind == SUBMITTED)
    ).first()
    if found is None:
        found = session.execute(
            select(Agency.id, Agency.code, Agency.name, Agency.campaign_id, Submission.submitted_at)
            .join(Submission, Submission.agency_id == Agency.id)
            .where(Submission.receipt_hash == text)
        ).first()
    if found is None or (agency_ids is not None and found[0] not in agency_ids):
        return None
    return Match(*found)


class AuditLog:
    """Checking a receipt's hash for a person, within what they may see, for one unit of work."""

    def __init__(self, session: Session):
        self.session = session

    def check_for_agency(self, receipt_hash: str, agency_id: int) -> Match | None:
        return find_receipt(self.session, receipt_hash, {agency_id})

    def check_for_scope(self, receipt_hash: str, campaign_id: int, scope_agency_id: int | None) -> Match | None:
        return find_receipt(self.session, receipt_hash, agencies_in_scope(self.session, campaign_id, scope_agency_id))
