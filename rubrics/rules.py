"""Scoring rules: which questions a rule reads, and the points it gives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from rubrics.answers import Answers, numeric
from rubrics.conditions import holds
from rubrics.model import (
    BasePlusRule,
    ChildrenShareRule,
    NormalizedRule,
    OptionRule,
    PerUnitRule,
    Question,
    RatioRule,
    Rule,
    SumRule,
    TiersRule,
    YesNoRule,
)

CENT = Decimal("0.01")
ZERO = Decimal(0)


def quantize(value: Decimal) -> Decimal:
    """Round to hundredths, half up, as official score tables do."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def rule_questions(rule: Rule) -> set[str]:
    """The questions of the agency's own rubric that a rule reads."""
    if isinstance(rule, SumRule):
        return set().union(*(rule_questions(p.rule) for p in rule.parts))
    if isinstance(rule, RatioRule):
        return {rule.numerator} | ({rule.denominator} if rule.denominator else set())
    if isinstance(rule, BasePlusRule):
        return {rule.question} | {a.question for a in rule.add_ons}
    if isinstance(rule, ChildrenShareRule):
        return set()
    return {rule.question}


@dataclass
class Context:
    """What a rule may read besides the agency's own answers."""

    answers: Answers
    questions: Mapping[str, Question]
    cohort_best: Mapping[str, Decimal] = field(default_factory=dict)
    children: Mapping[str, Sequence[Answers]] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    points: Decimal
    excluded: Decimal  # the max taken out of the applicable max when not applicable

    @property
    def not_applicable(self) -> bool:
        return self.excluded > 0


def evaluate(rule: Rule, maximum: Decimal, ctx: Context) -> Outcome:
    if isinstance(rule, SumRule):
        outcomes = [evaluate(part.rule, part.max, ctx) for part in rule.parts]
        return Outcome(sum((o.points for o in outcomes), ZERO), sum((o.excluded for o in outcomes), ZERO))
    if isinstance(rule, ChildrenShareRule):
        children = ctx.children.get(rule.level, ())
        if not children:
            return _na(maximum) if rule.on_none == "not_applicable" else Outcome(ZERO, ZERO)
        share = Decimal(sum(1 for child in children if holds(rule.where, child))) / len(children)
        return Outcome(quantize(share * maximum), ZERO)
    read = rule_questions(rule) - ({a.question for a in rule.add_ons} if isinstance(rule, BasePlusRule) else set())
    if any(ctx.answers.get(q) is not None and ctx.answers[q].not_applicable for q in read):
        return _na(maximum)
    points = _points(rule, maximum, ctx)
    if points is None:
        return _na(maximum)
    return Outcome(quantize(min(points, maximum)), ZERO)


def _na(maximum: Decimal) -> Outcome:
    return Outcome(ZERO, maximum)


def _value(ctx: Context, question_id: str) -> Decimal | None:
    answer = ctx.answers.get(question_id)
    if answer is None or answer.not_applicable:
        return None
    return numeric(ctx.questions[question_id], answer.value)


def _raw(ctx: Context, question_id: str):
    answer = ctx.answers.get(question_id)
    return None if answer is None or answer.not_applicable else answer.value


def _option_points(points, maximum: Decimal) -> Decimal:
    return {"full": maximum, "half": maximum / 2, "none": ZERO}.get(points, points) \
        if isinstance(points, str) else points


def _points(rule: Rule, maximum: Decimal, ctx: Context) -> Decimal | None:
    """Points before capping; None means not applicable (a ratio over zero, by choice)."""
    if isinstance(rule, YesNoRule):
        value = _raw(ctx, rule.question)
        if value is True:
            return maximum if rule.points_yes is None else rule.points_yes
        return rule.points_no if value is False else ZERO
    if isinstance(rule, OptionRule):
        value = _raw(ctx, rule.question)
        chosen = value if isinstance(value, list) else ([value] if value is not None else [])
        return sum((_option_points(rule.points.get(v, ZERO), maximum) for v in chosen), ZERO)
    if isinstance(rule, RatioRule):
        top = _value(ctx, rule.numerator)
        if rule.denominator is None:
            return ZERO if top is None else top / 100 * maximum
        bottom = _value(ctx, rule.denominator)
        if bottom == 0:
            return {"zero": ZERO, "full": maximum, "not_applicable": None}[rule.on_zero]
        if top is None or bottom is None:
            return ZERO
        return min(top / bottom, Decimal(1)) * maximum
    if isinstance(rule, TiersRule):
        value = _value(ctx, rule.question)
        if value is None:
            return ZERO
        reached = [t.points for t in rule.tiers if value >= t.min]
        return max(reached) if reached else rule.otherwise
    if isinstance(rule, PerUnitRule):
        value = _value(ctx, rule.question)
        cap = maximum if rule.cap is None else rule.cap
        return ZERO if value is None else min(value * rule.points_per_unit, cap)
    if isinstance(rule, NormalizedRule):
        value = _value(ctx, rule.question)
        best = ctx.cohort_best.get(rule.question)
        if value is None or not best:
            return ZERO
        return min(value / best, Decimal(1)) * maximum
    if isinstance(rule, BasePlusRule):
        if _raw(ctx, rule.question) is not True:
            return ZERO
        total = rule.base
        for add_on in rule.add_ons:
            value = _raw(ctx, add_on.question)
            met = (add_on.option in value if isinstance(value, list) else value == add_on.option) \
                if add_on.option else value is True
            total += add_on.points if met else ZERO
        return total
    raise TypeError(f"unhandled rule {type(rule).__name__}")


def normalized_questions(rule: Rule) -> set[str]:
    """The questions read relative to the cohort's best value."""
    if isinstance(rule, SumRule):
        return set().union(*(normalized_questions(p.rule) for p in rule.parts))
    return {rule.question} if isinstance(rule, NormalizedRule) else set()


def children_rules(rule: Rule) -> list[ChildrenShareRule]:
    if isinstance(rule, SumRule):
        return [r for p in rule.parts for r in children_rules(p.rule)]
    return [rule] if isinstance(rule, ChildrenShareRule) else []
