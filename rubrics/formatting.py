"""Numbers, dates and times as a Vietnamese reader expects them: 150,77 · 1.234 · 28/10/2019 · 14h00."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel.numbers import format_decimal


def vn_number(value: Decimal | int | float | None, places: int | None = None) -> str:
    """1234.5 → "1.234,5"; with ``places=2``, 150.77 → "150,77" and 44 → "44,00"."""
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * places if places else ".##########" if places is None else "")
    return format_decimal(value, format=pattern, locale="vi")


def vn_score(value: Decimal | None) -> str:
    return vn_number(value, 2)


def vn_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "–"


def vn_time(value: datetime) -> str:
    return f"{value.hour:02d}h{value.minute:02d}"


def vn_datetime(value: datetime) -> str:
    """A local time as an official letter writes it: "14h00 ngày 28/10/2019"."""
    return f"{vn_time(value)} ngày {vn_date(value)}"
