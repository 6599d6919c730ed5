"""Scoring rules: which questions a rule reads, and the points it gives.

Each rule is compiled once per rubric into a function of one agency's answers, the
cohort's best values and the children's answers, so that scoring thousands of agencies
does no per-call dispatch on rule types. A compiled rule returns ``(points, excluded)``:
``excluded`` is the max taken out of the applicable max when the rule does not apply to
the agency. Points that do not depend on the answers (yes, no, an option, a tier) are
capped and rounded once, when the rule is compiled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from rubrics.answers import NA, Answers
from rubrics.conditions import compile_condition
from rubrics.model import (
    BasePlusRule,
    ChildrenRatioRule,
    ChildrenRule,
    ChildrenShareRule,
    ChildrenSumRule,
    NormalizedRule,
    OptionRule,
    PerUnitRule,
    Question,
    RatioRule,
    Rule,
    SelfScoredRule,
    SumRule,
    Tier,
    TiersRule,
    YesNoRule,
)

CENT = Decimal("0.01")
ZERO = Decimal(0)
ONE = Decimal(1)

Best = Mapping[str, Decimal]
Children = Mapping[str, Sequence[Answers]]
Compiled = Callable[[Answers, Best, Children], tuple[Decimal, Decimal]]


def quantize(value: Decimal) -> Decimal:
    """Round to hundredths, half up, as official score tables do."""
    return value.quantize(CENT, ROUND_HALF_UP)


def rule_questions(rule: Rule) -> set[str]:
    """The questions of the agency's own rubric that a rule reads."""
    if isinstance(rule, SumRule):
        return set().union(*(rule_questions(p.rule) for p in rule.parts))
    if isinstance(rule, RatioRule):
        return {rule.numerator} | ({rule.denominator} if rule.denominator else set())
    if isinstance(rule, BasePlusRule):
        return {rule.question} | {a.question for a in rule.add_ons}
    if isinstance(rule, (ChildrenShareRule, ChildrenSumRule, ChildrenRatioRule)):
        return set()
    return {rule.question}


def normalized_questions(rule: Rule) -> set[str]:
    """The questions read relative to the cohort's best value."""
    if isinstance(rule, SumRule):
        return set().union(*(normalized_questions(p.rule) for p in rule.parts))
    return {rule.question} if isinstance(rule, NormalizedRule) else set()


def children_rules(rule: Rule) -> list[ChildrenRule]:
    """The rules in ``rule`` that read the answers of child agencies."""
    if isinstance(rule, SumRule):
        return [r for p in rule.parts for r in children_rules(p.rule)]
    return [rule] if isinstance(rule, (ChildrenShareRule, ChildrenSumRule, ChildrenRatioRule)) else []


def child_questions(rule: ChildrenRule) -> set[str]:
    """The questions of the child level's rubric that a children rule reads."""
    if isinstance(rule, ChildrenShareRule):
        return rule.where.questions()
    if isinstance(rule, ChildrenSumRule):
        return {rule.question}
    return {rule.numerator, rule.denominator}


def children_total(cohort: Sequence[Answers], qid: str) -> Decimal:
    """The sum of one number question over the children; an unanswered or not applicable answer adds nothing."""
    total = ZERO
    for child in cohort:
        value = child.get(qid)
        if value is not None and value is not NA:
            total += Decimal(value)
    return total


@dataclass(frozen=True)
class ChildrenFigure:
    """What a children rule reads off the children, as their parent is shown it."""

    kind: str
    children: int  # the children in the cohort
    value: Decimal  # the children where ``where`` holds (share), the sum (sum), the numerator's sum (ratio)
    of: Decimal | None = None  # the number of children (share), the denominator's sum (ratio)

    @property
    def percent(self) -> Decimal | None:
        return quantize(self.value * 100 / self.of) if self.of else None


def children_figure(rule: ChildrenRule, children: Children) -> ChildrenFigure:
    """The figure the rule scores, from the children's answers."""
    cohort = children.get(rule.level, ())
    if isinstance(rule, ChildrenShareRule):
        where = compile_condition(rule.where)
        met = sum(1 for child in cohort if where(child))
        return ChildrenFigure(rule.type, len(cohort), Decimal(met), Decimal(len(cohort)))
    if isinstance(rule, ChildrenSumRule):
        return ChildrenFigure(rule.type, len(cohort), children_total(cohort, rule.question))
    top, bottom = children_total(cohort, rule.numerator), children_total(cohort, rule.denominator)
    return ChildrenFigure(rule.type, len(cohort), top, bottom)


