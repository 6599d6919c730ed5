"""What the fake Bot API knows, and the test-side API over it.

:class:`FakeState` holds the private chats and the bot's messages in them, files, callback queries,
command menus, the updates waiting for the bot, every call the bot made, the webhook it set, and the
failures a test injected (``fail_next``, ``block_chat``, ``flood_limit``). One lock guards it all;
tests wait on that lock's condition, so nothing sleeps in a loop. The HTTP server subclasses it.
"""

from __future__ import annotations

import collections
import copy
import itertools
import json
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bot.demo.fake_telegram.records import (
    DEFAULT_TIMEOUT,
    AnsweredCallback,
    BotMessage,
    Call,
    FileRecord,
    QueuedUpdate,
    TelegramAPIError,
    WebhookDelivery,
    bad_request,
)

BLOCKED = "Forbidden: bot was blocked by the user"
_DESCRIPTIONS = {403: BLOCKED, 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway"}


@dataclass
class Stored:
    """A message the bot sent, as it is now; ``markup`` is its inline keyboard, if any."""

    raw: dict[str, Any]
    markup: dict[str, Any] | None = None
    document: FileRecord | None = None
    photo: FileRecord | None = None

    def snapshot(self, *, method: str | None = None, call: Call | None = None) -> BotMessage:
        return BotMessage(
            chat_id=self.raw["chat"]["id"],
            message_id=self.raw["message_id"],
            raw=copy.deepcopy(self.raw),
            reply_markup=copy.deepcopy(self.markup),
            document=self.document,
            photo=self.photo,
            method=method,
            call=call,
        )


@dataclass
class CallbackQuery:
    user_id: int
    message_id: int
    data: str
    answered: bool = False


@dataclass
class Webhook:
    url: str = ""
    secret_token: str | None = None


@dataclass
class _Failure:
    method: str
    remaining: int
    status: int
    description: str
    retry_after: int | None


class FakeState:
    """The fake's data; every attribute is read and written under ``lock``."""

    def __init__(self, token: str, bot_username: str, bot_first_name: str):
        self.token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 123456

        self.lock = threading.RLock()
        self._cond = threading.Condition(self.lock)
        self._seq = itertools.count(1)
        self._update_ids = itertools.count(100001)
        self._file_numbers = itertools.count(1)
        self._callback_numbers = itertools.count(1)

        self._calls: list[Call] = []
        self._calls_by_chat: dict[Any, list[Call]] = collections.defaultdict(list)
        self.pending: list[QueuedUpdate] = []
        self.consumed: set[int] = set()
        self.polls_waiting = 0
        self._chats: dict[int, dict[str, Any]] = {}  # chat id → the Chat object
        self._messages: dict[int, dict[int, Stored]] = {}  # chat id → message id → the bot's message
        self._next_message_id: dict[int, int] = {}
        self.files: dict[str, FileRecord] = {}
        self.callbacks: dict[str, CallbackQuery] = {}
        self.menus: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.webhook = Webhook()
        self._webhook_override: list[str] | None = None
        self._round_robin = 0
        self.deliveries: list[WebhookDelivery] = []
        self._failures: list[_Failure] = []
        self._blocked: set[Any] = set()
        self._flood_per_second: int | None = None
        self._flood_window: collections.deque[float] = collections.deque()

    # ---------------------------------------------------------------- signalling

    def wake_server(self) -> None:
        """Wake the server's long polls and webhook deliverer; the server overrides this."""

    def changed(self) -> None:
        """Under the lock: wake the tests waiting on the state."""
        self._cond.notify_all()

    def wait(self, predicate: Callable[[], Any], timeout: float, what: Callable[[], str]) -> Any:
        with self._cond:
            result = self._cond.wait_for(predicate, timeout)
            if not result:
                raise TimeoutError(f"timed out after {timeout} s waiting for {what()}")
            return result

    # ---------------------------------------------------------------- test side: updates

    def queue_update(self, payload: dict[str, Any], *, user_id: int | None = None) -> QueuedUpdate:
        """Queue an update; ``payload`` is everything but ``update_id`` (e.g. ``{"message": {...}}``)."""
        with self.lock:
            update_id = next(self._update_ids)
            data = {"update_id": update_id, **copy.deepcopy(payload)}
            update = QueuedUpdate(update_id, data, next(self._seq), time.monotonic(), user_id)
            self.pending.append(update)
            self.changed()
        self.wake_server()
        return update

    def wait_until_consumed(self, update: QueuedUpdate, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Return once the bot has fetched the update (getUpdates, or a webhook POST answered 2xx)."""
        self.wait(lambda: update.update_id in self.consumed, timeout, lambda: f"update {update.update_id}")

    def wait_for_long_poll(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Return once a getUpdates request is being held open (the bot is polling and idle)."""
        self.wait(lambda: self.polls_waiting > 0, timeout, lambda: "a getUpdates long poll")

    def pending_updates(self) -> list[QueuedUpdate]:
        """Updates the bot has not confirmed (fetched but unconfirmed ones included)."""
        with self.lock:
            return list(self.pending)

    # ---------------------------------------------------------------- test side: what the bot did

    def calls(self, method: str | None = None, *, chat_id: Any = None) -> list[Call]:
        with self.lock:
            calls = self._calls if chat_id is None else self._calls_by_chat.get(chat_id, [])
            return [c for c in calls if method is None or c.method == method]

    def wait_for_calls(
        self,
        method: str | None,
        count: int = 1,
        *,
        chat_id: Any = None,
        after: QueuedUpdate | Call | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> list[Call]:
        """All calls of ``method`` (failed ones too; see ``Call.ok``) after ``after``, once there are ``count``."""
        since = after.seq if after is not None else 0

        def matching() -> list[Call] | None:
            found = [c for c in self.calls(method, chat_id=chat_id) if c.seq > since]
            return found if len(found) >= count else None

        def what() -> str:
            return f"{count} {method} call(s) (chat_id={chat_id}); last calls: {[c.method for c in self._calls[-15:]]}"

        return self.wait(matching, timeout, what)

    def messages(self, chat_id: int) -> list[BotMessage]:
        """The bot's messages in the chat as they are now (after edits), oldest first."""
        with self.lock:
            return [stored.snapshot() for stored in self.bot_messages(chat_id)]

    def answered_callbacks(self, user_id: int | None = None) -> list[AnsweredCallback]:
        with self.lock:
            answered = []
            for call in self.calls("answerCallbackQuery"):
                query_id = str(call.params.get("callback_query_id"))
                query = self.callbacks.get(query_id)
                if not call.ok or query is None or user_id not in (None, query.user_id):
                    continue
                text, alert = call.params.get("text"), bool(call.params.get("show_alert", False))
                answered.append(AnsweredCallback(query_id, query.data, query.message_id, text, alert, call))
            return answered

    def commands(self, *, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, str]]:
        """The command menu the bot set for ``scope`` and ``language_code``."""
        with self.lock:
            return copy.deepcopy(self.menus.get(menu_key(scope, language_code), []))

    def webhook_info(self) -> dict[str, Any]:
        with self.lock:
            targets = self.webhook_targets()
            return {
                "url": self.webhook.url or (targets[0] if targets else ""),
                "pending_update_count": len(self.pending),
            }

    def webhook_deliveries(self) -> list[WebhookDelivery]:
        with self.lock:
            return list(self.deliveries)

    def wait_for_webhook_deliveries(self, count: int = 1, *, timeout: float = DEFAULT_TIMEOUT) -> list[WebhookDelivery]:
        """All webhook delivery attempts (failed ones too), once there are at least ``count``."""

        def enough() -> list[WebhookDelivery] | None:
            return list(self.deliveries) if len(self.deliveries) >= count else None

        return self.wait(enough, timeout, lambda: f"{count} webhook deliveries; so far {self.deliveries}")

    # ---------------------------------------------------------------- test side: failures and webhooks

    def fail_next(
        self, method: str, n: int = 1, status: int = 500, description: str | None = None, retry_after: int | None = None
    ) -> None:
        """Answer the next ``n`` calls of ``method`` with an error (a 429 carries ``retry_after``, 1 s by default)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = _DESCRIPTIONS.get(status, "Error")
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
        with self.lock:
            self._failures.append(_Failure(method, n, status, description, retry_after))

    def block_chat(self, chat_id: int) -> None:
        """Every send or edit to ``chat_id`` answers 403 "bot was blocked by the user" from now on."""
        with self.lock:
            self._blocked.add(chat_id)

    def flood_limit(self, per_second: int | None = 30) -> None:
        """Answer 429 with retry_after when more than ``per_second`` send* calls arrive within 1 s; None: off."""
        with self.lock:
            self._flood_per_second = per_second
            self._flood_window.clear()

    def set_webhook_targets(self, urls: Iterable[str] | None) -> None:
        """Deliver updates round-robin to ``urls`` instead of the URL the bot set; None or [] clears.

        The secret sent is the one from the bot's last setWebhook.
        """
        with self.lock:
            self._webhook_override = list(urls or []) or None
            self._round_robin = 0
        self.wake_server()

    # ---------------------------------------------------------------- for the methods, the server and users

    def webhook_targets(self) -> list[str]:
        if self._webhook_override:
            return self._webhook_override
        return [self.webhook.url] if self.webhook.url else []

    def next_webhook_target(self) -> str:
        targets = self.webhook_targets()
        self._round_robin += 1
        return targets[(self._round_robin - 1) % len(targets)]

    def record(
        self,
        method: str,
        params: dict[str, Any],
        status: int,
        *,
        result: Any = None,
        description: str | None = None,
        stored: Stored | None = None,
        content_type: str | None = None,
    ) -> Call:
        with self.lock:
            call = Call(method, params, time.monotonic(), next(self._seq), status, result, description)
            call.content_type = content_type
            if stored is not None:
                call.message = stored.snapshot(method=method, call=call)
            self._calls.append(call)
            if "chat_id" in params:
                self._calls_by_chat[params["chat_id"]].append(call)
            self.changed()
            return call

    def check_failures(self, method: str, params: dict[str, Any]) -> None:
        """Raise the injected failure this call gets, if any: ``fail_next``, a blocked chat, the flood limit."""
        for rule in self._failures:
            if rule.method == method:
                rule.remaining -= 1
                self._failures = [r for r in self._failures if r.remaining > 0]
                parameters = {"retry_after": rule.retry_after} if rule.retry_after is not None else None
                raise TelegramAPIError(rule.status, rule.description, parameters)
        if params.get("chat_id") in self._blocked and method.startswith(("send", "edit")):
            raise TelegramAPIError(403, BLOCKED)
        if self._flood_per_second is not None and method.startswith("send"):
            now, window = time.monotonic(), self._flood_window
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= self._flood_per_second:
                retry_after = max(1, math.ceil(1.0 - (now - window[0])))
                raise TelegramAPIError(
                    429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
                )
            window.append(now)

    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_first_name, "username": self.bot_username}

    def open_chat(self, chat: dict[str, Any]) -> None:
        """A user's private chat with the bot, the only kind of chat the fake has."""
        self._chats[chat["id"]] = chat
        self._messages[chat["id"]] = {}

    def chat(self, chat_id: Any) -> dict[str, Any]:
        """The Chat object of ``chat_id``."""
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat_id is empty" if chat_id in (None, "") else "chat not found")
        return copy.deepcopy(chat)

    def new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def store(self, chat_id: int, content: dict[str, Any], markup: dict[str, Any] | None, **files: Any) -> Stored:
        """Store a new bot message with ``content`` (text, caption, document, photo) in the chat."""
        raw = {
            "message_id": self.new_message_id(chat_id),
            "from": self.bot_user(),
            "chat": self.chat(chat_id),
            "date": int(time.time()),
            **content,
        }
        if markup is not None:
            raw["reply_markup"] = copy.deepcopy(markup)
        stored = Stored(raw, markup, **files)
        self._messages[chat_id][raw["message_id"]] = stored
        return stored

    def stored(self, chat_id: int, message_id: Any) -> Stored | None:
        return self._messages.get(chat_id, {}).get(message_id)

    def bot_messages(self, chat_id: int) -> list[Stored]:
        return [stored for _, stored in sorted(self._messages.get(chat_id, {}).items())]

    def register_file(self, content: bytes, filename: str | None, mime_type: str | None, folder: str) -> FileRecord:
        number = next(self._file_numbers)
        extension = "." + filename.rsplit(".", 1)[1] if filename and "." in filename else ""
        record = FileRecord(
            file_id=f"FAKE-{folder[:3].upper()}-{number:06d}-{self.bot_id}",
            file_unique_id=f"U{number:06d}",
            content=bytes(content),
            filename=filename,
            mime_type=mime_type,
            file_path=f"{folder}/file_{number}{extension}",
        )
        self.files[record.file_id] = record
        return record

    def new_callback_query(self, user_id: int, message_id: int, data: str) -> str:
        query_id = f"{user_id}{next(self._callback_numbers):08d}"
        self.callbacks[query_id] = CallbackQuery(user_id, message_id, data)
        return query_id


def menu_key(scope: Any, language_code: Any) -> tuple[str, str]:
    """The key of a command menu: its scope (the default scope if none) and language."""
    return json.dumps(scope or {"type": "default"}, sort_keys=True), str(language_code or "")
