"""An agency's submission: submitting its answers with a receipt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from storage.models import Submission
from storage.records import SUBMITTED, SubmissionRecord


class Submissions:
    def __init__(self, session: Session):
        self.session = session

    def submit(self, submission: SubmissionRecord, receipt_hash: str, now: datetime) -> None:
        """Mark the submission submitted with the receipt's hash; the record follows the row."""
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
