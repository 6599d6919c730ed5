"""Delivery through the outbox over real HTTP (issue 15, defects 2, 3, 4 and 8).

The sender runs against the fake Bot API, or against a server that accepts the request and never
answers (the process dies while the request may have reached Telegram). Time is the test's clock,
and every wait of the sender goes through an injected sleep that records it: nothing sleeps.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dialogue_helpers import START, Clock, answer_all, campaign_due_now, make_campaign
from sqlalchemy import select, update
from telegram import Bot
from telegram.ext import CallbackContext
from telegram.request import HTTPXRequest

from bot.app import SENDER, build_application
from bot.cli import main
from bot.demo.fake_telegram import FakeTelegram, run_application
from bot.reminders.sender import Sender
from common.settings import Settings
from conversations.contact_dialogue import ContactDialogue
from conversations.reminders.outbox import UNANSWERED_AFTER, Outbox
from conversations.situation import Person
from storage.models import Agency, Contact, Notification

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
HA_PHONG = Person(101, 101, "Hà Phong", "vi")
SATURDAY = START + timedelta(days=5)  # no digest is due


@pytest.fixture
def fake():
    with FakeTelegram() as server:
        yield server


def contacts(db, campaign_id: int, users: range, code: str = "06655") -> list[int]:
    with db.session() as session:
        agency = session.scalar(select(Agency).where(Agency.campaign_id == campaign_id, Agency.code == code))
        for user_id in users:
            session.add(
                Contact(
                    campaign_id=campaign_id,
                    agency_id=agency.id,
                    telegram_user_id=user_id,
                    full_name=f"Đầu mối {user_id}",
                    language_code="vi",
                )
            )
    return list(users)


def statuses(db, kind: str) -> Counter:
    with db.session() as session:
        return Counter(session.scalars(select(Notification.status).where(Notification.kind == kind)))


def test_remind_send_due_sends_that_campaigns_rows_only(db, database_url, fake, monkeypatch):
    """Defect 2: `cqdt remind --campaign N --send-due` with two campaigns due at once."""
    now = datetime.now(UTC)
    chosen, other = campaign_due_now(db, now), campaign_due_now(db, now)
    ours = contacts(db, chosen.id, range(1000, 1003))
    theirs = contacts(db, other.id, range(2000, 2003))
    for user_id in ours + theirs:
        fake.user(user_id)
    Outbox(db, lambda: now, ZONE, "bot").prepare()  # the bot planned both: both campaigns' reminders are due
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake.token)
    monkeypatch.setenv("CQDT_TELEGRAM_API_URL", fake.api_url)
    assert main(["--database-url", database_url, "remind", "--campaign", str(chosen.id), "--send-due"]) == 0
    assert Counter(c.chat_id for c in fake.calls("sendMessage")) == dict.fromkeys(ours, 1)
    with db.session() as session:
        left = session.scalars(
            select(Notification.status).where(Notification.campaign_id == other.id, Notification.kind == "reminder")
        ).all()
    assert left == ["pending"] * 3


class Silent:
    """A Bot API that accepts each request and never answers: ``arrived`` is set once a request came in."""

    def __init__(self):
        self.arrived = asyncio.Event()
        self.requests = 0

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self.accept, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/bot"

    async def accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        self.requests += 1
        self.arrived.set()
        try:
            await asyncio.Event().wait()  # never answers
        finally:
            writer.close()

    async def __aexit__(self, *exc_info) -> None:
        self.server.close()


def dies_while_sending(db, clock, fake) -> None:
    """One tick against a silent Bot API, killed once its request is in: the process died mid-request."""

    async def run():
        silent, request = Silent(), HTTPXRequest()
        await request.initialize()  # the bot is not initialized: that would send getMe first
        try:
            async with silent as url:
                bot = Bot(fake.token, base_url=url, request=request)
                tick = asyncio.create_task(Sender(Outbox(db, clock, ZONE, "dead"), ZONE.key).tick(bot, plan=False))
                await silent.arrived.wait()
                tick.cancel()  # the process state is gone; what is in the database stays
                with pytest.raises(asyncio.CancelledError):
                    await tick
        finally:
            await request.shutdown()
        assert silent.requests == 1

    asyncio.run(run())


def tick(db, clock, fake, worker="restarted") -> int:
    async def run():
        async with Bot(fake.token, base_url=fake.api_url) as bot:
            return await Sender(Outbox(db, clock, ZONE, worker), ZONE.key, sleep=no_sleep).tick(bot)

    return asyncio.run(run())


async def no_sleep(seconds: float) -> None:
    return None


def reminder_due(db, fake, clock):
    campaign = make_campaign(db, SATURDAY, deadline=SATURDAY + timedelta(days=5))  # Thu 24/10 9h00
    users = contacts(db, campaign.id, range(1000, 1001))
    fake.user(users[0])
    Outbox(db, clock, ZONE, "planner").prepare()
    clock.now = datetime(2019, 10, 21, 9, 0, tzinfo=ZONE)  # Monday: the 3-day reminder is due
    with db.session() as session:
        session.execute(
            Notification.__table__.update()
            .where(Notification.kind.in_(("digest", "escalation")))
            .values(status="cancelled")
        )
    return users[0]


def test_a_reminder_whose_request_got_no_answer_is_not_sent_again(db, fake):
    """Defect 3, at most once: the reminder's request may have reached Telegram; it is never repeated."""
    clock = Clock(SATURDAY)
    user = reminder_due(db, fake, clock)
    dies_while_sending(db, clock, fake)
    assert statuses(db, "reminder")["sending"] == 1
    clock.advance(seconds=UNANSWERED_AFTER.total_seconds() + 1)
    tick(db, clock, fake)
    assert statuses(db, "reminder")["uncertain"] == 1 and not fake.calls("sendMessage", chat_id=user)


