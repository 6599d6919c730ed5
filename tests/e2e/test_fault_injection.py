"""Fault injection: the real bot killed with SIGKILL at random points while contacts answer.

``cqdt run`` runs as a subprocess against the fake Bot API. Three contacts of three agencies (two
wards and a city) answer their first questions at once, by typing and by pressing buttons, each
with one planned value per question. At seeded points (five per database) the bot is killed with
``kill -9``: right after a contact's update was queued, once the bot has fetched it, or once it has
replied; it is started again and each contact carries on where the bot says it is (/tieptuc). At
the end, every answer the bot acknowledged ("✓ Câu N: …" in a message the fake recorded) is one
the contact sent for that question, and it is stored with the value sent.

An update Telegram hands out again after a kill (its offset was not confirmed yet) must not be
applied a second time: the dialogue records each update it applied in the same transaction
(storage/updates.py). test_an_update_delivered_twice_is_applied_once shows it without a kill.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import urllib.request
from datetime import UTC, datetime

from dialogue_helpers import make_campaign
from sqlalchemy import select
from test_bot_e2e import start_bot
from test_webhook import CQDT, bot_env, free_port, stop

from bot.demo.contacts import typed
from bot.demo.fake_telegram import FakeTelegram
from rubrics.answers import NA
from rubrics.bundled import bundled
from rubrics.sample_answers import sample_answers
from storage import answers as answer_store
from storage.db import Database, upgrade
from storage.models import Agency

HEADER = re.compile(r"· Câu (\d+) · (?:trả lại )?(\d+)/(\d+)")
ACK = re.compile(r"✓ Câu (\d+): (.*)")
QUESTIONS = 12  # each contact answers the questions numbered up to this (all typed, yes/no or single choice)
KILLS = 5
SEED = int(os.environ.get("CQDT_FAULT_SEED", "15"))  # another seed explores other points
TIMEOUT = 30
AGENCIES = {"06652": "qn2018-xa", "06655": "qn2018-xa", "193": "qn2018-huyen"}
STALE = ("Nút này thuộc tin nhắn cũ", "không hợp lệ")


class Contact:
    """One contact walking its agency's first questions with a fixed plan of values."""

    def __init__(self, fake: FakeTelegram, user_id: int, code: str, token: str, seed: int):
        self.user = fake.user(user_id, f"Đầu mối {code}")
        self.fake = fake
        self.code = code
        self.token = token
        self.rubric = bundled()[AGENCIES[code]]
        self.plan = sample_answers(self.rubric, random.Random(seed), na_rate=0.2)
        self.prompt = None  # the question message to answer next (None: ask the bot with /tieptuc)
        self.sent: set[str] = set()  # questions this contact sent an answer to
        self.done = False

    def step(self, message):
        return self.rubric.steps[int(HEADER.search(message.text).group(1)) - 1]

    def answer(self):
        """Send the planned answer to the question shown; returns the update."""
        question = self.step(self.prompt).question
        value = self.plan.get(question.id, None if not question.required else "Nội dung")
        labels = {o.value: o.label for o in getattr(question, "options", [])}
        self.sent.add(question.id)
        self.answering = self.step(self.prompt).number
        at = self.prompt.message_id
        if value is NA:
            return self.user.press("Không áp dụng", message_id=at)
        if value is None:
            return self.user.press("Bỏ qua", message_id=at)
        if question.type == "yes_no":
            return self.user.press("Có" if value else "Không", message_id=at)
        if question.type == "single_choice":
            return self.user.press(labels[value], message_id=at)
        assert question.type not in ("multi_choice", "file"), question.id
        return self.user.send_text(typed(question, value))

    def settle(self, update) -> None:
        """Wait for the bot's answer to ``update``: the next question, or a stale-button notice (then the next
        round asks where the walk stands). A message that shows the question just answered again, without
        acknowledging it, answers an earlier update (a /tieptuc after a restart), not this one."""
        query = update.callback_query_id

        def moved_on(message) -> bool:
            shown = HEADER.search(message.text or "")
            return (
                f"✓ Câu {self.answering}:" in message.text
                or shown is None
                or self.step(message).number != self.answering
            )

        def found():
            for call in self.fake.calls(chat_id=self.user.id):
                if call.seq > update.seq and call.ok and call.message and self.is_next(call.message):
                    if moved_on(call.message):
                        return call.message
            if query is not None:
                for answered in self.user.answered_callbacks():
                    if answered.callback_query_id == query and any(s in (answered.text or "") for s in STALE):
                        return "stale"
            return None

        result = self.fake.wait(found, TIMEOUT, lambda: f"the bot's answer to {self.code}'s update {update}")
        self.take(None if result == "stale" else result)

    @staticmethod
    def is_next(message) -> bool:
        return bool(HEADER.search(message.text or "")) or "đã trả lời" in (message.text or "")

    def take(self, message) -> None:
        self.prompt = message
        if message is not None and (not HEADER.search(message.text) or self.step(message).number > QUESTIONS):
            self.done = True

    def resync(self) -> None:
        """/tieptuc, and the question the bot then shows (a button of an older message is answered as stale
        and the walk asks again)."""
        update = self.user.send_command("/tieptuc")
        self.take(self.user.wait_for_reply(after_update=update, match=self.is_next, timeout=TIMEOUT))


