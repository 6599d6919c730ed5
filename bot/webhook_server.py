"""The bot's web server (aiohttp): Telegram's webhook and ``GET /health`` on one port.

``POST /<path>`` accepts an update only with the secret token set on the webhook
(header ``X-Telegram-Bot-Api-Secret-Token``; anything else gets 403), checks its shape
(at most :data:`MAX_UPDATE_BYTES`, nested at most :data:`MAX_DEPTH` deep, ``update_id`` an
integer, exactly one known kind of update, an object) and queues it for the application;
anything else is a 400, logged in one line, at most one line a minute with the count of the
ones left out. ``cqdt run --health-port`` serves ``/health`` alone
next to long polling.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.health import Health
from bot.log_throttle import FailureLog

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/health"
SHUTDOWN_TIMEOUT = 10.0
MAX_UPDATE_BYTES = 1 << 20  # 1 MiB: a message of 4 096 characters with every entity is far below it
MAX_DEPTH = 32  # objects and lists within each other; Telegram's deepest update is about 10
UPDATE_KINDS = frozenset(str(kind) for kind in Update.ALL_TYPES)

__all__ = ["MAX_DEPTH", "MAX_UPDATE_BYTES", "SECRET_HEADER", "FailureLog", "webhook_app", "serve"]


class BadUpdate(ValueError):
    """A request that is not an update Telegram would send; its message is the one log line's reason."""


def _depth_within(data: object, limit: int) -> bool:
    """Whether no object or list in ``data`` is nested deeper than ``limit`` (iterative: no recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return True


def parse_update(body: bytes) -> dict:
    """The update's JSON object, or :class:`BadUpdate` saying what is wrong with it."""
    if len(body) > MAX_UPDATE_BYTES:
        raise BadUpdate(f"body of {len(body)} bytes, over {MAX_UPDATE_BYTES}")
    try:
        data = json.loads(body)
    except RecursionError:
        raise BadUpdate(f"JSON nested too deep (over {MAX_DEPTH})") from None
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError alike
        raise BadUpdate(f"not JSON: {str(exc)[:80]}") from None
    if not isinstance(data, dict):
        raise BadUpdate(f"JSON {type(data).__name__}, not an object")
    if not _depth_within(data, MAX_DEPTH):
        raise BadUpdate(f"JSON nested too deep (over {MAX_DEPTH})")
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise BadUpdate(f"update_id {type(update_id).__name__}, not an integer")
    kinds = sorted(set(data) - {"update_id"})
    if len(kinds) != 1 or kinds[0] not in UPDATE_KINDS:
        raise BadUpdate(f"update {update_id}: kinds {','.join(kinds)[:80] or 'none'}, not one known kind")
    if not isinstance(data[kinds[0]], dict):
        raise BadUpdate(f"update {update_id}: {kinds[0]} not an object")
    return data


def health_routes(web_app: web.Application, health: Health) -> None:
    async def report(_request: web.Request) -> web.Response:
        status, body = await health.report()
        return web.json_response(body, status=status, dumps=lambda data: json.dumps(data, ensure_ascii=False))

    web_app.router.add_get(HEALTH_PATH, report)


def webhook_app(
    application: Application,
    health: Health,
    *,
    url_path: str,
    secret: str,
    failures: FailureLog | None = None,
) -> web.Application:
    failures = failures or FailureLog()
    failures.logger = failures.logger or log

    async def receive(request: web.Request) -> web.Response:
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, "").encode(), secret.encode()):
            return web.Response(status=403)
        try:
            if (request.content_length or 0) > MAX_UPDATE_BYTES:
                raise BadUpdate(f"body of {request.content_length} bytes, over {MAX_UPDATE_BYTES}")
            try:
                body = await request.read()
            except web.HTTPRequestEntityTooLarge:
                raise BadUpdate(f"body over {MAX_UPDATE_BYTES} bytes") from None
            data = parse_update(body)
            try:
                update = Update.de_json(data, application.bot)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                raise BadUpdate(f"update {data['update_id']}: {type(exc).__name__}: {str(exc)[:80]}") from None
        except BadUpdate as bad:
            failures.warning("webhook: refused a bad update: %s", str(bad).replace("\n", " "))
            return web.Response(status=400)
        await application.update_queue.put(update)
        return web.Response()

    web_app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    web_app.router.add_post(f"/{url_path.strip('/')}", receive)
    health_routes(web_app, health)
    return web_app


class ListenFailed(RuntimeError):
    """The server could not listen on its address (in use, not ours, or not allowed)."""

    def __init__(self, listen: str, port: int, reason: str):
        super().__init__(f"{listen}:{port}: {reason}")
        self.listen, self.port, self.reason = listen, port, reason


async def _start_site(runner: web.AppRunner, listen: str, port: int) -> None:
    await runner.setup()
    try:
        await web.TCPSite(runner, listen, port).start()
    except OSError as exc:
        raise ListenFailed(listen, port, exc.strerror or str(exc)) from exc


async def serve(
    application: Application,
    health: Health,
    *,
    listen: str,
    port: int,
    url_path: str,
    webhook_url: str,
    secret: str,
    allowed_updates: list[str],
) -> None:
    """Run until SIGTERM or SIGINT: start the application, listen, set the webhook; then stop in reverse."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(
        webhook_app(application, health, url_path=url_path, secret=secret),
        access_log=None,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
    )
    async with application:  # initialize … shutdown
        if application.post_init:
            await application.post_init(application)
        await application.start()
        try:
            await _start_site(runner, listen, port)
            await application.bot.set_webhook(webhook_url, secret_token=secret, allowed_updates=allowed_updates)
            log.info("webhook set; listening on %s:%s", listen, port)
            await stop.wait()
            log.info("stopping: finishing the updates already received")
        finally:
            await runner.cleanup()
            await application.stop()


def attach_health_server(application: Application, health: Health, listen: str, port: int) -> None:
    """Serve ``/health`` while ``application.run_polling`` runs: up after ``post_init``, down at shutdown."""
    web_app = web.Application()
    health_routes(web_app, health)
    runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
    post_init, post_shutdown = application.post_init, application.post_shutdown

    async def start(app: Application) -> None:
        if post_init:
            await post_init(app)
        await _start_site(runner, listen, port)
        log.info("health on %s:%s%s", listen, port, HEALTH_PATH)

    async def stop(app: Application) -> None:
        await runner.cleanup()
        if post_shutdown:
            await post_shutdown(app)

    application.post_init = start
    application.post_shutdown = stop
