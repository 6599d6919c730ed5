"""Plausible answers to any rubric, for demos, benchmarks and tests.

Answers follow the walk order and the skip logic, respect every bound (including
bounds taken from earlier answers) and pass the same checks as a contact's answers.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from rubrics.answers import NA, bound_value, check
from rubrics.compiled import CompiledRubric
from rubrics.conditions import holds
from rubrics.model import Question

SAMPLE_TODAY = date(2019, 10, 14)  # sample campaigns run from this day; a sample date is never after it


def _value(question: Question, answers: dict[str, Any], rng: random.Random):
    kind = question.type
    if kind == "yes_no":
        return rng.random() < 0.7
    if kind == "single_choice":
        return rng.choice(question.options).value
    if kind == "multi_choice":
        chosen = [o.value for o in question.options if rng.random() < 0.6]
        return chosen or [question.options[0].value]
    if kind in ("integer", "decimal", "percentage"):
        low = bound_value(question.min, answers) or Decimal(0)
        high = bound_value(question.max, answers)
        if high is None:
            high = low + 200
        if high < low:
            high = low
        if kind == "integer":
            return rng.randint(int(low.to_integral_value(rounding="ROUND_CEILING")), int(high))
        span = int((high - low) * 100)
        return low + Decimal(rng.randint(0, max(span, 0))) / 100
    if kind == "date":
        start = question.min or date(2019, 1, 1)
        end = question.max or max(start, date(2019, 10, 15))
        return min(start + timedelta(days=rng.randint(0, (end - start).days)), max(start, SAMPLE_TODAY))
    if kind == "text":
        return "Nội dung mẫu"[: question.max_length]
    if kind == "document":
        return {
            "so_hieu": f"{rng.randint(1, 999)}/QĐ-UBND",
            "ngay": date(2019, rng.randint(1, 9), rng.randint(1, 28)),
            "trich_yeu": "Văn bản mẫu",
        }
    return {
        "file_id": f"sample-{rng.randint(1, 10**9)}",
        "file_name": "minh-chung.pdf",
        "size": rng.randint(10_000, 2_000_000),
        "mime_type": "application/pdf",
    }


def sample_answers(
    rubric: CompiledRubric, rng: random.Random, *, completeness: float = 1.0, na_rate: float = 0.1
) -> dict[str, Any]:
    """Answers to the first ``completeness`` share of the relevant questions."""
    answers: dict[str, Any] = {}
    relevant = [s.question for s in rubric.steps]
    stop = round(len(relevant) * completeness)
    for index, question in enumerate(relevant):
        if index >= stop:
            break
        if question.when is not None and not holds(question.when, answers):
            continue
        if question.allow_na and rng.random() < na_rate:
            answers[question.id] = NA
            continue
        value = _value(question, answers, rng)
        if check(question, value, answers) is None:
            answers[question.id] = value
    return answers