def acknowledged(fake: FakeTelegram, contact: Contact) -> dict[int, list[str]]:
    """Question number → the acknowledgement lines of every message the bot sent or edited to the contact."""
    found: dict[int, list[str]] = {}
    for call in fake.calls(chat_id=contact.user.id):
        if call.ok and call.message and call.message.text:
            for number, shown in ACK.findall(call.message.text):
                found.setdefault(int(number), []).append(shown)
    return found


def refetched(fake: FakeTelegram, contact: Contact) -> list[tuple[int, str | None, int]]:
    """(update id, text or button data, times) of the contact's updates getUpdates handed out more than once."""
    times: dict[int, int] = {}
    what: dict[int, str | None] = {}
    for call in fake.calls("getUpdates"):
        for update in call.result or [] if call.ok else []:
            body = update.get("message") or update.get("callback_query") or {}
            if body.get("from", {}).get("id") == contact.user.id:
                times[update["update_id"]] = times.get(update["update_id"], 0) + 1
                what[update["update_id"]] = body.get("text") or body.get("data")
    return [(u, what[u], n) for u, n in sorted(times.items()) if n > 1]


def test_answers_acknowledged_between_kill_9s_are_all_stored(database_url, tmp_path):
    db = Database(database_url, ensure=False)
    upgrade(db.engine)
    campaign = make_campaign(db, datetime.now(UTC))  # the bot process runs on the real clock
    rng = random.Random(SEED)
    log = tmp_path / "bot.log"
    with FakeTelegram() as fake:
        contacts = [Contact(fake, 800 + n, code, campaign.tokens[code], SEED + n) for n, code in enumerate(AGENCIES)]
        kills = {
            r: (rng.randrange(len(contacts)), rng.choice(["queued", "fetched", "replied"]))
            for r in rng.sample(range(QUESTIONS - 1), KILLS)
        }
        process = start_bot(database_url, fake, log)
        killed = 0
        try:
            for contact in contacts:
                update = contact.user.send_command(f"/start {contact.token}")
                contact.take(contact.user.wait_for_reply(after_update=update, match=contact.is_next, timeout=60))
            for round_number in range(QUESTIONS * 3):
                active = [c for c in contacts if not c.done]
                if not active:
                    break
                for contact in active:
                    if contact.prompt is None:
                        contact.resync()
                victim, moment = kills.get(round_number, (None, None))
                sent = []
                for index, contact in enumerate(c for c in active if not c.done):
                    update = contact.answer()
                    sent.append((contact, update))
                    if index == (victim or 0) % len(active) and moment is not None:
                        if moment == "fetched":
                            fake.wait_until_consumed(update, timeout=TIMEOUT)
                        elif moment == "replied":
                            contact.settle(update)
                        break
                if moment is None:
                    for contact, update in sent:
                        contact.settle(update)
                    continue
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
                killed += 1
                process = start_bot(database_url, fake, log)
                for contact in contacts:
                    contact.prompt = None
            assert killed == KILLS
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        checked = 0
        with db.session() as session:
            for contact in contacts:
                agency = session.scalar(
                    select(Agency).where(Agency.campaign_id == campaign.id, Agency.code == contact.code)
                )
                stored = answer_store.load_agency_answers(session, contact.rubric, agency.id)
                for number, shown in acknowledged(fake, contact).items():
                    question = contact.rubric.steps[number - 1].question
                    assert question.id in contact.sent, (
                        f"{contact.code}: the bot acknowledged «{shown}» for question {number}, never answered; "
                        f"updates of this contact fetched more than once: {refetched(fake, contact)}"
                    )
                    expected = contact.plan.get(question.id, None if not question.required else "Nội dung")
                    assert stored.get(question.id) == expected, (contact.code, question.id, shown, stored)
                    checked += 1
    db.dispose()
    assert all(c.done for c in contacts), [
        (c.code, c.done, c.prompt and HEADER.findall(c.prompt.text)) for c in contacts
    ]
    print(f"seed {SEED}: {killed} kills at {sorted(kills.items())}; {checked} acknowledged answers checked")
    assert checked >= len(contacts) * (QUESTIONS - 2)
    assert fake.token not in log.read_text()


