"""How many statements one answer sends to the database: exact, so the answer path cannot grow unnoticed.

An answer typed and an answer by button, of a contact whose agency's answers are all their own: the update
recorded, the contact's world and the agency's answers read, the previous campaign of the family looked up (for
last year's answer; none here), the submission moved on, the answer, its history and its audit entry written (the
chain head read first), the office's guidance at the next question read, the contact's place written back. SQLite
adds its ``BEGIN IMMEDIATE``. A colleague's answer brings back the queries that look for it.
"""

from __future__ import annotations

from itertools import count

import pytest
from dialogue_helpers import START, Clock, make_campaign
from sqlalchemy import event

from conversations.contact_dialogue import ContactDialogue
from conversations.situation import Person
from storage.invitations import agency_invitations
from storage.models import Campaign

PER_ANSWER = {"sqlite": 12, "postgresql": 11}
COLLEAGUE_QUERIES = 2  # a colleague's answer in the way (colleagues.conflict) and colleagues' changes (news)


class Counted:
    def __init__(self, db):
        self.statements = 0
        event.listen(db.engine, "before_cursor_execute", self._count)

    def _count(self, *_args) -> None:
        self.statements += 1

    def of(self, call, *args):
        before = self.statements
        outcome = call(*args)
        return self.statements - before, outcome


@pytest.fixture
def walk(db):
    campaign = make_campaign(db, START)
    dialogue = ContactDialogue(db, Clock(START))
    updates = count(1)

    def person(user_id: int) -> Person:
        return Person(user_id, user_id, f"Người {user_id}", "vi", next(updates))

    return db, campaign, dialogue, person


def buttons(outcome) -> dict[str, str]:
    prompt = next(r for r in outcome.replies if r.template == "question")
    return {b.key: b.data for row in prompt.buttons for b in row}


def test_an_answer_typed_and_by_button_sends_the_same_few_statements(walk):
    db, campaign, dialogue, person = walk
    dialogue.start(person(7), campaign.tokens["06652"])
    counted = Counted(db)
    typed = [
        counted.of(dialogue.text, person(7), text) for text in ("Nguyễn Văn A", "20", "18", "150", "300", "15", "12")
    ]
    assert [n for n, _ in typed] == [PER_ANSWER[db.engine.dialect.name]] * 7
    assert typed[-1][1].replies[0].context["step"].number == 8  # the walk moved on with each answer
    by_button, outcome = counted.of(dialogue.button, person(7), buttons(typed[-1][1])["yes"])
    assert by_button == PER_ANSWER[db.engine.dialect.name]
    assert outcome.replies[0].context["just_answered"]["value"] is True


def test_a_colleagues_answer_brings_back_the_queries_that_look_for_it(walk):
    db, campaign, dialogue, person = walk
    dialogue.start(person(7), campaign.tokens["06652"])
    dialogue.text(person(7), "Nguyễn Văn A")
    with db.session() as session:  # the agency's next link, its first one being used
        token = agency_invitations(session, session.get(Campaign, campaign.id), START, "06652")[0][1].token
    dialogue.start(person(8), token)
    counted = Counted(db)
    colleague, outcome = counted.of(dialogue.text, person(8), "20")  # the colleague answers question 2
    assert colleague == PER_ANSWER[db.engine.dialect.name] + COLLEAGUE_QUERIES
    assert outcome.replies[0].context["step"].number == 3
