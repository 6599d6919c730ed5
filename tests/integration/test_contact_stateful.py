"""A stateful test of the contact's dialogue: what the bot says it stored is what is stored, at every step.

A hypothesis ``RuleBasedStateMachine`` plays one contact of a ward: the invitation (again, or a wrong
one), typed answers valid for the open question and invalid ones, uploads, the buttons of the last
messages (answers, back, skip, not applicable, keep, review pages), stale and forged button data,
/tieptuc, /xemlai, /sua, /trangthai, /nop and its confirmation, and the injectable clock moving on
(past the deadline too). After every step:

- every answer the bot acknowledged ("✓ Câu N: …" in the rendered reply) is the one stored, read
  back through storage, and nothing is stored that was never acknowledged;
- the contact's position is a question of the rubric or none (review, all answered, submitted), a
  question shown last is the open one, and after submission no question is open.
"""

from __future__ import annotations

import random

from dialogue_helpers import START, Clock, answer_all, make_campaign
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from bot.demo.contacts import typed
from bot.rendering import keyboard_of, text_of
from conversations.contact_dialogue import ContactDialogue, Upload
from conversations.situation import Person
from rubrics.answers import NA
from rubrics.bundled import bundled
from rubrics.sample_answers import sample_answers
from storage import answers as answer_store
from storage.models import Agency, Contact, Submission

ZONE = "Asia/Ho_Chi_Minh"
RUBRIC = bundled()["qn2018-xa"]
PLANS = [sample_answers(RUBRIC, random.Random(seed), na_rate=0.1) for seed in range(12)]
INVALID = st.sampled_from(
    ["", "  ", "abc", "-7", "1e9", "NaN", "31/02/2019", "12,5", "150%", "mười", "có lẽ", "1.2.3", "\u200b"]
)
FORGED = st.one_of(
    st.text(max_size=40),
    st.builds(lambda a, n: f"q:AAAAAAAA:{a}:{n}", st.sampled_from("abknrstd"), st.integers(0, 9)),
    st.builds(lambda a: f"m:AAAAAAAA:{a}:", st.sampled_from("cpe")),
    st.sampled_from(["q:::", "m:::", "q:x:a:1:2", "continue", "k:r:abc"]),
)
COMMANDS = st.sampled_from(["tieptuc", "xemlai", "trangthai", "trogiup", "nop", "continue", "review", "status"])
EDITS = st.one_of(st.integers(0, len(RUBRIC.steps) + 2).map(str), st.sampled_from(["", "cbcc_tong", "1.1.2", "x"]))


