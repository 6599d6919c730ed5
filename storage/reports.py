"""Scores and rankings of a campaign, read from the database and scored per level.

A :class:`Scoreboard` keeps each campaign's answers and scores in process memory and refreshes only
what changed. Every answer, submission and verification bumps the submission's revision, so a
refresh reloads just the agencies whose revision moved and rescores them and their parents (whose
indicators may read their children); a whole level is rescored only when a cohort-relative best
value moved. Reports carry the self-assessed score, the verified score where there is one (ranks
use it), and the same agency's score in the previous campaign of the same rubric family.

Only agencies whose submission counts are ranked and banded; the others keep their provisional
figures, with no rank and no band, and are listed after the ranked ones with their progress.
Rules that read other agencies (the best value, a district's communes) read only the cohort
(:mod:`storage.cohort`): a draft never changes another agency's score.

The scores of a campaign are hundreds of thousands of small objects that live as long as the
scoreboard. They are built with the cyclic garbage collector paused, and after a large build they
are frozen out of its generations (:func:`gc.freeze`), so no later collection rescans them.
"""

from __future__ import annotations

import gc
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, aliased

from rubrics.answers import Answers
from rubrics.compiled import CompiledRubric
from rubrics.conditions import holds
from rubrics.scoring import AgencyInput, AgencyScore, Scorer, rank
from storage import answers as answer_store
from storage.campaigns import rubrics_by_level
from storage.cohort import counts, in_cohort
from storage.models import Agency, Campaign, CampaignLevel, StoredRubric, Submission
from storage.records import VERIFIED
from storage.verification import adjustments_of


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
    revision: int = 0
    in_cohort: bool = False


@dataclass
class AgencyReport:
    agency: AgencyRow
    score: AgencyScore
    answers: dict[str, Any]
    verified: AgencyScore | None = None
    previous: AgencyScore | None = None
    progress: tuple[int, int] | None = None  # (answered, relevant) questions of an agency not ranked

    @property
    def ranked(self) -> bool:
        """Whether the agency's submission counts: it has a rank and a band."""
        return counts(self.agency.state)

    @property
    def effective(self) -> AgencyScore:
        """The score that ranks the agency: the verified one where there is one, else the self-assessed one."""
        return self.verified or self.score

    @property
    def change(self) -> Decimal | None:
        """The change of the total since the previous campaign of the same rubric family."""
        return None if self.previous is None else self.effective.total - self.previous.total

    def group_change(self, code: str) -> Decimal | None:
        before = {g.code: g.converted for g in self.previous.groups} if self.previous else {}
        now = {g.code: g.converted for g in self.effective.groups}
        return now[code] - before[code] if code in before and code in now else None


@dataclass
class LevelReport:
    level: str
    rubric: CompiledRubric
    agencies: list[AgencyReport] = field(default_factory=list)
    previous_campaign: str | None = None

    def ranked(self) -> list[AgencyReport]:
        """Every agency: the ranked ones by rank, then those not ranked (not submitted) by code."""
        return self.standing() + self.unranked()

    def standing(self) -> list[AgencyReport]:
        """The agencies whose submission counts, by rank."""
        return sorted((r for r in self.agencies if r.ranked), key=lambda r: (r.effective.rank, r.agency.code))

    def unranked(self) -> list[AgencyReport]:
        """The agencies that have not submitted, by code: no rank, no band."""
        return sorted((r for r in self.agencies if not r.ranked), key=lambda r: r.agency.code)


def answered(rubric: CompiledRubric, effective: Answers) -> tuple[int, int]:
    """(answered, relevant) questions, from the answers that count."""
    relevant = [s.question.id for s in rubric.steps if s.question.when is None or holds(s.question.when, effective)]
    return sum(1 for qid in relevant if qid in effective), len(relevant)


def agency_rows(session: Session, campaign_id: int) -> list[AgencyRow]:
    """The campaign's agencies with their submissions, by level and code (plain rows, no ORM objects)."""
    parent = aliased(Agency)
    if session.autoflush:
        session.flush()  # as a query through the session would; the rows are read on its connection, without the ORM
    statement = (
        select(
            Agency.id,
            Agency.code,
            Agency.name,
            Agency.level,
            Agency.parent_id,
            parent.code,
            Submission.state,
            Submission.submitted_at,
            Submission.revision,
            Submission.in_cohort,
        )
        .join(Submission, Submission.agency_id == Agency.id)
        .outerjoin(parent, parent.id == Agency.parent_id)
        .where(Agency.campaign_id == campaign_id)
        .order_by(Agency.level, Agency.code)
    )
    return [AgencyRow(*row) for row in session.connection().execute(statement).all()]


