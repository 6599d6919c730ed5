"""Answers the bot asks about before storing them: a date after today or outside the campaign's data
period (for a question about that period), a cited document dated after today (a mistyped year, most
often), and a text longer than its question allows.

The value waits in the contact's walk state (``contacts.draft["pending"]``, in the database), so a
restart still knows it; the contact confirms it with a button, types another answer, or asks to retype.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from conversations.replies import Button, Reply
from conversations.situation import Situation
from rubrics import answers as values
from rubrics.compiled import WalkStep

CONFIRM, RETYPE = "v", "w"  # prompt actions: store the pending value; drop it and ask again


def doubt(place: Situation, step: WalkStep, value: Any, zone: str) -> Reply | None:
    """The question to ask before storing ``value``, with the value kept as pending; None to store it."""
    question = step.question
    context: dict[str, Any] = {"step": step, "question": question}
    if question.type == "date" and isinstance(value, date):
        today = local_today(place.now, zone)
        period = place.campaign.period_from, place.campaign.period_to
        if value > today:
            context |= {"reason": "future", "value": value, "today": today}
        elif getattr(question, "in_period", False) and all(period) and not period[0] <= value <= period[1]:
            context |= {"reason": "period", "value": value, "start": period[0], "end": period[1]}
        else:
            return None
    elif question.type == "document" and isinstance(value, dict) and isinstance(value.get("ngay"), date):
        today = local_today(place.now, zone)
        if value["ngay"] <= today:
            return None
        context |= {"reason": "future_document", "value": value, "dated": value["ngay"], "today": today}
    elif question.type == "text" and isinstance(value, str) and len(value) > question.max_length:
        kept = shortened(value, question.max_length)
        context |= {"reason": "too_long", "value": kept, "length": len(value), "max_length": question.max_length}
    else:
        return None
    place.contact.draft = {
        **place.contact.draft,
        "pending": {"question": question.id, "value": values.to_json(question, context["value"])},
    }
    token = place.new_prompt_token()
    buttons = [
        [Button(f"q:{token}:{CONFIRM}:", key="confirm_pending", params={"reason": context["reason"]})],
        [Button(f"q:{token}:{RETYPE}:", key="retype")],
    ]
    return Reply("doubt", context, buttons, prompt_token=token)


def pending(place: Situation, step: WalkStep) -> Any | None:
    """The value waiting for the contact's confirmation at ``step``, or None."""
    waiting = place.contact.draft.get("pending")
    if not waiting or waiting.get("question") != step.question.id:
        return None
    return values.from_json(step.question, waiting["value"])


def drop(place: Situation) -> None:
    place.contact.draft = {k: v for k, v in place.contact.draft.items() if k != "pending"}


def shortened(text: str, limit: int) -> str:
    """The first part of ``text`` that fits ``limit`` characters, cut at a word where one is near."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 0.8 else cut).rstrip()


def local_today(now: datetime, zone: str) -> date:
    return now.astimezone(ZoneInfo(zone)).date()
