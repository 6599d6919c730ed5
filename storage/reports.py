"""Scores and rankings of a campaign, read from the database and scored per level."""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from rubrics.compiled import CompiledRubric
from rubrics.conditions import effective
from rubrics.scoring import AgencyInput, AgencyScore, Scorer
from storage import answers as answer_store
from storage.campaigns import rubrics_by_level
from storage.models import Agency, Campaign, Submission


@dataclass
class AgencyRow:
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    parent_code: str | None
    state: str
    submitted_at: datetime | None


@dataclass
class AgencyReport:
    agency: AgencyRow
    score: AgencyScore
    answers: dict[str, Any]

    @property
    def effective(self) -> AgencyScore:
        """The score that ranks the agency: the verified one where there is one, else the self-assessed one."""
        return self.score


@dataclass
class LevelReport:
    level: str
    rubric: CompiledRubric
    agencies: list[AgencyReport] = field(default_factory=list)

    def ranked(self) -> list[AgencyReport]:
        return sorted(self.agencies, key=lambda r: (r.score.rank, r.agency.code))


def agency_rows(session: Session, campaign_id: int) -> list[AgencyRow]:
    parent = aliased(Agency)
    rows = session.execute(
        select(
            Agency.id,
            Agency.code,
            Agency.name,
            Agency.level,
            Agency.parent_id,
            parent.code,
            Submission.state,
            Submission.submitted_at,
        )
        .join(Submission, Submission.agency_id == Agency.id)
        .outerjoin(parent, parent.id == Agency.parent_id)
        .where(Agency.campaign_id == campaign_id)
        .order_by(Agency.level, Agency.code)
    )
    return [AgencyRow(*row) for row in rows]


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Scoring builds hundreds of thousands of small acyclic objects; Python's cycle
    collector would rescan them again and again (half the time of a 12 000-agency
    report). Reference counting still frees them; the collector resumes afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def campaign_report(session: Session, campaign: Campaign, levels: list[str] | None = None) -> dict[str, LevelReport]:
    """Every agency of the campaign (or of the named levels) scored, ranked within its level."""
    with cyclic_gc_paused():
        return _campaign_report(session, campaign, levels)


def _campaign_report(session: Session, campaign: Campaign, levels: list[str] | None) -> dict[str, LevelReport]:
    rubrics = rubrics_by_level(campaign)
    rows = agency_rows(session, campaign.id)
    wanted = set(levels) if levels else set(rubrics)
    scorers = {level: Scorer(rubric) for level, rubric in rubrics.items()}
    needed_levels = set(wanted)
    for level in wanted:
        needed_levels |= set(scorers[level].child_levels)
    rubric_of = {row.id: rubrics[row.level] for row in rows if row.level in needed_levels and row.level in rubrics}
    stored = answer_store.load_many(session, rubric_of)
    effective_answers = {aid: effective(rubric_of[aid], a) for aid, a in stored.items()}

    children: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if row.parent_id is not None and row.id in effective_answers:
            children[row.parent_id][row.level].append(effective_answers[row.id])

    reports: dict[str, LevelReport] = {}
    for level in [lv for lv in rubrics if lv in wanted]:
        members = [row for row in rows if row.level == level]
        inputs = [AgencyInput(row.id, effective_answers[row.id], children.get(row.id, {})) for row in members]
        scores = scorers[level].score_cohort(inputs, relevance=False)
        report = LevelReport(level, rubrics[level])
        report.agencies = [AgencyReport(row, score, stored[row.id]) for row, score in zip(members, scores)]
        reports[level] = report
    return reports


def restrict(reports: dict[str, LevelReport], agency_ids: set[int]) -> dict[str, LevelReport]:
    """The same reports with only the given agencies (a coordinator's scope); ranks stay campaign-wide."""
    restricted = {}
    for level, report in reports.items():
        kept = [a for a in report.agencies if a.agency.id in agency_ids]
        if kept:
            restricted[level] = LevelReport(level, report.rubric, kept)
    return restricted
