"""Guessing invitation tokens (issue 15, defect 5): a per-user throttle that never holds back a valid token,
a global limit per minute kept in the database (so every bot process shares it), and a table of attempts
whose size is bounded whatever the flood."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dialogue_helpers import START, Clock, make_campaign
from sqlalchemy import func, select

from bot.rendering import text_of
from conversations.contact_dialogue import ContactDialogue
from conversations.situation import Person
from storage import invitations
from storage.db import Database
from storage.models import StartFailure, StartFailureWindow

PER_USER, PER_MINUTE = invitations.START_FAILURES_PER_USER, invitations.START_FAILURES_PER_MINUTE


@pytest.fixture
def world(db):
    clock = Clock(START)
    campaign = make_campaign(db, START)
    return db, clock, campaign, ContactDialogue(db, clock)


def said(outcome) -> str:
    """The first reply's text; a wrong token's reply is one message naming no agency."""
    text = text_of(outcome.replies[0], "vi", ZONE)
    if outcome.replies[0].template != "welcome":
        assert len(outcome.replies) == 1 and "Phường" not in text, outcome
    return text


ZONE = "Asia/Ho_Chi_Minh"


def rows(db, table=StartFailure) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(table))


def test_a_valid_token_passes_the_per_user_throttle(world):
    db, _, campaign, dialogue = world
    who = Person(2, 2, "B", "vi")
    for _ in range(PER_USER):
        assert "không dùng được" in said(dialogue.start(who, "sai"))
    for _ in range(20):  # throttled: told to wait, and nothing more is written
        assert "quá nhiều" in said(dialogue.start(who, "sai"))
    assert rows(db) == PER_USER
    assert "Hà Phong" in said(dialogue.start(who, campaign.tokens["06652"]))  # at once, not in 15 minutes


def test_a_throttled_coordinator_still_joins_with_the_right_link(world):
    _, _, campaign, dialogue = world
    who = Person(3, 3, "Sở", "vi")
    for _ in range(PER_USER + 1):
        dialogue.start(who, "sai")
    assert dialogue.start(who, campaign.coordinator_token).replies[0].template == "coordinator_welcome"


def test_the_global_limit_holds_across_processes(world, database_url):
    db, clock, campaign, dialogue = world
    other_db = Database(database_url, ensure=False)
    try:
        other = ContactDialogue(other_db, clock)  # a second bot process on the same database
        for n in range(PER_MINUTE):  # many accounts, one wrong guess each: no one is throttled
            outcome = (dialogue if n % 2 else other).start(Person(1000 + n, 1000 + n), f"doan-{n}")
            assert outcome.replies[0].template == "invitation_invalid"
        for n in range(10):
            busy = (dialogue if n % 2 else other).start(Person(5000 + n, 5000 + n), f"doan-them-{n}")
            assert busy.replies[0].template == "start_busy"
            assert "quá nhiều đường dẫn sai" in said(busy) and said(busy).count(";") == 1
        assert rows(db) == PER_MINUTE  # past the limit, a wrong guess writes no row
        assert "Hà Phong" in said(other.start(Person(7, 7, "Lan", "vi"), campaign.tokens["06652"]))  # valid: opens
        clock.advance(minutes=1)  # a new minute: wrong guesses are counted again
        assert dialogue.start(Person(8, 8), "sai").replies[0].template == "invitation_invalid"
    finally:
        other_db.dispose()


def test_the_table_of_attempts_stays_bounded_whatever_the_flood(world, monkeypatch):
    db, clock, _, dialogue = world
    monkeypatch.setattr(invitations, "START_FAILURES_PER_MINUTE", 8)
    bound = 8 * (invitations.WINDOW_MINUTES + 1)
    user = 10_000
    for _ in range(invitations.WINDOW_MINUTES * 2):  # half an hour, every minute 20 new accounts guessing
        for _ in range(20):
            user += 1
            dialogue.start(Person(user, user), "A" * 40)
        assert rows(db) <= bound
        assert rows(db, StartFailureWindow) <= invitations.WINDOW_MINUTES + 1
        clock.advance(minutes=1)
    with db.session() as session:
        oldest = session.scalar(select(func.min(StartFailure.at)))
    assert oldest > clock.now - invitations.START_FAILURE_WINDOW - timedelta(minutes=2)


@pytest.mark.parametrize("token", ["x" * 10_000, "é" * 64, "' OR 1=1 --", "a b", "\u202e" + "a" * 30])
def test_tokens_the_bot_could_not_have_issued_are_wrong_guesses(world, token):
    db, _, _, dialogue = world
    assert "không dùng được" in said(dialogue.start(Person(4, 4, "D", "vi"), token))
    assert rows(db) == 1


def test_the_figures_are_stated_once():
    assert invitations.MAX_START_FAILURE_ROWS == PER_MINUTE * (invitations.WINDOW_MINUTES + 1)
    assert (PER_USER, invitations.WINDOW_MINUTES, PER_MINUTE) == (5, 15, 120)
