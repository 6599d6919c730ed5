"""The scheduler tick: send what is due from the outbox, within Telegram's limits.

Run every ``TICK_SECONDS`` by PTB's JobQueue (APScheduler), and by ``cqdt remind
--send-due``. What is due and what each message says come from
:class:`conversations.reminders.outbox.Outbox`; this module renders and sends.
Messages are paced under ``RATE`` per second overall and one a second per chat;
a 429 is waited out for its ``retry_after`` and the message retried; a 403 (the
user blocked the bot) is recorded and not retried; network errors are retried
with backoff, then the row is given back for the next tick.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.rendering import TELEGRAM_LIMIT
from bot.texts import environment, language_of, render
from conversations.reminders.notices import Claimed
from conversations.reminders.outbox import Outbox

log = logging.getLogger(__name__)

TICK_SECONDS = 30
RATE = 27  # messages per second, under Telegram's ~30/s for one bot
PER_CHAT = 1.0  # seconds between two messages to one chat
RETRY_AFTER_LIMIT = 5
NETWORK_RETRIES = 3
CONTINUE = "continue"  # button data that resumes the walk


def message_of(claimed: Claimed, zone: str) -> tuple[str, InlineKeyboardMarkup | None]:
    lang = language_of(claimed.language)
    text = render(claimed.template, lang=lang, zone=zone, **claimed.context)[:TELEGRAM_LIMIT]
    if not claimed.with_continue_button:
        return text, None
    label = str(environment(zone).get_template(f"{lang}/buttons.j2").module.continue_walk()).strip()
    return text, InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=CONTINUE)]])


class Sender:
    def __init__(self, outbox: Outbox, zone: str, rate: float = RATE):
        self.outbox = outbox
        self.zone = zone
        self.interval = 1 / rate
        self.rate_limited = 0

    async def tick(self, bot: Bot) -> int:
        """Plan, then send every due message; returns how many were sent."""
        await asyncio.to_thread(self.outbox.prepare)
        loop = asyncio.get_running_loop()
        next_at, sent = loop.time(), 0
        last_in_chat: dict[int, float] = {}
        claimed = await asyncio.to_thread(self.outbox.claim)
        while claimed is not None:
            # at most RATE messages a second overall, and one a second to any one chat
            wait = max(next_at, last_in_chat.get(claimed.chat_id, -PER_CHAT) + PER_CHAT) - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            next_at = max(next_at, loop.time()) + self.interval
            last_in_chat[claimed.chat_id] = loop.time()
            status, error = await self.deliver(bot, claimed)
            if status == "pending":
                await asyncio.to_thread(self.outbox.release, claimed.id, error)
                break  # the network is down: leave the rest for the next tick
            sent += status == "sent"
            claimed = await asyncio.to_thread(self.outbox.finish, claimed.id, status, error, claim_next=True)
        return sent

    async def deliver(self, bot: Bot, claimed: Claimed) -> tuple[str, str | None]:
        text, markup = message_of(claimed, self.zone)
        network_failures = rate_limits = 0
        while True:
            try:
                await bot.send_message(claimed.chat_id, text, reply_markup=markup)
                return "sent", None
            except RetryAfter as exc:
                self.rate_limited += 1
                rate_limits += 1
                if rate_limits > RETRY_AFTER_LIMIT:
                    return "pending", "rate limited"
                await asyncio.sleep(
                    exc.retry_after.total_seconds()
                    if hasattr(exc.retry_after, "total_seconds")
                    else float(exc.retry_after)
                )
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
                await asyncio.sleep(2 ** (network_failures - 1))
