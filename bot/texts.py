"""Every user-facing text, rendered from the Jinja2 templates in ``bot/templates``.

Templates live per language (``vi/``, ``en/``) and for the command line
(``cli/``, Vietnamese). Filters format numbers, dates and times the way a
Vietnamese reader expects: 150,77 · 28/10/2019 · 14h00.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined

from common.errors import Refused
from rubrics.answers import NA
from rubrics.formatting import vn_date, vn_datetime, vn_number, vn_score, vn_time

LANGUAGES = ("vi", "en")


def language_of(code: str | None) -> str:
    """English when the user's Telegram language is English; Vietnamese otherwise."""
    return "en" if code and code.lower().startswith("en") else "vi"


def _localized(value: datetime | None, zone: str) -> datetime | None:
    return value.astimezone(ZoneInfo(zone)) if value is not None else None


@cache
def environment(zone: str = "Asia/Ho_Chi_Minh") -> Environment:
    env = Environment(
        loader=PackageLoader("bot", "templates"),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # the templates ship with the package; checking their files on every render costs
    )
    env.filters.update(
        vn=vn_number,
        score=vn_score,
        percent=lambda v: "–" if v is None else f"{vn_score(v)} %",
        signed=lambda v: "–" if v is None else ("+" if v > 0 else "−" if v < 0 else "±") + vn_score(abs(v)),
        date=lambda v: vn_date(v.astimezone(ZoneInfo(zone)).date() if isinstance(v, datetime) else v),
        local=lambda v: _localized(v, zone),
        when=lambda v: "–" if v is None else vn_datetime(_localized(v, zone)),
        when_en=lambda v: "–" if v is None else f"{vn_time(_localized(v, zone))} on {vn_date(_localized(v, zone))}",
        clock=lambda v: vn_time(_localized(v, zone)),
        iso=lambda v: v.isoformat() if isinstance(v, (date, datetime)) else v,
    )
    env.globals["NA"] = NA
    return env


def render(name: str, *, lang: str = "vi", zone: str = "Asia/Ho_Chi_Minh", **context) -> str:
    """Render ``{lang}/{name}.j2``, or ``cli/{name}.j2`` when ``lang`` is "cli"."""
    return environment(zone).get_template(f"{lang}/{name}.j2").render(**context).strip()


def phrase(name: str, macro: str, *, lang: str = "cli", zone: str = "Asia/Ho_Chi_Minh", **params) -> str:
    """One macro of ``{lang}/{name}.j2``, for a sentence that is part of a command's output."""
    module = environment(zone).get_template(f"{lang}/{name}.j2").module
    return str(getattr(module, macro)(**params)).strip()


def refusal(refused: Refused, *, lang: str = "vi", zone: str = "Asia/Ho_Chi_Minh") -> str:
    """The one sentence that explains a refusal and what to do instead."""
    module = environment(zone).get_template(f"{'vi' if lang == 'cli' else lang}/refusals.j2").module
    return str(getattr(module, refused.key)(**refused.params)).strip()
