"""Cross-checks of a parsed rubric: codes, references, sums, cycles, rule types and bands.

Each check raises :class:`~rubrics.errors.RubricError` naming the item or question at fault.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from rubrics.compiled import CompiledRubric
from rubrics.errors import RubricError
from rubrics.model import (
    NUMERIC_TYPES,
    AddOn,
    BandScheme,
    BasePlusRule,
    ChildrenRatioRule,
    ChildrenShareRule,
    ChildrenSumRule,
    Condition,
    Item,
    MultiChoiceQuestion,
    NormalizedRule,
    NumberQuestion,
    OptionRule,
    PerUnitRule,
    Question,
    QuestionRef,
    RatioRule,
    Rule,
    SelfScoredRule,
    SingleChoiceQuestion,
    SumRule,
    TiersRule,
    YesNoRule,
)

ZERO = Decimal(0)
COUNTABLE = NUMERIC_TYPES | {"multi_choice"}


class Validator:
    def __init__(self, compiled: CompiledRubric, file: str | None):
        self.compiled = compiled
        self.rubric = compiled.rubric
        self.file = file

    def fail(self, code: str | None, fault: str, **params) -> RubricError:
        return RubricError(self.file, code, fault, **params)

    def run(self) -> None:
        self.check_codes()
        self.check_sums()
        self.check_references()
        self.check_cycles()
        self.check_order()
        self.check_rule_types()
        self.check_questions()
        for scheme in self.rubric.bands:
            self.check_bands(scheme)

    # -- walking --------------------------------------------------------------

    def all_items(self) -> Iterator[Item]:
        def visit(item: Item) -> Iterator[Item]:
            yield item
            for child in item.children:
                yield from visit(child)

        for group in self.rubric.groups:
            yield from visit(group)

    def conditions(self) -> Iterator[tuple[Question, Condition]]:
        for question in self.compiled.questions:
            if question.when is not None:
                yield question, question.when

    # -- checks ---------------------------------------------------------------

    def check_codes(self) -> None:
        seen: set[str] = set()
        for item in self.all_items():
            if item.code in seen:
                raise self.fail(item.code, "duplicate_code", what="item", value=item.code)
            seen.add(item.code)
        seen_questions: set[str] = set()
        for question in self.compiled.questions:
            if question.id in seen_questions:
                raise self.fail(question.id, "duplicate_code", what="question", value=question.id)
            seen_questions.add(question.id)
            options = [o.value for o in getattr(question, "options", [])]
            for value in options:
                if options.count(value) > 1:
                    raise self.fail(question.id, "duplicate_option", option=value)

    def check_sums(self) -> None:
        total = sum((g.max for g in self.rubric.groups), ZERO)
        if total != self.rubric.max:
            raise self.fail(self.rubric.id, "total_mismatch", expected=self.rubric.max, actual=total)
        for item in self.all_items():
            if item.children and item.rule is not None:
                raise self.fail(item.code, "group_with_rule")
            if not item.children and item.rule is None:
                raise self.fail(item.code, "leaf_without_rule")
            if item.children:
                actual = sum((c.max for c in item.children), ZERO)
                if actual != item.max:
                    raise self.fail(item.code, "sum_mismatch", expected=item.max, actual=actual, parts="mục con")
            if item.rule is not None:
                self.check_rule_points(item.code, item.rule, item.max)

    def check_rule_points(self, code: str, rule: Rule, maximum: Decimal) -> None:
        def over(what: str, points: Decimal | None) -> None:
            if points is not None and points > maximum:
                raise self.fail(code, "points_above_max", what=what, points=points, maximum=maximum)

        if isinstance(rule, SumRule):
            actual = sum((p.max for p in rule.parts), ZERO)
            if actual != maximum:
                raise self.fail(code, "sum_mismatch", expected=maximum, actual=actual, parts="phần (parts)")
            for part in rule.parts:
                self.check_rule_points(code, part.rule, part.max)
        elif isinstance(rule, YesNoRule):
            over("câu trả lời «có»", rule.points_yes)
            over("câu trả lời «không»", rule.points_no)
        elif isinstance(rule, OptionRule):
            for option, points in rule.points.items():
                over(f"lựa chọn «{option}»", points if isinstance(points, Decimal) else None)
        elif isinstance(rule, TiersRule):
            for tier in rule.tiers:
                over(f"ngưỡng {tier.min}", tier.points)
            over("mức dưới mọi ngưỡng", rule.otherwise)
        elif isinstance(rule, PerUnitRule):
            over("mức trần (cap)", rule.cap)
        elif isinstance(rule, BasePlusRule):
            over("điểm nền (base)", rule.base)
        elif isinstance(rule, ChildrenShareRule):
            self.check_children_level(code, rule)
        elif isinstance(rule, (ChildrenSumRule, ChildrenRatioRule)):
            self.check_children_level(code, rule)
            self.check_children_points(code, rule, over)

    def check_children_level(self, code: str, rule: ChildrenShareRule | ChildrenSumRule | ChildrenRatioRule) -> None:
        """A rule over the children reads agencies of another level than the rubric's own."""
        if rule.level == self.rubric.level:
            raise self.fail(code, "children_own_level", rule=rule.type, level=rule.level)

    def check_children_points(self, code: str, rule: ChildrenSumRule | ChildrenRatioRule, over) -> None:
        if isinstance(rule, ChildrenSumRule) and (rule.tiers is None) == (rule.points_per_unit is None):
            raise self.fail(code, "children_sum_scoring")
        if isinstance(rule, ChildrenSumRule) and rule.cap is not None and rule.points_per_unit is None:
            raise self.fail(code, "children_stray_field", field="cap", needs="points_per_unit")
        if rule.tiers is None and "otherwise" in rule.model_fields_set:
            raise self.fail(code, "children_stray_field", field="otherwise", needs="tiers")
        for tier in rule.tiers or []:
            if isinstance(rule, ChildrenRatioRule) and not 0 <= tier.min <= 100:
                raise self.fail(code, "children_ratio_tier", bound=tier.min)
            over(f"ngưỡng {tier.min}", tier.points)
        over("mức dưới mọi ngưỡng", rule.otherwise)
        if isinstance(rule, ChildrenSumRule):
            over("mức trần (cap)", rule.cap)
        if isinstance(rule, ChildrenRatioRule) and rule.numerator == rule.denominator:
            raise self.fail(code, "children_ratio_same", ref=rule.numerator)

    def referenced(self) -> Iterator[tuple[str, str, str]]:
        """(code of the referrer, what refers, question id) for every reference to a question."""
        for item in self.all_items():
            if item.rule is not None:
                for where, ref in rule_refs(item.rule):
                    yield item.code, where, ref
        for question, condition in self.conditions():
            for ref in condition.questions():
                yield question.id, "điều kiện hiển thị (when)", ref
        for question in self.compiled.questions:
            for ref in bound_refs(question):
                yield question.id, "giới hạn (min/max)", ref

    def check_references(self) -> None:
        for code, where, ref in self.referenced():
            if ref not in self.compiled.by_id:
                raise self.fail(code, "dangling_ref", ref=ref, where=where)

    def check_cycles(self) -> None:
        reads = {q.id: sorted(q.when.questions()) if q.when else [] for q in self.compiled.questions}
        state: dict[str, int] = {}

        def visit(node: str, path: list[str]) -> None:
            state[node] = 1
            for nxt in reads.get(node, []):
                if state.get(nxt) == 1:
                    cycle = path[path.index(nxt) :] + [nxt] if nxt in path else [node, nxt]
                    raise self.fail(nxt, "relevance_cycle", cycle=cycle)
                if nxt not in state:
                    visit(nxt, path + [nxt])
            state[node] = 2

        for qid in reads:
            if qid not in state:
                visit(qid, [qid])

    def check_order(self) -> None:
        position = {step.question.id: step.number for step in self.compiled.steps}
        for question in self.compiled.questions:
            refs = [("điều kiện hiển thị (when)", r) for r in (question.when.questions() if question.when else [])]
            refs += [("giới hạn (min/max)", r) for r in bound_refs(question)]
            for where, ref in refs:
                if position[ref] >= position[question.id]:
                    raise self.fail(question.id, "later_reference", ref=ref, where=where)

    def check_rule_types(self) -> None:
        for item in self.all_items():
            if item.rule is not None:
                self.check_rule_type(item.code, item.rule, item.max)

    def expect(self, code: str, where: str, ref: str, allowed: set[str] | frozenset[str]) -> Question:
        question = self.compiled.question(ref)
        if question.type not in allowed:
            raise self.fail(
                code, "wrong_question_type", where=where, ref=ref, actual=question.type, expected=sorted(allowed)
            )
        return question

    def check_rule_type(self, code: str, rule: Rule, maximum: Decimal) -> None:
        where = f"quy tắc «{rule.type}»"
        if isinstance(rule, SumRule):
            for part in rule.parts:
                self.check_rule_type(code, part.rule, part.max)
        elif isinstance(rule, YesNoRule):
            self.expect(code, where, rule.question, {"yes_no"})
        elif isinstance(rule, OptionRule):
            question = self.expect(code, where, rule.question, {"single_choice", "multi_choice"})
            for option in rule.points:
                self.check_option(code, question, option)
        elif isinstance(rule, RatioRule):
            if rule.denominator is None:
                self.expect(code, where, rule.numerator, {"percentage"})
            else:
                self.expect(code, where, rule.numerator, NUMERIC_TYPES)
                self.expect(code, where, rule.denominator, NUMERIC_TYPES)
        elif isinstance(rule, (TiersRule, PerUnitRule)):
            self.expect(code, where, rule.question, COUNTABLE)
        elif isinstance(rule, NormalizedRule):
            self.expect(code, where, rule.question, NUMERIC_TYPES)
        elif isinstance(rule, SelfScoredRule):
            question = self.expect(code, where, rule.question, {"integer", "decimal"})
            if not isinstance(question.max, Decimal) or question.max > maximum:
                raise self.fail(code, "self_scored_bound", ref=question.id, maximum=maximum)
        elif isinstance(rule, BasePlusRule):
            self.expect(code, where, rule.question, {"yes_no"})
            for add_on in rule.add_ons:
                self.check_add_on(code, add_on)

    def check_add_on(self, code: str, add_on: AddOn) -> None:
        where = "phần cộng thêm (add_ons)"
        if add_on.option is None:
            self.expect(code, where, add_on.question, {"yes_no"})
        else:
            question = self.expect(code, where, add_on.question, {"single_choice", "multi_choice"})
            self.check_option(code, question, add_on.option)

    def check_option(self, code: str, question: Question, option: str) -> None:
        if option not in {o.value for o in question.options}:
            raise self.fail(code, "unknown_option", ref=question.id, option=option)

    def check_questions(self) -> None:
        for question in self.compiled.questions:
            if isinstance(question, NumberQuestion):
                for ref in bound_refs(question):
                    self.expect(question.id, "giới hạn (min/max)", ref, NUMERIC_TYPES)
                if (
                    isinstance(question.min, Decimal)
                    and isinstance(question.max, Decimal)
                    and question.min > question.max
                ):
                    raise self.fail(question.id, "bound_order")
            if (
                getattr(question, "min", None) is not None
                and question.type == "date"
                and question.max is not None
                and question.min > question.max
            ):
                raise self.fail(question.id, "bound_order")
            if question.when is not None:
                self.check_condition(question.id, question.when)

    def check_condition(self, code: str, condition: Condition) -> None:
        for sub in (condition.all or []) + (condition.any or []) + ([condition.not_] if condition.not_ else []):
            self.check_condition(code, sub)
        if condition.question is None:
            return
        where = "điều kiện hiển thị (when)"
        test = condition.test()
        if test in ("gt", "gte", "lt", "lte"):
            self.expect(code, where, condition.question, COUNTABLE)
        elif test == "contains":
            question = self.expect(code, where, condition.question, {"multi_choice"})
            self.check_option(code, question, condition.contains)
        elif test in ("equals", "not_equals", "in_"):
            question = self.compiled.question(condition.question)
            values = condition.in_ if test == "in_" else [getattr(condition, test)]
            for value in values:
                if isinstance(question, (SingleChoiceQuestion, MultiChoiceQuestion)):
                    self.check_option(code, question, str(value))
                elif not comparable(question.type, value):
                    raise self.fail(code, "condition_value", ref=question.id, value=value, type=question.type)

    def check_bands(self, scheme: BandScheme) -> None:
        code = f"bands[{scheme.applies_to}]"
        bounds = scheme.bounds()
        ordered = [band for band, _, _ in bounds]
        for band in ordered:
            if band.from_ >= band.to:
                raise self.fail(code, "band_order", label=band.label)
        for (first, _, first_to_in), (second, second_from_in, _) in zip(bounds, bounds[1:]):
            if first.to > second.from_:
                raise self.fail(code, "band_overlap", first=first.label, second=second.label)
            if first.to < second.from_:
                raise self.fail(
                    code, "band_gap", first=first.label, second=second.label, start=first.to, end=second.from_
                )
            if first_to_in and second_from_in:
                raise self.fail(code, "band_bound_twice", first=first.label, second=second.label, bound=first.to)
            if not first_to_in and not second_from_in:
                raise self.fail(code, "band_bound_none", first=first.label, second=second.label, bound=first.to)
        if ordered[0].from_ != 0 or ordered[-1].to != 100:
            raise self.fail(code, "band_cover", start=ordered[0].from_, end=ordered[-1].to)
        if not bounds[0][1] or not bounds[-1][2]:
            raise self.fail(code, "band_cover", start=ordered[0].from_, end=ordered[-1].to)


