"""Scoring rules: which questions a rule reads, and the points it gives.

Each rule is compiled once per rubric into a function of one agency's answers,
so that scoring thousands of agencies does no per-call dispatch on rule types.
A compiled rule returns ``(points, excluded)``: ``excluded`` is the max taken
out of the applicable max when the rule does not apply to the agency.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from rubrics.answers import NA, Answers
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
ONE = Decimal(1)


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


def normalized_questions(rule: Rule) -> set[str]:
    """The questions read relative to the cohort's best value."""
    if isinstance(rule, SumRule):
        return set().union(*(normalized_questions(p.rule) for p in rule.parts))
    return {rule.question} if isinstance(rule, NormalizedRule) else set()


def children_rules(rule: Rule) -> list[ChildrenShareRule]:
    if isinstance(rule, SumRule):
        return [r for p in rule.parts for r in children_rules(p.rule)]
    return [rule] if isinstance(rule, ChildrenShareRule) else []


@dataclass
class Context:
    """What a rule may read: the agency's answers, the cohort's best values, the children's answers."""

    answers: Answers
    cohort_best: Mapping[str, Decimal] = field(default_factory=dict)
    children: Mapping[str, Sequence[Answers]] = field(default_factory=dict)


Compiled = Callable[[Context], tuple[Decimal, Decimal]]


def compile_rule(rule: Rule, maximum: Decimal, questions: Mapping[str, Question]) -> Compiled:
    """The rule as a function of one agency's :class:`Context`."""
    if isinstance(rule, SumRule):
        parts = [compile_rule(part.rule, part.max, questions) for part in rule.parts]

        def sum_of_parts(ctx: Context) -> tuple[Decimal, Decimal]:
            points = excluded = ZERO
            for part in parts:
                p, e = part(ctx)
                points += p
                excluded += e
            return points, excluded

        return sum_of_parts
    if isinstance(rule, ChildrenShareRule):
        return _children_share(rule, maximum)
    points = _points(rule, maximum, questions)
    reads = tuple(
        sorted(rule_questions(rule) - ({a.question for a in rule.add_ons} if isinstance(rule, BasePlusRule) else set()))
    )
    not_applicable = (ZERO, maximum)

    def scored(ctx: Context) -> tuple[Decimal, Decimal]:
        answers = ctx.answers
        for qid in reads:
            if answers.get(qid) is NA:
                return not_applicable
        value = points(ctx)
        if value is None:
            return not_applicable
        return quantize(value if value < maximum else maximum), ZERO

    return scored


def _children_share(rule: ChildrenShareRule, maximum: Decimal) -> Compiled:
    def share(ctx: Context) -> tuple[Decimal, Decimal]:
        children = ctx.children.get(rule.level, ())
        if not children:
            return (ZERO, maximum) if rule.on_none == "not_applicable" else (ZERO, ZERO)
        met = sum(1 for child in children if holds(rule.where, child))
        return quantize(Decimal(met) / len(children) * maximum), ZERO

    return share


def _reader(question: Question) -> Callable[[Answers], Decimal | int | None]:
    """Reads a question's answer as a number: the value, a multiple choice's count, yes as 1."""
    qid, kind = question.id, question.type
    if kind == "multi_choice":

        def count(answers: Answers) -> int | None:
            value = answers.get(qid)
            return None if value is None or value is NA else len(value)

        return count

    def read(answers: Answers) -> Decimal | int | None:
        value = answers.get(qid)
        return None if value is NA else value

    return read


def _raw(qid: str) -> Callable[[Answers], object]:
    def read(answers: Answers) -> object:
        value = answers.get(qid)
        return None if value is NA else value

    return read


def _option_points(points, maximum: Decimal) -> Decimal:
    if isinstance(points, str):
        return {"full": maximum, "half": maximum / 2, "none": ZERO}[points]
    return points


def _points(rule: Rule, maximum: Decimal, questions: Mapping[str, Question]) -> Callable[[Context], Decimal | None]:
    """Points before capping; None means not applicable (a ratio over zero, by choice)."""
    if isinstance(rule, YesNoRule):
        read = _raw(rule.question)
        yes = maximum if rule.points_yes is None else rule.points_yes
        return lambda ctx: {True: yes, False: rule.points_no}.get(read(ctx.answers), ZERO)
    if isinstance(rule, OptionRule):
        read = _raw(rule.question)
        table = {option: _option_points(p, maximum) for option, p in rule.points.items()}

        def option(ctx: Context) -> Decimal:
            value = read(ctx.answers)
            if isinstance(value, list):
                return sum((table.get(v, ZERO) for v in value), ZERO)
            return table.get(value, ZERO)

        return option
    if isinstance(rule, RatioRule):
        return _ratio(rule, maximum, questions)
    if isinstance(rule, TiersRule):
        read = _reader(questions[rule.question])
        tiers = sorted(((t.min, t.points) for t in rule.tiers), reverse=True)
        otherwise = rule.otherwise

        def tiered(ctx: Context) -> Decimal:
            value = read(ctx.answers)
            if value is None:
                return ZERO
            for low, points in tiers:
                if value >= low:
                    return points
            return otherwise

        return tiered
    if isinstance(rule, PerUnitRule):
        read = _reader(questions[rule.question])
        cap = maximum if rule.cap is None else rule.cap

        def per_unit(ctx: Context) -> Decimal:
            value = read(ctx.answers)
            return ZERO if value is None else min(Decimal(value) * rule.points_per_unit, cap)

        return per_unit
    if isinstance(rule, NormalizedRule):
        read = _reader(questions[rule.question])

        def normalized(ctx: Context) -> Decimal:
            value, best = read(ctx.answers), ctx.cohort_best.get(rule.question)
            if value is None or not best:
                return ZERO
            return min(Decimal(value) / best, ONE) * maximum

        return normalized
    if isinstance(rule, BasePlusRule):
        return _base_plus(rule)
    raise TypeError(f"unhandled rule {type(rule).__name__}")


def _ratio(rule: RatioRule, maximum: Decimal, questions: Mapping[str, Question]) -> Callable[[Context], Decimal | None]:
    top = _reader(questions[rule.numerator])
    if rule.denominator is None:
        return lambda ctx: ZERO if (v := top(ctx.answers)) is None else Decimal(v) / 100 * maximum
    bottom = _reader(questions[rule.denominator])
    on_zero = {"zero": ZERO, "full": maximum, "not_applicable": None}[rule.on_zero]

    def ratio(ctx: Context) -> Decimal | None:
        b = bottom(ctx.answers)
        if b == 0:
            return on_zero
        a = top(ctx.answers)
        if a is None or b is None:
            return ZERO
        return min(Decimal(a) / b, ONE) * maximum

    return ratio


def _base_plus(rule: BasePlusRule) -> Callable[[Context], Decimal]:
    gate = _raw(rule.question)
    add_ons = [(_raw(a.question), a.option, a.points) for a in rule.add_ons]

    def base_plus(ctx: Context) -> Decimal:
        if gate(ctx.answers) is not True:
            return ZERO
        total = rule.base
        for read, option, points in add_ons:
            value = read(ctx.answers)
            if option is None:
                met = value is True
            else:
                met = option in value if isinstance(value, list) else value == option
            if met:
                total += points
        return total

    return base_plus
