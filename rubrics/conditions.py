"""Evaluating relevance conditions (skip logic) on a set of answers.

A condition is compiled once into a function of the answers; a rubric's :class:`Relevance`
holds those of its conditional questions, so that thousands of agencies are checked without
walking the condition models again.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from rubrics.answers import NA, Answers
from rubrics.model import Condition, Question

Test = Callable[[Answers], bool]


def holds(condition: Condition, answers: Answers) -> bool:
    """Whether the condition holds. A test on an unanswered or not-applicable question fails,
    except ``answered: false``."""
    return compile_condition(condition)(answers)


def compile_condition(condition: Condition) -> Test:
    """The condition as a function of one agency's answers, with the meaning of :func:`holds`."""
    if condition.all is not None:
        every = [compile_condition(c) for c in condition.all]
        return lambda answers: all(test(answers) for test in every)
    if condition.any is not None:
        some = [compile_condition(c) for c in condition.any]
        return lambda answers: any(test(answers) for test in some)
    if condition.not_ is not None:
        negated = compile_condition(condition.not_)
        return lambda answers: not negated(answers)
    question, test = condition.question, condition.test()
    if test == "answered":
        wanted = condition.answered

        def answered(answers: Answers) -> bool:
            value = answers.get(question)
            return (value is not None and value is not NA) == wanted

        return answered
    compare = _comparison(test, getattr(condition, test))

    def given(answers: Answers) -> bool:
        value = answers.get(question)
        return value is not None and value is not NA and compare(value)

    return given


def _comparison(test: str, expected: Any) -> Callable[[Any], bool]:
    if test == "equals":
        return lambda value: _same(value, expected)
    if test == "not_equals":
        return lambda value: not _same(value, expected)
    if test == "in_":
        return lambda value: any(_same(value, e) for e in expected)
    if test == "contains":
        return lambda value: isinstance(value, list) and expected in value
    order = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}[test]
    return lambda value: order(Decimal(len(value)) if isinstance(value, list) else Decimal(value), expected)


def _same(value: Any, expected: Any) -> bool:
    if isinstance(value, bool) or isinstance(expected, bool):
        return value is expected
    if isinstance(value, date) and isinstance(expected, str):
        try:
            return value == date.fromisoformat(expected)
        except ValueError:
            return False
    if isinstance(value, (int, Decimal)) and isinstance(expected, (int, float, Decimal, str)):
        try:
            return Decimal(value) == Decimal(str(expected))
        except ArithmeticError:
            return False
    return value == expected


class Relevance:
    """A rubric's skip logic: the conditions of its conditional questions, compiled, in walk order."""

    def __init__(self, questions: Iterable[Question]):
        self.tests: dict[str, Test] = {q.id: compile_condition(q.when) for q in questions if q.when is not None}

    def effective(self, answers: Answers) -> Answers:
        """The answers that count: those of relevant questions. Conditions only read earlier
        questions, so one pass in walk order drops an answer left behind by a changed earlier one.
        When every answer counts this is ``answers`` itself, not a copy."""
        kept = answers
        for question_id, test in self.tests.items():
            if question_id in kept and not test(kept):
                if kept is answers:
                    kept = dict(answers)
                del kept[question_id]
        return kept


class WithRelevance(Protocol):
    """What relevance needs of a rubric (a :class:`~rubrics.compiled.CompiledRubric`)."""

    @property
    def relevance(self) -> Relevance: ...


def effective(rubric: WithRelevance, answers: Answers) -> Answers:
    """The answers that count under the rubric's skip logic (see :meth:`Relevance.effective`)."""
    return rubric.relevance.effective(answers)
