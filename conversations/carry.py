"""Last year's answers, shown at their questions and offered for keeping.

A question shows the agency's answer of the previous campaign of its family when the question
(same id) is still of the same type and the value would still be a valid answer. The value is
*offered* (a button keeps it) unless the rubric marks the question ``carry_forward: false``, it is a
file (evidence belongs to its year), or it cites a document dated before this campaign's data period (a
date answer is a fact, e.g. when the office was connected, and is offered whatever its year; a question
whose date must fall in the period says so with ``carry_forward: false``). A kept value is stored like any
answer, with the source ``carried``.

``/tieptuc`` offers once per contact (remembered in ``contact.seen`` under :data:`OFFERED`) to keep
every offered value of the still unanswered relevant questions in one step, but for values that would
ask for evidence not given yet (those wait for the walk).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from common.errors import Refused
from conversations import colleagues, evidence_step
from conversations.replies import Button, Reply
from conversations.situation import Situation
from conversations.walk import relevant_steps
from rubrics import answers as values
from rubrics.answers import NA
from rubrics.compiled import WalkStep
from storage.records import CARRIED

SOURCE = CARRIED  # answers.source of a value kept from last year
OFFERED = "~carry_offered"  # contact.seen key: the keep-all offer was made (no question id starts with "~")
KEEP_ALL, ONE_BY_ONE = "pa", "pn"  # menu actions of the keep-all offer


@dataclass(frozen=True)
class LastYear:
    value: Any
    verified: bool
    offered: bool  # the value may be kept as it is
    why_not: str | None = None  # refresh (carry_forward: false) | file | outdated (a document before the period)


def _cited_on(question, value: Any) -> date | None:
    """The date of the document a ``document`` answer cites."""
    if question.type == "document" and isinstance(value, dict):
        return value.get("ngay")
    return None


def last_year(place: Situation, step: WalkStep, answers: dict[str, Any] | None = None) -> LastYear | None:
    """Last year's answer to the question, if it still fits it (checked against ``answers``, this year's by
    default), and whether it is offered for keeping."""
    found = place.unit.last_year.values(place.campaign, place.agency).get(step.question.id)
    question = step.question
    if found is None or found.question_type != question.type:
        return None
    if found.value is NA:
        if not question.allow_na:
            return None
    elif values.check(question, found.value, place.answers if answers is None else answers) is not None:
        return None
    why_not = None
    dated = _cited_on(question, found.value)
    if not question.carry_forward:
        why_not = "refresh"
    elif question.type == "file":
        why_not = "file"
    elif dated is not None and place.campaign.period_from is not None and dated < place.campaign.period_from:
        why_not = "outdated"
    return LastYear(found.value, found.verified, why_not is None, why_not)


def shown(place: Situation, step: WalkStep, current: Any) -> LastYear | None:
    """What the question's message says of last year; offered only when it differs from this year's answer."""
    found = last_year(place, step)
    if found is not None and found.offered and current == found.value:
        return LastYear(found.value, found.verified, False, "same")
    return found


def _needs_evidence(step: WalkStep, value: Any, evidenced: set[str]) -> bool:
    """The kept value would ask for evidence the question does not have yet (``evidenced``: the questions
    with some): left for the walk, where the question's keep button asks for it at once."""
    return evidence_step.wanted(step.question, value) and step.question.id not in evidenced


def offerable(place: Situation) -> list[tuple[WalkStep, LastYear]]:
    """What keeping every offered value would fill, in walk order: the relevant unanswered questions whose
    last year's value is offered and needs no evidence not given yet, relevance re-read after each value
    (one may open or close later questions)."""
    answers = dict(place.answers)
    evidenced = place.evidence_questions()
    found: list[tuple[WalkStep, LastYear]] = []
    while True:
        following = None
        for step in relevant_steps(place.rubric, answers):
            if step.question.id in answers or place.edit_refusal(step.question.id) is not None:
                continue
            kept = last_year(place, step, answers)
            if kept is not None and kept.offered and not _needs_evidence(step, kept.value, evidenced):
                following = (step, kept)
                break
        if following is None:
            return found
        found.append(following)
        answers[following[0].question.id] = following[1].value


def offer(place: Situation) -> Reply | None:
    """The one-time keep-all offer at /tieptuc, with the list of values; None once made, or with nothing."""
    if place.contact.seen.get(OFFERED) or place.edit_refusal() is not None:
        return None
    listed = offerable(place)
    if not listed:
        return None
    place.contact.seen = {**place.contact.seen, OFFERED: place.now.isoformat()}
    token = place.new_menu_token()
    buttons = [
        [Button(f"m:{token}:{KEEP_ALL}:", key="carry_all", params={"count": len(listed)})],
        [Button(f"m:{token}:{ONE_BY_ONE}:", key="carry_one_by_one")],
    ]
    items = [{"step": step, "question": step.question, "last_year": kept} for step, kept in listed]
    return Reply("carry_offer", {"items": items, "count": len(items)}, buttons)


def keep_all(place: Situation) -> list[WalkStep]:
    """Store every value :func:`offerable` lists, each as carried forward by this contact now; the steps
    kept. A value the answers now refuse (a bound moved) is left for the contact, and a question it would
    have opened is only filled if it is still relevant."""
    kept = []
    for step, found in offerable(place):
        if step not in relevant_steps(place.rubric, place.answers):
            continue
        try:
            place.unit.answers.set(
                place.rubric,
                place.agency,
                step.question.id,
                found.value,
                by=place.contact.telegram_user_id,
                source=SOURCE,
                now=place.now,
                current=place.answers,
                submission=place.submission,
            )
        except Refused:
            continue
        place.answers[step.question.id] = found.value
        colleagues.shown(place, step.question.id, place.now)
        kept.append(step)
    return kept
