"""Evidence (minh chứng) an agency gave for its answers: uploaded files and photos, https links and
document references."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import audit
from storage.models import Evidence


@dataclass(frozen=True)
class EvidenceItem:
    """One piece of evidence as a person sees it listed."""

    id: int
    kind: str  # document | photo | reference | link
    file_name: str | None
    url: str | None
    reference: dict | None
    uploaded_at: datetime


class EvidenceStore:
    """The evidence of every agency, for one unit of work."""

    def __init__(self, session: Session):
        self.session = session

    def questions(self, agency_id: int) -> set[str]:
        """The questions the agency has given any evidence for."""
        return set(self.session.scalars(select(Evidence.question_id).where(Evidence.agency_id == agency_id)))

    def of_question(self, agency_id: int, question_id: str) -> list[EvidenceItem]:
        """The question's evidence, oldest first."""
        rows = self.session.execute(
            select(
                Evidence.id, Evidence.kind, Evidence.file_name, Evidence.url, Evidence.reference, Evidence.uploaded_at
            )
            .where(Evidence.agency_id == agency_id, Evidence.question_id == question_id)
            .order_by(Evidence.uploaded_at, Evidence.id)
        )
        return [EvidenceItem(*row) for row in rows]

    def of_agency(self, agency_id: int) -> dict[str, list[EvidenceItem]]:
        """Every question's evidence, oldest first, by question id."""
        rows = self.session.execute(
            select(
                Evidence.question_id,
                Evidence.id,
                Evidence.kind,
                Evidence.file_name,
                Evidence.url,
                Evidence.reference,
                Evidence.uploaded_at,
            )
            .where(Evidence.agency_id == agency_id)
            .order_by(Evidence.uploaded_at, Evidence.id)
        )
        found: dict[str, list[EvidenceItem]] = {}
        for question_id, *item in rows:
            found.setdefault(question_id, []).append(EvidenceItem(*item))
        return found

    def file(self, agency_id: int, evidence_id: int) -> tuple[str, dict] | None:
        """(question id, the file as a file question's answer) of one uploaded file of the agency."""
        row = self.session.get(Evidence, evidence_id)
        if row is None or row.agency_id != agency_id or row.file_id is None:
            return None
        answer = {"file_id": row.file_id, "file_name": row.file_name, "size": row.size, "mime_type": row.mime_type}
        return row.question_id, answer

    def remove(self, agency_id: int, evidence_id: int, *, by: int, at: datetime) -> bool:
        """Remove one piece of the agency's evidence; False if it has no such piece."""
        row = self.session.get(Evidence, evidence_id)
        if row is None or row.agency_id != agency_id:
            return False
        data = {"removed": row.kind, "file_unique_id": row.file_unique_id, "file_name": row.file_name, "url": row.url}
        self.session.delete(row)
        self.session.flush()
        audit.append(self.session, agency_id, audit.EVIDENCE, at=at, by=by, question_id=row.question_id, data=data)
        return True

    def add_link(self, agency_id: int, question_id: str, url: str, *, by: int, at: datetime) -> int:
        """Record an https link given as evidence (a page on the agency's portal, a shared folder)."""
        evidence = Evidence(
            agency_id=agency_id, question_id=question_id, kind="link", url=url, uploaded_by=by, uploaded_at=at
        )
        self.session.add(evidence)
        self.session.flush()
        data = {"kind": "link", "url": url}
        audit.append(self.session, agency_id, audit.EVIDENCE, at=at, by=by, question_id=question_id, data=data)
        return evidence.id

    def add_file(
        self,
        agency_id: int,
        question_id: str,
        *,
        kind: str,
        file_id: str,
        file_unique_id: str | None,
        file_name: str | None,
        size: int | None,
        mime_type: str | None,
        by: int,
        at: datetime,
    ) -> int:
        """Record an uploaded document or photo; its id, to note where the file was saved later."""
        evidence = Evidence(
            agency_id=agency_id,
            question_id=question_id,
            kind=kind,
            file_id=file_id,
            file_unique_id=file_unique_id,
            file_name=file_name,
            size=size,
            mime_type=mime_type,
            uploaded_by=by,
            uploaded_at=at,
        )
        self.session.add(evidence)
        self.session.flush()
        data = {"kind": kind, "file_unique_id": file_unique_id, "file_name": file_name, "size": size}
        audit.append(self.session, agency_id, audit.EVIDENCE, at=at, by=by, question_id=question_id, data=data)
        return evidence.id

    def add_reference(self, agency_id: int, question_id: str, reference: dict, *, by: int, at: datetime) -> None:
        """Record a document reference (số hiệu, ngày, trích yếu); its date is stored as ISO text."""
        stored = {k: v.isoformat() if isinstance(v, date) else v for k, v in reference.items()}
        self.session.add(
            Evidence(
                agency_id=agency_id,
                question_id=question_id,
                kind="reference",
                reference=stored,
                uploaded_by=by,
                uploaded_at=at,
            )
        )
        data = {"kind": "reference", "reference": stored}
        audit.append(self.session, agency_id, audit.EVIDENCE, at=at, by=by, question_id=question_id, data=data)

    def saved(self, evidence_id: int, path: str) -> None:
        evidence = self.session.get(Evidence, evidence_id)
        if evidence is not None:
            evidence.local_path = path
