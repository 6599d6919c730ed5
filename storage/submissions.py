"""An agency's submission: submitting its answers with a receipt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from storage import audit
from storage.models import Submission
from storage.records import SUBMITTED, SubmissionRecord


class Submissions:
    def __init__(self, session: Session):
        self.session = session

    def submit(self, submission: SubmissionRecord, answers_hash: str, now: datetime, by: int | None = None) -> None:
        """Mark the submission submitted; its receipt's hash is the head of the agency's audit chain, whose
        last entry holds ``answers_hash`` (the answers' own hash). The record follows the row."""
        receipt_hash = audit.append(
            self.session, submission.agency_id, audit.SUBMITTED, at=now, by=by, data={"answers": answers_hash}
        )
        submission.state, submission.submitted_at, submission.receipt_hash = SUBMITTED, now, receipt_hash
        submission.revision += 1
        self.session.execute(
            update(Submission)
            .where(Submission.id == submission.id)
            .values(
                state=SUBMITTED,
                submitted_at=now,
                updated_at=now,
                receipt_hash=receipt_hash,
                revision=Submission.revision + 1,
            )
        )