FREEZE_AFTER = 1000  # agencies rescored in one refresh that make it a large build


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


def freeze_long_lived() -> None:
    """Move every object alive now out of the cyclic collector's generations, after a large build:
    later collections no longer scan the scores (at 12 000 agencies a full pass took up to 1 s).
    Reference counting still frees them when a refresh replaces them. The price is that a
    reference cycle alive at this moment is never collected; the few such objects (the request's
    session) are leaked once per large build, not per request."""
    gc.freeze()


class _CampaignScores:
    """One campaign's answers and self-assessed scores as last read, by agency id."""

    def __init__(self, campaign: Campaign):
        self.rubrics = rubrics_by_level(campaign)
        self.scorers = {level: Scorer(rubric) for level, rubric in self.rubrics.items()}
        self.revisions: dict[int, int] = {}
        self.parents: dict[int, int | None] = {}
        self.answers: dict[int, dict[str, Any]] = {}
        self.effective: dict[int, Answers] = {}
        self.scores: dict[int, AgencyScore] = {}
        self.best: dict[str, dict] = {}

    def refresh(
        self, session: Session, campaign_id: int, frozen: bool = False
    ) -> tuple[dict[str, list[AgencyRow]], int]:
        """The campaign's agencies by level, in code order, and how many of them were rescored. The best
        values and the children that rules read come from the cohort only."""
        rows = [row for row in agency_rows(session, campaign_id) if row.level in self.rubrics]
        cohort = {row.id for row in rows if in_cohort(row.state, row.in_cohort, frozen)}
        by_id = {row.id: row for row in rows}
        gone = self.revisions.keys() - by_id.keys()
        # a district's indicators read its communes: it is rescored when one changes, leaves or moves away
        regrouped = {self.parents.get(i) for i in gone}
        for row in rows:
            if self.parents.get(row.id, row.parent_id) != row.parent_id:
                regrouped |= {self.parents[row.id], row.parent_id}
        for agency_id in gone:
            for held in (self.revisions, self.parents, self.answers, self.effective, self.scores):
                held.pop(agency_id, None)
        changed = {row.id for row in rows if self.revisions.get(row.id) != row.revision}
        self.parents.update((row.id, row.parent_id) for row in rows)
        loaded = answer_store.load_many(session, {i: self.rubrics[by_id[i].level] for i in changed})
        for agency_id, answers in loaded.items():
            row = by_id[agency_id]
            self.answers[agency_id] = answers
            self.effective[agency_id] = self.rubrics[row.level].relevance.effective(answers)
            self.revisions[agency_id] = row.revision
        members: dict[str, list[AgencyRow]] = {level: [] for level in self.rubrics}
        for row in rows:
            members[row.level].append(row)
        moved = set(self.rubrics) if gone else {by_id[i].level for i in changed}
        dirty = changed | {by_id[i].parent_id for i in changed} | regrouped
        redo: dict[str, list[int]] = {}
        for level, scorer in self.scorers.items():
            ids = [row.id for row in members[level]]
            if level in moved or level not in self.best:
                best = scorer.cohort_best(self.effective[i] for i in ids if i in cohort)
            else:
                best = self.best[level]  # no answer of the level changed, so neither did its best values
            if best != self.best.get(level):
                self.best[level], redo[level] = best, ids
            else:
                redo[level] = [i for i in ids if i in dirty or i not in self.scores]
        rescored = {i for ids in redo.values() for i in ids}
        children: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for row in rows:
            if row.parent_id in rescored and row.id in cohort:
                children[row.parent_id][row.level].append(self.effective[row.id])
        for level, ids in redo.items():
            scorer, best = self.scorers[level], self.best[level]
            for agency_id in ids:
                given = AgencyInput(agency_id, self.effective[agency_id], children.get(agency_id, {}))
                self.scores[agency_id] = scorer.score(given, best)
        return members, len(rescored)


