"""``cqdt serve``: the bot on a webhook, refusing requests without Telegram's secret token, and ``/health``."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dialogue_helpers import make_campaign
from sqlalchemy import text

from bot import health as health_module
from bot.app import build_application
from bot.demo.fake_telegram import FakeTelegram
from bot.health import Health, heartbeat
from common.settings import Settings
from storage.db import Database, head_revision

SECRET = "s3cret-webhook-token"
CQDT = str(Path(sys.executable).parent / "cqdt")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def bot_env(fake: FakeTelegram, database_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "CQDT_TELEGRAM_API_URL": fake.api_url,
        "CQDT_DATABASE_URL": database_url,
        **extra,
    }


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        assert process.wait(timeout=20) == 0  # a graceful stop on SIGTERM
    finally:
        if process.poll() is None:
            process.kill()


@pytest.fixture
def served(db, database_url, tmp_path):
    """``cqdt serve`` with JSON logs (``CQDT_LOG_FORMAT``); every line it writes must be a JSON object."""
    campaign = make_campaign(db, datetime.now(UTC))
    with FakeTelegram() as fake:
        port = free_port()
        url = f"http://127.0.0.1:{port}/telegram"
        env = bot_env(fake, database_url, CQDT_WEBHOOK_SECRET=SECRET, CQDT_LOG_FORMAT="json")
        log = tmp_path / "serve.log"
        process = subprocess.Popen(
            [CQDT, "serve", "--port", str(port), "--webhook-url", url],
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        try:
            fake.wait_for_calls("setWebhook", timeout=30)
            ready = fake.user(30)
            ready.wait_for_reply(after_update=ready.send_command("/start"), timeout=30)  # the server is listening
            yield fake, campaign, url
        finally:
            stop(process)
        output = log.read_text()
        assert fake.token not in output
        entries = [json.loads(line) for line in output.splitlines()]
        assert {"time", "level", "logger", "message"} <= entries[0].keys()
        assert any(e["message"].startswith("cqdt bot starting (webhook") for e in entries)


def test_updates_arrive_by_webhook_with_the_secret(served):
    fake, campaign, url = served
    info = fake.webhook_info()
    assert info["url"] == url
    user = fake.user(31)
    user.send_command(f"/start {campaign.tokens['06652']}")
    assert "Câu 1 · 1/31" in user.wait_for_reply(match="· Câu", timeout=20).text
    deliveries = fake.webhook_deliveries()
    assert all(d.secret_token == SECRET for d in deliveries) and any(d.ok for d in deliveries)


@pytest.mark.parametrize("headers", [{}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}])
def test_requests_without_the_right_secret_are_refused(served, headers):
    fake, campaign, url = served
    body = (
        b'{"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "hi"}}'
    )
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **headers})
    sent = len(fake.calls("sendMessage"))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
    assert len(fake.calls("sendMessage")) == sent


def test_an_undecodable_update_with_the_secret_is_a_bad_request(served):
    fake, campaign, url = served
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    deep = b"[" * 100_000 + b"]" * 100_000  # was a 500 (RecursionError)
    for body in (b"not json", b"[1, 2]", deep, b'{"update_id": "x"}', b'{"update_id": 1}'):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=10)
        assert refused.value.code == 400


def test_health_reports_the_database_and_the_scheduler(served, db):
    fake, campaign, url = served
    status, body = get_json(url.removesuffix("/telegram") + "/health")
    assert status == 200 and body["status"] == "ok" and body["problems"] == []
    head = head_revision(db.engine)
    assert body["database"] == {"reachable": True, "schema_revision": head, "schema_head": head}
    assert body["scheduler"]["interval_seconds"] == 30 and not body["scheduler"]["ticking"]
    assert datetime.fromisoformat(body["time"]).utcoffset().total_seconds() == 0


def test_run_serves_health_next_to_long_polling(db, database_url, tmp_path):
    with FakeTelegram() as fake:
        port = free_port()
        log = tmp_path / "run.log"
        process = subprocess.Popen(
            [CQDT, "run", "--health-port", str(port)],
            env=bot_env(fake, database_url),
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        try:
            fake.wait_for_long_poll(timeout=30)  # post_init, where /health starts, has run
            status, body = get_json(f"http://127.0.0.1:{port}/health")
            assert status == 200 and body["database"]["reachable"] and body["scheduler"]["interval_seconds"] == 30
        finally:
            stop(process)
        assert fake.token not in log.read_text()


def test_a_port_in_use_is_one_clear_error(db, database_url):
    with FakeTelegram() as fake, socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [CQDT, "serve", "--port", str(port), "--webhook-url", "https://cqdt.example/telegram", "--secret", SECRET],
            env=bot_env(fake, database_url),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1  # an operational failure; 2 is for a command used wrongly
    assert f"Lỗi: Không lắng nghe được tại 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


# --- the health report in-process ---------------------------------------------------------


@pytest.fixture
def application(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'health.db'}")
    settings = Settings(token="123456:TEST-TOKEN", telegram_api_url="http://127.0.0.1:9/bot")
    yield build_application(settings, database), database
    database.dispose()


def report(health: Health) -> tuple[int, dict]:
    return asyncio.run(health.report())


def test_an_unreachable_database_is_503():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens here
    unreachable = Database(f"postgresql+psycopg://cqdt@127.0.0.1:{port}/cqdt", ensure=False)
    database = Database("sqlite://")
    application = build_application(Settings(token="123456:TEST-TOKEN"), database)
    status, body = report(Health(application, unreachable))
    assert status == 503 and body["status"] == "failing"
    assert body["database"]["reachable"] is False and body["problems"][0].startswith("database unreachable")


def test_a_database_that_does_not_answer_is_503_after_a_short_timeout(application, monkeypatch):
    monkeypatch.setattr(health_module, "DB_TIMEOUT", 0.2)
    app, _ = application
    with socket.socket() as silent:  # accepts connections and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent_db = Database(f"postgresql+psycopg://cqdt@127.0.0.1:{silent.getsockname()[1]}/cqdt", ensure=False)
        health = Health(app, silent_db)

        async def twice():
            first = await health.report()
            second = await health.report()  # the first probe still hangs; no second one is started
            silent.close()  # let the hanging probe fail, so the loop's threads can finish
            return first, second

        for status, body in asyncio.run(twice()):
            assert status == 503 and body["database"] == {"reachable": False, "error": "no answer within 0.2 s"}


def test_a_scheduler_that_stopped_ticking_is_503(application):
    app, database = application
    health = Health(app, database)
    assert report(health)[0] == 200  # the start-up allowance
    health.heartbeat.last_seen -= 3 * 30 + 1
    status, body = report(health)
    assert status == 503 and body["problems"] == ["no reminder tick for 91 s"]
    with heartbeat(app).ticking():
        health.heartbeat.last_seen -= 3 * 30 + 1
        assert report(health)[0] == 200  # a long fan-out is not a stopped scheduler
    health.heartbeat.last_tick_at -= 100
    status, body = report(health)  # it started long ago but ended just now; the next run comes soon
    assert status == 200 and body["scheduler"]["last_tick_age_seconds"] >= 100
    health.heartbeat.last_seen -= 3 * 30 + 1
    assert report(health)[0] == 503
    with heartbeat(app).ticking():
        pass
    status, body = report(health)
    assert status == 200 and body["scheduler"]["last_tick_age_seconds"] < 5
    assert (datetime.now(UTC) - datetime.fromisoformat(body["scheduler"]["last_tick"])).total_seconds() < 5


def test_a_schema_behind_the_code_is_degraded(application):
    app, database = application
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0003'"))
    status, body = report(Health(app, database))
    assert status == 200 and body["status"] == "degraded"
    assert body["problems"] == [f"schema at 0003, the code expects {head_revision(database.engine)}"]