def compile_rule(rule: Rule, maximum: Decimal, questions: Mapping[str, Question]) -> Compiled:
    """The rule as a function of one agency's answers, the cohort's best values and its children's answers."""
    if isinstance(rule, SumRule):
        return _sum(rule, questions)
    if isinstance(rule, ChildrenShareRule):
        return _children_share(rule, maximum)
    if isinstance(rule, ChildrenSumRule):
        return _children_sum(rule, maximum)
    if isinstance(rule, ChildrenRatioRule):
        return _children_ratio(rule, maximum)
    if isinstance(rule, YesNoRule):
        return _yes_no(rule, maximum)
    if isinstance(rule, OptionRule):
        return _option(rule, maximum)
    if isinstance(rule, RatioRule):
        return _ratio(rule, maximum, questions)
    if isinstance(rule, TiersRule):
        return _tiers(rule, maximum, questions)
    if isinstance(rule, PerUnitRule):
        return _per_unit(rule, maximum, questions)
    if isinstance(rule, NormalizedRule):
        return _normalized(rule, maximum, questions)
    if isinstance(rule, BasePlusRule):
        return _base_plus(rule, maximum)
    if isinstance(rule, SelfScoredRule):
        return _self_scored(rule, maximum)
    raise TypeError(f"unhandled rule {type(rule).__name__}")


def _capped(value: Decimal, maximum: Decimal) -> Decimal:
    """Points as scored: at most the max, rounded to hundredths."""
    return quantize(value if value < maximum else maximum)


def _sum(rule: SumRule, questions: Mapping[str, Question]) -> Compiled:
    parts = [compile_rule(part.rule, part.max, questions) for part in rule.parts]

    def sum_of_parts(answers: Answers, best: Best, children: Children) -> tuple[Decimal, Decimal]:
        points = excluded = ZERO
        for part in parts:
            p, e = part(answers, best, children)
            points += p
            excluded += e
        return points, excluded

    return sum_of_parts


def _children_share(rule: ChildrenShareRule, maximum: Decimal) -> Compiled:
    level, where = rule.level, compile_condition(rule.where)
    none = (ZERO, maximum) if rule.on_none == "not_applicable" else (ZERO, ZERO)

    def share(answers: Answers, best: Best, children: Children) -> tuple[Decimal, Decimal]:
        cohort = children.get(level, ())
        if not cohort:
            return none
        met = sum(1 for child in cohort if where(child))
        return (Decimal(met) / len(cohort) * maximum).quantize(CENT, ROUND_HALF_UP), ZERO

    return share


def _tiered(tiers: Sequence[Tier], otherwise: Decimal, maximum: Decimal) -> Callable[[Decimal], Decimal]:
    """A value as the points of the highest threshold it reaches, ``otherwise`` below them all."""
    ordered = sorted(((t.min, _capped(t.points, maximum)) for t in tiers), reverse=True)
    below = _capped(otherwise, maximum)

    def points(value: Decimal) -> Decimal:
        return next((scored for low, scored in ordered if value >= low), below)

    return points


def _children_sum(rule: ChildrenSumRule, maximum: Decimal) -> Compiled:
    level, qid = rule.level, rule.question
    none = (ZERO, maximum) if rule.on_none == "not_applicable" else (ZERO, ZERO)
    if rule.tiers is not None:
        scored = _tiered(rule.tiers, rule.otherwise, maximum)
    else:
        each, cap = rule.points_per_unit or ZERO, maximum if rule.cap is None else rule.cap

        def scored(total: Decimal) -> Decimal:
            return _capped(min(total * each, cap), maximum)

    def children_sum(answers: Answers, best: Best, children: Children) -> tuple[Decimal, Decimal]:
        cohort = children.get(level, ())
        if not cohort:
            return none
        return scored(children_total(cohort, qid)), ZERO

    return children_sum


