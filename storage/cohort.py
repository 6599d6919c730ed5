"""The cohort: the agencies whose answers other agencies' scores are measured against.

A rule normalised to the best, or read from a district's communes, reads only the cohort. Until a
coordinator freezes it, the cohort is every agency whose submission counts (submitted or verified;
a returned agency counts again once it resubmits). Freezing (at the deadline, say) marks the
agencies that count at that moment; from then on the cohort is exactly those agencies, with their
answers as they stand (a returned one corrects its answers and stays in it), and a late submission
is ranked but moves no other agency's score.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from rubrics.answers import Answers
from storage.answers import load_many
from storage.campaigns import rubrics_by_level
from storage.models import Agency, Campaign, Submission
from storage.records import SUBMITTED_STATES

RANKED_STATES = SUBMITTED_STATES  # an agency gets a rank and a band once its submission counts


def counts(state: str) -> bool:
    """Whether an agency in this submission state is ranked (and, before a freeze, in the cohort)."""
    return state in RANKED_STATES


def in_cohort(state: str, marked: bool, frozen: bool) -> bool:
    return marked if frozen else counts(state)


def children_answers(session: Session, campaign: Campaign, parent_id: int, levels: Iterable[str]) -> dict[str, list]:
    """The answers that count (skip logic applied) of the agency's children in the cohort, by level: what a
    rule adding up a district's communes reads, exactly as the campaign's reports read it."""
    wanted = set(levels)
    rubrics = {level: rubric for level, rubric in rubrics_by_level(campaign).items() if level in wanted}
    rows = session.execute(
        select(Agency.id, Agency.level, Submission.state, Submission.in_cohort)
        .join(Submission, Submission.agency_id == Agency.id)
        .where(Agency.parent_id == parent_id, Agency.level.in_(rubrics))
        .order_by(Agency.code)
    ).all()
    frozen = campaign.cohort_frozen_at is not None
    counted = {row.id: row.level for row in rows if in_cohort(row.state, row.in_cohort, frozen)}
    loaded = load_many(session, {agency_id: rubrics[level] for agency_id, level in counted.items()})
    found: dict[str, list[Answers]] = {level: [] for level in rubrics}
    for agency_id, level in counted.items():
        found[level].append(rubrics[level].relevance.effective(loaded[agency_id]))
    return found


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
