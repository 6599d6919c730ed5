"""The webhook's door: a request is checked before the application sees it (body size, nesting depth,
``update_id`` an integer, exactly one known kind of update), a bad one is a 400, and a flood of bad ones
writes one log line per interval with the count of the ones it left out (the clock is injected)."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from types import SimpleNamespace

import aiohttp
import pytest
from aiohttp import web

from bot.webhook_server import MAX_UPDATE_BYTES, SECRET_HEADER, FailureLog, webhook_app

SECRET = "s3cret-webhook-token"
MESSAGE = {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "hi"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def post_all(bodies: list[bytes], failures: FailureLog | None = None) -> tuple[list[int], list]:
    """POST each body to a webhook app in this process; the statuses and the updates it queued."""

    async def run():
        application = SimpleNamespace(update_queue=asyncio.Queue(), bot=None)
        kwargs = {"failures": failures} if failures is not None else {}
        app = webhook_app(application, None, url_path="telegram", secret=SECRET, **kwargs)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        statuses = []
        try:
            async with aiohttp.ClientSession() as session:
                for body in bodies:
                    headers = {"Content-Type": "application/json", SECRET_HEADER: SECRET}
                    async with session.post(f"http://127.0.0.1:{port}/telegram", data=body, headers=headers) as r:
                        statuses.append(r.status)
        finally:
            await runner.cleanup()
        queued = []
        while not application.update_queue.empty():
            queued.append(application.update_queue.get_nowait())
        return statuses, queued

    return asyncio.run(run())


def test_a_good_update_is_queued():
    statuses, queued = post_all([json.dumps({"update_id": 7, "message": MESSAGE}).encode()])
    assert statuses == [200] and [u.update_id for u in queued] == [7]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="100000-deep list"),
        pytest.param(b'{"a":' * 100_000 + b"1" + b"}" * 100_000, id="100000-deep object"),
        pytest.param(
            json.dumps({"update_id": 1, "message": {**MESSAGE, "x": json.loads("[" * 200 + "]" * 200)}}).encode(),
            id="200-deep inside a message",
        ),
        pytest.param(b'{"update_id": "x"}', id="update_id a string"),
        pytest.param(b'{"update_id": true, "message": {}}', id="update_id a boolean"),
        pytest.param(json.dumps({"update_id": "x", "message": MESSAGE}).encode(), id="update_id a string, message"),
        pytest.param(b'{"update_id": 1}', id="no kind of update"),
        pytest.param(b'{"update_id": 1, "nonsense": {}}', id="an unknown kind"),
        pytest.param(
            json.dumps({"update_id": 1, "message": MESSAGE, "edited_message": MESSAGE}).encode(), id="two kinds"
        ),
        pytest.param(b'{"update_id": 1, "message": "hi"}', id="the kind not an object"),
        pytest.param(b'{"update_id": 1, "message": {"chat": 5}}', id="a message Telegram never sends"),
        pytest.param(b"\xff\xfe not utf-8", id="not UTF-8"),
        pytest.param(b"not json", id="not JSON"),
        pytest.param(b"[1, 2]", id="not an object"),
    ],
)
def test_a_malformed_update_is_a_bad_request_and_never_queued(body):
    statuses, queued = post_all([body])
    assert statuses == [400] and queued == []


def test_a_body_over_the_limit_is_refused_before_it_is_parsed():
    text = "a" * (MAX_UPDATE_BYTES + 1)
    statuses, queued = post_all([json.dumps({"update_id": 1, "message": {**MESSAGE, "text": text}}).encode()])
    assert statuses == [400] and queued == []


def test_a_flood_of_bad_updates_writes_one_line_per_interval(caplog):
    clock = Clock()
    failures = FailureLog(interval=60.0, clock=clock)
    caplog.set_level(logging.INFO, logger="bot.webhook_server")

    bodies = [b'{"update_id": "x"}'] * 50
    statuses, _ = post_all(bodies, failures)
    assert statuses == [400] * 50
    lines = [r for r in caplog.records if r.name == "bot.webhook_server"]
    assert len(lines) == 1  # the first failure of the interval; the other 49 are counted
    assert lines[0].exc_info is None and "\n" not in lines[0].getMessage()
    assert "update_id" in lines[0].getMessage()
    clock.now += 61
    post_all([b"[" * 100_000 + b"]" * 100_000], failures)
    lines = [r for r in caplog.records if r.name == "bot.webhook_server"]
    assert len(lines) == 2
    assert "49 more" in lines[1].getMessage() and "deep" in lines[1].getMessage()
    assert all(len(r.getMessage()) < 300 for r in lines)


def test_failing_updates_write_one_traceback_per_interval(caplog):
    from bot.handlers import Handlers

    clock = Clock()
    handlers = Handlers(None, None, "Asia/Ho_Chi_Minh", failures=FailureLog(interval=60.0, clock=clock))
    caplog.set_level(logging.INFO, logger="bot.handlers")

    def fail(n: int):
        context = SimpleNamespace(error=RuntimeError(f"boom {n}"), bot=None)
        asyncio.run(handlers.error(None, context))

    for n in range(20):
        fail(n)
    clock.now += 60
    fail(20)
    lines = [r for r in caplog.records if r.name == "bot.handlers"]
    assert [r.exc_info[1].args[0] for r in lines] == ["boom 0", "boom 20"]
    assert lines[1].getMessage() == "update failed (19 more since the last line)"