def _children_ratio(rule: ChildrenRatioRule, maximum: Decimal) -> Compiled:
    level, top_id, bottom_id = rule.level, rule.numerator, rule.denominator
    none = (ZERO, maximum) if rule.on_none == "not_applicable" else (ZERO, ZERO)
    on_zero = {"zero": (_capped(ZERO, maximum), ZERO), "full": (_capped(maximum, maximum), ZERO)}
    if_zero = on_zero.get(rule.on_zero, (ZERO, maximum))
    tiered = None if rule.tiers is None else _tiered(rule.tiers, rule.otherwise, maximum)

    def children_ratio(answers: Answers, best: Best, children: Children) -> tuple[Decimal, Decimal]:
        cohort = children.get(level, ())
        if not cohort:
            return none
        bottom = children_total(cohort, bottom_id)
        if bottom == 0:
            return if_zero
        share = children_total(cohort, top_id) / bottom
        if tiered is not None:
            return tiered(share * 100), ZERO
        return _capped(min(share, ONE) * maximum, maximum), ZERO

    return children_ratio


def _yes_no(rule: YesNoRule, maximum: Decimal) -> Compiled:
    qid, not_applicable = rule.question, (ZERO, maximum)
    yes = maximum if rule.points_yes is None else rule.points_yes
    # a dict, as an answer equal to True or False (1, 0) scores as that answer
    outcomes = {True: (_capped(yes, maximum), ZERO), False: (_capped(rule.points_no, maximum), ZERO)}
    otherwise = (_capped(ZERO, maximum), ZERO)

    def yes_no(answers: Answers, best: Best, children: Children) -> tuple[Decimal, Decimal]:
        value = answers.get(qid)
        if value is NA:
            return not_applicable
        return outcomes.get(value, otherwise)

    return yes_no


def _option_points(points, maximum: Decimal) -> Decimal:
    if isinstance(points, str):
        return {"full": maximum, "half": maximum / 2, "none": ZERO}[points]
    return points


def _option(rule: OptionRule, maximum: Decimal) -> Compiled:
    qid, not_applicable = rule.question, (ZERO, maximum)
    table = {option: _option_points(p, maximum) for option, p in rule.points.items()}
    scored = {option: (_capped(p, maximum), ZERO) for option, p in table.items()}
    otherwise = (_capped(ZERO, maximum), ZERO)

    def option(answers: Answers, best: Best, children: Children) -> tuple[Decimal, Decimal]:
        value = answers.get(qid)
        if value is NA:
            return not_applicable
        if isinstance(value, list):
            total = sum((table.get(v, ZERO) for v in value), ZERO)
            return (total if total < maximum else maximum).quantize(CENT, ROUND_HALF_UP), ZERO
        return scored.get(value, otherwise)

    return option


def _counted(question: Question) -> bool:
    """Whether a rule reads the question's answer as a count: a multiple choice, by how many options it has."""
    return question.type == "multi_choice"


def _ratio(rule: RatioRule, maximum: Decimal, questions: Mapping[str, Question]) -> Compiled:
    not_applicable = (ZERO, maximum)
    top_id, top_counted = rule.numerator, _counted(questions[rule.numerator])
    if rule.denominator is None:
        zero = (_capped(ZERO, maximum), ZERO)

        def percentage(answers: Answers, best: Best, children: Children) -> tuple[Decimal, Decimal]:
            value = answers.get(top_id)
            if value is NA:
                return not_applicable
            if value is None:
                return zero
            points = Decimal(len(value) if top_counted else value) / 100 * maximum
            return (points if points < maximum else maximum).quantize(CENT, ROUND_HALF_UP), ZERO

        return percentage
    bottom_id, bottom_counted = rule.denominator, _counted(questions[rule.denominator])
    on_zero = {"zero": (_capped(ZERO, maximum), ZERO), "full": (_capped(maximum, maximum), ZERO)}
    if_zero = on_zero.get(rule.on_zero, not_applicable)
    zero = on_zero["zero"]

    def ratio(answers: Answers, best: Best, children: Children) -> tuple[Decimal, Decimal]:
        a, b = answers.get(top_id), answers.get(bottom_id)
        if a is NA or b is NA:
            return not_applicable
        if bottom_counted and b is not None:
            b = len(b)
        if b == 0:
            return if_zero
        if top_counted and a is not None:
            a = len(a)
        if a is None or b is None:
            return zero
        points = min(Decimal(a) / b, ONE) * maximum
        return (points if points < maximum else maximum).quantize(CENT, ROUND_HALF_UP), ZERO

    return ratio


