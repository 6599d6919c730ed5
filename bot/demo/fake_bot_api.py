"""An in-process fake of the Telegram Bot API, for the tests and for `cqdt demo`.

``FakeTelegram`` runs an aiohttp server on 127.0.0.1 (a random free port) in a background thread
with its own asyncio loop, so that synchronous pytest code and a bot running in another thread or
process (``cqdt run`` with ``CQDT_TELEGRAM_API_URL=fake.api_url``) can both talk to it::

    with FakeTelegram() as fake:
        lan = fake.user(1001, first_name="Lan")
        ...start the bot with base_url=fake.api_url, base_file_url=fake.file_url...
        lan.send_command("/start abc123")
        reply = lan.wait_for_reply()
        assert "Chào" in reply.text
        lan.press("Có")

Server side it follows the Bot API: ``/bot<token>/<method>`` with JSON, urlencoded or multipart
bodies (python-telegram-bot sends urlencoded form fields whose non-string values are JSON text, and
multipart when a file is uploaded), ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": N, "description": "...", "parameters": {...}}`` answers, long-polling
``getUpdates``, webhooks, message storage with edits, files, commands, and failure injection.

Text with ``parse_mode`` is parsed as Telegram does (HTML, MarkdownV2, Markdown): the stored text is
what the user sees, with entities, and malformed markup is refused with Telegram's
``400 Bad Request: can't parse entities: ...``.

Test-side waits use a ``threading.Condition``; the server's long polls and webhook deliveries wait
on asyncio events. Nothing sleeps in a loop.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import copy
import itertools
import json
import math
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

__all__ = [
    "AnsweredCallback",
    "BotMessage",
    "Call",
    "FakeTelegram",
    "FakeUser",
    "FileRecord",
    "QueuedUpdate",
    "REPLY_METHODS",
    "UploadedFile",
    "WebhookDelivery",
    "format_text",
    "run_application",
]

DEFAULT_TOKEN = "123456:TEST-TOKEN"
DEFAULT_TIMEOUT = 10.0
#: The bot calls that ``FakeUser.wait_for_reply`` treats as a reply.
REPLY_METHODS = frozenset({"sendMessage", "editMessageText", "sendDocument", "sendPhoto"})
#: Telegram's answer when a message is edited into exactly what it already is.
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
BLOCKED = "Forbidden: bot was blocked by the user"
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: BLOCKED,
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
_TEXT_LIMIT = 4096
_CAPTION_LIMIT = 1024
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


# --------------------------------------------------------------------------------------------------
# Records handed to tests
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    """A file the bot uploaded in a multipart request."""

    filename: str | None
    content: bytes
    mime_type: str | None = None
    field: str | None = None

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class FileRecord:
    """A file the fake can serve through getFile and ``/file/bot<token>/<file_path>``."""

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
    """A snapshot of a stored message (for replies: as it was right after that call)."""

    chat_id: int
    message_id: int
    raw: dict[str, Any]
    from_bot: bool
    reply_markup: dict[str, Any] | None = None
    parse_mode: str | None = None
    source_text: str | None = None
    document: FileRecord | None = None
    photo: FileRecord | None = None
    deleted: bool = False
    method: str | None = None
    call: Call | None = None

    @property
    def text(self) -> str | None:
        """The text as the user sees it (entities parsed away), or the caption of a document/photo."""
        return self.raw.get("text", self.raw.get("caption"))

    @property
    def caption(self) -> str | None:
        return self.raw.get("caption")

    @property
    def entities(self) -> list[dict[str, Any]]:
        return self.raw.get("entities", self.raw.get("caption_entities", []))

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

    @property
    def keyboard(self) -> list[list[str]]:
        """A reply keyboard (ReplyKeyboardMarkup) as rows of button texts."""
        markup = self.reply_markup or {}
        return [[b if isinstance(b, str) else b.get("text") for b in row] for row in markup.get("keyboard", [])]

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
        payload = self.data.get(self.kind)
        if isinstance(payload, dict):
            if "message_id" in payload:
                return payload["message_id"]
            if isinstance(payload.get("message"), dict):
                return payload["message"].get("message_id")
        return None

    @property
    def callback_query_id(self) -> str | None:
        return self.data.get("callback_query", {}).get("id")

    @property
    def callback_data(self) -> str | None:
        return self.data.get("callback_query", {}).get("data")


@dataclass(frozen=True)
class WebhookDelivery:
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
    callback_query_id: str
    data: str | None
    message_id: int | None
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None
    call: Call


class TelegramAPIError(Exception):
    """Raised inside handlers; becomes a ``{"ok": false, ...}`` answer."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> TelegramAPIError:
    return TelegramAPIError(400, f"Bad Request: {description}")


# --------------------------------------------------------------------------------------------------
# Text formatting (HTML, MarkdownV2, Markdown) → plain text + entities, as Telegram parses it
# --------------------------------------------------------------------------------------------------


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _entity_error(message: str) -> TelegramAPIError:
    return _bad(f"can't parse entities: {message}")


_HTML_ENTITY = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|(lt|gt|amp|quot));")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "span", "tg-emoji"}
    | {"pre", "code", "blockquote"}
)
_HTML_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}


def _decode_html_entity(text: str, index: int) -> tuple[str, int] | None:
    match = _HTML_ENTITY.match(text, index)
    if not match:
        return None
    if match.group(3):
        return _HTML_NAMED[match.group(3)], match.end()
    code = int(match.group(1)) if match.group(1) else int(match.group(2), 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end()


def _html_unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "&":
            decoded = _decode_html_entity(value, i)
            if decoded:
                out.append(decoded[0])
                i = decoded[1]
                continue
        out.append(value[i])
        i += 1
    return "".join(out)


def _parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    out: list[str] = []
    entities: list[dict[str, Any]] = []
    stack: list[list[Any]] = []  # [tag, attrs, start (chars of out)]
    i, n = 0, len(source)

    def at(index: int) -> int:
        return _byte_offset(source, index)

    while i < n:
        char = source[i]
        if char == "&":
            decoded = _decode_html_entity(source, i)
            if decoded:
                out.append(decoded[0])
                i = decoded[1]
                continue
        if char != "<":
            out.append(char)
            i += 1
            continue
        begin = i
        i += 1
        if i < n and source[i] == "/":
            end = source.find(">", i)
            if end == -1:
                raise _entity_error(f"Unclosed end tag at byte offset {at(begin)}")
            tag = source[i + 1 : end].strip().lower()
            if not stack:
                raise _entity_error(f"Unexpected end tag at byte offset {at(begin)}")
            open_tag, attrs, start = stack.pop()
            if tag != open_tag:
                raise _entity_error(
                    f'Unmatched end tag at byte offset {at(begin)}, expected "</{open_tag}>", found "</{tag}>"'
                )
            i = end + 1
            length = len(out) - start
            entity: dict[str, Any] | None = None
            if open_tag in _HTML_SIMPLE:
                entity = {"type": _HTML_SIMPLE[open_tag]}
            elif open_tag == "a":
                href = attrs.get("href", "")
                if href.startswith("tg://user?id=") and href[13:].isdigit():
                    entity = {"type": "text_mention", "user": {"id": int(href[13:]), "is_bot": False, "first_name": ""}}
                elif href:
                    entity = {"type": "text_link", "url": href}
            elif open_tag == "code":
                language = attrs.get("class", "")
                if language.startswith("language-") and stack and stack[-1][0] == "pre":
                    stack[-1][1]["\0language"] = language[9:]
                else:
                    entity = {"type": "code"}
            elif open_tag == "pre":
                entity = {"type": "pre"}
                if attrs.get("\0language"):
                    entity["language"] = attrs["\0language"]
            elif open_tag == "blockquote":
                entity = {"type": "expandable_blockquote" if "expandable" in attrs else "blockquote"}
            elif open_tag == "tg-emoji":
                entity = {"type": "custom_emoji", "custom_emoji_id": attrs.get("emoji-id", "")}
            if entity is not None and length > 0:
                entity["\0start"], entity["\0end"] = start, len(out)
                entities.append(entity)
            continue
        j = i
        while j < n and not source[j].isspace() and source[j] != ">":
            j += 1
        tag = source[i:j].lower()
        if j >= n:
            raise _entity_error(f"Unclosed start tag at byte offset {at(begin)}")
        if tag not in _HTML_TAGS:
            raise _entity_error(f'Unsupported start tag "{tag}" at byte offset {at(begin)}')
        attrs: dict[str, str] = {}
        i = j
        while True:
            while i < n and source[i].isspace():
                i += 1
            if i >= n:
                raise _entity_error(f'Unclosed start tag "{tag}" at byte offset {at(begin)}')
            if source[i] == ">":
                i += 1
                break
            k = i
            while k < n and (source[k].isalnum() or source[k] in "-_"):
                k += 1
            name = source[i:k].lower()
            if not name:
                raise _entity_error(f'Empty attribute name in the tag "{tag}" at byte offset {at(begin)}')
            i = k
            while i < n and source[i].isspace():
                i += 1
            if i < n and source[i] == "=":
                i += 1
                while i < n and source[i].isspace():
                    i += 1
                if i >= n:
                    raise _entity_error(f'Unclosed start tag "{tag}" at byte offset {at(begin)}')
                if source[i] in "\"'":
                    end = source.find(source[i], i + 1)
                    if end == -1:
                        raise _entity_error(
                            f'Unclosed end of an attribute value of the tag "{tag}" at byte offset {at(begin)}'
                        )
                    raw_value, i = source[i + 1 : end], end + 1
                else:
                    k = i
                    while k < n and not source[k].isspace() and source[k] != ">":
                        k += 1
                    raw_value, i = source[i:k], k
                attrs[name] = _html_unescape(raw_value)
            else:
                attrs[name] = ""
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise _entity_error(f'Tag "span" must have class "tg-spoiler" at byte offset {at(begin)}')
        stack.append([tag, attrs, len(out)])
    if stack:
        raise _entity_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), entities


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
}


