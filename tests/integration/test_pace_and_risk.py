"""The agencies' pace from ``answer_history`` (storage/pace.py) and the agencies at risk in the digest and in
/tinhhinh, on SQLite and PostgreSQL: answers written at injected times for three agencies (one fast, one that
stopped, one that never started); only the two at risk are listed, each with its reason."""

from __future__ import annotations

import random
from datetime import datetime
from zoneinfo import ZoneInfo

from dialogue_helpers import START, Clock, make_campaign
from sqlalchemy import event, select

from bot.labels import by_language
from bot.texts import render
from conversations.contact_dialogue import ContactDialogue
from conversations.coordinator_dialogue import CoordinatorDialogue
from conversations.reminders.notices import overview
from conversations.situation import Person
from conversations.walk import relevant_steps
from integration.test_contact_dialogue import rendered
from rubrics.bundled import bundled
from rubrics.sample_answers import sample_answers
from storage.answers import set_answer
from storage.models import Agency
from storage.outbox import opened
from storage.pace import activity

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
XA = bundled()["qn2018-xa"]
NOW = datetime(2019, 10, 24, 9, 0, tzinfo=ZONE)  # Thursday; Thursday, Friday and Monday 28/10 are left
COORDINATOR = Person(900, 900, "Sở", "vi")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2019, 10, day, hour, minute, tzinfo=ZONE)


PLAN = list(sample_answers(XA, random.Random(3), na_rate=0).items())


def answer(db, code: str, times: list[datetime]) -> int:
    """The agency's questions answered in order, one at each of ``times``; its id."""
    with db.session() as session:
        agency = session.scalar(select(Agency).where(Agency.code == code))
        current: dict = {}
        for (qid, value), at in zip(PLAN, times, strict=False):
            set_answer(session, XA, agency, qid, value, by=None, source="test", now=at, current=current)
            current[qid] = value
        return agency.id


def three_agencies(db):
    campaign = make_campaign(db, START)  # the deadline: Monday 28/10, 09:00
    fast = [local(day, 8 + n % 9, n % 60) for day in (14, 21, 22, 23) for n in range(len(PLAN) // 4 + 1)]
    ha_phong = answer(db, "06652", fast[: len(PLAN) - 4])
    # Hà Khẩu: three changes on the same UTC day, on two local days (the last at 06:30 on 15/10), then nothing
    ha_khau = answer(db, "06655", [local(14, 10), local(14, 23, 30), local(15, 6, 30)])
    return campaign, ha_phong, ha_khau


def test_the_pace_counts_the_local_days_of_activity(db):
    campaign, ha_phong, ha_khau = three_agencies(db)
    with db.session() as session:
        ha_long = session.scalar(select(Agency.id).where(Agency.code == "193"))
        found = activity(session, [ha_phong, ha_khau, ha_long], ZONE)
    assert set(found) == {ha_phong, ha_khau}  # Hạ Long never answered
    assert found[ha_khau].sittings == 2 and found[ha_khau].changes == 3
    assert (found[ha_khau].first_at, found[ha_khau].last_at) == (local(14, 10), local(15, 6, 30))
    assert found[ha_phong].sittings == 4 and found[ha_phong].changes == len(PLAN) - 4
    assert found[ha_phong].first_at == local(14, 8) and found[ha_phong].last_at.astimezone(ZONE).day == 23


def test_the_digest_and_the_status_list_only_the_agencies_at_risk(db):
    campaign, _, _ = three_agencies(db)
    ContactDialogue(db, Clock(NOW)).start(COORDINATOR, campaign.coordinator_token)
    with opened(db) as outbox:
        scope = outbox.scope(campaign.id, None)
        facts = outbox.campaign(campaign.id)
        context = overview(outbox, facts, scope, NOW, ZONE)
    assert [r.name for r in context["at_risk"]] == ["UBND Thành phố Hạ Long", "UBND Phường Hà Khẩu"]
    base = {"campaign": facts, "deadline": facts.deadline, "now": NOW, "closes_at": facts.closes_at}
    digest = render("digest", lang="vi", **base, **context)
    left = len(relevant_steps(bundled()["qn2018-huyen"], {}))
    with opened(db) as outbox:
        ((ha_khau, answers),) = [(a, v) for a, v in outbox.answers({i: XA for i in scope}).items() if len(v) == 3]
    khau_left = len(relevant_steps(XA, answers)) - 3
    expected = [
        "Có nguy cơ trễ hạn (2):",
        f"• UBND Thành phố Hạ Long: còn {left} câu, 3 ngày làm việc, chưa bắt đầu",
        f"• UBND Phường Hà Khẩu: còn {khau_left} câu, 3 ngày làm việc, chưa hoạt động từ 15/10",
    ]
    assert "\n".join(expected) in digest
    assert "Hà Phong:" not in digest  # a few questions left at its pace: done today
    english = render("digest", lang="en", **base, **context)
    assert f"UBND Phường Hà Khẩu: {khau_left} questions left, 3 working days, no activity since 15/10" in english

    status = "\n".join(
        rendered(CoordinatorDialogue(db, Clock(NOW), str(ZONE), by_language(str(ZONE))).status(COORDINATOR))
    )
    assert "\n".join(expected) in status and "Hà Phong:" not in status
    closed = Clock(campaign.deadline.replace(day=29))  # once closed, the overdue list says it instead
    assert "nguy cơ" not in "\n".join(
        rendered(CoordinatorDialogue(db, closed, str(ZONE), by_language(str(ZONE))).status(COORDINATOR))
    )


def answers_read(db, call) -> int:
    """How many statements reading agencies' answers ``call`` sends."""
    read = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        if "FROM answers" in statement and ("json_group_object" in statement or "json_object_agg" in statement):
            read.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    return len(read)


def test_status_reads_the_answers_only_of_agencies_whose_answers_moved_since_the_warm_up(db):
    campaign, ha_phong, _ = three_agencies(db)
    ContactDialogue(db, Clock(NOW)).start(COORDINATOR, campaign.coordinator_token)
    cold = CoordinatorDialogue(db, Clock(NOW), str(ZONE), by_language(str(ZONE)))
    assert answers_read(db, lambda: cold.status(COORDINATOR)) == 1
    warm = CoordinatorDialogue(db, Clock(NOW), str(ZONE), by_language(str(ZONE)))
    warm.warm()
    assert answers_read(db, lambda: warm.status(COORDINATOR)) == 0
    with db.session() as session:
        agency = session.get(Agency, ha_phong)
        set_answer(session, XA, agency, PLAN[-1][0], PLAN[-1][1], by=None, source="test", now=NOW, current=None)
    assert answers_read(db, lambda: warm.status(COORDINATOR)) == 1  # Hà Phong's, read again
