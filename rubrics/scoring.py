"""Scoring a cohort of agencies that answer one rubric: points, subtotals, bands and ranks.

A top-level group is reported as Thừa Thiên Huế publishes it: max, excluded
(not applicable), applicable max, achieved, ratio = achieved ÷ applicable and
converted = ratio × max. The total is the sum of the converted group scores.
Every figure is an exact :class:`~decimal.Decimal` rounded half up to hundredths.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from rubrics.answers import Answers
from rubrics.compiled import CompiledRubric
from rubrics.conditions import effective
from rubrics.model import BandScheme, Item
from rubrics.rules import ZERO, Context, children_rules, evaluate, normalized_questions, quantize


@dataclass
class ItemScore:
    """An indicator's or a group's figures."""

    code: str
    title: str
    max: Decimal
    excluded: Decimal
    achieved: Decimal
    children: list[ItemScore] = field(default_factory=list)

    @property
    def applicable(self) -> Decimal:
        return self.max - self.excluded

    @property
    def not_applicable(self) -> bool:
        return self.max > 0 and self.excluded == self.max

    @property
    def percent(self) -> Decimal | None:
        """achieved ÷ applicable max, in percent; None when nothing applies."""
        if self.applicable <= 0:
            return None
        return quantize(self.achieved * 100 / self.applicable)

    @property
    def converted(self) -> Decimal:
        if self.applicable <= 0:
            return ZERO
        return quantize(self.achieved * self.max / self.applicable)


@dataclass
class AgencyScore:
    key: Hashable
    groups: list[ItemScore]
    max: Decimal
    indicators: dict[str, ItemScore]
    group_bands: dict[str, str | None] = field(default_factory=dict)
    band: str | None = None
    rank: int | None = None

    @property
    def total(self) -> Decimal:
        return sum((g.converted for g in self.groups), ZERO)

    @property
    def achieved(self) -> Decimal:
        return sum((g.achieved for g in self.groups), ZERO)

    @property
    def excluded(self) -> Decimal:
        return sum((g.excluded for g in self.groups), ZERO)

    @property
    def percent(self) -> Decimal:
        return quantize(self.total * 100 / self.max) if self.max else ZERO


@dataclass
class AgencyInput:
    """One agency to score: its answers and, for rules that read them, its children's answers by level."""

    key: Hashable
    answers: Answers
    children: Mapping[str, Sequence[Answers]] = field(default_factory=dict)


class Scorer:
    """Scores agencies against one rubric. Build once per rubric; reuse for every cohort."""

    def __init__(self, rubric: CompiledRubric):
        self.rubric = rubric
        self.questions = {q.id: q for q in rubric.questions}
        self.normalized = sorted({q for item in rubric.indicators for q in normalized_questions(item.rule)})
        self.child_levels = sorted({r.level for item in rubric.indicators for r in children_rules(item.rule)})
        self.total_schemes = [s for s in rubric.rubric.bands if s.applies_to == "total"]
        self.group_schemes = [s for s in rubric.rubric.bands if s.applies_to == "groups"]

    def cohort_best(self, answer_sets: Iterable[Answers]) -> dict[str, Decimal]:
        """The highest answer per question read by a 'normalized' rule."""
        best: dict[str, Decimal] = {}
        for answers in answer_sets:
            for qid in self.normalized:
                answer = answers.get(qid)
                if answer is None or answer.not_applicable or answer.value is None:
                    continue
                value = Decimal(answer.value)
                if value > best.get(qid, ZERO):
                    best[qid] = value
        return best

    def score(self, agency: AgencyInput, cohort_best: Mapping[str, Decimal]) -> AgencyScore:
        ctx = Context(agency.answers, self.questions, cohort_best, agency.children)
        indicators: dict[str, ItemScore] = {}

        def visit(item: Item) -> ItemScore:
            if item.rule is not None:
                outcome = evaluate(item.rule, item.max, ctx)
                score = ItemScore(item.code, item.title, item.max, outcome.excluded, outcome.points)
                indicators[item.code] = score
                return score
            children = [visit(child) for child in item.children]
            return ItemScore(item.code, item.title, item.max,
                             sum((c.excluded for c in children), ZERO),
                             sum((c.achieved for c in children), ZERO), children)

        groups = [visit(group) for group in self.rubric.rubric.groups]
        result = AgencyScore(agency.key, groups, self.rubric.max, indicators)
        for scheme in self.group_schemes:
            for group in groups:
                result.group_bands[group.code] = band_of(scheme, group.percent)
        for scheme in self.total_schemes:
            result.band = band_of(scheme, result.percent)
        return result

    def score_cohort(self, agencies: Sequence[AgencyInput], *, relevance: bool = True) -> list[AgencyScore]:
        """Score and rank every agency of one level. With ``relevance`` the answers of
        questions that skip logic makes irrelevant are dropped first."""
        if relevance:
            agencies = [AgencyInput(a.key, effective(self.rubric, a.answers), a.children) for a in agencies]
        best = self.cohort_best(a.answers for a in agencies)
        scores = [self.score(a, best) for a in agencies]
        rank(scores)
        return scores


def band_of(scheme: BandScheme, percent: Decimal | None) -> str | None:
    if percent is None:
        return None
    ordered = sorted(scheme.bands, key=lambda b: b.from_)
    for index, band in enumerate(ordered):
        first, last = index == 0, index == len(ordered) - 1
        if scheme.inclusive == "lower":
            inside = band.from_ <= percent and (percent < band.to or (last and percent <= band.to))
        else:
            inside = (band.from_ < percent or (first and percent >= band.from_)) and percent <= band.to
        if inside:
            return band.label
    return None


def rank(scores: list[AgencyScore], key=lambda s: s.total) -> None:
    """Rank highest first; equal scores share a rank (1, 2, 2, 4)."""
    ordered = sorted(scores, key=key, reverse=True)
    previous, previous_rank = None, 0
    for position, score in enumerate(ordered, start=1):
        value = key(score)
        if value != previous:
            previous, previous_rank = value, position
        score.rank = previous_rank