def _parse_markdown_v2(source: str) -> tuple[str, list[dict[str, Any]]]:
    out: list[str] = []
    entities: list[dict[str, Any]] = []
    stack: list[list[Any]] = []  # [type, start, begin index, language]
    quote_start: int | None = None
    i, n = 0, len(source)
    line_start = True

    def close(entry: list[Any], **extra: Any) -> None:
        kind, start, _, language = entry
        if len(out) > start:
            entity = {"type": kind, **extra}
            if kind == "pre" and language:
                entity["language"] = language
            entity["\0start"], entity["\0end"] = start, len(out)
            entities.append(entity)

    while i < n:
        char = source[i]
        if char == "\\" and i + 1 < n and 0 < ord(source[i + 1]) <= 126:
            out.append(source[i + 1])
            i += 2
            line_start = False
            continue
        top = stack[-1][0] if stack else None
        if top in ("code", "pre"):
            if top == "pre" and source.startswith("```", i):
                close(stack.pop())
                i += 3
            elif top == "code" and char == "`":
                close(stack.pop())
                i += 1
            else:
                out.append(char)
                i += 1
            continue
        if char not in _MDV2_RESERVED:
            if char == "\n" and quote_start is not None and not source.startswith(">", i + 1):
                if len(out) > quote_start:
                    entities.append({"type": "blockquote", "\0start": quote_start, "\0end": len(out)})
                quote_start = None
            out.append(char)
            i += 1
            line_start = char == "\n"
            continue
        begin = i
        if char == ">" and line_start:
            if quote_start is None:
                quote_start = len(out)
            i += 1
            line_start = False
            continue
        line_start = False
        kind, width = None, 1
        if char == "_":
            kind, width = ("underline", 2) if source.startswith("__", i) else ("italic", 1)
        elif char == "*":
            kind = "bold"
        elif char == "~":
            kind = "strikethrough"
        elif char == "|" and source.startswith("||", i):
            kind, width = "spoiler", 2
        if kind is not None:
            open_kinds = [entry[0] for entry in stack]
            if kind in open_kinds:
                if stack[-1][0] != kind:
                    entry = stack[open_kinds.index(kind)]
                    raise _entity_error(
                        f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {_byte_offset(source, entry[2])}"
                    )
                close(stack.pop())
            else:
                stack.append([kind, len(out), begin, None])
            i += width
            continue
        if char == "`":
            if source.startswith("```", i):
                newline = source.find("\n", i + 3)
                language = source[i + 3 : newline] if newline != -1 else ""
                if newline != -1 and language and not any(c.isspace() or c == "`" for c in language):
                    stack.append(["pre", len(out), begin, language])
                    i = newline + 1
                else:
                    stack.append(["pre", len(out), begin, None])
                    i += 3
            else:
                stack.append(["code", len(out), begin, None])
                i += 1
            continue
        if char == "[":
            stack.append(["text_link", len(out), begin, None])
            i += 1
            continue
        if char == "]" and stack and stack[-1][0] == "text_link":
            if not source.startswith("(", i + 1):
                raise _entity_error(
                    f"Can't find end of TextUrl entity at byte offset {_byte_offset(source, stack[-1][2])}"
                )
            url, j = [], i + 2
            while j < n and source[j] != ")":
                if source[j] == "\\" and j + 1 < n:
                    j += 1
                url.append(source[j])
                j += 1
            if j >= n:
                raise _entity_error(f"Can't find end of a url at byte offset {_byte_offset(source, i + 2)}")
            close(stack.pop(), url="".join(url))
            i = j + 1
            continue
        raise _entity_error(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
    if stack:
        kind, _, begin, _ = stack[-1]
        raise _entity_error(
            f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {_byte_offset(source, begin)}"
        )
    if quote_start is not None and len(out) > quote_start:
        entities.append({"type": "blockquote", "\0start": quote_start, "\0end": len(out)})
    return "".join(out), entities


def _parse_markdown(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    out: list[str] = []
    entities: list[dict[str, Any]] = []
    i, n = 0, len(source)

    def unclosed(begin: int) -> TelegramAPIError:
        return _entity_error(f"Can't find end of the entity starting at byte offset {_byte_offset(source, begin)}")

    def add(kind: str, text: str, **extra: Any) -> None:
        start = len(out)
        out.append(text)
        if text:
            entities.append({"type": kind, **extra, "\0start": start, "\0end": start + len(text)})

    while i < n:
        char = source[i]
        if char == "\\" and i + 1 < n and source[i + 1] in "_*`[":
            out.append(source[i + 1])
            i += 2
        elif char in "*_":
            end = source.find(char, i + 1)
            if end == -1:
                raise unclosed(i)
            add("bold" if char == "*" else "italic", source[i + 1 : end])
            i = end + 1
        elif source.startswith("```", i):
            end = source.find("```", i + 3)
            if end == -1:
                raise unclosed(i)
            body, language = source[i + 3 : end], None
            first, sep, rest = body.partition("\n")
            if sep and first and not any(c.isspace() for c in first):
                body, language = rest, first
            add("pre", body, **({"language": language} if language else {}))
            i = end + 3
        elif char == "`":
            end = source.find("`", i + 1)
            if end == -1:
                raise unclosed(i)
            add("code", source[i + 1 : end])
            i = end + 1
        elif char == "[":
            close = source.find("]", i + 1)
            if close == -1 or not source.startswith("(", close + 1) or source.find(")", close + 2) == -1:
                raise unclosed(i)
            end = source.find(")", close + 2)
            add("text_link", source[i + 1 : close], url=source[close + 2 : end])
            i = end + 1
        else:
            out.append(char)
            i += 1
    return "".join(out), entities


def format_text(text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None = None):
    """Parse ``text`` as Telegram would: returns (visible text, entities with UTF-16 offsets)."""
    if parse_mode:
        mode = parse_mode.lower()
        if mode == "html":
            plain, found = _parse_html(text)
        elif mode == "markdownv2":
            plain, found = _parse_markdown_v2(text)
        elif mode == "markdown":
            plain, found = _parse_markdown(text)
        else:
            raise _bad(f"unsupported parse_mode {parse_mode!r}")
    else:
        stripped = text.strip()
        shift = _utf16_len(text[: len(text) - len(text.lstrip())])
        size = _utf16_len(stripped)
        result = []
        for entity in entities or []:
            start = max(int(entity.get("offset", 0)) - shift, 0)
            end = min(int(entity.get("offset", 0)) + int(entity.get("length", 0)) - shift, size)
            if end > start:
                result.append({**entity, "offset": start, "length": end - start})
        return stripped, result
    lead = len(plain) - len(plain.lstrip())
    stripped = plain.strip()
    result = []
    for entity in found:
        start = max(entity.pop("\0start") - lead, 0)
        end = min(entity.pop("\0end") - lead, len(stripped))
        if end <= start:
            continue
        offset = _utf16_len(stripped[:start])
        entity = {"type": entity["type"], "offset": offset, "length": _utf16_len(stripped[start:end]), **entity}
        result.append(entity)
    result.sort(key=lambda e: (e["offset"], -e["length"]))
    return stripped, result


# --------------------------------------------------------------------------------------------------
# Request parameters
# --------------------------------------------------------------------------------------------------

# Form fields whose value is always a string, never JSON.
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "file_id",
        "language_code",
        "action",
        "description",
        "short_description",
        "name",
        "ip_address",
        "title",
        "data",
        "query",
        "emoji",
        "business_connection_id",
        "message_effect_id",
        "document",
        "photo",
        "audio",
        "video",
        "voice",
        "animation",
        "sticker",
        "thumbnail",
        "question",
        "address",
        "phone_number",
        "first_name",
        "last_name",
        "vcard",
    }
)
# Fields that hold JSON objects/arrays even when a JSON body sends them as strings.
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
        "media",
        "menu_button",
        "message_ids",
    }
)
_INT_FIELDS = frozenset({"chat_id", "message_id", "offset", "limit", "user_id", "reply_to_message_id", "cache_time"})


