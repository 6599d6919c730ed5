"""Dates as officials write them (Nghị định 30/2020/NĐ-CP): a closed set of forms, one small grammar each.

Accepted: "ngày 15 tháng 3 năm 2019", "15 tháng 3 năm 2019", "15/3/2019", "15/03/2019", "15-03-2019",
"15.03.2019" and "2019-03-15", each perhaps after "ngày" and with or without a trailing full stop. A date
that does not exist (31/02/2019) and a two-digit year (15/3/19) are refused with a
:class:`~common.errors.Refused` that says why.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from common.errors import Refused

_WORDS = re.compile(r"(?P<d>\d{1,2})\s+tháng\s+(?P<m>\d{1,2})\s*,?\s+năm\s+(?P<y>\d+)", re.IGNORECASE)
_DAY_WORD = re.compile(r"^ngày\s+", re.IGNORECASE)
_DAY_FIRST = re.compile(r"(?P<d>\d{1,2})(?P<sep>[/.\-])(?P<m>\d{1,2})(?P=sep)(?P<y>\d+)")
_ISO = re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})")
FORMS = (_WORDS, _DAY_FIRST, _ISO)
_ANY = re.compile(
    r"(?:ngày\s+)?(?:\d{1,2}\s+tháng\s+\d{1,2}\s*,?\s+năm\s+\d+|\d{1,2}([/.\-])\d{1,2}\1\d+|\d{4}-\d{1,2}-\d{1,2})",
    re.IGNORECASE,
)


def find_date(text: str) -> re.Match[str] | None:
    """Where the first date (in any accepted form, perhaps not a valid one) is written in ``text``."""
    return _ANY.search(text.replace("\u00a0", " "))


def parse_date(text: str) -> date:
    """The date ``text`` writes; :class:`Refused` when it is no date, does not exist or has a short year."""
    cleaned = _DAY_WORD.sub("", " ".join(text.replace("\u00a0", " ").split()).removesuffix(".").strip())
    for form in FORMS:
        found = form.fullmatch(cleaned)
        if found is not None:
            return _checked(int(found["d"]), int(found["m"]), found["y"])
    raise Refused("answer_not_date")


def _checked(day: int, month: int, year_text: str) -> date:
    if len(year_text) != 4:
        raise Refused("answer_date_short_year", year=year_text)
    year = int(year_text)
    if not 1 <= month <= 12:
        raise Refused("answer_date_no_month", month=month)
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        raise Refused("answer_date_no_day", day=day, month=month, year=year, days=days)
    return date(year, month, day)
