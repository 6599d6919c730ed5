"""The scheduler tick: send what is due from the outbox, within Telegram's limits.

Run every ``TICK_SECONDS`` by PTB's JobQueue (APScheduler), and by ``cqdt remind
--send-due``. What is due and what each message says come from
:class:`conversations.reminders.outbox.Outbox`; this module renders and sends.
Messages are paced under ``RATE`` per second overall and one a second per chat;
a 429 is waited out for its ``retry_after`` and the message retried (the sender's
bot has no rate limiter of its own, see :func:`sender_bot`, so this is the one
retry path); a 403 (the user blocked the bot) is recorded and not retried;
network errors are retried with backoff, then the row is given back for the next
tick. Every request is recorded as attempted before it goes (see
:mod:`conversations.reminders.outbox` for what a crash at each point leaves).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from jinja2 import TemplateError
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import BaseRequest

from bot.rendering import TELEGRAM_LIMIT
from bot.texts import environment, language_of, render
from conversations.reminders.notices import Claimed
from conversations.reminders.outbox import UNWRITABLE, Outbox, not_written

log = logging.getLogger(__name__)

TICK_SECONDS = 30
RATE = 27  # messages per second, under Telegram's ~30/s for one bot
PER_CHAT = 1.0  # seconds between two messages to one chat
RETRY_AFTER_LIMIT = 5
MAX_RETRY_WAIT = 60  # seconds: a longer retry_after gives the row back for a later tick
NETWORK_RETRIES = 3
CONTINUE = "continue"  # button data that resumes the walk
IMMEDIATE_KINDS = ("receipt",)  # sent as soon as queued, not at the next tick


def message_of(claimed: Claimed, zone: str) -> tuple[str, InlineKeyboardMarkup | None]:
    lang = language_of(claimed.language)
    text = render(claimed.template, lang=lang, zone=zone, **claimed.context)[:TELEGRAM_LIMIT]
    if claimed.button is not None:
        key, data = claimed.button
    elif claimed.with_continue_button:
        key, data = "continue_walk", CONTINUE
    else:
        return text, None
    label = str(getattr(environment(zone).get_template(f"{lang}/buttons.j2").module, key)()).strip()
    return text, InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])


def sender_bot(token: str, api_url: str, file_url: str, request: BaseRequest | None = None) -> Bot:
    """The bot the sender sends with, in ``cqdt run/serve`` and ``cqdt remind --send-due`` alike: a plain
    :class:`telegram.Bot`, without the application's AIORateLimiter, so a 429 reaches the sender's own
    handling (the one retry path: wait ``retry_after``, then try again). The bot passes the
    application's request object, so both share one connection pool."""
    return Bot(token, base_url=api_url, base_file_url=file_url, request=request)


class Sender:
    def __init__(
        self,
        outbox: Outbox,
        zone: str,
        rate: float = RATE,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ):
        self.outbox = outbox
        self.zone = zone
        self.interval = 1 / rate
        self.rate_limited = 0
        self.sleep = sleep  # every wait goes through it, so a test sees each one without waiting

    async def tick(
        self, bot: Bot, campaign_id: int | None = None, kinds: tuple[str, ...] | None = None, *, plan: bool = True
    ) -> int:
        """Plan (unless ``plan`` is False), then send every due message, of one campaign or all and of
        some kinds or all; returns how many were sent."""
        if plan:
            await asyncio.to_thread(self.outbox.prepare, campaign_id)
        loop = asyncio.get_running_loop()
        next_at, sent = loop.time(), 0
        last_in_chat: dict[int, float] = {}
        claimed = await asyncio.to_thread(self.outbox.claim, campaign_id, kinds)
        while claimed is not None:
            # at most RATE messages a second overall, and one a second to any one chat
            wait = max(next_at, last_in_chat.get(claimed.chat_id, -PER_CHAT) + PER_CHAT) - loop.time()
            if wait > 0:
                await self.sleep(wait)
            next_at = max(next_at, loop.time()) + self.interval
            last_in_chat[claimed.chat_id] = loop.time()
            status, error = await self.deliver(bot, claimed)
            if status == "pending":
                await asyncio.to_thread(self.outbox.release, claimed.id, error)
                break  # the network is down: leave the rest for the next tick
            if status == "lost":
                claimed = await asyncio.to_thread(self.outbox.claim, campaign_id, kinds)
                continue
            sent += status == "sent"
            claimed = await asyncio.to_thread(
                self.outbox.finish, claimed.id, status, error, claim_next=True, campaign_id=campaign_id, kinds=kinds
            )
        return sent

    async def deliver(self, bot: Bot, claimed: Claimed) -> tuple[str, str | None]:
        """Send one claimed row: its status and error. Each request is recorded as attempted, committed,
        before it goes; a 429 (not delivered) makes the row a plain claim again while it waits."""
        try:
            text, markup = message_of(claimed, self.zone)
        except (*UNWRITABLE, TemplateError) as exc:
            log.exception("notification %s cannot be written; marked failed", claimed.id)
            return "failed", not_written(exc)
        network_failures = rate_limits = 0
        while True:
            if not await asyncio.to_thread(self.outbox.attempt, claimed.id):
                log.warning("notification %s is no longer claimed by this sender; not sent", claimed.id)
                return "lost", None
            try:
                await bot.send_message(claimed.chat_id, text, reply_markup=markup)
                return "sent", None
            except RetryAfter as exc:
                await asyncio.to_thread(self.outbox.not_delivered, claimed.id, str(exc))
                self.rate_limited += 1
                rate_limits += 1
                wait = (
                    exc.retry_after.total_seconds()
                    if hasattr(exc.retry_after, "total_seconds")
                    else float(exc.retry_after)
                )
                if rate_limits > RETRY_AFTER_LIMIT or wait > MAX_RETRY_WAIT:
                    return "pending", "rate limited"
                await self.sleep(wait)
            except Forbidden as exc:
                log.info("chat %s blocked the bot", claimed.chat_id)
                return "blocked", str(exc)
            except BadRequest as exc:
                log.warning("notification %s refused: %s", claimed.id, exc)
                return "failed", str(exc)
            except (TimedOut, NetworkError) as exc:
                network_failures += 1
                if network_failures >= NETWORK_RETRIES:
                    return "pending", str(exc)
                await self.sleep(2 ** (network_failures - 1))
