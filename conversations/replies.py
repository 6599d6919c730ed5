"""What a dialogue answers with, independent of Telegram: messages, buttons, notices.

A :class:`Reply` names a template and its context; the bot renders it in the
user's language and sends it (or edits an earlier message). Button labels are
either rubric text (an option's label) or a template key rendered the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Button:
    data: str
    label: str | None = None  # literal text, e.g. an option's label from the rubric
    key: str | None = None  # a macro of buttons.j2, e.g. "back"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Reply:
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    buttons: list[list[Button]] = field(default_factory=list)
    edit_message_id: int | None = None  # edit this message instead of sending a new one
    prompt_token: str | None = None  # the sent message becomes the contact's current prompt
    download: tuple[int, str, str | None] | None = None  # (evidence id, Telegram file_id, file name) to save
    document: tuple[str, bytes] | None = None  # (file name, content) sent as a document, the text its caption
    chart: tuple[str, Any] | None = None  # (kind, report) drawn as a PNG and sent as a photo, the text its caption


@dataclass
class Outcome:
    """The replies to one update, and the short notice that answers a button press."""

    replies: list[Reply] = field(default_factory=list)
    notice: str | None = None  # a key of notices.j2
    menu: str | None = None  # "coordinator": give this chat the coordinator's command menu

    def add(self, reply: Reply) -> Outcome:
        self.replies.append(reply)
        return self
