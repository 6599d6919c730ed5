"""Answer values: their Python form, their JSON form, and checking one against its question.

An agency's answers are a mapping from question id to value; a question left
unanswered is absent, and "Không áp dụng" is the :data:`NA` marker.

Values by question type: yes_no → bool; single_choice → option value;
multi_choice → list of option values; integer → int; decimal and percentage
→ Decimal; date → date; text → str; document → dict with ``so_hieu``,
``ngay`` (date) and ``trich_yeu``, and perhaps ``loai`` and ``co_quan``; file → dict with ``file_id``,
``file_name``, ``size`` and ``mime_type``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from rubrics.model import (
    DateQuestion,
    MultiChoiceQuestion,
    NumberQuestion,
    Question,
    QuestionRef,
    SingleChoiceQuestion,
    TextQuestion,
)


class _NotApplicable:
    """The answer "Không áp dụng" (not applicable)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NA"

    def __reduce__(self) -> str:
        return "NA"


NA = _NotApplicable()

Answers = Mapping[str, Any]

DOCUMENT_FIELDS = ("so_hieu", "ngay", "trich_yeu")
DOCUMENT_OPTIONAL = ("loai", "co_quan")  # the document's type (Quyết định, Kế hoạch…) and issuer, when cited
FILE_FIELDS = ("file_id", "file_name", "size", "mime_type")


@dataclass(frozen=True)
class Fault:
    """Why a value does not fit its question; ``kind`` names the message template."""

    kind: str
    params: dict[str, Any]


def to_json(question: Question, value: Any) -> Any:
    if value is None:
        return None
    if question.type in ("decimal", "percentage"):
        return str(value)
    if question.type == "date":
        return value.isoformat()
    if question.type == "document":
        return {**value, "ngay": value["ngay"].isoformat() if value.get("ngay") else None}
    return value


def _document_from_json(raw: dict[str, Any]) -> dict[str, Any]:
    return {**raw, "ngay": date.fromisoformat(raw["ngay"]) if raw.get("ngay") else None}


DECODERS: dict[str, Callable[[Any], Any]] = {
    "decimal": Decimal,
    "percentage": Decimal,
    "date": date.fromisoformat,
    "document": _document_from_json,
}
"""By question type, how a stored JSON value (not None) becomes its answer value, for the types whose
JSON is not already their value."""


def from_json(question: Question, raw: Any) -> Any:
    if raw is None:
        return None
    kind = question.type
    decode = DECODERS.get(kind)
    if decode is not None:
        return decode(raw)
    if kind == "integer":
        return int(raw)
    if kind == "multi_choice":
        return list(raw)
    return raw


def bound_value(bound: Decimal | QuestionRef | None, answers: Answers) -> Decimal | None:
    """A bound's number: a constant, or the current answer of the question it names."""
    if bound is None or isinstance(bound, Decimal):
        return bound
    value = answers.get(bound.question)
    if value is None or value is NA:
        return None
    return Decimal(value)


def check(question: Question, value: Any, answers: Answers) -> Fault | None:
    """Whether ``value`` is a valid answer to ``question``, given the other answers."""
    try:
        return _check(question, value, answers)
    except (TypeError, ValueError, InvalidOperation, KeyError, AttributeError):
        return Fault("wrong_shape", {"type": question.type})


def _check(question: Question, value: Any, answers: Answers) -> Fault | None:
    kind = question.type
    if kind == "yes_no" and not isinstance(value, bool):
        return Fault("wrong_shape", {"type": kind})
    if isinstance(question, SingleChoiceQuestion):
        if value not in {o.value for o in question.options}:
            return Fault("unknown_option", {})
    if isinstance(question, MultiChoiceQuestion):
        allowed = {o.value for o in question.options}
        if not isinstance(value, list) or len(set(value)) != len(value) or not set(value) <= allowed:
            return Fault("unknown_option", {})
    if isinstance(question, NumberQuestion):
        if kind == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
            return Fault("not_integer", {})
        if kind != "integer" and not isinstance(value, (int, Decimal)):
            return Fault("not_number", {})
        number = Decimal(value)
        if not number.is_finite():
            return Fault("not_number", {})
        low, high = bound_value(question.min, answers), bound_value(question.max, answers)
        if low is not None and number < low:
            return Fault("below_min", {"min": low, "ref": _ref(question.min)})
        if high is not None and number > high:
            return Fault("above_max", {"max": high, "ref": _ref(question.max)})
    if isinstance(question, DateQuestion):
        if not isinstance(value, date):
            return Fault("not_date", {})
        if question.min and value < question.min:
            return Fault("date_before", {"min": question.min})
        if question.max and value > question.max:
            return Fault("date_after", {"max": question.max})
    if isinstance(question, TextQuestion):
        if not isinstance(value, str) or not value.strip():
            return Fault("empty_text", {})
        if len(value) > question.max_length:
            return Fault("text_too_long", {"max_length": question.max_length, "length": len(value)})
    if kind == "document":
        if not isinstance(value, dict) or not set(DOCUMENT_FIELDS) <= set(value) <= {
            *DOCUMENT_FIELDS,
            *DOCUMENT_OPTIONAL,
        }:
            return Fault("wrong_shape", {"type": kind})
        if not str(value["so_hieu"]).strip() or not isinstance(value["ngay"], date):
            return Fault("wrong_shape", {"type": kind})
    if kind == "file":
        if not isinstance(value, dict) or not value.get("file_id"):
            return Fault("wrong_shape", {"type": kind})
    return None


def _ref(bound: Decimal | QuestionRef | None) -> str | None:
    return bound.question if isinstance(bound, QuestionRef) else None


def numeric(question: Question, value: Any) -> Decimal | None:
    """The number a rule reads from an answer: the value, or a multiple choice's count."""
    if value is None:
        return None
    if question.type == "multi_choice":
        return Decimal(len(value))
    if question.type == "yes_no":
        return Decimal(1 if value else 0)
    return Decimal(value)
