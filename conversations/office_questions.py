"""Questions to the coordinating office and its answers for everyone, as both dialogues use them.

A contact presses «❓ Hỏi cơ quan điều phối» at a question (draft mode ``ask``) and types the question; it
reaches every coordinator whose scope includes the agency. A coordinator answers with ``/traloi N …`` (or
the reply button, then the text: ``coordinators.answering``); the answer goes back to the asker. ``/congbo N``
(or the button under the confirmation) publishes it as guidance at that question: it is shown there to every
contact of the campaign and sent once to the contacts whose agency had already answered it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from common.errors import Refused
from common.text import refuse_control
from conversations.prompts import prompt
from conversations.replies import Button, Outcome, Reply
from conversations.situation import Person, Situation
from rubrics.compiled import CompiledRubric, WalkStep
from storage.notifications import Planned
from storage.office_questions import ANSWER_LIMIT, QUESTION_LIMIT, OfficeQuestionRecord
from storage.records import CoordinatorRecord
from storage.unit import Unit

ASK = "ask"  # the contact's draft mode while the next text is their question
KINDS = ("office_question", "office_answer", "guidance")  # the outbox messages: to the offices, the asker, all
CATCH_UP = timedelta(days=7)  # a question, answer or guidance is sent late rather than never
LISTED = 8  # open questions in a coordinator's /hoidap, so the message stays under Telegram's 4 096 characters
CONTACT_LISTED = 6  # a contact's latest questions, each with its answer


def refusal(refused: Refused) -> Outcome:
    return Outcome([Reply("refusal", {"refused": refused})], notice="refused")


def _checked(text: str, limit: int, kind: str) -> str:
    """The text stripped, or the refusal of an empty or over-long one, or one with a control character."""
    text = text.strip()
    if not text:
        raise Refused(f"{kind}_empty")
    if len(text) > limit:
        raise Refused(f"{kind}_too_long", length=len(text), limit=limit)
    refuse_control(text, "office_text_control")
    return text


def step_of(rubric: CompiledRubric, question_id: str) -> WalkStep | None:
    return rubric.by_id.get(question_id)


# -- the contact ----------------------------------------------------------------------------


def start(place: Situation, step: WalkStep) -> Outcome:
    """The button at a question: the next text the contact types is their question."""
    place.contact.draft = {**place.contact.draft, "mode": ASK}
    return Outcome([Reply("office_ask", {"step": step, "limit": QUESTION_LIMIT})], notice="ask")


def asked(place: Situation, step: WalkStep, text: str) -> Outcome:
    """The contact's question, stored and sent to the coordinators in scope, then the question again. A
    refusal leaves the contact in the mode to type again."""
    try:
        text = _checked(text, QUESTION_LIMIT, "office_question")
    except Refused as refused:
        return Outcome([Reply("refusal", {"refused": refused})])
    unit, contact, agency = place.unit, place.contact, place.agency
    question = unit.office_questions.ask(
        place.campaign.id,
        agency.id,
        step.question.id,
        text,
        by=contact.telegram_user_id,
        name=contact.full_name,
        now=place.now,
    )
    place.contact.draft = {k: v for k, v in place.contact.draft.items() if k != "mode"}
    notified = _notify_coordinators(unit, question, place.now)
    acknowledged = Reply("office_asked", {"number": question.id, "step": step, "notified": notified})
    return Outcome([acknowledged, prompt(place, step)])


def _notify_coordinators(unit: Unit, question: OfficeQuestionRecord, now: datetime) -> int:
    """Queue the question for every coordinator whose scope includes the agency; how many."""
    campaign_id = question.campaign_id
    rows = [
        Planned(
            f"c{campaign_id}:office_question:q{question.id}:u{c.telegram_user_id}",
            "office_question",
            c.telegram_user_id,
            question.agency_id,
            now,
            now + CATCH_UP,
            {"number": question.id},
        )
        for c in unit.contacts.coordinators_of(campaign_id)
        if question.agency_id in unit.agencies.in_scope(campaign_id, c.scope_agency_id)
    ]
    unit.queue(campaign_id, rows)
    return len(rows)


def contact_listing(place: Situation) -> Outcome:
    """``/hoidap`` of a contact: the agency's questions, latest first, with the office's answers."""
    questions = place.unit.office_questions.of_agency(place.agency.id, CONTACT_LISTED)
    entries = [{"question": q, "step": step_of(place.rubric, q.question_id)} for q in questions]
    return Outcome([Reply("office_questions", {"coordinator": False, "entries": entries, "total": len(entries)})])


# -- the coordinator ------------------------------------------------------------------------


def _in_scope(unit: Unit, coordinator: CoordinatorRecord, number: int) -> OfficeQuestionRecord:
    """Question ``number`` if its agency is in the coordinator's scope; another scope's is "not found"."""
    question = unit.office_questions.get(coordinator.campaign_id, number)
    scope = unit.agencies.in_scope(coordinator.campaign_id, coordinator.scope_agency_id)
    if question is None or question.agency_id not in scope:
        raise Refused("office_question_not_found", number=number)
    return question


def question_number(reference: str) -> int:
    """The number a coordinator typed ("12", "#12"), or the refusal; a number of more than 9 digits is no
    question's, and is refused before it reaches the database."""
    reference = reference.strip().lstrip("#")
    if not reference.isdigit() or len(reference) > 9:
        raise Refused("office_question_number", reference=reference[:20])
    return int(reference)


