"""Deadline reminders and coordinator notices, driven by a controlled clock through the fake Bot API.

The campaign's deadline is 14h00 on Monday 28/10/2019 (Asia/Ho_Chi_Minh); the
default policy reminds 7 days, 3 days, 1 day and 2 hours before, in working hours.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dialogue_helpers import START, Clock, campaign_due_now, make_campaign
from sqlalchemy import select, update
from telegram import Bot

from bot.cli import main
from bot.demo.fake_telegram import FakeTelegram
from bot.reminders.sender import Sender
from conversations.contact_dialogue import ContactDialogue
from conversations.office_questions import KINDS as OFFICE_KINDS
from conversations.reminders.notices import NOTICES
from conversations.reminders.outbox import Outbox
from conversations.reminders.plan import PLANNED_KINDS, plan
from conversations.situation import Person
from conversations.walk import relevant_steps
from rubrics.bundled import bundled
from rubrics.sample_answers import sample_answers
from storage import campaigns
from storage.answers import set_answer
from storage.invitations import coordinator_invitation
from storage.models import Agency, Contact, Evidence, Notification, Submission
from storage.outbox import opened

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
DEADLINE = datetime(2019, 10, 28, 14, 0, tzinfo=ZONE)


def local(text: str) -> datetime:
    return datetime.strptime(text, "%d/%m %H:%M").replace(year=2019, tzinfo=ZONE)


@pytest.fixture
def fake():
    with FakeTelegram() as server:
        yield server


def register(db, clock, campaign, fake):
    """Contacts of three agencies and one coordinator, registered through the dialogue."""
    dialogue = ContactDialogue(db, clock)
    people = {"ha_phong": 101, "ha_khau": 102, "ha_long": 103, "coordinator": 900}
    for name, user_id in people.items():
        fake.user(user_id, name)
    dialogue.start(Person(101, 101, "Hà Phong", "vi"), campaign.tokens["06652"])
    dialogue.start(Person(102, 102, "Hà Khẩu", "vi"), campaign.tokens["06655"])
    dialogue.start(Person(103, 103, "Hạ Long", "vi"), campaign.tokens["193"])
    dialogue.start(Person(900, 900, "Điều phối", "vi"), campaign.coordinator_token)
    dialogue.command(Person(102, 102, "Hà Khẩu", "vi"), "sua", "cbcc_tong")
    dialogue.text(Person(102, 102, "Hà Khẩu", "vi"), "30")
    return people


def bot_for(fake: FakeTelegram) -> Bot:
    return Bot(fake.token, base_url=fake.api_url)


def run_timeline(db, clock, fake, until: datetime, step=timedelta(minutes=30), on_tick=None):
    """Tick every ``step`` until ``until``; returns chat → [(local time, text, buttons)]."""
    sender = Sender(Outbox(db, clock, ZONE, "test"), "Asia/Ho_Chi_Minh")
    received: dict[int, list] = defaultdict(list)

    async def main():
        async with bot_for(fake) as bot:
            while clock.now <= until:
                before = len(fake.calls("sendMessage"))
                await sender.tick(bot)
                for call in fake.calls("sendMessage")[before:]:
                    received[call.chat_id].append(
                        (clock.now.astimezone(ZONE), call.params["text"], call.params.get("reply_markup"))
                    )
                if on_tick:
                    on_tick(clock.now)
                clock.now += step

    asyncio.run(main())
    return received


def times(messages, fragment=""):
    return [when.strftime("%d/%m %H:%M") for when, text, _ in messages if fragment in text]


def test_a_campaign_timeline(db, fake):
    clock = Clock(START)
    campaign = make_campaign(db, START, deadline=DEADLINE)
    people = register(db, clock, campaign, fake)

    def submit_ha_phong(now):
        if now == local("22/10 09:00"):
            with db.session() as session:
                agency = session.scalar(select(Agency).where(Agency.code == "06652"))
                session.execute(
                    update(Submission)
                    .where(Submission.agency_id == agency.id)
                    .values(state="submitted", submitted_at=now)
                )

    received = run_timeline(db, clock, fake, local("29/10 18:00"), on_tick=submit_ha_phong)
    expected = ["21/10 14:00", "25/10 14:00", "28/10 07:30", "28/10 12:00"]
    # not started, and in progress: every reminder in working hours, then the overdue notice
    assert times(received[people["ha_long"]], "Nhắc hạn") == expected
    assert times(received[people["ha_khau"]], "Nhắc hạn") == expected
    assert times(received[people["ha_long"]], "hết hạn") == ["28/10 14:00"]
    assert "chưa bắt đầu" in received[people["ha_long"]][0][1]
    assert "đã trả lời 1/" in received[people["ha_khau"]][0][1]
    first = received[people["ha_long"]][0]
    assert "14h00 ngày 28/10/2019" in first[1] and "còn 7 ngày" in first[1]
    assert first[2]["inline_keyboard"] == [[{"callback_data": "continue", "text": "Tiếp tục trả lời ▶"}]]
    # submitted midway: the first reminder only, nothing after
    assert times(received[people["ha_phong"]]) == ["21/10 14:00"]
    # the coordinator: a digest at 08:00 on working days, the escalation 3 days before, the overdue list
    coordinator = received[people["coordinator"]]
    digests = times(coordinator, "Tình hình")
    assert digests[0] == "14/10 09:00"  # the campaign opened after 08:00: caught up at the first tick
    assert digests[1:] == [
        "15/10 08:00",
        "16/10 08:00",
        "17/10 08:00",
        "18/10 08:00",
        "21/10 08:00",
        "22/10 08:00",
        "23/10 08:00",
        "24/10 08:00",
        "25/10 08:00",
        "28/10 08:00",
    ]
    # the agencies at risk, with their reason: on the deadline's morning Hà Phong has submitted, Hạ Long never
    # started and Hà Khẩu answered one question on 14/10, and one working day is left
    shown = {when.strftime("%d/%m"): text for when, text, _ in coordinator if "Tình hình" in text}
    assert "• UBND Phường Hà Phong: còn" in shown["21/10"] and "Hà Phong:" not in shown["28/10"]
    huyen_left = len(relevant_steps(bundled()["qn2018-huyen"], {}))
    xa_left = len(relevant_steps(bundled()["qn2018-xa"], {"cbcc_tong": 30})) - 1
    assert (
        "Có nguy cơ trễ hạn (2):\n"
        f"• UBND Thành phố Hạ Long: còn {huyen_left} câu, 1 ngày làm việc, chưa bắt đầu\n"
        f"• UBND Phường Hà Khẩu: còn {xa_left} câu, 1 ngày làm việc, chưa hoạt động từ 14/10"
    ) in shown["28/10"]
    escalation = [text for when, text, _ in coordinator if "chưa bắt đầu trả lời" in text]
    assert times(coordinator, "chưa bắt đầu trả lời") == ["25/10 14:00"]
    assert "UBND Thành phố Hạ Long" in escalation[0] and "Hà Khẩu" not in escalation[0]
    overdue = [text for when, text, _ in coordinator if "Đã hết hạn nộp" in text]
    assert times(coordinator, "Đã hết hạn nộp") == ["28/10 14:00"]
    assert "Hà Khẩu" in overdue[0] and "Hà Phong" not in overdue[0]
    # nothing on the weekend, nothing outside working hours but the deadline itself
    for messages in received.values():
        for when, _text, _buttons in messages:
            assert when.weekday() < 5
            assert (7, 30) <= (when.hour, when.minute) <= (17, 30) or when == DEADLINE


def test_overdue_waits_for_the_grace_hours(db, fake):
    """Overdue means closed (deadline plus grace) and not submitted, for the contact and the coordinator alike."""
    clock = Clock(START)
    campaign = make_campaign(db, START, deadline=DEADLINE, grace_hours=20)  # closes Tuesday 29/10 10:00
    people = register(db, clock, campaign, fake)
    clock.now = local("28/10 13:00")
    received = run_timeline(db, clock, fake, local("29/10 11:00"))
    assert times(received[people["ha_long"]], "hết hạn") == ["29/10 10:00"]
    coordinator = received[people["coordinator"]]
    assert times(coordinator, "Tình hình") == ["29/10 08:00"]
    assert "Quá hạn" not in next(text for _, text, _ in coordinator if "Tình hình" in text)
    assert times(coordinator, "Đã hết hạn nộp") == ["29/10 10:00"]


def test_every_kind_queued_has_a_notice():
    assert set(NOTICES) == {*PLANNED_KINDS, "digest", "returned", "submitted", "receipt", *OFFICE_KINDS}


def test_a_holiday_moves_the_reminder(db):
    deadline = datetime(2019, 9, 3, 14, 0, tzinfo=ZONE)  # Tuesday after National Day (Monday 2/9)
    campaign = make_campaign(db, deadline - timedelta(days=14), deadline=deadline)
    ContactDialogue(db, Clock(deadline - timedelta(days=14))).start(Person(5, 5, "A", "vi"), campaign.tokens["06652"])
    with opened(db) as outbox:
        rows = plan(outbox, outbox.campaign(campaign.id), ZONE)
    reminders = sorted(r.due_at.astimezone(ZONE).strftime("%d/%m %H:%M") for r in rows if r.kind == "reminder")
    # 7 days: Tue 27/8 14:00; 3 days: Sat 31/8 → after the weekend and the holiday → Tue 3/9 07:30;
    # 1 day: Mon 2/9 (holiday) → Tue 3/9 07:30; 2 hours: Tue 3/9 12:00
    assert reminders == ["03/09 07:30", "03/09 07:30", "03/09 12:00", "27/08 14:00"]


def test_moving_the_deadline_replans_what_is_not_sent(db, fake):
    clock = Clock(START)
    campaign = make_campaign(db, START, deadline=DEADLINE)
    people = register(db, clock, campaign, fake)
    received = run_timeline(db, clock, fake, local("22/10 09:00"))
    assert times(received[people["ha_long"]], "Nhắc hạn") == ["21/10 14:00"]
    Outbox(db, clock, ZONE, "test").move_deadline(campaign.id, datetime(2019, 11, 4, 14, 0, tzinfo=ZONE))
    later = run_timeline(db, clock, fake, local("04/11 15:00"))
    assert times(later[people["ha_long"]], "Nhắc hạn") == ["28/10 14:00", "01/11 14:00", "04/11 07:30", "04/11 12:00"]
    assert "14h00 ngày 04/11/2019" in later[people["ha_long"]][0][1]


def many_contacts(db, campaign, count: int, first_user: int = 1000) -> list[int]:
    with db.session() as session:
        agency = session.scalar(select(Agency).where(Agency.code == "06655"))
        for user_id in range(first_user, first_user + count):
            session.add(
                Contact(
                    campaign_id=campaign.id,
                    agency_id=agency.id,
                    telegram_user_id=user_id,
                    full_name=f"Đầu mối {user_id}",
                    language_code="vi",
                )
            )
    return list(range(first_user, first_user + count))


class CrashAfter(Bot):
    """A bot whose process dies right after its n-th message reached Telegram."""

    def __init__(self, *args, crash_after: int, **kwargs):
        super().__init__(*args, **kwargs)
        object.__setattr__(self, "_left", crash_after)

    async def send_message(self, *args, **kwargs):
        message = await super().send_message(*args, **kwargs)
        object.__setattr__(self, "_left", self._left - 1)
        if self._left == 0:
            raise SystemExit("killed")
        return message


def test_a_restart_in_the_middle_of_a_fan_out_sends_each_reminder_once(db, fake):
    clock = Clock(local("21/10 14:00"))
    campaign = make_campaign(db, START, deadline=DEADLINE)
    users = many_contacts(db, campaign, 40)
    for user_id in users:
        fake.user(user_id)

    async def crash():
        async with CrashAfter(fake.token, base_url=fake.api_url, crash_after=12) as bot:
            await Sender(Outbox(db, clock, ZONE, "first"), "Asia/Ho_Chi_Minh").tick(bot)

    with pytest.raises(SystemExit):
        asyncio.run(crash())
    assert len(fake.calls("sendMessage")) == 12

    async def restart():
        async with bot_for(fake) as bot:
            return await Sender(Outbox(db, clock, ZONE, "second"), "Asia/Ho_Chi_Minh").tick(bot)

    asyncio.run(restart())
    clock.advance(minutes=15)  # the crashed claim goes stale: it is never sent again
    asyncio.run(restart())
    delivered = Counter(call.chat_id for call in fake.calls("sendMessage"))
    assert set(delivered) == set(users) and set(delivered.values()) == {1}
    with db.session() as session:
        states = Counter(
            session.scalars(select(Notification.status).where(Notification.key.like("%:remind:10080:%")))
        )  # the 7-day reminder
    assert states == {"sent": 39, "uncertain": 1}


def test_missed_reminders_are_caught_up_or_dropped(db, fake):
    clock = Clock(local("21/10 20:00"))  # the bot was down from 14:00: within the 12-hour catch-up window
    campaign = make_campaign(db, START, deadline=DEADLINE)
    users = many_contacts(db, campaign, 3)
    for user_id in users:
        fake.user(user_id)
    received = run_timeline(db, clock, fake, clock.now, step=timedelta(minutes=1))
    assert all(len(received[u]) == 1 for u in users)
    clock.now = local("26/10 10:00")  # the 25/10 14:00 reminder is 20 hours late: dropped, not flooded
    received = run_timeline(db, clock, fake, clock.now, step=timedelta(minutes=1))
    assert not received
    with db.session() as session:
        assert session.scalar(select(Notification.status).where(Notification.key.like("%:remind:4320:%"))) == "dropped"


def test_429_is_waited_out_and_403_is_recorded(db, fake):
    clock = Clock(local("21/10 14:00"))
    campaign = make_campaign(db, START, deadline=DEADLINE)
    users = many_contacts(db, campaign, 3)
    for user_id in users:
        fake.user(user_id)
    fake.fail_next("sendMessage", 1, status=429, description="Too Many Requests: retry after 1", retry_after=1)
    fake.block_chat(users[2])
    run_timeline(db, clock, fake, clock.now, step=timedelta(minutes=1))
    delivered = Counter(call.chat_id for call in fake.calls("sendMessage") if call.ok)
    assert delivered == {users[0]: 1, users[1]: 1}
    assert sum(1 for call in fake.calls("sendMessage") if call.chat_id == users[2]) == 1  # not retried
    with db.session() as session:
        blocked = session.scalar(select(Contact.blocked_at).where(Contact.telegram_user_id == users[2]))
        assert blocked is not None
        assert (
            session.scalar(
                select(Notification.status).where(
                    Notification.telegram_user_id == users[2], Notification.key.like("%:remind:10080:%")
                )
            )
            == "blocked"
        )
    with opened(db) as outbox:
        later = plan(outbox, outbox.campaign(campaign.id), ZONE)
    assert all(p.telegram_user_id != users[2] for p in later)


def test_the_digest_lists_contacts_who_blocked_the_bot(db, fake):
    clock = Clock(local("21/10 14:00"))
    campaign = make_campaign(db, START, deadline=DEADLINE)
    dialogue = ContactDialogue(db, clock)
    dialogue.start(Person(900, 900, "Điều phối", "vi"), campaign.coordinator_token)
    fake.user(900)
    users = many_contacts(db, campaign, 1)
    fake.user(users[0])
    fake.block_chat(users[0])
    received = run_timeline(db, clock, fake, local("22/10 08:00"))
    digest = [text for when, text, _ in received[900] if "Tình hình" in text][-1]
    assert "chặn bot (1): Đầu mối 1000" in digest


def send_due_process(url: str, fake: FakeTelegram, campaign_id: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "CQDT_TELEGRAM_API_URL": fake.api_url,
        "CQDT_DATABASE_URL": url,
    }
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "cqdt"), "remind", "--campaign", str(campaign_id), "--send-due"],
        env=env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )


def test_two_processes_send_each_reminder_exactly_once(db, database_url, fake, tmp_path):
    campaign = campaign_due_now(db, datetime.now(UTC))
    users = many_contacts(db, campaign, 60)
    for user_id in users:
        fake.user(user_id)
    log = tmp_path / "senders.log"
    processes = [send_due_process(database_url, fake, campaign.id, log) for _ in range(2)]
    for process in processes:
        assert process.wait(timeout=120) == 0, log.read_text()
    delivered = Counter(call.chat_id for call in fake.calls("sendMessage"))
    assert set(delivered) == set(users) and set(delivered.values()) == {1}
    with db.session() as session:
        workers = set(session.scalars(select(Notification.claimed_by).where(Notification.kind == "reminder")))
    assert len(workers) >= 1 and fake.token not in log.read_text()


def test_remind_prints_the_plan(db, database_url, capsys, monkeypatch):
    now = datetime.now(UTC)
    campaign = make_campaign(db, now, deadline=now + timedelta(days=10))
    many_contacts(db, campaign, 2)
    for name in ("TELEGRAM_BOT_TOKEN", "CQDT_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert (
        main(
            [
                "--database-url",
                database_url,
                "campaign",
                "set-reminders",
                str(campaign.id),
                "--offsets",
                "5d,1d",
                "--hours",
                "08:00-17:00",
                "--days",
                "mon-sat",
            ]
        )
        == 0
    )
    assert main(["--database-url", database_url, "remind", "--campaign", str(campaign.id), "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out[out.index("{") :])
    kinds = Counter(n["kind"] for n in data["notifications"])
    assert kinds["reminder"] == 4 and kinds["overdue"] == 2
    assert (
        main(["--database-url", database_url, "campaign", "set-reminders", str(campaign.id), "--offsets", "soon"]) == 1
    )
    assert "7d,3d,1d,2h" in capsys.readouterr().err


def test_a_network_error_is_retried_and_the_message_sent_once(db, fake):
    clock = Clock(local("21/10 14:00"))
    campaign = make_campaign(db, START, deadline=DEADLINE)
    users = many_contacts(db, campaign, 2)
    for user_id in users:
        fake.user(user_id)
    fake.fail_next("sendMessage", 1, status=502, description="Bad Gateway")
    run_timeline(db, clock, fake, clock.now, step=timedelta(minutes=1))
    assert Counter(call.chat_id for call in fake.calls("sendMessage") if call.ok) == {users[0]: 1, users[1]: 1}


def test_coordinators_in_scope_hear_of_each_submission(db, fake):
    clock = Clock(START)
    campaign = make_campaign(db, START, deadline=DEADLINE)
    dialogue = ContactDialogue(db, clock)
    dialogue.start(Person(900, 900, "Sở", "vi"), campaign.coordinator_token)
    with db.session() as session:
        other = coordinator_invitation(session, campaigns.get(session, campaign.id), clock.now, "06655").token
    dialogue.start(Person(901, 901, "Phường Hà Khẩu", "vi"), other)
    for user_id in (900, 901):
        fake.user(user_id)
    who = Person(101, 101, "Hà Phong", "vi")
    dialogue.start(who, campaign.tokens["06652"])
    with db.session() as session:
        agency = session.scalar(select(Agency).where(Agency.code == "06652"))
        session.execute(update(Submission).where(Submission.agency_id == agency.id).values(state="in_progress"))
    place_complete(db, agency_code="06652")
    confirm = dialogue.command(who, "nop").replies[0]
    assert confirm.template == "submit_confirm"
    dialogue.button(who, confirm.buttons[0][0].data)
    received = run_timeline(db, clock, fake, clock.now, step=timedelta(minutes=1))
    notice = [text for _, text, _ in received[900] if text.startswith("📥")]
    assert notice and "UBND Phường Hà Phong" in notice[0] and "09h00 ngày 14/10/2019" in notice[0]
    assert not [text for _, text, _ in received[901] if text.startswith("📥")]  # Hà Phong is outside that scope


def place_complete(db, agency_code: str) -> None:
    """Give every relevant question of the agency a valid answer, with evidence where it is required."""
    rubric = bundled()["qn2018-xa"]
    with db.session() as session:
        agency = session.scalar(select(Agency).where(Agency.code == agency_code))
        current = {}
        for qid, value in sample_answers(rubric, random.Random(3), na_rate=0).items():
            set_answer(session, rubric, agency, qid, value, by=None, source="test", now=START, current=current)
            current[qid] = value
            if rubric.question(qid).evidence == "required":
                session.add(Evidence(agency_id=agency.id, question_id=qid, kind="document", file_id="F"))


def test_the_reminder_button_continues_the_walk(db):
    clock = Clock(START)
    campaign = make_campaign(db, START, deadline=DEADLINE)
    dialogue = ContactDialogue(db, clock)
    who = Person(101, 101, "Hà Phong", "vi")
    dialogue.start(who, campaign.tokens["06652"])
    outcome = dialogue.button(who, "continue")
    assert outcome.replies[0].template == "question" and outcome.replies[0].context["step"].number == 1


def test_one_chat_gets_at_most_one_message_a_second(db, fake):
    clock = Clock(local("21/10 14:00"))
    campaign = make_campaign(db, START, deadline=DEADLINE)
    ContactDialogue(db, clock).start(Person(900, 900, "Sở", "vi"), campaign.coordinator_token)
    fake.user(900)
    with db.session() as session:
        for n in range(2):
            session.add(
                Notification(
                    campaign_id=campaign.id,
                    key=f"burst-{n}",
                    kind="submitted",
                    telegram_user_id=900,
                    payload={"agency_name": f"Đơn vị {n}", "at": clock.now.isoformat(), "total": "50", "max": "100"},
                    due_at=clock.now,
                    catch_up_until=clock.now + timedelta(hours=1),
                )
            )
    run_timeline(db, clock, fake, clock.now, step=timedelta(minutes=1))
    notices = [c for c in fake.calls("sendMessage") if c.params["text"].startswith("📥")]
    assert len(notices) == 2 and notices[1].at - notices[0].at >= 0.95
