"""The bot's web server (aiohttp): Telegram's webhook and ``GET /health`` on one port.

``POST /<path>`` accepts an update only with the secret token set on the webhook
(header ``X-Telegram-Bot-Api-Secret-Token``; anything else gets 403), decodes it and
queues it for the application. ``cqdt run --health-port`` serves ``/health`` alone
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

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/health"
SHUTDOWN_TIMEOUT = 10.0


def health_routes(web_app: web.Application, health: Health) -> None:
    async def report(_request: web.Request) -> web.Response:
        status, body = await health.report()
        return web.json_response(body, status=status, dumps=lambda data: json.dumps(data, ensure_ascii=False))

    web_app.router.add_get(HEALTH_PATH, report)


def webhook_app(application: Application, health: Health, *, url_path: str, secret: str) -> web.Application:
    async def receive(request: web.Request) -> web.Response:
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, "").encode(), secret.encode()):
            return web.Response(status=403)
        try:
            data = await request.json()
            update = Update.de_json(data, application.bot) if isinstance(data, dict) else None
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("webhook: undecodable update: %s", exc)
            update = None
        if update is None:
            return web.Response(status=400)
        await application.update_queue.put(update)
        return web.Response()

    web_app = web.Application()
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
