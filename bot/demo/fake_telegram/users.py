"""A simulated Telegram user: what they send the bot (text, commands, button presses, files, stickers,
voice) and how a test waits for the bot's reply to them. ``FakeTelegram.user()`` makes them."""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from bot.demo.fake_telegram.records import DEFAULT_TIMEOUT, AnsweredCallback, BotMessage, QueuedUpdate

if TYPE_CHECKING:
    from bot.demo.fake_telegram.state import FakeState

#: The bot calls that ``FakeUser.wait_for_reply`` treats as a reply.
_ALBUMS = itertools.count(10**17)  # media_group_id of the albums users send
REPLY_METHODS = frozenset({"sendMessage", "editMessageText", "sendDocument", "sendPhoto"})


def image_size(content: bytes) -> tuple[int, int]:
    """Width and height of a PNG; (1, 1) for anything else."""
    if content[:8] == b"\x89PNG\r\n\x1a\n" and len(content) >= 24:
        return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")
    return 1, 1


class FakeUser:
    """A Telegram user in a private chat with the bot (chat id = user id)."""

    def __init__(
        self,
        fake: FakeState,
        user_id: int,
        first_name: str,
        language_code: str | None,
        last_name: str | None,
        username: str | None,
    ):
        self.fake = fake
        self.id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.last_name = last_name
        self.username = username
        self._cursor = 0  # the seq after which wait_for_reply looks by default

    def __repr__(self) -> str:
        return f"FakeUser({self.id}, {self.first_name!r})"

    @property
    def chat_id(self) -> int:
        return self.id

    def as_dict(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def chat_dict(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat

    def _seen(self, seq: int) -> None:
        """Under the fake's lock: this user acted, or got a reply, at ``seq``."""
        self._cursor = max(self._cursor, seq)

    def _queue(self, payload: dict[str, Any]) -> QueuedUpdate:
        with self.fake.lock:
            update = self.fake.queue_update(payload, user_id=self.id)
            self._seen(update.seq)
            return update

    # ---------------------------------------------------------------- sending

    def _send(self, content: dict[str, Any]) -> QueuedUpdate:
        with self.fake.lock:
            message = {
                "message_id": self.fake.new_message_id(self.id),
                "from": self.as_dict(),
                "chat": self.chat_dict(),
                "date": int(time.time()),
                **content,
            }
            return self._queue({"message": message})

    def _file(self, content: bytes, filename: str | None, mime_type: str, folder: str) -> dict[str, Any]:
        with self.fake.lock:
            record = self.fake.register_file(content, filename, mime_type, folder)
        return {"file_id": record.file_id, "file_unique_id": record.file_unique_id, "file_size": record.file_size}

    def send_text(self, text: str) -> QueuedUpdate:
        return self._send({"text": text})

    def send_command(self, text: str) -> QueuedUpdate:
        """``"/start abc123"``: a message with a bot_command entity over the leading ``/command``."""
        if not text.startswith("/"):
            raise ValueError("a command starts with '/'")
        command = text.split(None, 1)[0]
        entity = {"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}
        return self._send({"text": text, "entities": [entity]})

    def press(
        self, button_text: str | None = None, *, data: str | None = None, message_id: int | None = None
    ) -> QueuedUpdate:
        """Press an inline button (by its text) or send arbitrary callback ``data``.

        The message is ``message_id``, or the latest bot message in the chat with an inline keyboard.
        """
        if (button_text is None) == (data is None):
            raise ValueError("press() needs a button text or data=, not both")
        with self.fake.lock:
            if message_id is None:
                messages = self.fake.bot_messages(self.id)
                pool = [s for s in messages if s.markup] or (messages if data is not None else [])
                if not pool:
                    raise LookupError(f"chat {self.id} has no bot message with an inline keyboard")
                stored = pool[-1]
            else:
                stored = self.fake.stored(self.id, message_id)
                if stored is None:
                    raise LookupError(f"no message {message_id} in chat {self.id}")
            if data is None:
                data = stored.snapshot().callback_data(button_text)
            query_id = self.fake.new_callback_query(self.id, stored.raw["message_id"], data)
            query = {
                "id": query_id,
                "from": self.as_dict(),
                "message": copy.deepcopy(stored.raw),
                "chat_instance": str(-(abs(self.id) * 7919 % 10**18) - 1),
                "data": data,
            }
            return self._queue({"callback_query": query})

    def send_document(
        self, filename: str, content: bytes, mime_type: str = "application/octet-stream", *, caption: str | None = None
    ) -> QueuedUpdate:
        document = {
            "file_name": filename,
            "mime_type": mime_type,
            **self._file(content, filename, mime_type, "documents"),
        }
        return self._send({"document": document, **({"caption": caption} if caption else {})})

    def send_photo(
        self, content: bytes, *, caption: str | None = None, media_group_id: str | None = None
    ) -> QueuedUpdate:
        width, height = image_size(content)
        photo = {**self._file(content, "photo.jpg", "image/jpeg", "photos"), "width": width, "height": height}
        extra = {
            **({"caption": caption} if caption else {}),
            **({"media_group_id": media_group_id} if media_group_id else {}),
        }
        return self._send({"photo": [photo], **extra})

    def send_album(self, pictures: list[bytes], *, caption: str | None = None) -> list[QueuedUpdate]:
        """Several photos sent at once: as Telegram does, one message per photo, all with one
        ``media_group_id`` and the caption on the first."""
        group = str(next(_ALBUMS))
        return [
            self.send_photo(picture, caption=caption if i == 0 else None, media_group_id=group)
            for i, picture in enumerate(pictures)
        ]

    def send_sticker(self, emoji: str = "👍") -> QueuedUpdate:
        file = self._file(b"RIFF\x00\x00\x00\x00WEBPVP8 ", "sticker.webp", "image/webp", "stickers")
        sticker = {**file, "type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False}
        return self._send({"sticker": {**sticker, "emoji": emoji}})

    def send_voice(self, content: bytes = b"OggS\x00\x02fake-voice", duration: int = 2) -> QueuedUpdate:
        voice = {
            **self._file(content, "voice.oga", "audio/ogg", "voice"),
            "duration": duration,
            "mime_type": "audio/ogg",
        }
        return self._send({"voice": voice})

    # ---------------------------------------------------------------- looking

    def wait_for_reply(
        self,
        after_update: QueuedUpdate | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        methods: Iterable[str] = REPLY_METHODS,
        match: str | Callable[[BotMessage], bool] | None = None,
    ) -> BotMessage:
        """The next bot message to this chat (sendMessage, editMessageText, sendDocument, sendPhoto).

        "Next" is after ``after_update`` if given, else after this user's latest update or the reply
        this method last returned, whichever is later. ``match`` (a substring of the text, or a
        predicate) skips replies that do not fit. Returns the message as it was right after that call.
        """
        wanted = frozenset(methods)
        with self.fake.lock:
            since = after_update.seq if after_update is not None else self._cursor

        def accepts(message: BotMessage) -> bool:
            if match is None:
                return True
            return bool(match(message)) if callable(match) else match in (message.text or "")

        def find() -> BotMessage | None:
            for call in self.fake.calls(chat_id=self.id):
                if call.seq > since and call.ok and call.method in wanted and call.message and accepts(call.message):
                    return call.message
            return None

        def what() -> str:
            sent = [(c.method, c.message.text if c.message else None) for c in self.fake.calls(chat_id=self.id)]
            return f"a reply to user {self.id} (match={match!r}); bot calls to this chat: {sent[-10:]}"

        reply = self.fake.wait(find, timeout, what)
        with self.fake.lock:
            self._seen(reply.call.seq)
        return reply

    def messages(self) -> list[BotMessage]:
        """The chat's bot messages as they are now (after edits), oldest first."""
        return self.fake.messages(self.id)

    def answered_callbacks(self) -> list[AnsweredCallback]:
        return self.fake.answered_callbacks(self.id)
