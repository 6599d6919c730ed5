"""Reviewing the answers before submitting: one page per group, edit buttons, the confirmation.

Review and confirmation buttons carry ``m:<token>:<action>:<argument>`` with the
contact's menu token: p = show page, e = edit question, c = confirm submission
(handled by the dialogue, which submits), x = cancel.
"""

from __future__ import annotations

from conversations.prompts import prompt
from conversations.replies import Button, Outcome, Reply
from conversations.situation import Situation
from conversations.walk import progress, relevant_steps

EDIT_BUTTONS_PER_ROW = 5
STEPS_PER_PAGE = 12  # keeps a page well under Telegram's 4 096 characters


def top_group(place: Situation, code: str) -> str:
    """The code of the top-level group an item sits in."""
    while (parent := place.rubric.parents.get(code)) is not None:
        code = parent
    return code


def pages(place: Situation) -> list[tuple[object | None, list]]:
    """(top-level group or None for general information, up to STEPS_PER_PAGE of its relevant steps); a
    group with no question of its own still has a page when it shows figures read from the children."""
    steps = relevant_steps(place.rubric, place.answers)
    computed = {top_group(place, item.code) for item, _ in place.children_figures()}
    sections = [(None, [s for s in steps if not s.section.path])]
    for group in place.rubric.rubric.groups:
        sections.append((group, [s for s in steps if s.section.path and s.section.path[0].code == group.code]))
    return [
        (group, inside[i : i + STEPS_PER_PAGE])
        for group, inside in sections
        for i in range(0, max(len(inside), 1 if group is not None and group.code in computed else 0), STEPS_PER_PAGE)
    ]


def page(place: Situation, index: int, *, edit_message_id: int | None = None) -> Reply:
    all_pages = pages(place)
    index = max(0, min(index, len(all_pages) - 1))
    group, steps = all_pages[index]
    token = place.new_menu_token()
    score = place.provisional_score()
    group_score = next((g for g in score.groups if group is not None and g.code == group.code), None)
    evidence = place.evidence_questions()
    done = progress(place.rubric, place.answers, evidence)
    first_of_group = group is not None and (index == 0 or all_pages[index - 1][0] is not group)
    figures = [
        (item, shown, score.indicators[item.code])
        for item, shown in (place.children_figures() if first_of_group else [])
        if top_group(place, item.code) == group.code
    ]
    edit_buttons = [Button(f"m:{token}:e:{s.number}", key="edit_number", params={"number": s.number}) for s in steps]
    rows = [edit_buttons[i : i + EDIT_BUTTONS_PER_ROW] for i in range(0, len(edit_buttons), EDIT_BUTTONS_PER_ROW)]
    nav = []
    if index > 0:
        nav.append(Button(f"m:{token}:p:{index - 1}", key="page_previous"))
    if index < len(all_pages) - 1:
        nav.append(Button(f"m:{token}:p:{index + 1}", key="page_next"))
    if nav:
        rows.append(nav)
    return Reply(
        "review",
        {
            "group": group,
            "steps": steps,
            "answers": place.answers,
            "carried": place.unit.last_year.kept(place.agency),
            "index": index,
            "pages": len(all_pages),
            "group_score": group_score,
            "figures": figures,
            "score": score,
            "evidence": evidence,
            "missing": {s.number for s in done.missing_required},
            "answered": done.answered,
            "relevant": done.relevant,
        },
        rows,
        edit_message_id=edit_message_id,
    )


def confirm_submit(place: Situation, token: str, score) -> Reply:
    done = progress(place.rubric, place.answers, place.evidence_questions())
    return Reply(
        "submit_confirm",
        {
            "agency": place.agency,
            "score": score,
            "rubric": place.rubric.rubric,
            "answered": done.answered,
            "relevant": done.relevant,
        },
        [[Button(f"m:{token}:c:", key="confirm_submit"), Button(f"m:{token}:x:", key="cancel")]],
    )


def menu(place: Situation, action: str, argument: str, message_id: int | None) -> Outcome:
    """A review button (``c``, confirming the submission, is the dialogue's own)."""
    if action == "p" and argument.isdigit():
        return Outcome([page(place, int(argument), edit_message_id=message_id)])
    if action == "e" and argument.isdigit() and 1 <= int(argument) <= len(place.rubric.steps):
        step = place.rubric.steps[int(argument) - 1]
        blocked = place.edit_refusal(step.question.id)
        if blocked:
            return Outcome([Reply("refusal", {"refused": blocked})], notice="refused")
        if step not in relevant_steps(place.rubric, place.answers):
            return Outcome(notice="not_relevant")
        return Outcome([prompt(place, step)])
    if action == "x":
        place.new_menu_token()
        return Outcome([Reply("submit_cancelled")], notice="cancelled")
    return Outcome(notice="invalid_button")