class Scoreboard:
    """Campaign reports, kept per process and refreshed from the database on every call."""

    def __init__(self) -> None:
        self._campaigns: dict[int, _CampaignScores] = {}
        self._lock = threading.RLock()

    def report(
        self, session: Session, campaign: Campaign, levels: list[str] | None = None, *, compare: bool = True
    ) -> dict[str, LevelReport]:
        """Every agency of the campaign (or of the named levels) scored and ranked within its level;
        with ``compare``, each agency also carries its score in the previous campaign of the family."""
        with self._lock, cyclic_gc_paused():
            held = self._campaigns.get(campaign.id)
            if held is None:
                held = self._campaigns[campaign.id] = _CampaignScores(campaign)
            members, rescored = held.refresh(session, campaign.id, campaign.cohort_frozen_at is not None)
            adjustments = adjustments_of(session, campaign.id)
            reports = {}
            for level, rows in members.items():
                if levels and level not in levels:
                    continue
                scorer, scores, answers = held.scorers[level], held.scores, held.answers
                report = LevelReport(level, held.rubrics[level])
                rubric = held.rubrics[level]
                for row in rows:
                    score = scores[row.id]
                    if not counts(row.state):
                        unranked = replace(score, band=None, group_bands={}, rank=None)
                        progress = answered(rubric, held.effective[row.id])
                        report.agencies.append(AgencyReport(row, unranked, answers[row.id], progress=progress))
                        continue
                    verified = None
                    if row.state == VERIFIED or row.id in adjustments:
                        verified, score.rank = scorer.adjust(score, adjustments.get(row.id, {})), None
                    report.agencies.append(AgencyReport(row, score, answers[row.id], verified))
                rank([entry.effective for entry in report.agencies if entry.ranked])
                if compare:
                    self._compare(session, campaign, report)
                reports[level] = report
            if rescored >= FREEZE_AFTER:
                freeze_long_lived()
            return reports

    def _compare(self, session: Session, campaign: Campaign, report: LevelReport) -> None:
        earlier = previous_campaign(session, campaign, report.level)
        if earlier is None:
            return
        before = self.report(session, earlier, [report.level], compare=False).get(report.level)
        if before is None:
            return
        report.previous_campaign = earlier.name
        by_code = {entry.agency.code: entry.effective for entry in before.agencies}
        for entry in report.agencies:
            entry.previous = by_code.get(entry.agency.code)


def previous_campaign(session: Session, campaign: Campaign, level: str) -> Campaign | None:
    """The latest earlier campaign whose rubric for ``level`` is of the same family."""
    return previous_campaign_of(session, campaign.id, level)


def previous_campaign_of(session: Session, campaign_id: int, level: str) -> Campaign | None:
    """:func:`previous_campaign` of the campaign ``campaign_id``: the answer path asks it at every update (to show
    last year's answer), so its statement is built once and reads only an id; the campaign row is then loaded
    only when there is one."""
    found = session.scalar(_previous_statement(), {"campaign_id": campaign_id, "level": level})
    return session.get(Campaign, found) if found is not None else None


@cache
def _previous_statement():
    campaign_id, level = bindparam("campaign_id"), bindparam("level")
    family = (
        select(StoredRubric.family)
        .join(CampaignLevel, CampaignLevel.rubric_pk == StoredRubric.id)
        .where(CampaignLevel.campaign_id == campaign_id, CampaignLevel.level == level)
        .scalar_subquery()
    )
    deadline = select(Campaign.deadline).where(Campaign.id == campaign_id).scalar_subquery()
    return (
        select(Campaign.id)
        .join(CampaignLevel, CampaignLevel.campaign_id == Campaign.id)
        .join(StoredRubric, StoredRubric.id == CampaignLevel.rubric_pk)
        .where(
            CampaignLevel.level == level,
            StoredRubric.family == family,
            Campaign.id != campaign_id,
            Campaign.deadline < deadline,
        )
        .order_by(Campaign.deadline.desc())
        .limit(1)
    )


def campaign_report(session: Session, campaign: Campaign, levels: list[str] | None = None) -> dict[str, LevelReport]:
    """A one-off report (the command line); a long-running process keeps a :class:`Scoreboard`."""
    return Scoreboard().report(session, campaign, levels)


def restrict(reports: dict[str, LevelReport], agency_ids: set[int]) -> dict[str, LevelReport]:
    """The same reports with only the given agencies (a coordinator's scope); ranks stay campaign-wide."""
    restricted = {}
    for level, report in reports.items():
        kept = [a for a in report.agencies if a.agency.id in agency_ids]
        if kept:
            restricted[level] = LevelReport(level, report.rubric, kept, report.previous_campaign)
    return restricted