def _decode_form_value(key: str, value: str) -> Any:
    if key in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _normalize_params(params: dict[str, Any]) -> dict[str, Any]:
    for key in _JSON_FIELDS & params.keys():
        if isinstance(params[key], str):
            try:
                params[key] = json.loads(params[key])
            except ValueError:
                raise _bad(f"can't parse {key} JSON object") from None
    for key in _INT_FIELDS & params.keys():
        value = params[key]
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            params[key] = int(value)
    return params


def _resolve_attachments(value: Any, files: dict[str, UploadedFile], used: set[str]) -> Any:
    if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
        used.add(value[9:])
        return files[value[9:]]
    if isinstance(value, dict):
        return {k: _resolve_attachments(v, files, used) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_attachments(v, files, used) for v in value]
    return value


def _image_size(content: bytes) -> tuple[int, int]:
    """Width and height of a PNG or JPEG; (1, 1) if unknown."""
    if content[:8] == b"\x89PNG\r\n\x1a\n" and len(content) >= 24:
        return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")
    if content[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(content):
            if content[i] != 0xFF:
                break
            marker, length = content[i + 1], int.from_bytes(content[i + 2 : i + 4], "big")
            if marker in (0xC0, 0xC1, 0xC2):
                return int.from_bytes(content[i + 7 : i + 9], "big"), int.from_bytes(content[i + 5 : i + 7], "big")
            i += 2 + length
    return 1, 1


def _json_copy(value: Any) -> Any:
    return copy.deepcopy(value)


def _inline_markup(markup: Any) -> dict[str, Any] | None:
    """The inline keyboard part of a reply_markup (what Telegram keeps on a message), or None."""
    if isinstance(markup, dict) and markup.get("inline_keyboard"):
        return markup
    return None


# --------------------------------------------------------------------------------------------------
# Internal state
# --------------------------------------------------------------------------------------------------


@dataclass
class _Stored:
    raw: dict[str, Any]
    from_bot: bool
    markup: dict[str, Any] | None = None
    parse_mode: str | None = None
    source_text: str | None = None
    document: FileRecord | None = None
    photo: FileRecord | None = None
    deleted: bool = False

    def snapshot(self, *, method: str | None = None, call: Call | None = None) -> BotMessage:
        return BotMessage(
            chat_id=self.raw["chat"]["id"],
            message_id=self.raw["message_id"],
            raw=_json_copy(self.raw),
            from_bot=self.from_bot,
            reply_markup=_json_copy(self.markup),
            parse_mode=self.parse_mode,
            source_text=self.source_text,
            document=self.document,
            photo=self.photo,
            deleted=self.deleted,
            method=method,
            call=call,
        )


@dataclass
class _FailureRule:
    method: str
    remaining: int
    status: int
    description: str
    retry_after: int | None
    chat_id: Any


@dataclass
class _CallbackQuery:
    user_id: int
    chat_id: int
    message_id: int | None
    data: str | None
    answered: bool = False


@dataclass
class _Webhook:
    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


# --------------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------------


class FakeTelegram:
    """A fake Bot API server; see the module docstring."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "cqdt_test_bot",
        *,
        bot_first_name: str = "CQĐT Test Bot",
        host: str = "127.0.0.1",
    ):
        self.token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 123456
        self.host = host
        self.port: int | None = None

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._seq = itertools.count(1)
        self._update_ids = itertools.count(100001)
        self._file_counter = itertools.count(1)
        self._callback_counter = itertools.count(1)

        self._calls: list[Call] = []
        self._pending: list[QueuedUpdate] = []
        self._consumed: set[int] = set()
        self._dropped: dict[int, str] = {}
        self._allowed_updates: frozenset[str] | None = None  # None: Telegram's default set
        self._updates: dict[int, QueuedUpdate] = {}
        self._users: dict[int, FakeUser] = {}
        self._chats: dict[int, dict[int, _Stored]] = {}
        self._next_message_id: dict[int, int] = {}
        self._files: dict[str, FileRecord] = {}
        self._callbacks: dict[str, _CallbackQuery] = {}
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._blocked: set[Any] = set()
        self._failures: list[_FailureRule] = []
        self._flood_per_second: int | None = None
        self._flood_window: collections.deque[float] = collections.deque()
        self._webhook = _Webhook()
        self._webhook_override: list[str] | None = None
        self._webhook_override_secret: str | None = None
        self._deliveries: list[WebhookDelivery] = []
        self._round_robin = 0
        self._poll_generation = 0
        self._polls_waiting = 0
        self._closed_by_bot = False

        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._changed: asyncio.Event | None = None
        self._webhook_task: asyncio.Task | None = None
        self._closing = False

        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getMe": self._get_me,
            "logOut": lambda p: True,
            "close": self._close,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getFile": self._get_file,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action,
            "getChat": self._get_chat,
            "setMyDescription": lambda p: True,
            "setMyShortDescription": lambda p: True,
            "setMyName": lambda p: True,
            "setChatMenuButton": lambda p: True,
            "getChatMenuButton": lambda p: {"type": "commands"},
            "getUpdates": None,  # async, see _get_updates
        }
        self._method_names = {name.lower(): name for name in self._handlers}

    # ---------------------------------------------------------------- lifecycle

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def start(self) -> FakeTelegram:
        if self._thread is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                loop.run_until_complete(self._serve(sock))
            except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._thread = threading.Thread(target=serve, name=f"fake-telegram:{self.port}", daemon=True)
        self._thread.start()
        if not ready.wait(DEFAULT_TIMEOUT):
            raise RuntimeError("the fake Telegram server did not start")
        if failure:
            self._thread = None
            raise failure[0]
        return self

    async def _serve(self, sock: socket.socket) -> None:
        self._changed = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=2.0, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        self._webhook_task = asyncio.get_running_loop().create_task(self._webhook_loop())

    def stop(self) -> None:
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        with self._lock:
            self._closing = True
            self._cond.notify_all()
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(DEFAULT_TIMEOUT)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(DEFAULT_TIMEOUT)
            self._thread = None
            self._loop = None

    async def _shutdown(self) -> None:
        self._pulse()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("start() the fake first")
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The Bot API base without the token, e.g. ``http://127.0.0.1:PORT/bot`` (PTB appends the token)."""
        return f"{self.base_url}/bot"

    @property
    def file_url(self) -> str:
        return f"{self.base_url}/file/bot"

    # ---------------------------------------------------------------- signalling

    def _pulse(self) -> None:
        """On the server loop: wake every long poll and the webhook deliverer."""
        event, self._changed = self._changed, asyncio.Event()
        if event is not None:
            event.set()

    def _signal_server(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._pulse)

    def _wait(self, predicate: Callable[[], Any], timeout: float, what: Callable[[], str]) -> Any:
        with self._cond:
            result = self._cond.wait_for(predicate, timeout)
            if not result:
                raise TimeoutError(f"timed out after {timeout} s waiting for {what()}")
            return result

    # ---------------------------------------------------------------- test-side API: users and updates

    def user(
        self,
        user_id: int,
        first_name: str = "Lan",
        language_code: str | None = "vi",
        last_name: str | None = None,
        username: str | None = None,
    ) -> FakeUser:
        with self._lock:
            if user_id not in self._users:
                self._users[user_id] = FakeUser(self, user_id, first_name, language_code, last_name, username)
                self._chats.setdefault(user_id, {})
            return self._users[user_id]

    def queue_update(self, payload: dict[str, Any], *, user_id: int | None = None) -> QueuedUpdate:
        """Queue a raw update; ``payload`` is everything but ``update_id`` (e.g. ``{"message": {...}}``)."""
        with self._lock:
            update_id = next(self._update_ids)
            data = {"update_id": update_id, **_json_copy(payload)}
            update = QueuedUpdate(update_id, data, next(self._seq), time.monotonic(), user_id)
            self._pending.append(update)
            self._updates[update_id] = update
            if user_id in self._users:
                self._users[user_id]._cursor = max(self._users[user_id]._cursor, update.seq)
            self._cond.notify_all()
        self._signal_server()
        return update

    def wait_until_consumed(self, update: QueuedUpdate | int, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Return once the bot has fetched the update (getUpdates, or a webhook POST answered 2xx)."""
        update_id = update if isinstance(update, int) else update.update_id

        def done() -> bool:
            if update_id in self._dropped:
                raise AssertionError(
                    f"update {update_id} was dropped ({self._dropped[update_id]}) before the bot got it"
                )
            return update_id in self._consumed

        self._wait(done, timeout, lambda: f"update {update_id} to be consumed")

    def wait_for_long_poll(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Return once a getUpdates request is being held open (the bot is polling and idle)."""
        self._wait(lambda: self._polls_waiting > 0, timeout, lambda: "a getUpdates long poll")

    def is_consumed(self, update: QueuedUpdate | int) -> bool:
        update_id = update if isinstance(update, int) else update.update_id
        with self._lock:
            return update_id in self._consumed

    def pending_updates(self) -> list[QueuedUpdate]:
        """Updates not yet confirmed by the bot (fetched but not confirmed ones included)."""
        with self._lock:
            return list(self._pending)

    # ---------------------------------------------------------------- test-side API: calls and state

    def calls(self, method: str | None = None, *, chat_id: Any = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if self._call_matches(c, method, chat_id, None)]

    @staticmethod
    def _point(after: Any) -> tuple[str, float] | None:
        if after is None:
            return None
        if isinstance(after, QueuedUpdate | Call):
            return ("seq", after.seq)
        if isinstance(after, BotMessage):
            if after.call is None:
                raise ValueError("this BotMessage is not tied to a call; pass a Call, an update or a time")
            return ("seq", after.call.seq)
        if isinstance(after, int | float):
            return ("at", float(after))
        raise TypeError(f"after must be an update, a call, a reply or a time.monotonic() value, not {after!r}")

    @staticmethod
    def _call_matches(call: Call, method: str | None, chat_id: Any, point: tuple[str, float] | None) -> bool:
        if method is not None and method != "*" and call.method != method:
            return False
        if chat_id is not None and call.params.get("chat_id") != chat_id:
            return False
        if point is not None:
            kind, value = point
            if (call.seq if kind == "seq" else call.at) <= value:
                return False
        return True

    def wait_for_calls(
        self,
        method: str | None,
        count: int = 1,
        *,
        chat_id: Any = None,
        after: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> list[Call]:
        """All calls of ``method`` (failed ones too; see ``Call.ok``), once there are at least ``count``.

        ``after`` is a QueuedUpdate, a Call, a reply (BotMessage) or a ``time.monotonic()`` value.
        """
        point = self._point(after)

        def matching() -> list[Call] | None:
            found = [c for c in self._calls if self._call_matches(c, method, chat_id, point)]
            return found if len(found) >= count else None

        def what() -> str:
            seen = [c.method for c in self._calls[-15:]]
            return f"{count} {method} call(s) (chat_id={chat_id}); last calls: {seen}"

        return self._wait(matching, timeout, what)

    def messages(self, chat_id: int, *, include_user: bool = False) -> list[BotMessage]:
        with self._lock:
            chat = self._chats.get(chat_id, {})
            return [
                stored.snapshot()
                for _, stored in sorted(chat.items())
                if not stored.deleted and (include_user or stored.from_bot)
            ]

    def message(self, chat_id: int, message_id: int) -> BotMessage:
        with self._lock:
            stored = self._chats.get(chat_id, {}).get(message_id)
            if stored is None:
                raise LookupError(f"no message {message_id} in chat {chat_id}")
            return stored.snapshot()

    def answered_callbacks(self, user_id: int | None = None) -> list[AnsweredCallback]:
        with self._lock:
            result = []
            for call in self._calls:
                if call.method != "answerCallbackQuery" or not call.ok:
                    continue
                query = self._callbacks.get(str(call.params.get("callback_query_id")))
                if query is None or (user_id is not None and query.user_id != user_id):
                    continue
                result.append(
                    AnsweredCallback(
                        callback_query_id=str(call.params.get("callback_query_id")),
                        data=query.data,
                        message_id=query.message_id,
                        text=call.params.get("text"),
                        show_alert=bool(call.params.get("show_alert", False)),
                        url=call.params.get("url"),
                        cache_time=call.params.get("cache_time"),
                        call=call,
                    )
                )
            return result

    def file(self, file_id: str) -> FileRecord:
        with self._lock:
            return self._files[file_id]

    def commands(self, *, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, str]]:
        with self._lock:
            return _json_copy(self._commands.get(self._scope_key(scope, language_code), []))

    def webhook_info(self) -> dict[str, Any]:
        with self._lock:
            return self._get_webhook_info({})

    def webhook_deliveries(self) -> list[WebhookDelivery]:
        with self._lock:
            return list(self._deliveries)

    def wait_for_webhook_deliveries(self, count: int = 1, *, timeout: float = DEFAULT_TIMEOUT) -> list[WebhookDelivery]:
        """All webhook delivery attempts (failed ones too), once there are at least ``count``."""

        def enough() -> list[WebhookDelivery] | None:
            return list(self._deliveries) if len(self._deliveries) >= count else None

        return self._wait(enough, timeout, lambda: f"{count} webhook deliveries; so far {self._deliveries}")

    # ---------------------------------------------------------------- test-side API: failures

    def fail_next(
        self,
        method: str,
        n: int = 1,
        status: int = 500,
        description: str | None = None,
        retry_after: int | None = None,
        *,
        chat_id: Any = None,
    ) -> None:
        """Answer the next ``n`` calls of ``method`` ("*" = any but getUpdates) with an error."""
        if description is None:
            description = _DEFAULT_DESCRIPTIONS.get(status, "Error")
            if status == 429 and retry_after is not None:
                description = f"Too Many Requests: retry after {retry_after}"
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._lock:
            self._failures.append(_FailureRule(method, n, status, description, retry_after, chat_id))

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()
            self._blocked.clear()
            self._flood_per_second = None

    def block_chat(self, chat_id: int, *, notify: bool = False) -> None:
        """Every send/edit to ``chat_id`` answers 403 from now on; ``notify`` queues a my_chat_member "kicked"."""
        with self._lock:
            self._blocked.add(chat_id)
        if notify:
            self._queue_member_change(chat_id, "member", "kicked")

    def unblock_chat(self, chat_id: int, *, notify: bool = False) -> None:
        with self._lock:
            self._blocked.discard(chat_id)
        if notify:
            self._queue_member_change(chat_id, "kicked", "member")

    def _queue_member_change(self, chat_id: int, old: str, new: str) -> None:
        user = self._users.get(chat_id)
        if user is None:
            raise LookupError(f"no user {chat_id}")
        bot = self._bot_user()
        payload = {
            "my_chat_member": {
                "chat": user.chat_dict(),
                "from": user.as_dict(),
                "date": int(time.time()),
                "old_chat_member": {"status": old, "user": bot},
                "new_chat_member": {"status": new, "user": bot, **({"until_date": 0} if new == "kicked" else {})},
            }
        }
        self.queue_update(payload, user_id=chat_id)

    def flood_limit(self, per_second: int | None = 30) -> None:
        """Answer 429 with retry_after when more than ``per_second`` send* calls arrive within 1 s; None: off."""
        with self._lock:
            self._flood_per_second = per_second
            self._flood_window.clear()

    # ---------------------------------------------------------------- test-side API: webhooks

    def set_webhook_targets(self, urls: Iterable[str] | None, *, secret_token: str | None = None) -> None:
        """Deliver updates round-robin to ``urls`` (overrides the URL the bot set; None or [] clears).

        The secret sent is ``secret_token`` if given, else the one from the bot's last setWebhook.
        """
        with self._lock:
            targets = list(urls or [])
            self._webhook_override = targets or None
            self._webhook_override_secret = secret_token
            self._round_robin = 0
        self._signal_server()

    def _webhook_targets(self) -> list[str]:
        if self._webhook_override:
            return self._webhook_override
        return [self._webhook.url] if self._webhook.url else []

    def _webhook_secret(self) -> str | None:
        if self._webhook_override and self._webhook_override_secret is not None:
            return self._webhook_override_secret
        return self._webhook.secret_token

    # ---------------------------------------------------------------- HTTP

    @staticmethod
    def _json_response(status: int, body: dict[str, Any]) -> web.Response:
        return web.Response(
            status=status,
            body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            content_type="application/json",
        )

    def _error_response(self, error: TelegramAPIError) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": error.status, "description": error.description}
        if error.parameters:
            body["parameters"] = error.parameters
        return self._json_response(error.status, body)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/file/bot"):
            return self._handle_file(path[len("/file/bot") :])
        if not path.startswith("/bot"):
            return self._error_response(TelegramAPIError(404, "Not Found"))
        token, sep, method = path[len("/bot") :].partition("/")
        if not sep or not method or "/" in method:
            return self._error_response(TelegramAPIError(404, "Not Found"))
        name = self._method_names.get(method.lower(), method)
        ctype = request.content_type if request.body_exists else None
        try:
            params = await self._read_params(request)
        except TelegramAPIError as error:
            self._record(name, {}, error.status, description=error.description, content_type=ctype)
            return self._error_response(error)
        if token != self.token:
            error = TelegramAPIError(401, "Unauthorized")
        elif name not in self._handlers:
            error = TelegramAPIError(404, "Not Found")
        else:
            error = None
        if error is not None:
            self._record(name, params, error.status, description=error.description, content_type=ctype)
            return self._error_response(error)
        if name == "getUpdates":
            return await self._get_updates(params, ctype)
        with self._lock:
            try:
                self._check_injected(name, params)
                result, message = self._handlers[name](params), None
                if isinstance(result, _Stored):
                    message = result
                    result = _json_copy(result.raw)
            except TelegramAPIError as failure:
                self._record(name, params, failure.status, description=failure.description, content_type=ctype)
                return self._error_response(failure)
            self._record(name, params, 200, result=result, stored=message, content_type=ctype)
        return self._json_response(200, {"ok": True, "result": result})

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        status: int,
        *,
        result: Any = None,
        description: str | None = None,
        stored: _Stored | None = None,
        content_type: str | None = None,
    ) -> Call:
        with self._lock:
            call = Call(method, params, time.monotonic(), next(self._seq), status, result, description)
            call.content_type = content_type
            if stored is not None:
                call.message = stored.snapshot(method=method, call=call)
            self._calls.append(call)
            self._cond.notify_all()
            return call

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = {k: _decode_form_value(k, v) for k, v in request.query.items()}
        files: dict[str, UploadedFile] = {}
        if request.body_exists:
            ctype = request.content_type
            if ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = UploadedFile(value.filename, value.file.read(), value.content_type, key)
                    else:
                        text = value if isinstance(value, str) else bytes(value).decode("utf-8")
                        params[key] = _decode_form_value(key, text)
            else:
                raw = await request.read()
                if raw.strip():
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        raise _bad("can't parse JSON request body") from None
                    if not isinstance(body, dict):
                        raise _bad("request body must be a JSON object")
                    params.update(body)
        params = _normalize_params(params)
        used: set[str] = set()
        params = {k: _resolve_attachments(v, files, used) for k, v in params.items()}
        for key, upload in files.items():
            if key not in used:
                params[key] = upload
        return params

    def _handle_file(self, rest: str) -> web.Response:
        token, sep, file_path = rest.partition("/")
        if token != self.token:
            return self._error_response(TelegramAPIError(401, "Unauthorized"))
        with self._lock:
            record = next((f for f in self._files.values() if f.file_path == file_path), None)
        if not sep or record is None:
            return self._error_response(TelegramAPIError(404, "Not Found"))
        return web.Response(body=record.content, content_type=record.mime_type or "application/octet-stream")

    # ---------------------------------------------------------------- failure injection

    def _check_injected(self, method: str, params: dict[str, Any]) -> None:
        chat_id = params.get("chat_id")
        for rule in self._failures:
            if rule.remaining <= 0:
                continue
            if rule.method == method or (rule.method == "*" and method != "getUpdates"):
                if rule.chat_id is not None and rule.chat_id != chat_id:
                    continue
                rule.remaining -= 1
                self._failures = [r for r in self._failures if r.remaining > 0]
                parameters = {"retry_after": rule.retry_after} if rule.retry_after is not None else None
                raise TelegramAPIError(rule.status, rule.description, parameters)
        if chat_id is not None and chat_id in self._blocked and method.startswith(("send", "edit", "copy", "forward")):
            raise TelegramAPIError(403, BLOCKED)
        if self._flood_per_second is not None and method.startswith("send") and method != "sendChatAction":
            now = time.monotonic()
            window = self._flood_window
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= self._flood_per_second:
                retry_after = max(1, math.ceil(1.0 - (now - window[0])))
                raise TelegramAPIError(
                    429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
                )
            window.append(now)

    # ---------------------------------------------------------------- getUpdates and webhooks

    async def _get_updates(self, params: dict[str, Any], ctype: str | None = None) -> web.Response:
        try:
            with self._lock:
                self._check_injected("getUpdates", params)
                self._ensure_polling_allowed()
                offset = params.get("offset")
                limit = params.get("limit") or 100
                limit = max(1, min(100, int(limit)))
                timeout = float(params.get("timeout") or 0)
                if isinstance(offset, int) and offset != 0:
                    self._confirm(offset)
                self._set_allowed_updates(params.get("allowed_updates"))
                self._poll_generation += 1
                generation = self._poll_generation
            self._pulse()  # an older long poll is ended with 409, as Telegram does
            loop = asyncio.get_running_loop()
            deadline = loop.time() + max(0.0, timeout)
            while True:
                event = self._changed
                with self._lock:
                    if generation != self._poll_generation:
                        raise TelegramAPIError(
                            409,
                            "Conflict: terminated by other getUpdates request; "
                            "make sure that only one bot instance is running",
                        )
                    self._ensure_polling_allowed()
                    remaining = deadline - loop.time()
                    self._filter_pending()
                    batch = self._pending[:limit]
                    if batch or remaining <= 0 or self._closing:
                        result = [_json_copy(u.data) for u in batch]
                        self._consumed.update(u.update_id for u in batch)
                        self._record("getUpdates", params, 200, result=result, content_type=ctype)
                        return self._json_response(200, {"ok": True, "result": result})
                with self._lock:
                    self._polls_waiting += 1
                    self._cond.notify_all()
                try:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(event.wait(), remaining)
                finally:
                    with self._lock:
                        self._polls_waiting -= 1
        except TelegramAPIError as error:
            self._record("getUpdates", params, error.status, description=error.description, content_type=ctype)
            return self._error_response(error)

    def _ensure_polling_allowed(self) -> None:
        if self._webhook_targets():
            raise TelegramAPIError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
                "webhook first",
            )

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._pending = [u for u in self._pending if u.update_id >= offset]
        else:
            self._pending = self._pending[offset:]

    def _drop_pending(self) -> None:
        for update in self._pending:
            if update.update_id not in self._consumed:
                self._dropped[update.update_id] = "drop_pending_updates"
        self._pending = []
        self._cond.notify_all()

    def _set_allowed_updates(self, allowed: Any) -> None:
        """allowed_updates of getUpdates/setWebhook: a list sets it ([] = the default), absent keeps it."""
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) or None

    def _filter_pending(self) -> None:
        """Drop pending updates of kinds the bot did not ask for, as Telegram does."""
        kept = []
        for update in self._pending:
            if self._allowed_updates is None:
                allowed = update.kind not in ("chat_member", "message_reaction", "message_reaction_count")
            else:
                allowed = update.kind in self._allowed_updates
            if allowed:
                kept.append(update)
            else:
                self._dropped[update.update_id] = f"{update.kind} is not in allowed_updates"
        if len(kept) != len(self._pending):
            self._pending = kept
            self._cond.notify_all()

    async def _webhook_loop(self) -> None:
        failures = 0
        async with ClientSession(timeout=ClientTimeout(total=10)) as session:
            while True:
                event = self._changed
                with self._lock:
                    if self._closing:
                        return
                    targets = self._webhook_targets()
                    if targets:
                        self._filter_pending()
                    update = self._pending[0] if self._pending else None
                    if targets and update is not None:
                        url = targets[self._round_robin % len(targets)]
                        self._round_robin += 1
                        secret = self._webhook_secret()
                if not targets or update is None:
                    await event.wait()
                    continue
                headers = {"Content-Type": "application/json"}
                if secret:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = secret
                status, error = None, None
                try:
                    async with session.post(
                        url, data=json.dumps(update.data, ensure_ascii=False), headers=headers
                    ) as r:
                        status = r.status
                        await r.read()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - any failure is a failed delivery
                    error = f"{type(exc).__name__}: {exc}"
                delivered = status is not None and 200 <= status < 300
                with self._lock:
                    self._deliveries.append(
                        WebhookDelivery(url, update.update_id, status, error, secret, time.monotonic())
                    )
                    if delivered:
                        self._pending = [u for u in self._pending if u is not update]
                        self._consumed.add(update.update_id)
                    else:
                        self._webhook.last_error_date = int(time.time())
                        self._webhook.last_error_message = error or f"Wrong response from the webhook: {status}"
                    self._cond.notify_all()
                if delivered:
                    failures = 0
                    continue
                failures += 1
                event = self._changed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), min(0.05 * 2 ** (failures - 1), 1.0))

    # ---------------------------------------------------------------- method handlers (under the lock)

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_first_name, "username": self.bot_username}

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _close(self, params: dict[str, Any]) -> bool:
        self._closed_by_bot = True
        return True

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url") or ""
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._drop_pending()
        self._set_allowed_updates(params.get("allowed_updates"))
        if not url:
            self._webhook = _Webhook()
        else:
            self._webhook = _Webhook(
                url=url,
                secret_token=secret,
                max_connections=int(params.get("max_connections") or 40),
                allowed_updates=params.get("allowed_updates"),
            )
        self._signal_server()
        return True

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        if params.get("drop_pending_updates"):
            self._drop_pending()
        self._webhook = _Webhook()
        self._signal_server()
        return True

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        targets = self._webhook_targets()
        info: dict[str, Any] = {
            "url": self._webhook.url or (targets[0] if targets else ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if targets:
            info["max_connections"] = self._webhook.max_connections
            if self._webhook.allowed_updates is not None:
                info["allowed_updates"] = self._webhook.allowed_updates
            if self._webhook.last_error_date is not None:
                info["last_error_date"] = self._webhook.last_error_date
                info["last_error_message"] = self._webhook.last_error_message
        return info

    def _chat_dict(self, chat_id: Any) -> dict[str, Any]:
        if isinstance(chat_id, bool) or not isinstance(chat_id, int):
            if chat_id in (None, ""):
                raise _bad("chat_id is empty")
            raise _bad("chat not found")
        user = self._users.get(chat_id)
        if user is None:
            raise _bad("chat not found")
        return user.chat_dict()

    def _get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**self._chat_dict(params.get("chat_id")), "accent_color_id": 0, "max_reaction_count": 11}

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    @staticmethod
    def _check_markup(markup: Any) -> dict[str, Any] | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise _bad("text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not (1 <= len(str(data).encode("utf-8")) <= 64):
                    raise _bad("BUTTON_DATA_INVALID")
                kinds = {"callback_data", "url", "switch_inline_query", "switch_inline_query_current_chat"}
                kinds |= {
                    "web_app",
                    "login_url",
                    "pay",
                    "callback_game",
                    "copy_text",
                    "switch_inline_query_chosen_chat",
                }
                if not kinds & button.keys():
                    raise _bad("text buttons are unallowed in the inline keyboard")
        return markup

    def _store_bot_message(
        self,
        params: dict[str, Any],
        content: dict[str, Any],
        *,
        parse_mode: str | None = None,
        source_text: str | None = None,
        document: FileRecord | None = None,
        photo: FileRecord | None = None,
    ) -> _Stored:
        chat_id = params.get("chat_id")
        chat = self._chat_dict(chat_id)
        markup = self._check_markup(params.get("reply_markup"))
        raw: dict[str, Any] = {
            "message_id": self._new_message_id(chat_id),
            "from": self._bot_user(),
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        reply_to = params.get("reply_to_message_id")
        if isinstance(params.get("reply_parameters"), dict):
            reply_to = params["reply_parameters"].get("message_id")
        if reply_to is not None:
            target = self._chats.get(chat_id, {}).get(reply_to)
            if target is not None and not target.deleted:
                raw["reply_to_message"] = _json_copy(target.raw)
        if _inline_markup(markup):
            raw["reply_markup"] = _json_copy(markup)
        stored = _Stored(raw, True, markup, parse_mode, source_text, document, photo)
        self._chats.setdefault(chat_id, {})[raw["message_id"]] = stored
        return stored

    @staticmethod
    def _formatted(text: Any, parse_mode: Any, entities: Any, *, limit: int, key: str) -> dict[str, Any]:
        if text is None:
            return {}
        plain, found = format_text(str(text), parse_mode, entities)
        if _utf16_len(plain) > limit:
            raise _bad("message is too long" if key == "text" else "message caption is too long")
        content: dict[str, Any] = {key: plain} if plain or key == "text" else {}
        if found and plain:
            content["entities" if key == "text" else "caption_entities"] = found
        return content

    def _send_message(self, params: dict[str, Any]) -> _Stored:
        self._chat_dict(params.get("chat_id"))
        text = params.get("text")
        content = self._formatted(text, params.get("parse_mode"), params.get("entities"), limit=_TEXT_LIMIT, key="text")
        if not content.get("text"):
            raise _bad("message text is empty")
        return self._store_bot_message(params, content, parse_mode=params.get("parse_mode"), source_text=text)

    def _find_editable(self, params: dict[str, Any]) -> _Stored | None:
        if params.get("inline_message_id"):
            return None
        chat_id = params.get("chat_id")
        self._chat_dict(chat_id)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise _bad("message identifier is not specified")
        stored = self._chats.get(chat_id, {}).get(message_id)
        if stored is None or stored.deleted:
            raise _bad("message to edit not found")
        if not stored.from_bot:
            raise _bad("message can't be edited")
        return stored

    def _apply_edit(self, stored: _Stored, content: dict[str, Any], markup: dict[str, Any] | None, params) -> _Stored:
        """Set ``content`` (a value of None removes the key) and the inline keyboard, as Telegram edits do."""
        keys = ("text", "entities", "caption", "caption_entities")
        current = {k: stored.raw.get(k) for k in keys}
        merged = {**current, **content}
        if (current, _inline_markup(stored.markup)) == (merged, _inline_markup(markup)):
            raise _bad(NOT_MODIFIED[len("Bad Request: ") :])
        for key in keys:
            if merged[key] is None:
                stored.raw.pop(key, None)
            else:
                stored.raw[key] = merged[key]
        stored.markup = markup
        if _inline_markup(markup):
            stored.raw["reply_markup"] = _json_copy(markup)
        else:
            stored.raw.pop("reply_markup", None)
        stored.raw["edit_date"] = int(time.time())
        if content:
            stored.parse_mode = params.get("parse_mode")
            stored.source_text = params.get("text", params.get("caption"))
        return stored

    def _edit_markup_param(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = self._check_markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad("inline keyboard expected")
        return markup

    def _edit_message_text(self, params: dict[str, Any]) -> _Stored | bool:
        stored = self._find_editable(params)
        content = self._formatted(
            params.get("text"), params.get("parse_mode"), params.get("entities"), limit=_TEXT_LIMIT, key="text"
        )
        if not content.get("text"):
            raise _bad("message text is empty")
        markup = self._edit_markup_param(params)
        if stored is None:
            return True
        if "text" not in stored.raw:
            raise _bad("there is no text in the message to edit")
        content.setdefault("entities", None)
        return self._apply_edit(stored, content, markup, params)

    def _edit_message_caption(self, params: dict[str, Any]) -> _Stored | bool:
        stored = self._find_editable(params)
        content = self._formatted(
            params.get("caption", ""),
            params.get("parse_mode"),
            params.get("caption_entities"),
            limit=_CAPTION_LIMIT,
            key="caption",
        )
        markup = self._edit_markup_param(params)
        if stored is None:
            return True
        if "text" in stored.raw:
            raise _bad("there is no caption in the message to edit")
        content.setdefault("caption", None)
        content.setdefault("caption_entities", None)
        return self._apply_edit(stored, content, markup, params)

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> _Stored | bool:
        stored = self._find_editable(params)
        markup = self._edit_markup_param(params)
        if stored is None:
            return True
        return self._apply_edit(stored, {}, markup, params)

    def _delete_message(self, params: dict[str, Any]) -> bool:
        chat_id = params.get("chat_id")
        self._chat_dict(chat_id)
        stored = self._chats.get(chat_id, {}).get(params.get("message_id"))
        if stored is None or stored.deleted:
            raise _bad("message to delete not found")
        stored.deleted = True
        return True

    def _delete_messages(self, params: dict[str, Any]) -> bool:
        chat_id = params.get("chat_id")
        self._chat_dict(chat_id)
        for message_id in params.get("message_ids") or []:
            stored = self._chats.get(chat_id, {}).get(message_id)
            if stored is not None:
                stored.deleted = True
        return True

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query = self._callbacks.get(str(params.get("callback_query_id")))
        if query is None or query.answered:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        query.answered = True
        return True

    @staticmethod
    def _scope_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad('parameter "commands" is required')
        if len(commands) > 100:
            raise _bad("too many commands")
        cleaned = []
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            description = str(command.get("description", "")) if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        self._commands[self._scope_key(params.get("scope"), params.get("language_code"))] = cleaned
        return True

    def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        return _json_copy(self._commands.get(self._scope_key(params.get("scope"), params.get("language_code")), []))

    def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self._commands.pop(self._scope_key(params.get("scope"), params.get("language_code")), None)
        return True

    def _register_file(self, content: bytes, filename: str | None, mime_type: str | None, folder: str) -> FileRecord:
        number = next(self._file_counter)
        extension = ""
        if filename and "." in filename:
            extension = "." + filename.rsplit(".", 1)[1]
        elif folder == "photos":
            extension = ".jpg"
        record = FileRecord(
            file_id=f"FAKE-{folder[:3].upper()}-{number:06d}-{self.bot_id}",
            file_unique_id=f"U{number:06d}",
            content=bytes(content),
            filename=filename,
            mime_type=mime_type,
            file_path=f"{folder}/file_{number}{extension}",
        )
        self._files[record.file_id] = record
        return record

    def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        record = self._files.get(str(params.get("file_id")))
        if record is None:
            raise _bad("invalid file_id")
        return {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": record.file_size,
            "file_path": record.file_path,
        }

    def _input_file(self, value: Any, folder: str, field_name: str) -> FileRecord:
        if isinstance(value, UploadedFile):
            if not value.content:
                raise _bad("file must be non-empty")
            return self._register_file(value.content, value.filename, value.mime_type, folder)
        if isinstance(value, str) and value:
            if value in self._files:
                return self._files[value]
            if value.startswith(("http://", "https://")):
                raise _bad("failed to get HTTP URL content")
            raise _bad("wrong file identifier/HTTP URL specified")
        raise _bad(f"there is no {field_name} in the request")

    def _caption_content(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._formatted(
            params.get("caption"),
            params.get("parse_mode"),
            params.get("caption_entities"),
            limit=_CAPTION_LIMIT,
            key="caption",
        )

    def _send_document(self, params: dict[str, Any]) -> _Stored:
        self._chat_dict(params.get("chat_id"))
        caption = self._caption_content(params)
        record = self._input_file(params.get("document"), "documents", "document")
        document = {"file_id": record.file_id, "file_unique_id": record.file_unique_id, "file_size": record.file_size}
        if record.filename:
            document["file_name"] = record.filename
        if record.mime_type:
            document["mime_type"] = record.mime_type
        return self._store_bot_message(
            params,
            {"document": document, **caption},
            parse_mode=params.get("parse_mode"),
            source_text=params.get("caption"),
            document=record,
        )

    def _photo_sizes(self, record: FileRecord) -> list[dict[str, Any]]:
        width, height = _image_size(record.content)
        full = {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": record.file_size,
            "width": width,
            "height": height,
        }
        if max(width, height) <= 90:
            return [full]
        scale = 90 / max(width, height)
        thumb_record = self._register_file(record.content, record.filename, record.mime_type, "photos")
        thumb = {
            "file_id": thumb_record.file_id,
            "file_unique_id": thumb_record.file_unique_id,
            "file_size": thumb_record.file_size,
            "width": max(1, round(width * scale)),
            "height": max(1, round(height * scale)),
        }
        return [thumb, full]

    def _send_photo(self, params: dict[str, Any]) -> _Stored:
        self._chat_dict(params.get("chat_id"))
        caption = self._caption_content(params)
        record = self._input_file(params.get("photo"), "photos", "photo")
        return self._store_bot_message(
            params,
            {"photo": self._photo_sizes(record), **caption},
            parse_mode=params.get("parse_mode"),
            source_text=params.get("caption"),
            photo=record,
        )

    def _send_chat_action(self, params: dict[str, Any]) -> bool:
        self._chat_dict(params.get("chat_id"))
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    # ---------------------------------------------------------------- user-side helpers (called by FakeUser)

    def _user_message(self, user: FakeUser, content: dict[str, Any]) -> QueuedUpdate:
        with self._lock:
            raw = {
                "message_id": self._new_message_id(user.id),
                "from": user.as_dict(),
                "chat": user.chat_dict(),
                "date": int(time.time()),
                **content,
            }
            self._chats.setdefault(user.id, {})[raw["message_id"]] = _Stored(raw, False)
            return self.queue_update({"message": raw}, user_id=user.id)

    def _callback(self, user: FakeUser, button_text: str | None, data: str | None, message_id: int | None):
        with self._lock:
            chat = self._chats.get(user.id, {})
            if message_id is None:
                candidates = [s for _, s in sorted(chat.items()) if s.from_bot and not s.deleted]
                with_keyboard = [s for s in candidates if _inline_markup(s.markup)]
                pool = with_keyboard or (candidates if data is not None else [])
                if not pool:
                    raise LookupError(f"chat {user.id} has no bot message with an inline keyboard")
                stored = pool[-1]
            else:
                stored = chat.get(message_id)
                if stored is None or stored.deleted:
                    raise LookupError(f"no message {message_id} in chat {user.id}")
            if data is None:
                if button_text is None:
                    raise ValueError("press() needs a button text or data=")
                data = stored.snapshot().callback_data(button_text)
            elif button_text is not None:
                raise ValueError("pass either a button text or data=, not both")
            query_id = f"{user.id}{next(self._callback_counter):08d}"
            self._callbacks[query_id] = _CallbackQuery(user.id, user.id, stored.raw["message_id"], data)
            payload = {
                "callback_query": {
                    "id": query_id,
                    "from": user.as_dict(),
                    "message": _json_copy(stored.raw),
                    "chat_instance": str(-(abs(user.id) * 7919 % 10**18) - 1),
                    "data": data,
                }
            }
            return self.queue_update(payload, user_id=user.id)

    def _wait_for_reply(
        self,
        user: FakeUser,
        after: Any,
        timeout: float,
        methods: Iterable[str] | None,
        match: str | Callable[[BotMessage], bool] | None,
    ) -> BotMessage:
        wanted = frozenset(methods) if methods is not None else REPLY_METHODS
        with self._lock:
            point = self._point(after) if after is not None else ("seq", user._cursor)

        def accepts(message: BotMessage) -> bool:
            if match is None:
                return True
            if callable(match):
                return bool(match(message))
            return match in (message.text or "")

        def find() -> BotMessage | None:
            for call in self._calls:
                if (
                    call.ok
                    and call.message is not None
                    and call.method in wanted
                    and call.params.get("chat_id") == user.id
                    and self._call_matches(call, None, None, point)
                    and accepts(call.message)
                ):
                    return call.message
            return None

        def what() -> str:
            sent = [(c.method, (c.message.text if c.message else None)) for c in self._calls if c.chat_id == user.id]
            return f"a reply to user {user.id} (match={match!r}); bot calls to this chat: {sent[-10:]}"

        reply = self._wait(find, timeout, what)
        with self._lock:
            user._cursor = max(user._cursor, reply.call.seq)
        return reply


class FakeUser:
    """A Telegram user in a private chat with the bot (chat id = user id)."""

    def __init__(
        self,
        fake: FakeTelegram,
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
        self._cursor = 0

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

    # ---------------------------------------------------------------- sending

    def send_text(self, text: str) -> QueuedUpdate:
        return self.fake._user_message(self, {"text": text})

    def send_command(self, text: str) -> QueuedUpdate:
        """``"/start abc123"``: a message with a bot_command entity over the leading ``/command``."""
        if not text.startswith("/"):
            raise ValueError("a command starts with '/'")
        command = text.split(None, 1)[0]
        entity = {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
        return self.fake._user_message(self, {"text": text, "entities": [entity]})

    def press(
        self, button_text: str | None = None, *, data: str | None = None, message_id: int | None = None
    ) -> QueuedUpdate:
        """Press an inline button (by its text) or send arbitrary callback ``data``.

        The message is ``message_id``, or the latest bot message in the chat with an inline keyboard.
        """
        return self.fake._callback(self, button_text, data, message_id)

    def send_document(
        self,
        filename: str,
        content: bytes,
        mime_type: str = "application/octet-stream",
        *,
        caption: str | None = None,
    ) -> QueuedUpdate:
        with self.fake._lock:
            record = self.fake._register_file(content, filename, mime_type, "documents")
        document = {
            "file_name": filename,
            "mime_type": mime_type,
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": record.file_size,
        }
        return self.fake._user_message(self, {"document": document, **({"caption": caption} if caption else {})})

    def send_photo(self, content: bytes, *, caption: str | None = None) -> QueuedUpdate:
        with self.fake._lock:
            record = self.fake._register_file(content, None, "image/jpeg", "photos")
            sizes = self.fake._photo_sizes(record)
        return self.fake._user_message(self, {"photo": sizes, **({"caption": caption} if caption else {})})

    def send_sticker(self, emoji: str = "👍") -> QueuedUpdate:
        with self.fake._lock:
            record = self.fake._register_file(b"RIFF\x00\x00\x00\x00WEBPVP8 ", "sticker.webp", "image/webp", "stickers")
        sticker = {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": record.file_size,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self.fake._user_message(self, {"sticker": sticker})

    def send_voice(self, content: bytes = b"OggS\x00\x02fake-voice", duration: int = 2) -> QueuedUpdate:
        with self.fake._lock:
            record = self.fake._register_file(content, "voice.oga", "audio/ogg", "voice")
        voice = {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": record.file_size,
            "duration": duration,
            "mime_type": "audio/ogg",
        }
        return self.fake._user_message(self, {"voice": voice})

    def send_location(self, latitude: float = 21.0285, longitude: float = 105.8542) -> QueuedUpdate:
        return self.fake._user_message(self, {"location": {"latitude": latitude, "longitude": longitude}})

    def send_contact(self, phone_number: str, *, first_name: str | None = None, own: bool = True) -> QueuedUpdate:
        contact: dict[str, Any] = {"phone_number": phone_number, "first_name": first_name or self.first_name}
        if own:
            contact["user_id"] = self.id
        return self.fake._user_message(self, {"contact": contact})

    def block(self, *, notify: bool = False) -> None:
        self.fake.block_chat(self.id, notify=notify)

    def unblock(self, *, notify: bool = False) -> None:
        self.fake.unblock_chat(self.id, notify=notify)

    # ---------------------------------------------------------------- looking

    def wait_for_reply(
        self,
        after_update: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        methods: Iterable[str] | None = None,
        match: str | Callable[[BotMessage], bool] | None = None,
    ) -> BotMessage:
        """The next bot message to this chat (sendMessage, editMessageText, sendDocument, sendPhoto).

        "Next" is after ``after_update`` if given, else after this user's latest update or the reply
        this method last returned, whichever is later. ``match`` (a substring of the text, or a
        predicate) skips replies that do not fit. Returns the message as it was right after that call.
        """
        return self.fake._wait_for_reply(self, after_update, timeout, methods, match)

    def messages(self, *, include_user: bool = False) -> list[BotMessage]:
        """The chat's current bot messages (after edits, without deleted ones), oldest first."""
        return self.fake.messages(self.id, include_user=include_user)

    def last_message(self) -> BotMessage | None:
        messages = self.messages()
        return messages[-1] if messages else None

    def answered_callbacks(self) -> list[AnsweredCallback]:
        return self.fake.answered_callbacks(self.id)


# --------------------------------------------------------------------------------------------------
# Running a PTB Application in a background thread
# --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def run_application(
    app: Any,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    webhook: dict[str, Any] | None = None,
    **polling_kwargs: Any,
) -> Iterator[Any]:
    """Run a python-telegram-bot ``Application`` in a background thread while the block runs.

    It polls (``polling_kwargs`` go to ``updater.start_polling``), or with ``webhook=`` (keyword
    arguments of ``updater.start_webhook``) runs PTB's webhook server instead.
    """
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}
    polling_kwargs = {"poll_interval": 0.0, "timeout": 5, **polling_kwargs}

    async def main() -> None:
        holder["stop"] = asyncio.Event()
        async with app:
            if app.post_init is not None:  # as Application.run_polling/run_webhook do
                await app.post_init(app)
            await app.start()
            try:
                if webhook is not None:
                    await app.updater.start_webhook(**webhook)
                else:
                    await app.updater.start_polling(**polling_kwargs)
                try:
                    ready.set()
                    await holder["stop"].wait()
                finally:
                    await app.updater.stop()
            finally:
                await app.stop()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(main())
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            holder["error"] = exc
        finally:
            ready.set()

    thread = threading.Thread(target=run, name="ptb-application", daemon=True)
    thread.start()
    if not ready.wait(timeout):
        raise TimeoutError("the application did not start")
    if "error" in holder:
        thread.join(timeout)
        loop.close()
        raise holder["error"]
    try:
        yield app
    finally:
        loop.call_soon_threadsafe(holder["stop"].set)
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError("the application did not stop")
        loop.close()
        if "error" in holder:
            raise holder["error"]