def test_a_reminder_claimed_and_not_attempted_is_sent_by_the_next_tick(db, fake):
    """Defect 3: claimed, then the process died before the request: sent once, two minutes later."""
    clock = Clock(SATURDAY)
    user = reminder_due(db, fake, clock)
    assert Outbox(db, clock, ZONE, "dead").claim().kind == "reminder"  # ... and the process dies
    tick(db, clock, fake)
    assert not fake.calls("sendMessage", chat_id=user)  # a live sender may still hold the claim
    clock.advance(minutes=2, seconds=1)
    tick(db, clock, fake)
    clock.advance(minutes=15)
    tick(db, clock, fake)
    assert ["Nhắc hạn" in c.params["text"] for c in fake.calls("sendMessage", chat_id=user)] == [True]
    assert statuses(db, "reminder")["sent"] == 1


def submitted_not_sent(db, clock, fake) -> None:
    """Hà Phong confirms; the submission commits with its receipt queued, and the process dies before
    sending it (the wake-up never runs)."""
    campaign = make_campaign(db, SATURDAY)
    fake.user(101)
    dialogue = ContactDialogue(db, clock, receipts=lambda: None)
    dialogue.start(HA_PHONG, campaign.tokens["06652"])
    answer_all(db, "06652", seed=3)
    confirm = dialogue.command(HA_PHONG, "nop").replies[0]
    assert dialogue.button(HA_PHONG, confirm.buttons[0][0].data).notice == "submitted"


def receipts_to(fake, user_id: int) -> list[str]:
    """The receipts Telegram accepted for the chat."""
    return [
        c.params["text"] for c in fake.calls("sendMessage", chat_id=user_id) if c.ok and "BIÊN NHẬN" in c.params["text"]
    ]


def test_a_committed_submission_gets_its_receipt_once_after_a_restart(db, fake):
    """Defect 4: committed, not sent; the restarted sender sends the receipt, once."""
    clock = Clock(SATURDAY)
    submitted_not_sent(db, clock, fake)
    assert tick(db, clock, fake) == 1
    assert tick(db, clock, fake) == 0
    [receipt] = receipts_to(fake, 101)
    assert "UBND Phường Hà Phong" in receipt and "SHA-256" in receipt


def test_a_receipt_whose_request_got_no_answer_is_sent_again(db, fake):
    """Defect 3, at least once for receipts: no answer recorded, so it is sent again after the window."""
    clock = Clock(SATURDAY)
    submitted_not_sent(db, clock, fake)
    dies_while_sending(db, clock, fake)
    clock.advance(seconds=UNANSWERED_AFTER.total_seconds() - 1)
    tick(db, clock, fake)
    assert receipts_to(fake, 101) == []
    clock.advance(seconds=2)
    tick(db, clock, fake)
    tick(db, clock, fake)
    assert len(receipts_to(fake, 101)) == 1 and statuses(db, "receipt") == {"sent": 1}


def test_429_is_waited_out_by_the_senders_one_retry_path(db, fake):
    """Defect 8: the bot's own sender sees the 429 itself and waits exactly ``retry_after``, through its
    sleep, not the application's rate limiter (which would have slept and retried on its own)."""
    clock = Clock(SATURDAY)
    user = reminder_due(db, fake, clock)
    fake.fail_next("sendMessage", 1, status=429, description="Too Many Requests: retry after 7", retry_after=7)
    application = build_application(Settings(token=fake.token, telegram_api_url=fake.api_url), db, clock=clock)
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    async def run():
        async with application:
            sender = application.bot_data[SENDER]
            sender.sleep = record
            [job] = application.job_queue.get_jobs_by_name("reminders")
            await job.callback(CallbackContext(application))
            return sender

    sender = asyncio.run(run())
    assert [w for w in waits if w >= 1] == [7.0] and sender.rate_limited == 1
    calls = fake.calls("sendMessage", chat_id=user)
    assert [c.ok for c in calls] == [False, True]


