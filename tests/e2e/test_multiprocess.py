"""Two ``cqdt serve`` processes behind one webhook URL, sharing one PostgreSQL schema.

The fake Bot API delivers updates to the two processes in turn, so a contact's consecutive
answers land on different processes; both processes' schedulers tick and share the reminder
fan-out. The processes run the real command line (``bot.cli.main``) with the reminder tick
shortened from 30 s to 1 s, so that both schedulers tick many times during the test.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime

import pytest
from dialogue_helpers import campaign_due_now
from sqlalchemy import select
from test_webhook import free_port, get_json

from bot.demo.fake_telegram import FakeTelegram
from rubrics.bundled import bundled
from storage import answers as answer_store
from storage.models import Agency, Contact, Notification

SECRET = "multi-process-secret"
LAUNCH = "import sys, bot.app; bot.app.TICK_SECONDS = 1; from bot.cli import main; sys.exit(main(sys.argv[1:]))"
PUBLIC_URL = "https://cqdt.example.gov.vn/telegram"  # what both processes register; the fake delivers to each
HEADER = re.compile(r"· Câu (\d+) · \d+/\d+")
RUBRIC = bundled()["qn2018-xa"]
WALK = [  # (question id, what the contact types or presses, what is stored)
    ("dau_moi", "Trần Văn C", "Trần Văn C"),
    ("cbcc_tong", "120", 120),
    ("may_tinh_tong", "80", 80),
    ("so_tthc", "15", 15),
    ("hs_tong", "1.234", 1234),
    ("cbcc_may_tinh", "100", 100),
    ("may_tinh_diet_virus", "70", 70),
    ("co_lan", "[Có]", True),
]
FAN_OUT = 120  # contacts to remind: one process alone needs over 4 s at 27 messages a second


@pytest.fixture
def postgresql_url(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("several bot processes share one PostgreSQL database")
    return database_url


@pytest.fixture
def two_processes(postgresql_url, db, tmp_path):
    with FakeTelegram() as fake:
        ports = [free_port(), free_port()]
        fake.set_webhook_targets([f"http://127.0.0.1:{port}/telegram" for port in ports])
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "CQDT_TELEGRAM_API_URL": fake.api_url,
            "CQDT_DATABASE_URL": postgresql_url,
            "CQDT_WEBHOOK_SECRET": SECRET,
        }
        log = tmp_path / "serve.log"
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", LAUNCH, "serve", "--port", str(port), "--webhook-url", PUBLIC_URL],
                env=env,
                stdout=log.open("a"),
                stderr=subprocess.STDOUT,
            )
            for port in ports
        ]
        try:
            fake.wait_for_calls("setWebhook", count=2, timeout=60)  # both listen and run their schedulers
            yield fake, ports, processes
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    assert process.wait(timeout=30) == 0, log.read_text()[-3000:]
                finally:
                    if process.poll() is None:
                        process.kill()
        assert fake.token not in log.read_text()


def question_number(message) -> int | None:
    found = HEADER.search(message.text or "")
    return int(found.group(1)) if found else None


def stored_answers(db) -> dict:
    with db.session() as session:
        agency = session.scalar(select(Agency).where(Agency.code == "06652"))
        return answer_store.load_agency_answers(session, RUBRIC, agency.id)


def add_contacts(db, fake, campaign, count: int, first_user: int = 5000) -> list[int]:
    """Contacts of agency 06655, known to the fake as Telegram users."""
    users = [fake.user(user_id).id for user_id in range(first_user, first_user + count)]
    with db.session() as session:
        agency = session.scalar(select(Agency).where(Agency.code == "06655"))
        for user_id in users:
            session.add(
                Contact(
                    campaign_id=campaign.id,
                    agency_id=agency.id,
                    telegram_user_id=user_id,
                    full_name=f"Đầu mối {user_id}",
                    language_code="vi",
                )
            )
    return users


def is_reminder(call) -> bool:
    return "Nhắc hạn nộp" in call.params.get("text", "")


def test_a_walk_and_the_reminders_across_two_processes(two_processes, db):
    fake, ports, processes = two_processes
    campaign = campaign_due_now(db, datetime.now(UTC))  # one reminder per contact, due now

    # A contact walks the questions; each answer goes to the other process than the one before.
    walker = fake.user(700, "Trần Văn C")
    start = walker.send_command(f"/start {campaign.tokens['06652']}")
    prompt = walker.wait_for_reply(after_update=start, match=question_number, timeout=30)
    assert question_number(prompt) == 1
    updates = []
    for number, (question_id, reply, stored) in enumerate(WALK, start=1):
        assert RUBRIC.steps[question_number(prompt) - 1].question.id == question_id
        if reply.startswith("["):
            update = walker.press(reply.strip("[]"), message_id=prompt.message_id)
        else:
            update = walker.send_text(reply)
        updates.append(update)
        prompt = walker.wait_for_reply(
            after_update=update, match=lambda m, n=number: question_number(m) == n + 1, timeout=30
        )
        assert stored_answers(db)[question_id] == stored
    assert question_number(prompt) == len(WALK) + 1
    delivered_to = {d.update_id: d.url for d in fake.webhook_deliveries() if d.ok}
    urls = [delivered_to[update.update_id] for update in updates]
    assert all(a != b for a, b in zip(urls, urls[1:], strict=False)) and len(set(urls)) == 2

    # Many contacts are due a reminder; both schedulers claim from the same outbox.
    users = add_contacts(db, fake, campaign, FAN_OUT)
    for user_id in users:
        assert fake.wait_for_calls("sendMessage", chat_id=user_id, timeout=60)[0].ok
    walker.wait_for_reply(after_update=start, match="Nhắc hạn nộp", timeout=30)

    # Each process is healthy: its scheduler stirred within the last three intervals (or is sending).
    for port in ports:
        status, body = get_json(f"http://127.0.0.1:{port}/health")
        assert status == 200 and body["status"] == "ok", body
        assert body["scheduler"]["interval_seconds"] == 1 and body["scheduler"]["last_tick"] is not None

    for process in processes:  # a graceful stop lets a tick in progress finish; nothing is left sending
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    reminders = Counter(call.chat_id for call in fake.calls("sendMessage") if is_reminder(call))
    assert reminders == Counter({user_id: 1 for user_id in [*users, walker.id]})
    assert all(len(fake.calls("sendMessage", chat_id=user_id)) == 1 for user_id in users)
    with db.session() as session:
        rows = session.execute(
            select(Notification.status, Notification.claimed_by).where(Notification.kind == "reminder")
        ).all()
    assert len(rows) == FAN_OUT + 1 and {status for status, _ in rows} == {"sent"}
    host = socket.gethostname()
    assert {worker for _, worker in rows} == {f"{host}:{process.pid}" for process in processes}
