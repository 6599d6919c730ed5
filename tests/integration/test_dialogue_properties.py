"""Random sequences of updates from several users never break a handler or the database.

Texts, button data (real, stale and forged), commands, stickers and documents
arrive in any order from three users (two of one agency, one stranger). After
every step: no exception, every reply renders, and every stored answer belongs
to its agency's rubric and passes that question's checks.
"""

from __future__ import annotations

import shutil

import pytest
from dialogue_helpers import START, Clock, make_campaign
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.rendering import keyboard_of, text_of
from conversations.contact_dialogue import ContactDialogue, Upload
from conversations.situation import Person
from rubrics import answers as values
from rubrics.bundled import bundled
from storage import campaigns as campaign_store
from storage.db import Database, upgrade
from storage.invitations import agency_invitations
from storage.models import Agency, Answer

USERS = [Person(1, 1, "Lan", "vi"), Person(2, 2, "Minh", "en"), Person(3, 3, "Người lạ", "vi")]
TEXTS = st.one_of(
    st.sampled_from(
        [
            "1.234",
            "12,5",
            "85%",
            "28/10/2019",
            "31/02/2019",
            "có",
            "",
            "  ",
            "abc",
            "125/QĐ-UBND; 15/03/2019; Quy chế",
            "-7",
            "1e9",
            "0",
            "100",
            "NaN",
        ]
    ),
    st.text(max_size=60),
)
COMMANDS = st.sampled_from(["tieptuc", "xemlai", "sua", "trangthai", "trogiup", "nop", "continue", "review"])
ACTION = st.one_of(
    st.tuples(st.just("text"), st.sampled_from(USERS), TEXTS),
    st.tuples(
        st.just("command"),
        st.sampled_from(USERS),
        st.tuples(COMMANDS, st.sampled_from(["", "1", "7", "2.1", "cbcc_tong", "999"])),
    ),
    st.tuples(st.just("press"), st.sampled_from(USERS), st.integers(0, 30)),
    st.tuples(st.just("forged"), st.sampled_from(USERS), st.text(max_size=70)),
    st.tuples(st.just("sticker"), st.sampled_from(USERS), st.none()),
    st.tuples(st.just("document"), st.sampled_from(USERS), st.none()),
    st.tuples(st.just("time"), st.sampled_from(USERS), st.integers(0, 400)),
)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A database with a campaign and two registered contacts of one agency, copied for each example."""
    path = tmp_path_factory.mktemp("prop") / "template.db"
    db = Database(f"sqlite:///{path}", ensure=False)
    upgrade(db.engine)
    clock = Clock(START)
    campaign = make_campaign(db, START)
    dialogue = ContactDialogue(db, clock)
    with db.session() as session:
        second = next(
            inv.token
            for _, inv in agency_invitations(session, campaign_store.get(session, campaign.id), clock.now, "06652")
        )
    dialogue.start(USERS[0], campaign.tokens["06652"])
    dialogue.start(USERS[1], second)
    db.dispose()
    return path


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(ACTION, min_size=5, max_size=40))
def test_random_updates_never_break_a_handler_or_the_data(prepared, tmp_path_factory, actions):
    path = tmp_path_factory.mktemp("example") / "cqdt.db"
    shutil.copy(prepared, path)
    db = Database(f"sqlite:///{path}")
    clock = Clock(START)
    dialogue = ContactDialogue(db, clock)
    seen_buttons: list[str] = []
    for kind, who, arg in actions:
        if kind == "text":
            outcome = dialogue.text(who, arg)
        elif kind == "command":
            outcome = dialogue.command(who, *arg)
        elif kind == "press":
            outcome = dialogue.button(who, seen_buttons[arg % len(seen_buttons)]) if seen_buttons else None
        elif kind == "forged":
            outcome = dialogue.button(who, arg)
        elif kind == "sticker":
            outcome = dialogue.unsupported(who, "sticker")
        elif kind == "document":
            outcome = dialogue.upload(who, Upload("document", "F1", "U1", "a.pdf", 10, "application/pdf"))
        else:
            clock.advance(hours=arg)
            outcome = None
        if outcome is None:
            continue
        for reply in outcome.replies:
            text_of(reply, "en" if who.language == "en" else "vi", "Asia/Ho_Chi_Minh")
            keyboard_of(reply, "vi", "Asia/Ho_Chi_Minh")
            seen_buttons += [b.data for row in reply.buttons for b in row]
    rubric = bundled()["qn2018-xa"]
    with db.session() as session:
        rows = session.execute(
            select(Agency.code, Agency.level, Answer.question_id, Answer.value, Answer.not_applicable).join(
                Agency, Agency.id == Answer.agency_id
            )
        ).all()
        for code, level, question_id, raw, not_applicable in rows:
            assert code == "06652" and level == "xa"
            question = rubric.question(question_id)
            if not_applicable:
                assert question.allow_na
            elif raw is None:
                assert not question.required
            else:
                value = values.from_json(question, raw)
                stored = {
                    q: values.from_json(rubric.question(q), r) for _, _, q, r, na in rows if not na and r is not None
                }
                assert values.check(question, value, stored) is None, (question_id, value)
    db.dispose()
