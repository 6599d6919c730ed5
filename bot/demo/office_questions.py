"""The demo's questions to the office: a ward's contact, stopped midway, asks about the question they are at;
the province's coordinator answers with the reply button and publishes the answer as guidance; it goes once
to the contacts who had already answered that question, and the asker sees it at the question.

:func:`carry_guidance` copies a campaign's guidance into a following one (the second year's round).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.demo.contacts import HEADER, is_prompt, label
from bot.demo.transcript import Said
from conversations.office_questions import KINDS
from storage.office_questions import GuidanceRecord, carry

ASKER = "06661"  # a ward whose contact stopped midway on the first day
QUESTION = "Minh chứng của câu này cần bản chụp văn bản gốc, hay chỉ cần ghi số hiệu văn bản?"
ANSWER = (
    "Chỉ cần ghi số hiệu, ngày và trích yếu của văn bản; bản chụp gửi kèm nếu có, "
    "cơ quan điều phối đối chiếu khi thẩm định."
)


def _tick(demo) -> int:
    """The outbox's round for the messages of questions to the office only."""
    return demo.loop.run_until_complete(demo.sender.tick(demo.bot, kinds=KINDS))


def questions(demo) -> dict[str, Any]:
    """A contact asks, the coordinator answers and publishes; the guidance reaches who answered, once."""
    demo.clock.now += timedelta(minutes=30)
    chat = demo.people[ASKER].chat
    prompt = next(m for m in reversed(chat.user.messages()) if is_prompt(m))
    number = int(HEADER.search(prompt.text).group(1))
    ask = label("ask_office")
    chat.act(Said("press", ask), lambda u: u.press(ask, message_id=prompt.message_id), "gõ câu hỏi", "question")
    chat.act(Said("text", QUESTION), lambda u: u.send_text(QUESTION), "Đã gửi câu hỏi số", "question")

    mark = demo.coordinator.mark()
    _tick(demo)
    demo.coordinator.pushed(mark, demo.clock.now, "question")
    reply = label("reply_office")
    notice = next(c.message for c in demo.coordinator.calls(mark) if reply in c.message.button_texts)
    demo.coordinator.act(
        Said("press", reply), lambda u: u.press(reply, message_id=notice.message_id), "gõ câu trả lời", "question"
    )
    answered = demo.coordinator.act(
        Said("text", ANSWER), lambda u: u.send_text(ANSWER), "Đã gửi câu trả lời", "question"
    )
    mark = chat.mark()
    _tick(demo)
    if not any(ANSWER in (c.message.text or "") for c in chat.calls(mark)):
        raise RuntimeError("the asker did not get the office's answer")

    publish = label("publish_guidance")
    demo.coordinator.act(
        Said("press", publish), lambda u: u.press(publish, message_id=answered.message_id), "công bố", "question"
    )
    sent = _tick(demo)
    shown = chat.act(Said("command", "/tieptuc"), lambda u: u.send_command("/tieptuc"), "Hướng dẫn của", "question")
    if ANSWER not in shown.text:
        raise RuntimeError("the guidance is not shown at the question")
    step = demo.people[ASKER].rubric.steps[number - 1]
    return {
        "agency": demo.names[ASKER],
        "number": number,
        "indicator": step.indicator.code if step.indicator else None,
        "sent": sent,
    }


def carry_guidance(demo, from_id: int, to_id: int, now: datetime) -> list[GuidanceRecord]:
    """The guidance of campaign ``from_id`` carried into ``to_id`` (what ``cqdt guidance carry`` does)."""
    with demo.db.session() as session:
        return carry(session, from_id, to_id, now)
