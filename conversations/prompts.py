"""Building the message for one question: header, text, current answer and its buttons.

Buttons carry ``q:<token>:<action>:<argument>``; the token is the contact's
current prompt token, so a button from an older message, a second tap or
forged data is recognised and changes nothing.
"""

from __future__ import annotations

from typing import Any

from conversations import carry, colleagues, evidence_step
from conversations.progress import position
from conversations.replies import Button, Reply
from conversations.situation import Situation
from conversations.walk import relevant_steps
from rubrics.answers import NA
from rubrics.compiled import WalkStep
from rubrics.model import MultiChoiceQuestion, SingleChoiceQuestion

# prompt actions: a = answer (option index, or 1/0 for yes/no), t = toggle a choice,
# d = done with a multiple choice, n = not applicable, s = skip, b = back, k = keep and go on,
# r = give a document reference as evidence, l = evidence later, e = remove a piece of evidence,
# y = replace a colleague's answer (confirmed), f = a file question's answer becomes this evidence file,
# v / w = store / retype the answer the bot asked about (a future date, an over-long text),
# h = ask the coordinating office about this question, p = keep last year's answer (see :mod:`conversations.carry`)
PROMPT_ACTIONS = frozenset("atdnsbkrleyfvwhp")
MAX_LISTED = 8  # pieces of evidence with a remove button under a question


class _Unanswered:
    """The value of a question with no answer yet: a sentinel no answer can equal (a text answer may be any
    string, "unset" included)."""

    def __repr__(self) -> str:
        return "UNANSWERED"


UNANSWERED = _Unanswered()


def section_context(step: WalkStep) -> dict[str, Any]:
    path = step.section.path
    return {"top": path[0] if path else None, "sub": path[1] if len(path) > 1 else None}


def answered_by(place: Situation, step: WalkStep) -> dict[str, Any] | None:
    """Who gave the current answer, and when, so colleagues see each other's work; the contact has now
    seen it (see :mod:`conversations.colleagues`)."""
    found = place.unit.answers.who_answered(place.campaign.id, place.agency.id, step.question.id)
    colleagues.shown(place, step.question.id, found[1] if found else None)
    if found is None:
        return None
    set_by, set_at, name = found
    return {"name": name, "at": set_at, "self": set_by == place.contact.telegram_user_id}


def prompt(place: Situation, step: WalkStep, *, edit_message_id: int | None = None) -> Reply:
    """The question message, and the contact's position moved to it."""
    question = step.question
    contact = place.contact
    if contact.current_question != question.id:
        contact.draft = {}
    contact.current_question = question.id
    token = place.new_prompt_token()
    value = place.answers.get(question.id, UNANSWERED)
    chosen = contact.draft.get("toggles")
    if chosen is None and isinstance(question, MultiChoiceQuestion):
        chosen = list(value) if isinstance(value, list) else []
        contact.draft = {**contact.draft, "toggles": chosen}

    def button(action: str, argument: str = "", **kwargs) -> Button:
        return Button(f"q:{token}:{action}:{argument}", **kwargs)

    rows: list[list[Button]] = []
    earlier = carry.shown(place, step, value)
    if earlier is not None and earlier.offered:
        rows.append([button("p", key="keep_last_year")])
    if question.type == "yes_no":
        rows.append([button("a", "1", key="yes"), button("a", "0", key="no")])
    elif isinstance(question, SingleChoiceQuestion):
        rows += [[button("a", str(i), key="option", params={"option": o})] for i, o in enumerate(question.options)]
    elif isinstance(question, MultiChoiceQuestion):
        rows += [
            [button("t", str(i), key="toggle", params={"option": o, "on": o.value in chosen})]
            for i, o in enumerate(question.options)
        ]
        rows.append([button("d", key="done")])
    extra = []
    if question.allow_na:
        extra.append(button("n", key="not_applicable"))
    if not question.required:
        extra.append(button("s", key="skip"))
    if extra:
        rows.append(extra)
    evidence = evidence_step.items(place, question.id) if question.evidence != "none" else []
    enough = evidence_step.satisfied(question, None if value is UNANSWERED else value, evidence)
    asked = contact.draft.get("mode") == evidence_step.EVIDENCE
    rows += [
        [button("e", str(item.id), key="remove_evidence", params={"name": evidence_step.name_of(item)})]
        for item in evidence[:MAX_LISTED]
    ]
    if question.evidence != "none" and question.type not in ("file", "document"):
        rows.append([button("r", key="reference")])
    if asked and not enough:
        rows.append([button("l", key="later")])
    by = None if value is UNANSWERED else answered_by(place, step)
    if by is None:
        colleagues.shown(place, question.id, None)
    steps = relevant_steps(place.rubric, place.answers)  # once per prompt: the back button and the counts
    nav = []
    if any(s.number < step.number for s in steps):
        nav.append(button("b", key="back"))
    if value is not UNANSWERED:
        nav.append(button("k", key="keep"))
    if nav:
        rows.append(nav)
    rows.append([button("h", key="ask_office")])
    guidance = place.unit.office_questions.guidance(place.campaign.id, place.agency.level, question.id)
    return Reply(
        "question",
        {
            "step": step,
            "question": question,
            **position(steps, step, place.returned).context(),
            **section_context(step),
            "value": value,
            "unset": value is UNANSWERED,
            "na": value is NA,
            "by": by,
            "evidence": [evidence_step.name_of(item) for item in evidence],
            "evidence_ok": enough,
            "asked_evidence": asked and not enough,
            "answered": sum(1 for s in steps if s.question.id in place.answers),
            "relevant": len(steps),
            "mode": contact.draft.get("mode"),
            "returned_comment": place.returned.get(question.id),
            "guidance": guidance,
            "last_year": earlier,
        },
        rows,
        edit_message_id=edit_message_id,
        prompt_token=token,
    )


def parse_button(data: str) -> tuple[str, str, str, str] | None:
    """(kind, token, action, argument) of well-formed button data, else None."""
    parts = data.split(":")
    if len(parts) != 4 or parts[0] not in ("q", "m") or not parts[1]:
        return None
    kind, token, action, argument = parts
    if kind == "q" and action not in PROMPT_ACTIONS:
        return None
    return kind, token, action, argument
