"""The Bot API methods the bot calls, each a function of the state and the decoded parameters.

They run under the state's lock and answer as Telegram does, with Telegram's wording when they
refuse (400 Bad Request: ...). getUpdates waits, so it lives in the server. Text is taken as plain
text: the bot sends no ``parse_mode`` or entities, and the fake refuses both rather than guess.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable
from typing import Any

from bot.demo.fake_telegram.records import FileRecord, UploadedFile, bad_request
from bot.demo.fake_telegram.state import FakeState, Stored, Webhook, menu_key
from bot.demo.fake_telegram.users import image_size

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a current "
    "content and reply markup of the message"
)
_TEXT_LIMIT = 4096
_CAPTION_LIMIT = 1024


def _plain(params: dict[str, Any], key: str, limit: int) -> str:
    """The text (or caption) as the user sees it: stripped, at most ``limit`` UTF-16 code units."""
    if params.get("parse_mode") or params.get("entities") or params.get("caption_entities"):
        raise bad_request("this fake takes plain text only (no parse_mode, no entities)")
    text = str(params.get(key) or "").strip()
    if len(text.encode("utf-16-le")) // 2 > limit:
        raise bad_request("message is too long" if key == "text" else "message caption is too long")
    return text


def _markup(params: dict[str, Any]) -> dict[str, Any] | None:
    """The inline keyboard of ``reply_markup`` (None without one), checked as Telegram checks it."""
    markup = params.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        raise bad_request("this fake takes inline keyboards only")
    for row in markup["inline_keyboard"]:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request("text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")
            if data is None and "url" not in button:
                raise bad_request("text buttons are unallowed in the inline keyboard")
    return markup if markup["inline_keyboard"] else None


def get_me(state: FakeState, params: dict[str, Any]) -> dict[str, Any]:
    return {**state.bot_user(), "can_join_groups": True, "supports_inline_queries": False}


def set_webhook(state: FakeState, params: dict[str, Any]) -> bool:
    secret = params.get("secret_token")
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
        raise bad_request("secret token contains unallowed characters")
    state.webhook = Webhook(params.get("url") or "", secret)
    state.wake_server()
    return True


def delete_webhook(state: FakeState, params: dict[str, Any]) -> bool:
    state.webhook = Webhook()
    state.wake_server()
    return True


def send_message(state: FakeState, params: dict[str, Any]) -> Stored:
    chat_id = params.get("chat_id")
    state.chat(chat_id)
    text = _plain(params, "text", _TEXT_LIMIT)
    if not text:
        raise bad_request("message text is empty")
    return state.store(chat_id, {"text": text}, _markup(params))


def _edit(state: FakeState, params: dict[str, Any], text: str | None) -> Stored:
    """Set the text (None keeps it) and the inline keyboard (none given: none kept), as Telegram edits do."""
    chat_id, message_id = params.get("chat_id"), params.get("message_id")
    state.chat(chat_id)
    if not isinstance(message_id, int):
        raise bad_request("message identifier is not specified")
    stored = state.stored(chat_id, message_id)
    if stored is None:
        raise bad_request("message to edit not found")
    if text is not None and "text" not in stored.raw:
        raise bad_request("there is no text in the message to edit")
    markup = _markup(params)
    if text in (None, stored.raw.get("text")) and markup == stored.markup:
        raise bad_request(NOT_MODIFIED)
    if text is not None:
        stored.raw["text"] = text
    stored.markup = markup
    if markup is None:
        stored.raw.pop("reply_markup", None)
    else:
        stored.raw["reply_markup"] = copy.deepcopy(markup)
    stored.raw["edit_date"] = int(time.time())
    return stored


def edit_message_text(state: FakeState, params: dict[str, Any]) -> Stored:
    text = _plain(params, "text", _TEXT_LIMIT)
    if not text:
        raise bad_request("message text is empty")
    return _edit(state, params, text)


def edit_message_reply_markup(state: FakeState, params: dict[str, Any]) -> Stored:
    return _edit(state, params, None)


def answer_callback_query(state: FakeState, params: dict[str, Any]) -> bool:
    query = state.callbacks.get(str(params.get("callback_query_id")))
    if query is None or query.answered:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    if len(str(params.get("text") or "")) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answered = True
    return True


def set_my_commands(state: FakeState, params: dict[str, Any]) -> bool:
    commands = params.get("commands")
    if not isinstance(commands, list):
        raise bad_request('parameter "commands" is required')
    if len(commands) > 100:
        raise bad_request("too many commands")
    menu = []
    for command in commands:
        name, description = str(command.get("command", "")), str(command.get("description", ""))
        if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        menu.append({"command": name, "description": description})
    state.menus[menu_key(params.get("scope"), params.get("language_code"))] = menu
    return True


def get_file(state: FakeState, params: dict[str, Any]) -> dict[str, Any]:
    record = state.files.get(str(params.get("file_id")))
    if record is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": record.file_id,
        "file_unique_id": record.file_unique_id,
        "file_size": record.file_size,
        "file_path": record.file_path,
    }


def _input_file(state: FakeState, params: dict[str, Any], field: str, folder: str) -> FileRecord:
    """The file sent as ``field``: an upload, or the file_id of a file the fake has."""
    value = params.get(field)
    if isinstance(value, UploadedFile):
        if not value.content:
            raise bad_request("file must be non-empty")
        return state.register_file(value.content, value.filename, value.mime_type, folder)
    if isinstance(value, str) and value in state.files:
        return state.files[value]
    raise bad_request(
        f"there is no {field} in the request" if not value else "wrong file identifier/HTTP URL specified"
    )


def _with_caption(params: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
    caption = _plain(params, "caption", _CAPTION_LIMIT)
    return {**content, "caption": caption} if caption else content


def send_document(state: FakeState, params: dict[str, Any]) -> Stored:
    chat_id = params.get("chat_id")
    state.chat(chat_id)
    record = _input_file(state, params, "document", "documents")
    document = {"file_id": record.file_id, "file_unique_id": record.file_unique_id, "file_size": record.file_size}
    if record.filename:
        document["file_name"] = record.filename
    if record.mime_type:
        document["mime_type"] = record.mime_type
    return state.store(chat_id, _with_caption(params, {"document": document}), _markup(params), document=record)


def send_photo(state: FakeState, params: dict[str, Any]) -> Stored:
    chat_id = params.get("chat_id")
    state.chat(chat_id)
    record = _input_file(state, params, "photo", "photos")
    width, height = image_size(record.content)
    size = {"file_id": record.file_id, "file_unique_id": record.file_unique_id, "file_size": record.file_size}
    content = {"photo": [{**size, "width": width, "height": height}]}
    return state.store(chat_id, _with_caption(params, content), _markup(params), photo=record)


#: The methods the fake answers (besides getUpdates), by their Bot API name.
METHODS: dict[str, Callable[[FakeState, dict[str, Any]], Any]] = {
    "getMe": get_me,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "sendMessage": send_message,
    "editMessageText": edit_message_text,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "answerCallbackQuery": answer_callback_query,
    "setMyCommands": set_my_commands,
    "getFile": get_file,
    "sendDocument": send_document,
    "sendPhoto": send_photo,
}