def reply(unit: Unit, coordinator: CoordinatorRecord, argument: str, now: datetime) -> Outcome:
    """``/traloi N <answer>``, or ``/traloi N`` to be asked for the text."""
    parts = argument.split(maxsplit=1)
    if not parts:
        return Outcome([Reply("office_reply_usage")])
    try:
        number = question_number(parts[0])
        if len(parts) == 1:
            return await_answer(unit, coordinator, number)
        return answer(unit, coordinator, number, parts[1], now)
    except Refused as refused:
        return refusal(refused)


def await_answer(unit: Unit, coordinator: CoordinatorRecord, number: int) -> Outcome:
    """The reply button: the coordinator's next message is the answer to question ``number``."""
    question = _in_scope(unit, coordinator, number)
    if question.published_at is not None:
        raise Refused("office_question_published", number=number)
    unit.office_questions.set_answering(coordinator.id, number)
    rubric = unit.campaign(coordinator.campaign_id).rubrics[question.level]
    context = {"question": question, "step": step_of(rubric, question.question_id), "limit": ANSWER_LIMIT}
    return Outcome([Reply("office_answer_prompt", context)], notice="ask")


def answer(unit: Unit, coordinator: CoordinatorRecord, number: int, text: str, now: datetime) -> Outcome:
    """Store the answer, send it to the asker, and offer to publish it."""
    question = _in_scope(unit, coordinator, number)
    if question.published_at is not None:
        raise Refused("office_question_published", number=number)
    text = _checked(text, ANSWER_LIMIT, "office_answer")
    unit.office_questions.answer(number, text, by=coordinator.telegram_user_id, now=now)
    unit.office_questions.set_answering(coordinator.id, None)
    row = Planned(
        f"c{question.campaign_id}:office_answer:q{number}:{now.isoformat()}",
        "office_answer",
        question.asked_by,
        question.agency_id,
        now,
        now + CATCH_UP,
        {"number": number},
    )
    unit.queue(question.campaign_id, [row])
    buttons = [[Button(f"k:p:{number}", key="publish_guidance")]]
    context = {"number": number, "agency_name": question.agency_name, "answer": text}
    return Outcome([Reply("office_answered", context, buttons)], notice="saved")


def typed(unit: Unit, who: Person, text: str, now: datetime) -> Outcome | None:
    """A coordinator's message after a reply button: the answer; None when the user is no coordinator or
    no answer is awaited."""
    coordinator = unit.contacts.coordinator(who.user_id)
    if coordinator is None:
        return None
    number = unit.office_questions.answering(coordinator.id)
    if number is None:
        return None
    try:
        return answer(unit, coordinator, number, text, now)
    except Refused as refused:
        return refusal(refused)


def cancel_answer(unit: Unit, coordinator: CoordinatorRecord) -> bool:
    """/huy of a coordinator: no answer awaited any more; whether one was."""
    waiting = unit.office_questions.answering(coordinator.id) is not None
    unit.office_questions.set_answering(coordinator.id, None)
    return waiting


def publish(unit: Unit, coordinator: CoordinatorRecord, reference: str, now: datetime) -> Outcome:
    """``/congbo N``: the answer becomes guidance at its question, and goes once to the contacts whose agency
    had already answered that question (a second publish, or a restart, queues nothing new)."""
    if not reference.strip():
        return Outcome([Reply("office_reply_usage")])
    try:
        question = _in_scope(unit, coordinator, question_number(reference))
        if question.answered_at is None:
            raise Refused("office_question_unanswered", number=question.id)
    except Refused as refused:
        return refusal(refused)
    guidance, new = unit.office_questions.publish(question, by=coordinator.telegram_user_id, now=now)
    rows = [
        Planned(
            f"c{question.campaign_id}:guidance:g{guidance.id}:u{user_id}",
            "guidance",
            user_id,
            agency_id,
            now,
            now + CATCH_UP,
            {"guidance": guidance.id},
        )
        for agency_id, user_id in unit.office_questions.answered_contacts(
            question.campaign_id, question.level, question.question_id
        )
    ]
    sent = unit.queue(question.campaign_id, rows)
    rubric = unit.campaign(coordinator.campaign_id).rubrics[question.level]
    context = {"number": question.id, "step": step_of(rubric, question.question_id), "sent": sent, "again": not new}
    return Outcome([Reply("guidance_published", context)], notice="saved")


def coordinator_listing(unit: Unit, coordinator: CoordinatorRecord) -> Outcome:
    """``/hoidap`` of a coordinator: the unanswered questions in scope, oldest first."""
    scope = unit.agencies.in_scope(coordinator.campaign_id, coordinator.scope_agency_id)
    waiting = unit.office_questions.unanswered(coordinator.campaign_id, scope)
    rubrics = unit.campaign(coordinator.campaign_id).rubrics
    entries = [{"question": q, "step": step_of(rubrics[q.level], q.question_id)} for q in waiting[:LISTED]]
    return Outcome([Reply("office_questions", {"coordinator": True, "entries": entries, "total": len(waiting)})])
