"""What the fake hands to tests: the calls the bot made, its messages as stored, queued updates, files,
webhook deliveries and answered callback queries; the error a Bot API method answers with; and how
long a test waits for the bot by default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class UploadedFile:
    """A file the bot uploaded in a multipart request."""

    filename: str | None
    content: bytes
    mime_type: str | None = None


@dataclass(frozen=True)
class FileRecord:
    """A file the fake serves through getFile and ``/file/bot<token>/<file_path>``."""

    file_id: str
    file_unique_id: str
    content: bytes
    filename: str | None
    mime_type: str | None
    file_path: str

    @property
    def file_size(self) -> int:
        return len(self.content)


@dataclass
class Call:
    """One request the bot made. ``params`` holds decoded values; uploads are ``UploadedFile``."""

    method: str
    params: dict[str, Any]
    at: float
    seq: int
    status: int = 200
    result: Any = None
    description: str | None = None
    message: BotMessage | None = None
    content_type: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")


@dataclass(frozen=True)
class BotMessage:
    """A snapshot of a message the bot sent (for replies: as it was right after that call)."""

    chat_id: int
    message_id: int
    raw: dict[str, Any]
    reply_markup: dict[str, Any] | None = None
    document: FileRecord | None = None
    photo: FileRecord | None = None
    method: str | None = None
    call: Call | None = None

    @property
    def text(self) -> str | None:
        """The text, or the caption of a document or photo."""
        return self.raw.get("text", self.raw.get("caption"))

    @property
    def caption(self) -> str | None:
        return self.raw.get("caption")

    @property
    def edited(self) -> bool:
        return "edit_date" in self.raw

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """The inline keyboard as rows of ``(text, callback_data)``; callback_data is None for url buttons."""
        markup = self.reply_markup or {}
        return [[(b.get("text"), b.get("callback_data")) for b in row] for row in markup.get("inline_keyboard", [])]

    @property
    def button_texts(self) -> list[str]:
        return [text for row in self.buttons for text, _ in row]

    def callback_data(self, button_text: str) -> str:
        for row in self.buttons:
            for text, data in row:
                if text == button_text:
                    if data is None:
                        raise ValueError(f"button {button_text!r} has no callback_data")
                    return data
        raise LookupError(f"no button {button_text!r} in message {self.message_id}; buttons: {self.buttons}")


@dataclass(frozen=True)
class QueuedUpdate:
    """An update a test queued; ``data`` is the JSON the bot receives."""

    update_id: int
    data: dict[str, Any]
    seq: int
    at: float
    user_id: int | None = None

    @property
    def kind(self) -> str:
        return next(k for k in self.data if k != "update_id")

    @property
    def message_id(self) -> int | None:
        payload = self.data[self.kind]
        return payload.get("message_id", payload.get("message", {}).get("message_id"))

    @property
    def callback_query_id(self) -> str | None:
        return self.data.get("callback_query", {}).get("id")

    @property
    def callback_data(self) -> str | None:
        return self.data.get("callback_query", {}).get("data")


@dataclass(frozen=True)
class WebhookDelivery:
    """One POST of an update to a webhook; ``status`` is None when the request itself failed (``error``)."""

    url: str
    update_id: int
    status: int | None
    error: str | None
    secret_token: str | None
    at: float

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class AnsweredCallback:
    """A callback query the bot answered, with the button data it came from."""

    callback_query_id: str
    data: str | None
    message_id: int | None
    text: str | None
    show_alert: bool
    call: Call


class TelegramAPIError(Exception):
    """Raised by a method; becomes a ``{"ok": false, ...}`` answer."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def bad_request(description: str) -> TelegramAPIError:
    return TelegramAPIError(400, f"Bad Request: {description}")
