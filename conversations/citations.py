"""Document citations as officials write them: type, number and symbol, date, issuer and abstract.

Accepted, besides "số hiệu; ngày; trích yếu" (one part a line, or separated by semicolons or commas):
"Quyết định số 1784/QĐ-UBND ngày 13/8/2018 của UBND tỉnh về việc ban hành …",
"Kế hoạch số 12/KH-UBND ngày 15/01/2018", "12/KH-UBND ngày 15/01/2018",
"12/KH-UBND, 15/01/2018, Kế hoạch ứng dụng CNTT năm 2018", with the date in any form
:mod:`conversations.dates` reads. A refusal names the part it could not find.
"""

from __future__ import annotations

import re
from typing import Any

from common.errors import Refused
from common.text import refuse_control
from conversations.dates import find_date, parse_date
from rubrics.answers import DOCUMENT_OPTIONAL

# "1784/QĐ-UBND", "30/2020/NĐ-CP", "436/STTTT-CNTT": a number, a slash, and a symbol holding a letter
_NUMBER = re.compile(r"(?<![\w/])\d+[a-zA-Z]?(?:/[\w.&\-–]+)+")
_LEAD = re.compile(r"^[\s,;:.\-–]+")
_TYPE_TAIL = re.compile(r"\s*(?:số|so)\s*:?\s*$", re.IGNORECASE)
_ISSUER = re.compile(r"^của\s+(?P<issuer>.+?)(?=\s+(?:về|v/v)\s|\s*[,;\n]|$)", re.IGNORECASE | re.DOTALL)
_ABOUT = re.compile(r"^(?:về việc|v/v|về)\s+", re.IGNORECASE)
LIMITS = {"loai": 60, "so_hieu": 100, "co_quan": 200, "trich_yeu": 1000}


def parse_citation(text: str) -> dict[str, Any]:
    """The fields of a cited document: ``so_hieu``, ``ngay`` (a date) and ``trich_yeu``, and ``loai`` (the
    document's type) and ``co_quan`` (its issuer) when the citation names them."""
    refuse_control(text, "answer_control")
    cleaned = text.replace("\u00a0", " ").strip().removesuffix(".")
    number = next((m for m in _NUMBER.finditer(cleaned) if re.search(r"[^\W\d_]", m.group())), None)
    if number is None:
        return _plain(cleaned)
    so_hieu = number.group().rstrip(".-–")
    kind = _TYPE_TAIL.sub("", cleaned[: number.start()]).strip(" ,;:")
    rest = cleaned[number.start() + len(so_hieu) :]
    written = find_date(rest)
    if written is None:
        raise Refused("citation_no_date", number=so_hieu)
    issuer, _ = _issuer(_LEAD.sub("", rest[: written.start()]))
    after = _LEAD.sub("", rest[written.end() :])
    if not issuer:
        issuer, after = _issuer(after)
    return _fields(kind, so_hieu, parse_date(written.group()), issuer, after)


def _plain(text: str) -> dict[str, Any]:
    """ "Số hiệu; ngày; trích yếu" with a number that has no symbol (e.g. "125")."""
    parts = [p.strip() for p in re.split(r"[;\n]|,\s", text, maxsplit=2)]
    written = find_date(parts[1]) if len(parts) > 1 else None
    if not parts[0] or find_date(parts[0]) or written is None:
        raise Refused("citation_no_number")
    return _fields("", parts[0], parse_date(parts[1]), "", parts[2] if len(parts) > 2 else "")


def _issuer(text: str) -> tuple[str, str]:
    """(issuer, what follows it) when ``text`` starts "của …"; else ("", ``text``)."""
    found = _ISSUER.match(text)
    if found is None:
        return "", text
    return found["issuer"].strip(), _LEAD.sub("", text[found.end() :])


def _fields(kind: str, so_hieu: str, issued, issuer: str, abstract: str) -> dict[str, Any]:
    abstract = _ABOUT.sub("", abstract.strip())
    found = {
        "loai": kind[:1].upper() + kind[1:],
        "so_hieu": so_hieu,
        "ngay": issued,
        "co_quan": issuer,
        "trich_yeu": abstract[:1].upper() + abstract[1:],
    }
    kept = {k: v[: LIMITS[k]] if isinstance(v, str) else v for k, v in found.items()}
    return {k: v for k, v in kept.items() if v or k not in DOCUMENT_OPTIONAL}
