"""Typed answers in the formats a Vietnamese contact writes: 1.234 · 12,5 · 85% · 28/10/2019.

Numbers are read by Babel with the Vietnamese locale (dot for thousands, comma
for decimals); dates by :func:`datetime.strptime`. A reply that cannot be read
raises :class:`~common.errors.Refused` naming what was expected.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.numbers import NumberFormatError, parse_decimal

from common.errors import Refused
from common.text import refuse_control
from rubrics.model import Question

DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d")
MAX_TEXT = 3500


def parse_number(text: str) -> Decimal:
    cleaned = re.sub(r"[\s\u00a0]", "", text).removesuffix("%")
    if not cleaned or len(cleaned) > 30:
        raise ValueError(text)
    try:
        return parse_decimal(cleaned, locale="vi", strict=True)
    except NumberFormatError:
        if re.fullmatch(r"-?\d+", cleaned):
            return Decimal(cleaned)
        raise ValueError(text) from None


def parse_date(text: str) -> date:
    cleaned = text.strip()
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def parse_reference(text: str) -> dict[str, Any]:
    """ "Số hiệu; ngày; trích yếu" (or one per line) as a document reference."""
    refuse_control(text, "answer_control")
    parts = [p.strip() for p in re.split(r"[;\n]", text, maxsplit=2)]
    if len(parts) < 2 or not parts[0]:
        raise Refused("reference_format")
    try:
        issued = parse_date(parts[1])
    except ValueError:
        raise Refused("reference_format") from None
    return {"so_hieu": parts[0][:100], "ngay": issued, "trich_yeu": (parts[2] if len(parts) > 2 else "")[:1000]}


def parse_answer(question: Question, text: str) -> Any:
    """The value a typed reply gives ``question``; raises Refused when it does not fit the type."""
    kind = question.type
    if len(text) > MAX_TEXT:
        raise Refused("answer_text_too_long", max_length=getattr(question, "max_length", MAX_TEXT), length=len(text))
    refuse_control(text, "answer_control")
    if kind in ("integer", "decimal", "percentage"):
        try:
            number = parse_number(text)
        except ValueError:
            raise Refused("answer_not_integer" if kind == "integer" else "answer_not_number") from None
        if kind == "integer":
            if number != number.to_integral_value():
                raise Refused("answer_not_integer")
            return int(number)
        return number
    if kind == "date":
        try:
            return parse_date(text)
        except ValueError:
            raise Refused("answer_not_date") from None
    if kind == "text":
        return text.strip()
    if kind == "document":
        return parse_reference(text)
    if kind == "file":
        raise Refused("expect_file")
    raise Refused("expect_button")
