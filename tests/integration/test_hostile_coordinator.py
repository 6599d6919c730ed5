"""/nhacnho's confirmation button under forged, reused, expired and borrowed tokens (issue 15, defect 1).

The token is stored in the database: it must be one the bot issued to this coordinator for this scope,
unused and not expired. Anything else gets one sentence that says to type /nhacnho, and queues nothing.
"""

from __future__ import annotations

import pytest
from dialogue_helpers import START, Clock, make_campaign
from sqlalchemy import func, select, update

from bot.labels import by_language
from bot.rendering import text_of
from conversations.contact_dialogue import ContactDialogue
from conversations.coordinator_dialogue import CoordinatorDialogue
from conversations.situation import Person
from storage import campaigns
from storage.confirmations import REMIND_CONFIRMATION_VALIDITY
from storage.db import Database
from storage.invitations import coordinator_invitation
from storage.models import Agency, Coordinator, Notification, RemindConfirmation, Submission

ZONE = "Asia/Ho_Chi_Minh"
CONTACT, KHAU = Person(300, 300, "Thu Hà", "vi"), Person(301, 301, "Khẩu", "vi")
COORDINATOR, CITY_COORDINATOR = Person(900, 900, "Sở"), Person(901, 901, "Phòng")


@pytest.fixture
def world(db):
    clock = Clock(START)
    campaign = make_campaign(db, START)
    contacts = ContactDialogue(db, clock)
    coordinators = CoordinatorDialogue(db, clock, ZONE, by_language(ZONE))
    contacts.start(CONTACT, campaign.tokens["06652"])
    contacts.start(COORDINATOR, campaign.coordinator_token)
    with db.session() as session:
        city = coordinator_invitation(session, campaigns.get(session, campaign.id), START, "06655").token
    contacts.start(CITY_COORDINATOR, city)
    return db, clock, campaign, contacts, coordinators


def queued(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Notification).where(Notification.key.contains(":now:")))


def send_data(outcome) -> str:
    assert outcome.replies[0].template == "remind_confirm", outcome
    return outcome.replies[0].buttons[0][0].data


def refused_sentence(outcome) -> str:
    """The one sentence of a refusal, checked to leak no agency."""
    assert outcome.notice == "refused" and len(outcome.replies) == 1, outcome
    text = text_of(outcome.replies[0], "vi", ZONE)
    assert "/nhacnho" in text and "Phường" not in text and text.count(";") == 1
    assert "/remind" in text_of(outcome.replies[0], "en", ZONE)
    return text


@pytest.mark.parametrize("data", ["k:r:forged", "k:r:x", "k:r:" + "A" * 60, "k:r:%s" % ("é" * 10), "k:r:' OR 1=1 --"])
def test_a_forged_token_queues_nothing(world, data):
    db, _, _, _, coordinators = world
    for _ in range(5):
        assert "không phải do bot cấp" in refused_sentence(coordinators.button(COORDINATOR, data, 7))
    assert queued(db) == 0


def test_a_forged_token_after_nothing_to_send_queues_nothing(world):
    db, _, _, _, coordinators = world
    with db.session() as session:
        session.execute(update(Submission).values(state="submitted"))
    assert coordinators.remind(COORDINATOR).replies[0].template == "remind_nothing"
    with db.session() as session:  # nothing to send: no token was issued either
        assert not session.scalar(select(func.count()).select_from(RemindConfirmation))
    for guess in ("abc", "k", "0" * 16):
        refused_sentence(coordinators.button(COORDINATOR, f"k:r:{guess}", 7))
    assert queued(db) == 0


def test_pressing_twice_sends_once_then_says_so(world):
    db, _, _, _, coordinators = world
    send = send_data(coordinators.remind(COORDINATOR))
    first = coordinators.button(COORDINATOR, send, 7)
    assert first.notice == "saved" and first.replies[0].context["messages"] == 1
    for _ in range(3):
        assert "đã được xếp gửi" in refused_sentence(coordinators.button(COORDINATOR, send, 7))
    assert queued(db) == 1
    again = send_data(coordinators.remind(COORDINATOR))  # a new /nhacnho gives a new token: a new round
    assert again != send
    assert coordinators.button(COORDINATOR, again, 8).replies[0].context["messages"] == 1
    assert queued(db) == 2


def test_another_coordinators_token_queues_nothing_and_stays_valid_for_its_owner(world):
    db, _, campaign, contacts, coordinators = world
    contacts.start(KHAU, campaign.tokens["06655"])
    province = send_data(coordinators.remind(COORDINATOR))
    city = send_data(coordinators.remind(CITY_COORDINATOR))
    assert "không phải do bot cấp" in refused_sentence(coordinators.button(CITY_COORDINATOR, province, 7))
    assert "không phải do bot cấp" in refused_sentence(coordinators.button(COORDINATOR, city, 7))
    stranger = coordinators.button(Person(555, 555), province, 7)
    assert "không có quyền" in text_of(stranger.replies[0], "vi", ZONE)
    assert queued(db) == 0
    assert coordinators.button(CITY_COORDINATOR, city, 7).replies[0].context["messages"] == 1  # Hà Khẩu only
    with db.session() as session:
        khau = session.scalar(select(Agency.id).where(Agency.code == "06655"))
        rows = session.scalars(select(Notification).where(Notification.key.contains(":now:"))).all()
    assert [(r.agency_id, r.telegram_user_id) for r in rows] == [(khau, KHAU.user_id)]
    assert coordinators.button(COORDINATOR, province, 7).replies[0].context["messages"] == 2
    assert queued(db) == 3


def test_a_token_issued_for_another_scope_queues_nothing(world):
    db, _, _, _, coordinators = world
    send = send_data(coordinators.remind(COORDINATOR))
    with db.session() as session:  # the province coordinator is made a city's office after /nhacnho
        khau = session.scalar(select(Agency.id).where(Agency.code == "06655"))
        session.execute(
            update(Coordinator).where(Coordinator.telegram_user_id == COORDINATOR.user_id).values(scope_agency_id=khau)
        )
    refused_sentence(coordinators.button(COORDINATOR, send, 7))
    assert queued(db) == 0


def test_an_expired_token_queues_nothing(world):
    db, clock, _, _, coordinators = world
    send = send_data(coordinators.remind(COORDINATOR))
    clock.advance(seconds=REMIND_CONFIRMATION_VALIDITY.total_seconds())
    minutes = int(REMIND_CONFIRMATION_VALIDITY.total_seconds() // 60)
    assert f"hết hạn ({minutes} phút" in refused_sentence(coordinators.button(COORDINATOR, send, 7))
    assert queued(db) == 0


def test_another_process_accepts_the_token_and_still_sends_once(world, database_url):
    db, clock, _, _, coordinators = world
    other_db = Database(database_url, ensure=False)
    try:
        other = CoordinatorDialogue(other_db, clock, ZONE, by_language(ZONE))
        send = send_data(coordinators.remind(COORDINATOR))
        assert other.button(COORDINATOR, send, 7).replies[0].context["messages"] == 1
        refused_sentence(coordinators.button(COORDINATOR, send, 7))
        refused_sentence(other.button(COORDINATOR, send, 7))
    finally:
        other_db.dispose()
    assert queued(db) == 1


def test_long_expired_tokens_are_pruned(world):
    db, clock, _, _, coordinators = world
    for _ in range(3):
        coordinators.remind(COORDINATOR)
    clock.advance(days=2)
    coordinators.remind(COORDINATOR)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(RemindConfirmation)) == 1
