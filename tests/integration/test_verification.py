"""Verification, year on year, reminders now and the incremental scoreboard, driven through the dialogues.

The end-to-end round trip through the real bot is in test_coordinator_bot.py; these tests check each
rule on the database (SQLite, and PostgreSQL when configured) without Telegram.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from dialogue_helpers import START, Clock, answer_all, make_campaign, yes_no_indicator
from sqlalchemy import func, select, update

from bot.labels import by_language
from bot.rendering import text_of
from conversations.contact_dialogue import ContactDialogue
from conversations.coordinator_dialogue import CoordinatorDialogue
from conversations.situation import Person
from rubrics.bundled import bundled
from rubrics.sample_answers import sample_answers
from storage import campaigns
from storage.answers import set_answer
from storage.invitations import coordinator_invitation
from storage.models import Agency, Contact, Notification, Submission, VerificationEvent
from storage.records import SUBMITTED
from storage.reports import Scoreboard, campaign_report

ZONE = "Asia/Ho_Chi_Minh"
XA = bundled()["qn2018-xa"]
CONTACT, COORDINATOR, CITY_COORDINATOR = Person(300, 300, "Thu Hà", "vi"), Person(900, 900, "Sở"), Person(901, 901)


@pytest.fixture
def world(db):
    clock = Clock(START)
    campaign = make_campaign(db, START)
    answer_all(db, "06652", 1)
    contacts = ContactDialogue(db, clock)
    coordinators = CoordinatorDialogue(db, clock, ZONE, by_language(ZONE))
    contacts.start(CONTACT, campaign.tokens["06652"])
    contacts.start(COORDINATOR, campaign.coordinator_token)
    with db.session() as session:
        city = coordinator_invitation(session, campaigns.get(session, campaign.id), START, "06655").token
    contacts.start(CITY_COORDINATOR, city)
    return db, clock, campaign, contacts, coordinators


def token_of(db, column, who=CONTACT) -> str:
    with db.session() as session:
        return session.scalar(select(column).where(Contact.telegram_user_id == who.user_id))


def submit(contacts, who=CONTACT):
    """/nop, then the confirmation button."""
    contacts.command(who, "nop")
    outcome = contacts.button(who, f"m:{token_of(contacts.db, Contact.menu_token, who)}:c:")
    assert outcome.notice == "submitted", outcome
    return outcome


def state_of(db, code: str) -> str:
    with db.session() as session:
        return session.scalar(select(Submission.state).join(Agency).where(Agency.code == code))


def texts(outcome) -> str:
    return "\n".join(text_of(reply, "vi", ZONE) for reply in outcome.replies)


def test_the_verification_round_trip(world):
    db, clock, _, contacts, coordinators = world
    item, step = yes_no_indicator(XA)
    assert "chưa nộp" in texts(coordinators.confirm(COORDINATOR, "06652"))  # not submitted yet: refused
    submit(contacts)

    returned = texts(coordinators.return_indicators(COORDINATOR, f"06652 {item.code} Thiếu quyết định ban hành"))
    assert f"Đã trả lại 1 chỉ tiêu cho UBND Phường Hà Phong ({item.code})" in returned
    assert state_of(db, "06652") == "returned"
    with db.session() as session:
        notice = session.scalar(select(Notification).where(Notification.kind == "returned"))
        assert notice.telegram_user_id == CONTACT.user_id and notice.payload["comment"] == "Thiếu quyết định ban hành"

    walk = contacts.command(CONTACT, "tieptuc")
    assert walk.replies[0].context["question"].id == step.question.id
    assert "Thiếu quyết định ban hành" in texts(walk)  # the comment is shown at the question
    other = next(s for s in XA.steps if s.question.id != step.question.id)
    refused = texts(contacts.command(CONTACT, "sua", str(other.number)))
    assert "không thuộc các chỉ tiêu được trả lại" in refused and str(step.number) in refused
    contacts.command(CONTACT, "tieptuc")
    done = contacts.button(CONTACT, f"q:{token_of(db, Contact.prompt_token)}:a:1")
    assert done.notice == "saved" and done.replies[-1].template == "corrections_done"
    clock.advance(days=30)  # past the deadline: a returned agency may still correct and resubmit
    submit(contacts)
    assert state_of(db, "06652") == "submitted"
    with db.session() as session:
        told = session.scalars(select(Notification).where(Notification.kind == "submitted")).all()
    # the province coordinator hears of the submission and of the resubmission; Hà Khẩu's city office of neither
    assert [(n.telegram_user_id, n.payload["again"]) for n in told] == [(900, False), (900, True)]

    adjusted = texts(coordinators.adjust(COORDINATOR, f"06652 {item.code} 0 Quyết định hết hiệu lực"))
    assert f"chỉ tiêu {item.code}" in adjusted and "0,00" in adjusted
    assert "Đã xác nhận" in texts(coordinators.confirm(COORDINATOR, "06652"))
    assert state_of(db, "06652") == "verified"
    with db.session() as session:
        report = campaign_report(session, campaigns.get(session, 1))["xa"]
    entry = next(e for e in report.agencies if e.agency.code == "06652")
    assert entry.verified.indicators[item.code].achieved == Decimal("0")
    assert entry.effective is entry.verified
    assert entry.verified.total <= entry.score.total
    history = texts(coordinators.agency(COORDINATOR, "06652", page=10**6))
    for word in ("xác nhận", "điều chỉnh", "trả lại", "đơn vị nộp lại"):
        assert word in history


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("06652 9.9.9 0 lý do", "không có chỉ tiêu chấm điểm mã «9.9.9»"),
        ("06652 {code} mười lý do", "không phải là số điểm"),
        ("06652 {code} 999 lý do", "phải từ 0 đến"),
        ("193 {code} 1 lý do", "chưa nộp"),
        ("XYZ {code} 1 lý do", "Không có đơn vị mã «XYZ»"),
    ],
)
def test_adjustments_are_checked(world, argument, expected):
    db, _, _, contacts, coordinators = world
    submit(contacts)
    item, _ = yes_no_indicator(XA)
    reply = texts(coordinators.adjust(COORDINATOR, argument.format(code=item.code)))
    assert expected in reply
    assert state_of(db, "06652") == "submitted"


def test_verification_stays_within_the_scope(world):
    db, _, _, contacts, coordinators = world
    submit(contacts)
    item, _ = yes_no_indicator(XA)
    with db.session() as session:
        ha_phong = session.scalar(select(Agency.id).where(Agency.code == "06652"))
    for outcome in (
        coordinators.agency(CITY_COORDINATOR, "06652"),
        coordinators.button(CITY_COORDINATOR, f"k:a:{ha_phong}:1", None),
        coordinators.button(CITY_COORDINATOR, f"k:v:{ha_phong}", None),
        coordinators.return_indicators(CITY_COORDINATOR, f"06652 {item.code} sửa đi"),
    ):
        text = texts(outcome)
        assert "Không có đơn vị mã" in text and "Hà Phong" not in text
    assert state_of(db, "06652") == "submitted"
    stranger = Person(555, 555)
    for outcome in (
        coordinators.confirm(stranger, "06652"),
        coordinators.verify(stranger, ""),
        coordinators.remind(stranger),
    ):
        assert "không có quyền" in texts(outcome)


def test_the_agency_detail_pages(world):
    _, _, _, _, coordinators = world
    first = coordinators.agency(COORDINATOR, "06652")
    summary = texts(first)
    assert "UBND Phường Hà Phong [06652]" in summary and "Điểm từng chỉ tiêu" in summary
    pages = first.replies[0].context["pages"]
    assert pages == len({s.section.path[0].code if s.section.path else None for s in XA.steps}) + 2
    seen = []
    for page in range(1, pages - 1):
        text = texts(coordinators.agency(COORDINATOR, "06652", page))
        assert len(text) < 4096 and "→" in text
        seen.append(text)
    assert "Thu Hà" not in "".join(seen)  # the answers were given by the test, not by the contact
    assert "📎" in "".join(seen)  # evidence is listed under its question
    assert "Lịch sử thay đổi" in texts(coordinators.agency(COORDINATOR, "06652", pages - 1))


def test_remind_now_asks_first_and_queues_each_reminder_once(world):
    db, _, _, contacts, coordinators = world
    asked = coordinators.remind(COORDINATOR)
    assert "Gửi ngay 1 tin nhắc tới cán bộ đầu mối của 1 đơn vị" in texts(asked)
    send = asked.replies[0].buttons[0][0].data
    with db.session() as session:
        assert not session.scalar(
            select(func.count()).select_from(Notification).where(Notification.key.contains(":now:"))
        )
    queued = coordinators.button(COORDINATOR, send, 7)
    assert queued.replies[0].context["messages"] == 1
    again = coordinators.button(COORDINATOR, send, 7)  # pressing the same confirmation twice queues nothing more
    assert again.notice == "refused" and "đã được xếp gửi" in texts(again)
    with db.session() as session:
        rows = session.scalars(select(Notification).where(Notification.key.contains(":now:"))).all()
    assert [(r.kind, r.telegram_user_id) for r in rows] == [("reminder", CONTACT.user_id)]
    submit(contacts)
    assert coordinators.remind(COORDINATOR).replies[0].template == "remind_nothing"
    assert coordinators.remind(CITY_COORDINATOR).replies[0].template == "remind_nothing"


def test_year_on_year_change_in_chat_and_export(db):
    clock = Clock(START)
    earlier = make_campaign(db, START - timedelta(days=365), deadline=START - timedelta(days=300))
    answer_all(db, "06652", 1)
    later = make_campaign(db, START)
    with db.session() as session:
        agencies = session.scalars(select(Agency).where(Agency.code == "06652").order_by(Agency.id)).all()
        assert [a.campaign_id for a in agencies] == [earlier.id, later.id]
        current: dict = {}
        for qid, value in sample_answers(XA, random.Random(2), na_rate=0).items():
            set_answer(session, XA, agencies[1], qid, value, by=None, source="test", now=START, current=current)
            current[qid] = value
        session.execute(update(Submission).where(Submission.agency_id == agencies[1].id).values(state=SUBMITTED))
        reports = Scoreboard().report(session, campaigns.get(session, later.id))
    entry = next(e for e in reports["xa"].agencies if e.agency.code == "06652")
    assert reports["xa"].previous_campaign == "Đánh giá CQĐT năm 2019"
    assert entry.change == entry.score.total - entry.previous.total
    group = entry.score.groups[0].code
    assert entry.group_change(group) == entry.score.groups[0].converted - entry.previous.groups[0].converted
    ContactDialogue(db, clock).start(COORDINATOR, later.coordinator_token)
    scores = texts(CoordinatorDialogue(db, clock, ZONE, by_language(ZONE)).scores(COORDINATOR, "xa"))
    assert "Thay đổi so với đợt «Đánh giá CQĐT năm 2019»" in scores
    sign = "+" if entry.change > 0 else "−" if entry.change < 0 else "±"
    assert f"({sign}" in scores


def test_the_scoreboard_refreshes_only_what_changed_and_agrees_with_a_fresh_report(world):
    db, clock, campaign, contacts, coordinators = world
    board = Scoreboard()

    def both():
        with db.session() as session:
            row = campaigns.get(session, campaign.id)
            kept, fresh = board.report(session, row), campaign_report(session, row)
        return {
            (e.agency.code, e.effective.total, e.effective.rank, e.agency.state)
            for r in kept.values()
            for e in r.agencies
        }, {
            (e.agency.code, e.effective.total, e.effective.rank, e.agency.state)
            for r in fresh.values()
            for e in r.agencies
        }

    kept, fresh = both()
    assert kept == fresh
    with db.session() as session:
        agency = session.scalar(select(Agency).where(Agency.code == "06655"))
        current: dict = {}
        for qid, value in sample_answers(XA, random.Random(7), na_rate=0).items():
            set_answer(session, XA, agency, qid, value, by=None, source="test", now=START, current=current)
            current[qid] = value
    kept, fresh = both()
    assert kept == fresh and any(code == "06655" and total > 0 for code, total, _, _ in kept)
    submit(contacts)
    item, _ = yes_no_indicator(XA)
    coordinators.adjust(COORDINATOR, f"06652 {item.code} 0 không đạt")
    kept, fresh = both()
    assert ("06652", "verified") not in {(code, state) for code, _, _, state in kept}
    assert kept == fresh


def test_an_adjustment_telegram_delivers_twice_is_applied_once(world):
    db, _, _, contacts, coordinators = world
    submit(contacts)
    item, _ = yes_no_indicator(XA)
    again = Person(COORDINATOR.user_id, COORDINATOR.chat_id, COORDINATOR.name, update_id=7001)
    with db.session() as session:
        revision = session.scalar(select(Submission.revision).join(Agency).where(Agency.code == "06652"))
    first = texts(coordinators.adjust(again, f"06652 {item.code} 0 Quyết định hết hiệu lực"))
    second = texts(coordinators.adjust(again, f"06652 {item.code} 0 Quyết định hết hiệu lực"))
    assert f"chỉ tiêu {item.code}" in first
    assert "Lệnh này đã được thực hiện; gõ /donvi 06652 để xem kết quả." in second
    with db.session() as session:
        assert session.scalar(select(func.count(VerificationEvent.id)).where(VerificationEvent.kind == "adjusted")) == 1
        assert session.scalar(select(Submission.revision).join(Agency).where(Agency.code == "06652")) == revision + 1
