"""The words of the exports in one language: the macros of ``{lang}/labels.j2``, rendered through the bot's
template environment (:class:`conversations.exports.ExportLabels`), and of the annex, from ``{lang}/annex.j2``."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from bot.texts import environment


class TemplateLabels:
    """Renders each macro once per arguments: a state, yes or no is asked once per row."""

    def __init__(self, lang: str = "vi", zone: str = "Asia/Ho_Chi_Minh"):
        self._module = environment(zone).get_template(f"{lang}/labels.j2").module
        self._annex = environment(zone).get_template(f"{lang}/annex.j2").module
        self._rendered: dict[tuple, str] = {}

    def _render(self, macro: str, *args: Any) -> str:
        key = (macro, *args)
        text = self._rendered.get(key)
        if text is None:
            text = self._rendered[key] = str(getattr(self._module, macro)(*args)).strip()
        return text

    def column(self, name: str) -> str:
        return self._render(f"col_{name}")

    def group_column(self, code: str, part: str) -> str:
        return self._render("col_group", code, part)

    def indicator_column(self, code: str) -> str:
        return self._render("col_indicator", code)

    def question_column(self, number: int, question_id: str) -> str:
        return self._render("col_question", number, question_id)

    def questions_sheet(self) -> str:
        return self._render("sheet_questions")

    def indicators_sheet(self) -> str:
        return self._render("sheet_indicators")

    def campaign_sheet(self) -> str:
        return self._render("sheet_campaign")

    def state(self, name: str) -> str:
        return self._render("state", name)

    def yes(self) -> str:
        return self._render("yes")

    def no(self) -> str:
        return self._render("no")

    def not_applicable(self) -> str:
        return self._render("not_applicable")

    def document(self, number: str | None, signed: Any, summary: str | None) -> str:
        return str(self._module.document(number, signed, summary)).strip()

    def annex(self, name: str, *args: Any) -> str:
        """A phrase of the annex and its targets sheet (:class:`conversations.annex.AnnexLabels`)."""
        return str(getattr(self._annex, name)(*args)).strip()

    def answer(self, question: Any, value: Any) -> str:
        return str(self._module.answer(question, value)).strip()


@cache
def labels(lang: str = "vi", zone: str = "Asia/Ho_Chi_Minh") -> TemplateLabels:
    """The labels of one language, shared by every export of the process."""
    return TemplateLabels(lang, zone)


def by_language(zone: str) -> Callable[[str], TemplateLabels]:
    """Language → its labels, in ``zone``: what a dialogue that exports is given."""
    return lambda lang: labels(lang, zone)