def comparable(kind: str, value) -> bool:
    """Whether an answer of this type can ever equal ``value`` (YAML gives numbers as text)."""
    if kind == "yes_no":
        return isinstance(value, bool)
    if kind in NUMERIC_TYPES:
        try:
            Decimal(str(value))
        except ArithmeticError:
            return False
        return not isinstance(value, bool)
    if kind == "date":
        try:
            date.fromisoformat(str(value))
        except ValueError:
            return False
        return True
    return kind == "text"


def rule_refs(rule: Rule) -> Iterator[tuple[str, str]]:
    where = f"quy tắc «{rule.type}»"
    if isinstance(rule, SumRule):
        for part in rule.parts:
            yield from rule_refs(part.rule)
    elif isinstance(rule, RatioRule):
        yield where, rule.numerator
        if rule.denominator:
            yield where, rule.denominator
    elif isinstance(rule, BasePlusRule):
        yield where, rule.question
        for add_on in rule.add_ons:
            yield "phần cộng thêm (add_ons)", add_on.question
    elif not isinstance(rule, (ChildrenShareRule, ChildrenSumRule, ChildrenRatioRule)):
        yield where, rule.question


def bound_refs(question: Question) -> list[str]:
    return [
        b.question
        for b in (getattr(question, "min", None), getattr(question, "max", None))
        if isinstance(b, QuestionRef)
    ]


def validate(compiled: CompiledRubric, file: str | None = None) -> None:
    Validator(compiled, file).run()