@pytest.fixture
def running(fake, db):
    clock = Clock(SATURDAY)
    campaign = make_campaign(db, SATURDAY)
    application = build_application(Settings(token=fake.token, telegram_api_url=fake.api_url), db, clock=clock)
    with run_application(application):
        fake.wait_for_long_poll()
        yield fake, clock, campaign


def test_pressing_confirm_twice_gives_one_receipt(running, db):
    """Defect 4 in the running bot: the receipt comes from the outbox at once; the second press on the
    same message answers with the submission's state, never an error, and sends no second receipt."""
    fake, clock, campaign = running
    user = fake.user(101, "Hà Phong")
    user.send_command(f"/start {campaign.tokens['06652']}")
    user.wait_for_reply(match="Câu 1 · ")
    answer_all(db, "06652", seed=3)
    update = user.send_command("/nop")
    confirm = user.wait_for_reply(after_update=update, match="xác nhận nộp")
    user.press("✅ Xác nhận nộp", message_id=confirm.message_id)
    receipt = user.wait_for_reply(match="BIÊN NHẬN")
    assert "SHA-256" in receipt.text
    again = user.press("✅ Xác nhận nộp", message_id=confirm.message_id)
    state = user.wait_for_reply(after_update=again, match="không cần nộp lại")
    assert "đã nộp bản tự đánh giá lúc 09h00 ngày 19/10/2019" in state.text
    assert "không cần nộp lại" in user.answered_callbacks()[-1].text
    update = user.send_command("/nop")
    assert "không cần nộp lại" in user.wait_for_reply(after_update=update).text
    assert len(receipts_to(fake, 101)) == 1 and statuses(db, "receipt") == {"sent": 1}


def cqdt(url: str, fake: FakeTelegram, log: Path, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "CQDT_TELEGRAM_API_URL": fake.api_url,
        "CQDT_DATABASE_URL": url,
    }
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "cqdt"), *args],
        env=env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[2],
    )


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_kill_9_after_the_submission_committed_then_the_receipt_goes_once(db, database_url, fake, tmp_path):
    """Defect 4 with a real `cqdt run` killed with SIGKILL: the submission committed, its receipt's three
    requests failed (502) and the process died at once, before or after giving the row back. The restarted
    sender sends the receipt exactly once; the restarted bot answers a second press with the state."""
    campaign = make_campaign(db, datetime.now(UTC))  # the processes run on the real clock
    log = tmp_path / "bot.log"
    process = cqdt(database_url, fake, log, "run")
    try:
        user = fake.user(101, "Hà Phong")
        user.send_command(f"/start {campaign.tokens['06652']}")
        user.wait_for_reply(match="Câu 1 · ", timeout=30)
        answer_all(db, "06652", seed=3)
        confirm = user.wait_for_reply(after_update=user.send_command("/nop"), match="xác nhận nộp")
        fake.fail_next("sendMessage", 3, status=502, description="Bad Gateway")
        press = user.press("✅ Xác nhận nộp", message_id=confirm.message_id)
        fake.wait_for_calls("sendMessage", 3, chat_id=101, after=press, timeout=30)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    [row] = [r for r in all_receipts(db)]
    assert row.status in ("sending", "pending") and receipts_to(fake, 101) == []
    with db.session() as session:  # the ten minutes a row perhaps sent waits, passed
        session.execute(
            update(Notification)
            .where(Notification.id == row.id)
            .values(claimed_at=row.claimed_at - UNANSWERED_AFTER * 1.1)
        )
    for _ in range(2):  # the restarted sender, twice
        assert cqdt(database_url, fake, log, "remind", "--campaign", str(campaign.id), "--send-due").wait(60) == 0, (
            log.read_text()
        )
    assert len(receipts_to(fake, 101)) == 1 and statuses(db, "receipt") == {"sent": 1}
    process = cqdt(database_url, fake, log, "run")
    try:
        fake.wait_for_long_poll(timeout=30)
        again = user.press("✅ Xác nhận nộp", message_id=confirm.message_id)
        assert "không cần nộp lại" in user.wait_for_reply(after_update=again, timeout=30).text
    finally:
        stop(process)
    assert len(receipts_to(fake, 101)) == 1 and fake.token not in log.read_text()


def all_receipts(db) -> list[Notification]:
    with db.session() as session:
        found = list(session.scalars(select(Notification).where(Notification.kind == "receipt")))
        session.expunge_all()
        return found
