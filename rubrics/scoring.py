"""Scoring a cohort of agencies that answer one rubric: points, subtotals, bands and ranks.

A top-level group is reported as Thừa Thiên Huế publishes it: max, excluded
(not applicable), applicable max, achieved, ratio = achieved ÷ applicable and
converted = ratio × max. The total is the sum of the converted group scores.
Every figure is an exact :class:`~decimal.Decimal` rounded half up to hundredths.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from rubrics.answers import NA, Answers
from rubrics.compiled import CompiledRubric
from rubrics.model import BandScheme, Item
from rubrics.rules import ZERO, Best, Children, children_rules, compile_rule, normalized_questions, quantize


@dataclass(slots=True)
class ItemScore:
    """An indicator's or a group's figures."""

    code: str
    title: str
    max: Decimal
    excluded: Decimal
    achieved: Decimal
    children: list[ItemScore] | None = None

    @property
    def applicable(self) -> Decimal:
        return self.max - self.excluded

    @property
    def not_applicable(self) -> bool:
        return self.max > 0 and self.excluded == self.max

    @property
    def percent(self) -> Decimal | None:
        """achieved ÷ applicable max, in percent; None when nothing applies."""
        applicable = self.max - self.excluded
        if applicable <= 0:
            return None
        return quantize(self.achieved * 100 / applicable)

    @property
    def exact_percent(self) -> Decimal | None:
        """achieved ÷ applicable max, in percent, unrounded (what a band reads)."""
        applicable = self.max - self.excluded
        return self.achieved * 100 / applicable if applicable > 0 else None

    @property
    def converted(self) -> Decimal:
        applicable = self.max - self.excluded
        if applicable <= 0:
            return ZERO
        return quantize(self.achieved * self.max / applicable)


@dataclass(slots=True)
class AgencyScore:
    """One agency's result: groups as published, the total (sum of converted group scores), band, rank."""

    key: Hashable
    groups: list[ItemScore]
    max: Decimal
    indicators: dict[str, ItemScore]
    total: Decimal = ZERO
    percent: Decimal = ZERO
    group_bands: dict[str, str | None] = field(default_factory=dict)
    band: str | None = None
    rank: int | None = None

    def __post_init__(self) -> None:
        total = ZERO
        for group in self.groups:
            total += group.converted
        self.total = total
        self.percent = quantize(self.total * 100 / self.max) if self.max else ZERO

    @property
    def achieved(self) -> Decimal:
        return sum((g.achieved for g in self.groups), ZERO)

    @property
    def excluded(self) -> Decimal:
        return sum((g.excluded for g in self.groups), ZERO)


@dataclass
class AgencyInput:
    """One agency to score: its answers and, for rules that read them, its children's answers by level."""

    key: Hashable
    answers: Answers
    children: Mapping[str, Sequence[Answers]] = field(default_factory=dict)


ItemScorer = Callable[[Answers, Best, Children, dict[str, ItemScore]], ItemScore]


