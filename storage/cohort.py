"""The cohort: the agencies whose answers other agencies' scores are measured against.

A rule normalised to the best, or read from a district's communes, reads only the cohort. Until a
coordinator freezes it, the cohort is every agency whose submission counts (submitted or verified;
a returned agency counts again once it resubmits). Freezing (at the deadline, say) marks the
agencies that count at that moment; from then on the cohort is exactly those agencies, with their
answers as they stand (a returned one corrects its answers and stays in it), and a late submission
is ranked but moves no other agency's score.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.models import Campaign, Submission
from storage.records import SUBMITTED_STATES

RANKED_STATES = SUBMITTED_STATES  # an agency gets a rank and a band once its submission counts


def counts(state: str) -> bool:
    """Whether an agency in this submission state is ranked (and, before a freeze, in the cohort)."""
    return state in RANKED_STATES


def in_cohort(state: str, marked: bool, frozen: bool) -> bool:
    return marked if frozen else counts(state)


def freeze(session: Session, campaign: Campaign, now: datetime) -> int:
    """Freeze the campaign's cohort as it stands now; the number of agencies in it. Every submission's
    revision moves on, so the scores are read again against the frozen cohort."""
    campaign.cohort_frozen_at = now
    marked = Submission.state.in_(RANKED_STATES)
    session.execute(
        update(Submission)
        .where(Submission.campaign_id == campaign.id)
        .values(in_cohort=marked, revision=Submission.revision + 1)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return session.scalar(
        select(func.count()).where(Submission.campaign_id == campaign.id, Submission.in_cohort.is_(True))
    )


def unfreeze(session: Session, campaign: Campaign) -> None:
    """The cohort follows the submissions again."""
    campaign.cohort_frozen_at = None
    session.execute(
        update(Submission)
        .where(Submission.campaign_id == campaign.id)
        .values(in_cohort=False, revision=Submission.revision + 1)
        .execution_options(synchronize_session=False)
    )
    session.flush()
