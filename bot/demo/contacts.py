"""Simulated agency contacts: they answer their rubric in Telegram as a person would.

Choices are pressed by their button text, numbers and dates are typed in Vietnamese formats
(1.234 · 12,5 · 28/10/2019), evidence goes as a document. The answers come from
:func:`rubrics.sample_answers.sample_answers`, seeded per agency.
"""

from __future__ import annotations

import re
from typing import Any

from bot.demo.fake_telegram import BotMessage
from bot.demo.transcript import Chat, Said
from bot.texts import environment
from rubrics.answers import NA
from rubrics.compiled import CompiledRubric

HEADER = re.compile(r"· Câu (\d+) · (?:trả lại )?\d+/\d+")
EVIDENCE = ("minh-chung.pdf", b"%PDF-1.4 minh chung", "application/pdf")
# Typing mistakes a contact really makes before typing it right, by question type: a number in words, a unit
# after the number, a decimal on a count, a dot as the decimal point, a day the month does not have, a
# two-digit year.
MISTAKES = {
    "integer": ("mười hai", "20 người", "12,5"),
    "decimal": ("12.5",),
    "date": ("31/02/2019", "15/3/19"),
}


def label(name: str, **params) -> str:
    """A button's text, from the bot's own Vietnamese templates."""
    return str(getattr(environment().get_template("vi/buttons.j2").module, name)(**params)).strip()


def is_prompt(message: BotMessage) -> bool:
    return bool(HEADER.search(message.text or ""))


def is_next(message: BotMessage) -> bool:
    """The next question, or the summary once every question has an answer."""
    return is_prompt(message) or "/nop" in (message.text or "")


def typed(question, value) -> str:
    """How a contact types ``value`` for ``question``, in Vietnamese formats (1.234 · 12,5 · 28/10/2019)."""
    if question.type == "integer":
        return f"{value:,}".replace(",", ".")
    if question.type in ("decimal", "percentage"):
        return str(value).replace(".", ",")
    if question.type == "date":
        return value.strftime("%d/%m/%Y")
    if question.type == "document":
        return f"{value['so_hieu']}; {value['ngay'].strftime('%d/%m/%Y')}; {value['trich_yeu']}"
    return str(value)


class Contact:
    """One agency's contact; ``clumsy`` makes the typing mistakes of :data:`MISTAKES` once per type."""

    def __init__(self, chat: Chat, rubric: CompiledRubric, plan: dict[str, Any], *, clumsy: bool = False):
        self.chat = chat
        self.rubric = rubric
        self.plan = plan
        self.mistakes = dict(MISTAKES) if clumsy else {}

    def open(self, token: str) -> BotMessage:
        """Open the invitation; returns the first question."""
        return self.chat.act(Said("start", token), lambda u: u.send_command(f"/start {token}"), is_prompt, "start")

    def walk(self, prompt: BotMessage, questions: int | None = None) -> BotMessage:
        """Answer ``questions`` questions (all if None); returns the bot's last message."""
        answered = 0
        while is_prompt(prompt) and (questions is None or answered < questions):
            prompt = self.answer(prompt)
            answered += 1
        return prompt

    def answer(self, prompt: BotMessage) -> BotMessage:
        question = self.rubric.steps[int(HEADER.search(prompt.text).group(1)) - 1].question
        if question.evidence == "required" and question.type != "file":
            self.send_evidence()
        mistakes = self.mistakes.pop(question.type, ())
        for mistake in mistakes:
            self.chat.act(Said("text", mistake), lambda u, m=mistake: u.send_text(m), is_prompt, "mistake")
        return self.reply(prompt, question, self.plan.get(question.id), "fix" if mistakes else "answer")

    def send_evidence(self) -> None:
        name, content, mime = EVIDENCE
        self.chat.act(Said("document", name), lambda u: u.send_document(name, content, mime), is_prompt, "evidence")

    def reply(self, prompt: BotMessage, question, value, tag: str) -> BotMessage:
        if question.type == "multi_choice" and value not in (None, NA):
            return self.choose(prompt, question, value)
        if question.type == "file":
            name, content, mime = EVIDENCE
            return self.chat.act(Said("document", name), lambda u: u.send_document(name, content, mime), is_next, tag)
        button = self.button(question, value)
        if button is None:
            text = typed(question, value)
            return self.chat.act(Said("text", text), lambda u: u.send_text(text), is_next, tag)
        return self.press(prompt, button, is_next, tag)

    def button(self, question, value) -> str | None:
        """The button that gives ``value``, or None when it is typed."""
        if value is NA:
            return label("not_applicable")
        if value is None:
            return label("skip")
        if question.type == "yes_no":
            return label("yes" if value else "no")
        if question.type == "single_choice":
            return next(label("option", option=o) for o in question.options if o.value == value)
        return None

    def choose(self, prompt: BotMessage, question, values: list) -> BotMessage:
        for option in (o for o in question.options if o.value in values):
            on = label("toggle", option=option, on=True)
            self.press(
                prompt, label("toggle", option=option, on=False), lambda m, on=on: on in m.button_texts, "toggle"
            )
        return self.press(prompt, label("done"), is_next, "answer")

    def press(self, message: BotMessage, button: str, until, tag: str) -> BotMessage:
        return self.chat.act(
            Said("press", button), lambda u: u.press(button, message_id=message.message_id), until, tag
        )

    def resume(self, notice: BotMessage) -> BotMessage:
        """Press «Tiếp tục trả lời ▶» under a notice (a returned indicator, a reminder); returns the next question."""
        return self.press(notice, label("continue_walk"), is_next, "correction")

    def correct(self, prompt: BotMessage, values: dict[str, Any]) -> BotMessage:
        """Answer the returned questions the bot walks through, with ``values`` where given and the plan
        otherwise; returns the bot's message once they are done."""
        while is_prompt(prompt):
            question = self.rubric.steps[int(HEADER.search(prompt.text).group(1)) - 1].question
            value = values.get(question.id, self.plan.get(question.id))
            prompt = self.reply(prompt, question, value, "correction")
        return prompt

    def submit(self) -> BotMessage:
        """/nop, then confirm; returns the receipt."""
        confirm = label("confirm_submit")
        question = self.chat.act(Said("command", "/nop"), lambda u: u.send_command("/nop"), None, "submit")
        if confirm not in question.button_texts:
            raise RuntimeError(f"the bot did not offer to submit: {question.text}")
        return self.press(question, confirm, "BIÊN NHẬN", "submit")