class Scorer:
    """Scores agencies against one rubric. Build once per rubric; reuse for every cohort."""

    def __init__(self, rubric: CompiledRubric):
        self.rubric = rubric
        questions = {q.id: q for q in rubric.questions}
        self.rules = {item.code: compile_rule(item.rule, item.max, questions) for item in rubric.indicators}
        self.normalized = sorted({q for item in rubric.indicators for q in normalized_questions(item.rule)})
        self.child_levels = sorted({r.level for item in rubric.indicators for r in children_rules(item.rule)})
        self.total_banding = [banding(s) for s in rubric.rubric.bands if s.applies_to == "total"]
        self.group_banding = [banding(s) for s in rubric.rubric.bands if s.applies_to == "groups"]
        self.groups = [self._compile(group) for group in rubric.rubric.groups]

    def cohort_best(self, answer_sets: Iterable[Answers]) -> dict[str, Decimal]:
        """The highest answer per question read by a 'normalized' rule."""
        best: dict[str, Decimal] = {}
        for answers in answer_sets:
            for qid in self.normalized:
                answer = answers.get(qid)
                if answer is None or answer is NA:
                    continue
                value = Decimal(answer)
                if value > best.get(qid, ZERO):
                    best[qid] = value
        return best

    def _compile(self, item: Item) -> ItemScorer:
        """The item as a function of one agency, filling in its indicators' scores as it goes."""
        code, title, maximum = item.code, item.title, item.max
        if item.rule is not None:
            rule = self.rules[code]

            def indicator(answers: Answers, best: Best, children: Children, indicators: dict) -> ItemScore:
                points, excluded = rule(answers, best, children)
                score = indicators[code] = ItemScore(code, title, maximum, excluded, points)
                return score

            return indicator
        # an indicator below a group is scored in the group's loop, without a call of its own
        members = [
            (child.code, child.title, child.max, self.rules[child.code], None)
            if child.rule is not None
            else (None, None, None, None, self._compile(child))
            for child in item.children
        ]

        def group(answers: Answers, best: Best, children: Children, indicators: dict) -> ItemScore:
            scores = []
            excluded = achieved = ZERO
            for child_code, child_title, child_max, rule, subgroup in members:
                if subgroup is None:
                    points, out = rule(answers, best, children)
                    score = indicators[child_code] = ItemScore(child_code, child_title, child_max, out, points)
                    excluded += out
                    achieved += points
                else:
                    score = subgroup(answers, best, children, indicators)
                    excluded += score.excluded
                    achieved += score.achieved
                scores.append(score)
            return ItemScore(code, title, maximum, excluded, achieved, scores)

        return group

    def score(self, agency: AgencyInput, cohort_best: Mapping[str, Decimal]) -> AgencyScore:
        answers, children = agency.answers, agency.children
        indicators: dict[str, ItemScore] = {}
        groups = [group(answers, cohort_best, children, indicators) for group in self.groups]
        return self._banded(AgencyScore(agency.key, groups, self.rubric.max, indicators))

    def adjust(self, score: AgencyScore, points: Mapping[str, Decimal]) -> AgencyScore:
        """The verified score: ``score`` with the given indicators' points replaced (an adjusted
        indicator counts as applicable), subtotals, total and bands recomputed."""
        indicators: dict[str, ItemScore] = {}

        def rebuilt(item: ItemScore) -> ItemScore:
            if item.children is None:
                if item.code in points:
                    item = ItemScore(item.code, item.title, item.max, ZERO, points[item.code])
                indicators[item.code] = item
                return item
            children = [rebuilt(child) for child in item.children]
            excluded = sum((c.excluded for c in children), ZERO)
            achieved = sum((c.achieved for c in children), ZERO)
            return ItemScore(item.code, item.title, item.max, excluded, achieved, children)

        groups = [rebuilt(group) for group in score.groups]
        return self._banded(AgencyScore(score.key, groups, score.max, indicators))

    def _banded(self, result: AgencyScore) -> AgencyScore:
        """Bands read the exact percentages; only what is shown is rounded (240,01/300 is 80,0033 %, not 80 %)."""
        for band in self.group_banding:
            for group in result.groups:
                result.group_bands[group.code] = band(group.exact_percent)
        for band in self.total_banding:
            result.band = band(result.total * 100 / result.max if result.max else ZERO)
        return result

    def score_cohort(self, agencies: Sequence[AgencyInput], *, relevance: bool = True) -> list[AgencyScore]:
        """Score and rank every agency of one level. With ``relevance`` the answers of
        questions that skip logic makes irrelevant are dropped first."""
        if relevance:
            effective = self.rubric.relevance.effective
            agencies = [AgencyInput(a.key, effective(a.answers), a.children) for a in agencies]
        best = self.cohort_best(a.answers for a in agencies)
        scores = [self.score(a, best) for a in agencies]
        rank(scores)
        return scores


def banding(scheme: BandScheme) -> Callable[[Decimal | None], str | None]:
    """The scheme as a function of an exact percentage: the label of the band it falls in, or None."""
    bounds = [(band.from_, band.to, low_in, high_in, band.label) for band, low_in, high_in in scheme.bounds()]

    def band_of_percent(percent: Decimal | None) -> str | None:
        if percent is None:
            return None
        for low, high, low_in, high_in, label in bounds:
            if (low < percent or (low_in and percent == low)) and (percent < high or (high_in and percent == high)):
                return label
        return None

    return band_of_percent


def band_of(scheme: BandScheme, percent: Decimal | None) -> str | None:
    return banding(scheme)(percent)


def rank(scores: list[AgencyScore], key=lambda s: s.total) -> None:
    """Rank highest first; equal scores share a rank (1, 2, 2, 4)."""
    ordered = sorted(scores, key=key, reverse=True)
    previous, previous_rank = None, 0
    for position, score in enumerate(ordered, start=1):
        value = key(score)
        if value != previous:
            previous, previous_rank = value, position
        score.rank = previous_rank