def test_an_update_delivered_twice_is_applied_once(database_url, tmp_path):
    """Telegram delivers an update again when it did not get the answer to the first delivery (the process
    died after committing, or the network dropped the reply): the second delivery must change nothing."""
    db = Database(database_url, ensure=False)
    upgrade(db.engine)
    campaign = make_campaign(db, datetime.now(UTC))
    secret = "redelivery-secret"
    with FakeTelegram() as fake:
        port = free_port()
        url = f"http://127.0.0.1:{port}/telegram"
        fake.set_webhook_targets([url])
        log = tmp_path / "serve.log"
        process = subprocess.Popen(
            [CQDT, "serve", "--port", str(port), "--webhook-url", url],
            env=bot_env(fake, database_url, CQDT_WEBHOOK_SECRET=secret),
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        try:
            fake.wait_for_calls("setWebhook", timeout=60)
            user = fake.user(850, "Thu Hà")
            user.send_command(f"/start {campaign.tokens['06652']}")
            user.wait_for_reply(match="· Câu 1 · ", timeout=TIMEOUT)
            user.wait_for_reply(after_update=user.send_text("Trần Văn C"), match="· Câu 2 · ", timeout=TIMEOUT)
            twice = user.send_text("120")  # question 2, the number of officials
            user.wait_for_reply(after_update=twice, match="· Câu 3 · ", timeout=TIMEOUT)
            request = urllib.request.Request(
                url,
                data=json.dumps(twice.data).encode(),
                headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
            )
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # the same update_id again
                assert response.status == 200
            after = user.send_command("/trangthai")  # one user's updates run in order: the repeat is done by now
            user.wait_for_reply(after_update=after, match="Trạng thái", timeout=TIMEOUT)
        finally:
            stop(process)
        with db.session() as session:
            agency = session.scalar(select(Agency).where(Agency.campaign_id == campaign.id, Agency.code == "06652"))
            stored = answer_store.load_agency_answers(session, bundled()["qn2018-xa"], agency.id)
    db.dispose()
    shown = [
        line for c in fake.calls(chat_id=user.id) if c.ok and c.message for line in ACK.findall(c.message.text or "")
    ]
    assert stored == {"dau_moi": "Trần Văn C", "cbcc_tong": 120}, stored
    assert [number for number, _ in shown] == ["1", "2"], shown
