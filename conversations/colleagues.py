"""Two colleagues of one agency answering the same questions.

Each contact's ``seen`` remembers, per question, the time of the answer they were last shown. A contact
changing an answer that a colleague gave after that is shown the colleague's answer, who and when, and
confirms before replacing it (the answer waits in the draft as ``confirm``). A contact is told, at their
next message, when a colleague replaced an answer they had given (``news_at`` is when they were last told).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from conversations.replies import Button, Reply
from conversations.situation import Situation
from rubrics import answers as values
from rubrics.answers import NA
from rubrics.compiled import WalkStep
from storage.answers import decoded


def _stamp(at: datetime | None) -> str:
    return at.isoformat() if at is not None else ""


def shown(place: Situation, question_id: str, answered_at: datetime | None) -> None:
    """The contact is shown the question's answer of ``answered_at`` (None: no answer)."""
    place.contact.seen = {**place.contact.seen, question_id: _stamp(answered_at)}


def conflict(place: Situation, step: WalkStep) -> dict[str, Any] | None:
    """The colleague's answer this contact has not seen, if one would be replaced."""
    if place.unit.answers.only_by(place.agency.id, place.contact.telegram_user_id):
        return None
    found = place.unit.answers.who_answered(place.campaign.id, place.agency.id, step.question.id)
    if found is None:
        return None
    set_by, set_at, name = found
    if set_by is None or set_by == place.contact.telegram_user_id:
        return None
    if place.contact.seen.get(step.question.id) == _stamp(set_at):
        return None
    return {"name": name, "at": set_at, "value": place.answers.get(step.question.id)}


def _encoded(step: WalkStep, value: Any) -> dict[str, Any]:
    if value is NA:
        return {"na": True}
    return {"value": values.to_json(step.question, value)}


def pending_source(place: Situation) -> str:
    """Where the answer waiting for confirmation came from: "carried" when it is last year's, kept."""
    return (place.contact.draft.get("confirm") or {}).get("source", "telegram")


def pending(place: Situation, step: WalkStep) -> tuple[bool, Any]:
    """(True, the answer) waiting for the contact's confirmation at this question, else (False, None)."""
    waiting = place.contact.draft.get("confirm") or {}
    if waiting.get("question") != step.question.id:
        return False, None
    if waiting.get("na"):
        return True, NA
    return True, decoded(place.rubric, step.question.id, waiting.get("value"))


def confirm(
    place: Situation,
    step: WalkStep,
    value: Any,
    found: dict[str, Any],
    message_id: int | None,
    source: str = "telegram",
) -> Reply:
    """Ask before replacing the colleague's answer: it is shown (so now seen), and ours (from ``source``)
    waits in the draft."""
    shown(place, step.question.id, found["at"])
    waiting = {"question": step.question.id, **_encoded(step, value), "source": source}
    place.contact.draft = {**place.contact.draft, "confirm": waiting}
    token = place.new_prompt_token()
    buttons = [
        [Button(f"q:{token}:y:", key="replace_colleague")],
        [Button(f"q:{token}:k:", key="keep_colleague")],
    ]
    context = {"step": step, "question": step.question, "colleague": found, "mine": value}
    return Reply("colleague_answered", context, buttons, edit_message_id=message_id, prompt_token=token)


def news(place: Situation) -> Reply | None:
    """What colleagues changed of this contact's answers since the contact was last told, once."""
    contact = place.contact
    since = contact.news_at or contact.joined_at
    changes = place.unit.answers.changed_by_colleagues(
        place.campaign.id, place.agency.id, contact.telegram_user_id, since
    )
    contact.news_at = place.now
    listed = [
        {"step": place.rubric.by_id[qid], "name": name, "at": at, "value": place.answers.get(qid)}
        for qid, name, at in changes
        if qid in place.rubric.by_id
    ]
    return Reply("colleague_changes", {"changes": listed}) if listed else None
