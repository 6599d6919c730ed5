"""Typed answers in the formats a Vietnamese contact writes: 1.234 · 12,5 · 85% · 28/10/2019.

Numbers are read by Babel with the Vietnamese locale (dot for thousands, comma
for decimals); dates by :mod:`conversations.dates` and document citations by
:mod:`conversations.citations`, in the forms of Nghị định 30/2020/NĐ-CP. A reply
that cannot be read raises :class:`~common.errors.Refused` naming what is wrong.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from babel.numbers import NumberFormatError, parse_decimal

from common.errors import Refused
from common.text import refuse_control
from conversations.citations import parse_citation
from conversations.dates import parse_date
from rubrics.model import Question

MAX_TEXT = 3500
_DIGITS = r"[+-]?\d[\d.,\s\u00a0]*"
_PERCENT = re.compile(rf"(?P<n>{_DIGITS})\s*%")
_EXPONENT = re.compile(rf"{_DIGITS}[eE][+-]?\d+")
_UNIT = re.compile(rf"(?P<n>{_DIGITS}?)\s*(?P<unit>[^\W\d_][^\d]*)")
_DECIMAL_DOT = re.compile(r"[+-]?\d+\.\d+|[+-]?\d{1,3}(?:,\d{3})+\.\d+")


def parse_number(text: str, kind: str = "decimal", unit: str | None = None, unit_en: str | None = None) -> Decimal:
    """The number ``text`` writes, for a question of type ``kind``; Refused says what is wrong with it."""
    typed = text.strip().removesuffix(".")  # "20." at the end of a sentence
    percent = _PERCENT.fullmatch(typed)
    if percent is not None:
        if kind != "percentage":
            raise Refused("answer_number_percent", text=typed[:30])
        typed = percent["n"]
    if _EXPONENT.fullmatch(typed):
        raise Refused("answer_number_exponent", text=typed[:30])
    with_unit = _UNIT.fullmatch(typed)
    if with_unit is not None and with_unit["n"].strip():
        raise Refused("answer_number_unit", number=with_unit["n"].strip()[:30], unit=unit, unit_en=unit_en or unit)
    cleaned = re.sub(r"[\s\u00a0]", "", typed)
    if not cleaned or len(cleaned) > 30 or not re.fullmatch(r"[+-]?[\d.,]+", cleaned):
        raise Refused("answer_not_integer" if kind == "integer" else "answer_not_number")
    try:
        number = parse_decimal(cleaned, locale="vi", strict=True)
    except NumberFormatError:
        if _DECIMAL_DOT.fullmatch(cleaned):
            whole, _, fraction = cleaned.rpartition(".")
            meant = f"{whole.replace(',', '.')},{fraction}"
            raise Refused("answer_number_decimal_dot", text=cleaned, meant=meant) from None
        if re.fullmatch(r"[+-]?\d+", cleaned):
            number = Decimal(cleaned)
        else:
            raise Refused("answer_not_integer" if kind == "integer" else "answer_not_number") from None
    if kind == "integer" and number != number.to_integral_value():
        raise Refused("answer_integer_decimal", number=number)
    return number


def parse_answer(question: Question, text: str) -> Any:
    """The value a typed reply gives ``question``; raises Refused when it does not fit the type."""
    kind = question.type
    if len(text) > MAX_TEXT and kind != "text":
        raise Refused("answer_text_too_long", max_length=MAX_TEXT, length=len(text))
    refuse_control(text, "answer_control")
    if kind in ("integer", "decimal", "percentage"):
        number = parse_number(text, kind, question.unit, question.unit_en)
        return int(number) if kind == "integer" else number
    if kind == "date":
        return parse_date(text)
    if kind == "text":
        return text.strip()
    if kind == "document":
        return parse_citation(text)
    if kind == "file":
        raise Refused("expect_file")
    raise Refused("expect_button")
