"""An answer is shown as given, whatever it says (issue 15, defect 10): a text answer that is literally
"unset" (the string the question prompt once used for "no answer yet") is an answer like any other."""

from __future__ import annotations

import pytest
from dialogue_helpers import START, Clock, make_campaign

from bot.rendering import keyboard_of, text_of
from conversations.contact_dialogue import ContactDialogue
from conversations.prompts import UNANSWERED
from conversations.situation import Person
from rubrics.bundled import bundled

ZONE = "Asia/Ho_Chi_Minh"
XA = bundled()["qn2018-xa"]
CONTACT = Person(300, 300, "Thu Hà", "vi")


@pytest.mark.parametrize("typed", ["unset", "UNANSWERED", "None", "na"])
def test_a_text_answer_that_looks_like_a_sentinel_shows_as_answered(db, typed):
    campaign = make_campaign(db, START)
    dialogue = ContactDialogue(db, Clock(START))
    step = next(s for s in XA.steps if s.question.type == "text")
    dialogue.start(CONTACT, campaign.tokens["06652"])
    assert dialogue.command(CONTACT, "sua", str(step.number)).replies[-1].context["unset"]  # not answered yet
    moved_on = dialogue.text(CONTACT, typed).replies[-1]  # stored: the walk goes on to the next question
    assert moved_on.template == "question" and moved_on.context["question"].id != step.question.id

    shown = dialogue.command(CONTACT, "sua", str(step.number)).replies[-1]
    assert shown.context["question"].id == step.question.id
    assert shown.context["value"] == typed and not shown.context["unset"]
    assert f"Câu trả lời hiện tại: {typed}" in text_of(shown, "vi", ZONE)
    assert "Giữ nguyên" in str(keyboard_of(shown, "vi", ZONE))  # "keep" is offered for an answered question
    assert shown.context["answered"] == 1


def test_an_unanswered_question_shows_no_answer(db):
    campaign = make_campaign(db, START)
    dialogue = ContactDialogue(db, Clock(START))
    first = dialogue.start(CONTACT, campaign.tokens["06652"]).replies[-1]
    assert first.context["value"] is UNANSWERED and first.context["unset"] and first.context["by"] is None
    assert "Câu trả lời hiện tại" not in text_of(first, "vi", ZONE)