def _tiers(rule: TiersRule, maximum: Decimal, questions: Mapping[str, Question]) -> Compiled:
    qid, counted, not_applicable = rule.question, _counted(questions[rule.question]), (ZERO, maximum)
    ordered = sorted(((t.min, t.points) for t in rule.tiers), reverse=True)
    tiers = [(low, (_capped(points, maximum), ZERO)) for low, points in ordered]
    otherwise, zero = (_capped(rule.otherwise, maximum), ZERO), (_capped(ZERO, maximum), ZERO)

    def tiered(answers: Answers, best: Best, children: Children) -> tuple[Decimal, Decimal]:
        value = answers.get(qid)
        if value is NA:
            return not_applicable
        if value is None:
            return zero
        if counted:
            value = len(value)
        for low, scored in tiers:
            if value >= low:
                return scored
        return otherwise

    return tiered


def _per_unit(rule: PerUnitRule, maximum: Decimal, questions: Mapping[str, Question]) -> Compiled:
    qid, counted, not_applicable = rule.question, _counted(questions[rule.question]), (ZERO, maximum)
    each, cap = rule.points_per_unit, maximum if rule.cap is None else rule.cap
    zero = (_capped(ZERO, maximum), ZERO)

    def per_unit(answers: Answers, best: Best, children: Children) -> tuple[Decimal, Decimal]:
        value = answers.get(qid)
        if value is NA:
            return not_applicable
        if value is None:
            return zero
        points = min(Decimal(len(value) if counted else value) * each, cap)
        return (points if points < maximum else maximum).quantize(CENT, ROUND_HALF_UP), ZERO

    return per_unit


def _normalized(rule: NormalizedRule, maximum: Decimal, questions: Mapping[str, Question]) -> Compiled:
    qid, counted, not_applicable = rule.question, _counted(questions[rule.question]), (ZERO, maximum)
    zero = (_capped(ZERO, maximum), ZERO)

    def normalized(answers: Answers, best: Best, children: Children) -> tuple[Decimal, Decimal]:
        value = answers.get(qid)
        if value is NA:
            return not_applicable
        top = best.get(qid)
        if value is None or not top:
            return zero
        points = min(Decimal(len(value) if counted else value) / top, ONE) * maximum
        return (points if points < maximum else maximum).quantize(CENT, ROUND_HALF_UP), ZERO

    return normalized


def _base_plus(rule: BasePlusRule, maximum: Decimal) -> Compiled:
    gate, base, not_applicable = rule.question, rule.base, (ZERO, maximum)
    add_ons = [(a.question, a.option, a.points) for a in rule.add_ons]
    gate_may_not_apply = gate not in {a.question for a in rule.add_ons}  # an add-on's question never excludes
    zero = (_capped(ZERO, maximum), ZERO)

    def base_plus(answers: Answers, best: Best, children: Children) -> tuple[Decimal, Decimal]:
        value = answers.get(gate)
        if value is NA and gate_may_not_apply:
            return not_applicable
        if value is not True:
            return zero
        total = base
        for qid, option, points in add_ons:
            value = answers.get(qid)
            if value is NA:
                value = None
            if option is None:
                met = value is True
            else:
                met = option in value if isinstance(value, list) else value == option
            if met:
                total += points
        return (total if total < maximum else maximum).quantize(CENT, ROUND_HALF_UP), ZERO

    return base_plus


def _self_scored(rule: SelfScoredRule, maximum: Decimal) -> Compiled:
    qid, not_applicable = rule.question, (ZERO, maximum)
    zero = (_capped(ZERO, maximum), ZERO)

    def self_scored(answers: Answers, best: Best, children: Children) -> tuple[Decimal, Decimal]:
        value = answers.get(qid)
        if value is NA:
            return not_applicable
        if value is None:
            return zero
        return _capped(Decimal(value), maximum), ZERO

    return self_scored
