"""``cqdt serve``: the bot on a webhook, refusing requests without Telegram's secret token."""

from __future__ import annotations

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
from bot.demo.fake_bot_api import FakeTelegram

SECRET = "s3cret-webhook-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(db, database_url, tmp_path):
    campaign = make_campaign(db, datetime.now(UTC))
    with FakeTelegram() as fake:
        port = free_port()
        url = f"http://127.0.0.1:{port}/telegram"
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "CQDT_TELEGRAM_API_URL": fake.api_url,
            "CQDT_DATABASE_URL": database_url,
            "CQDT_WEBHOOK_SECRET": SECRET,
        }
        log = tmp_path / "serve.log"
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "cqdt"), "serve", "--port", str(port), "--webhook-url", url],
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
            process.send_signal(signal.SIGTERM)
            try:
                assert process.wait(timeout=20) == 0  # a graceful stop on SIGTERM
            finally:
                if process.poll() is None:
                    process.kill()
        assert fake.token not in log.read_text()


def test_updates_arrive_by_webhook_with_the_secret(served):
    fake, campaign, url = served
    info = fake.webhook_info()
    assert info["url"] == url
    user = fake.user(31)
    user.send_command(f"/start {campaign.tokens['06652']}")
    assert "Câu 1/43" in user.wait_for_reply(match="· Câu", timeout=20).text
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
