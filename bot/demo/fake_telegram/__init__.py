"""An in-process fake of the Telegram Bot API, for the tests, the benchmarks and `cqdt demo`.

``FakeTelegram`` (server.py) is an aiohttp server in a background thread over ``FakeState``
(state.py: what the fake knows, and what tests ask of it); the Bot API methods the bot calls are in
methods.py, a simulated user in users.py, the records handed to tests in records.py, and
``run_application`` (application.py) runs a PTB Application against it. It implements what the bot
uses — long polling, webhooks, messages and their edits, inline keyboards and callback answers,
command menus, document and photo uploads, getFile and file downloads — and failure injection.
"""

from bot.demo.fake_telegram.application import run_application
from bot.demo.fake_telegram.records import (
    AnsweredCallback,
    BotMessage,
    Call,
    FileRecord,
    QueuedUpdate,
    UploadedFile,
    WebhookDelivery,
)
from bot.demo.fake_telegram.server import FakeTelegram
from bot.demo.fake_telegram.users import REPLY_METHODS, FakeUser

__all__ = [
    "REPLY_METHODS",
    "AnsweredCallback",
    "BotMessage",
    "Call",
    "FakeTelegram",
    "FakeUser",
    "FileRecord",
    "QueuedUpdate",
    "UploadedFile",
    "WebhookDelivery",
    "run_application",
]
