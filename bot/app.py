"""The Telegram application: which handler serves which update, the command menu, polling and webhooks."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackContext,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.handlers import COORDINATOR_COMMANDS, Handlers, PerUserUpdateProcessor
from bot.health import heartbeat
from bot.labels import by_language
from bot.mail.wiring import channel_of, mail_sender
from bot.reminders.sender import IMMEDIATE_KINDS, TICK_SECONDS, Sender, sender_bot
from bot.rendering import command_menu
from common.settings import Settings
from conversations.contact_dialogue import COMMANDS, ContactDialogue
from conversations.coordinator_dialogue import CoordinatorDialogue
from conversations.reminders.outbox import Outbox
from storage.db import Database

SENDER = "cqdt.sender"  # the outbox's sender, in the application's bot_data


def file_url(api_url: str) -> str:
    """The Bot API's file base for a given API base: …/bot → …/file/bot."""
    base = api_url.rstrip("/")
    return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file/bot"


def utc_now() -> datetime:
    return datetime.now(UTC)


async def set_commands(application: Application) -> None:
    await application.bot.set_my_commands([BotCommand(n, d) for n, d in command_menu("vi")])
    await application.bot.set_my_commands([BotCommand(n, d) for n, d in command_menu("en")], language_code="en")


def build_application(
    settings: Settings,
    db: Database,
    *,
    clock: Callable[[], datetime] = utc_now,
    evidence_dir: Path | None = None,
    reminders: bool = True,
) -> Application:
    coordinators = CoordinatorDialogue(db, clock, settings.timezone, by_language(settings.timezone))
    builder = (
        ApplicationBuilder()
        .token(settings.token_value())
        .base_url(settings.telegram_api_url)
        .base_file_url(file_url(settings.telegram_api_url))
        .concurrent_updates(PerUserUpdateProcessor(64))
        # httpx checks every pooled connection on each request: 8 connections answered 150 answers/s
        # in bench/conversation_bench.py, 16 took 135 and PTB's default of 256 took 126. A request
        # waits up to 10 s for a free connection instead of PTB's 1 s, so a burst queues, not fails.
        .connection_pool_size(8)
        .pool_timeout(10)
        .post_init(set_commands)
    )
    # Replies to users are not throttled up front (a campaign's interactive traffic stays far below
    # Telegram's limits); a 429 is honoured and retried. Reminder fan-outs pace themselves.
    builder = builder.rate_limiter(AIORateLimiter(overall_max_rate=0, max_retries=3))
    application = builder.build()
    # The outbox's sender: its own Bot without the rate limiter's retries (the sender waits out a 429
    # itself, as `cqdt remind --send-due` does), over the application's connection pool.
    outbox = Outbox(db, clock, settings.zone, f"{socket.gethostname()}:{os.getpid()}", channel_of(settings))
    sender = Sender(outbox, settings.timezone)
    # The e-mail sender, when CQDT_SMTP_URL and CQDT_MAIL_FROM are set: its letters' deep links name the bot
    # Telegram reports once the application is initialised (or CQDT_BOT_USERNAME).
    mailer = mail_sender(settings, outbox, lambda: settings.bot_username or application.bot.username)
    bot = sender_bot(
        settings.token_value(),
        settings.telegram_api_url,
        file_url(settings.telegram_api_url),
        request=application.bot.request,
    )
    application.bot_data[SENDER] = sender

    async def send_receipts(context: CallbackContext) -> None:
        await sender.tick(bot, kinds=IMMEDIATE_KINDS, plan=False)

    def receipt_queued() -> None:
        """A submission committed with its receipt in the outbox: send it now, not at the next tick.
        Called from the update's thread; the job queue is thread-safe."""
        application.job_queue.run_once(send_receipts, 0, name="receipts")

    handlers = Handlers(
        ContactDialogue(db, clock, receipts=receipt_queued, zone=settings.timezone),
        coordinators,
        settings.timezone,
        evidence_dir,
        inline_steps=db.serial_writes,
        evidence_extensions=settings.evidence_extensions,
    )
    application.add_handler(CommandHandler("start", handlers.start))
    application.add_handler(CommandHandler(sorted(COORDINATOR_COMMANDS), handlers.coordinator_command))
    application.add_handler(CommandHandler(sorted(COMMANDS), handlers.command))
    application.add_handler(CallbackQueryHandler(handlers.button))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE, handlers.text))
    application.add_handler(
        MessageHandler((filters.Document.ALL | filters.PHOTO) & filters.UpdateType.MESSAGE, handlers.upload)
    )
    application.add_handler(MessageHandler(filters.COMMAND & filters.UpdateType.MESSAGE, handlers.command))
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE, handlers.unsupported))
    application.add_error_handler(handlers.error)

    async def warm(context: CallbackContext) -> None:
        """The open campaigns' scores read into memory once the bot runs, so a first ranking is quick."""
        await asyncio.to_thread(coordinators.warm)

    application.job_queue.run_once(warm, 0, name="scoreboard warm-up")
    if reminders:

        async def tick(context: CallbackContext) -> None:
            with heartbeat(context.application).ticking():
                await sender.tick(bot)
                if mailer is not None:
                    await mailer.tick(plan=False)

        application.job_queue.run_repeating(tick, interval=TICK_SECONDS, first=TICK_SECONDS, name="reminders")
    return application


ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
