"""Evaluating relevance conditions (skip logic) on a set of answers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rubrics.answers import NA, Answers
from rubrics.model import Condition

if TYPE_CHECKING:
    from rubrics.compiled import CompiledRubric


def holds(condition: Condition, answers: Answers) -> bool:
    """Whether the condition holds. A test on an unanswered or not-applicable question fails,
    except ``answered: false``."""
    if condition.all is not None:
        return all(holds(c, answers) for c in condition.all)
    if condition.any is not None:
        return any(holds(c, answers) for c in condition.any)
    if condition.not_ is not None:
        return not holds(condition.not_, answers)
    value = answers.get(condition.question)
    given = value is not None and value is not NA
    test = condition.test()
    if test == "answered":
        return given == condition.answered
    if not given:
        return False
    return _compare(test, getattr(condition, test), value)


def _compare(test: str, expected: Any, value: Any) -> bool:
    if test == "equals":
        return _same(value, expected)
    if test == "not_equals":
        return not _same(value, expected)
    if test == "in_":
        return any(_same(value, e) for e in expected)
    if test == "contains":
        return isinstance(value, list) and expected in value
    number = Decimal(len(value)) if isinstance(value, list) else Decimal(value)
    return {"gt": number > expected, "gte": number >= expected, "lt": number < expected, "lte": number <= expected}[
        test
    ]


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


def effective(rubric: CompiledRubric, answers: Answers) -> dict[str, Any]:
    """The answers that count: those of relevant questions. Conditions only read earlier
    questions, so one pass in walk order drops an answer left behind by a changed earlier one."""
    kept = dict(answers)
    for question in rubric.conditional:
        if question.id in kept and not holds(question.when, kept):
            del kept[question.id]
    return kept


def relevant(rubric: CompiledRubric, question_id: str, answers: Answers) -> bool:
    question = rubric.question(question_id)
    return question.when is None or holds(question.when, effective(rubric, answers))
