"""Evidence (minh chứng) an agency gave for its answers: uploaded files and photos, and document references."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import audit
from storage.models import Evidence


class EvidenceStore:
    """The evidence of every agency, for one unit of work."""

    def __init__(self, session: Session):
        self.session = session

    def questions(self, agency_id: int) -> set[str]:
        """The questions the agency has given any evidence for."""
        return set(self.session.scalars(select(Evidence.question_id).where(Evidence.agency_id == agency_id)))

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