class ContactWalk(RuleBasedStateMachine):
    """One contact of ward 06652 in a fresh campaign; ``self.acknowledged`` is what the bot said it stored."""

    db = None
    runs = 0
    seen = None  # what the runs reached, over all of them: acknowledged answers, replies by template

    def __init__(self):
        super().__init__()
        type(self).runs += 1
        self.clock = Clock(START)
        self.campaign = make_campaign(self.db, START)
        self.dialogue = ContactDialogue(self.db, self.clock)
        self.who = Person(10_000 + self.runs, 10_000 + self.runs, "Thu Hà", "vi")
        with self.db.session() as session:
            self.agency_id = session.scalar(
                select(Agency.id).where(Agency.campaign_id == self.campaign.id, Agency.code == "06652")
            )
        self.acknowledged: dict[str, object] = {}
        self.buttons: list[str] = []
        self.last_prompt: str | None = None
        self.see(self.dialogue.start(self.who, self.campaign.tokens["06652"]))

    # -- reading back -------------------------------------------------------

    def stored(self) -> dict[str, object]:
        with self.db.session() as session:
            return answer_store.load_agency_answers(session, RUBRIC, self.agency_id)

    def position(self) -> tuple[str | None, str]:
        with self.db.session() as session:
            current = session.scalar(
                select(Contact.current_question).where(Contact.telegram_user_id == self.who.user_id)
            )
            state = session.scalar(select(Submission.state).where(Submission.agency_id == self.agency_id))
        return current, state

    def open_question(self):
        current, _ = self.position()
        return RUBRIC.question(current) if current in RUBRIC.by_id else None

    def see(self, outcome) -> None:
        """Render every reply as the bot does, note what it acknowledged and the buttons it offers."""
        self.last_prompt = None
        for reply in outcome.replies:
            text = text_of(reply, "vi", ZONE)
            keyboard_of(reply, "vi", ZONE)
            answered = reply.context.get("just_answered")
            if answered is not None:
                assert f"✓ Câu {answered['step'].number}:" in text, text
                self.acknowledged[answered["question"].id] = answered["value"]
                self.seen["acknowledged"] += 1
            self.seen[reply.template] = self.seen.get(reply.template, 0) + 1
            if reply.template == "question":
                self.last_prompt = reply.context["question"].id
            elif reply.template not in ("refusal", "evidence_received"):
                self.last_prompt = None
            data = [b.data for row in reply.buttons for b in row]
            if data:
                self.buttons = data + self.buttons[:20]

    # -- rules --------------------------------------------------------------

    def prompt_token(self) -> str:
        with self.db.session() as session:
            return session.scalar(select(Contact.prompt_token).where(Contact.telegram_user_id == self.who.user_id))

    @rule(plan=st.integers(0, len(PLANS) - 1), count=st.integers(1, 6))
    def answer_the_open_questions(self, plan, count):
        """Valid answers to the open question and the next ones, as the contact would give them."""
        for _ in range(count):
            self.answer_the_open_question(plan)
            self.acknowledged_answers_are_the_stored_ones()
            self.the_position_is_valid()

    def answer_the_open_question(self, plan):
        """A valid answer to the open question, typed or pressed as a contact would give it."""
        question = self.open_question()
        if question is None:
            self.see(self.dialogue.text(self.who, "Nguyễn Văn A"))
            return
        value = PLANS[plan].get(question.id)
        options = [o.value for o in getattr(question, "options", [])]
        press = f"q:{self.prompt_token()}"
        if value is None:
            self.see(self.dialogue.button(self.who, f"{press}:s:", message_id=5))
        elif value is NA:
            self.see(self.dialogue.button(self.who, f"{press}:n:", message_id=5))
        elif question.type == "yes_no":
            self.see(self.dialogue.button(self.who, f"{press}:a:{int(value)}", message_id=5))
        elif question.type == "single_choice":
            self.see(self.dialogue.button(self.who, f"{press}:a:{options.index(value)}", message_id=5))
        elif question.type == "multi_choice":
            for option in value:
                self.see(self.dialogue.button(self.who, f"q:{self.prompt_token()}:t:{options.index(option)}", 5))
            self.see(self.dialogue.button(self.who, f"q:{self.prompt_token()}:d:", message_id=5))
        elif question.type == "file":
            self.upload_a_document()
        else:
            self.see(self.dialogue.text(self.who, typed(question, value)))

    @rule(text=st.one_of(INVALID, st.text(max_size=30)))
    def type_anything(self, text):
        self.see(self.dialogue.text(self.who, text))

    @rule(index=st.integers(0, 40))
    def press_a_button_shown(self, index):
        if self.buttons:
            self.see(self.dialogue.button(self.who, self.buttons[index % len(self.buttons)], message_id=5))

    @rule(action=st.sampled_from("bskna"))
    def press_on_the_open_question(self, action):
        """Back, skip, keep, not applicable or the first option of the question open now, with its real token."""
        argument = "1" if action == "a" else ""
        self.see(self.dialogue.button(self.who, f"q:{self.prompt_token()}:{action}:{argument}", message_id=5))

    @rule(data=FORGED)
    def press_forged_data(self, data):
        self.see(self.dialogue.button(self.who, data, message_id=5))

    @rule(name=COMMANDS)
    def command(self, name):
        self.see(self.dialogue.command(self.who, name))

    @rule(reference=EDITS)
    def edit(self, reference):
        self.see(self.dialogue.command(self.who, "sua", reference))

    @rule()
    def submit_and_confirm(self):
        outcome = self.dialogue.command(self.who, "nop")
        self.see(outcome)
        with self.db.session() as session:
            menu = session.scalar(select(Contact.menu_token).where(Contact.telegram_user_id == self.who.user_id))
        self.see(self.dialogue.button(self.who, f"m:{menu}:c:", message_id=6))

    @rule()
    def upload_a_document(self):
        self.see(self.dialogue.upload(self.who, Upload("document", "F1", "U1", "qd.pdf", 10, "application/pdf")))

    @rule(token=st.sampled_from(["own", "other", "bad", None]))
    def start_again(self, token):
        tokens = {"own": self.campaign.tokens["06652"], "other": self.campaign.tokens["06655"], "bad": "sai-ma"}
        self.see(self.dialogue.start(self.who, tokens.get(token)))

    @rule(seed=st.integers(0, 3))
    def a_colleague_answers_everything(self, seed):
        """Every question answered at once, with the evidence, as a colleague would (so /nop can go through);
        what is stored then is what the contact must see stored from now on."""
        if self.position()[1] in ("submitted", "verified"):
            return
        answer_all(self.db, "06652", seed)
        self.acknowledged = self.stored()

    @rule(hours=st.integers(0, 12).map(lambda n: 24 * 15 if n == 0 else 3 * n))
    def time_passes(self, hours):
        self.clock.advance(hours=hours)

    # -- invariants -----------------------------------------------------------

    @invariant()
    def acknowledged_answers_are_the_stored_ones(self):
        stored = self.stored()
        for qid, value in self.acknowledged.items():
            assert stored.get(qid) == value, (qid, value, stored.get(qid))
        unacknowledged = {q: v for q, v in stored.items() if q not in self.acknowledged and v is not None}
        assert not unacknowledged, unacknowledged

    @invariant()
    def the_position_is_valid(self):
        current, state = self.position()
        assert current is None or current in RUBRIC.by_id, current
        if self.last_prompt is not None:
            assert current == self.last_prompt
        if state in ("submitted", "verified"):
            assert current is None


EXAMPLES = 40


def test_every_acknowledged_answer_is_stored_and_the_walk_stays_valid(db):
    examples = EXAMPLES
    ContactWalk.db = db
    ContactWalk.runs = 0
    ContactWalk.seen = {"acknowledged": 0}
    run_state_machine_as_test(
        ContactWalk,
        settings=settings(
            max_examples=examples,
            stateful_step_count=50,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    assert ContactWalk.runs >= examples
    seen = ContactWalk.seen
    assert seen["acknowledged"] >= examples and seen.get("receipt", 0) >= 1 and seen.get("refusal", 0) >= examples
