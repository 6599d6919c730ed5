"""What one chat saw: each thing the person did, and the bot's messages that answered it.

A :class:`Chat` wraps a :class:`~bot.demo.fake_telegram.FakeUser`; every action waits for the bot's
reply and, when the chat is recorded, keeps the bot's messages (new ones and edits) as the fake
received them. :func:`trimmed` keeps the exchanges worth reading and counts the ones left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.demo.fake_telegram import REPLY_METHODS, BotMessage, Call, FakeTelegram, FakeUser, QueuedUpdate


@dataclass(frozen=True)
class Said:
    """What the person did: ``kind`` is start, command, text, press or document."""

    kind: str
    text: str


@dataclass(frozen=True)
class Shown:
    """One bot message as the person saw it."""

    text: str
    buttons: list[list[str]]
    edited: bool = False
    document: str | None = None
    photo: bool = False


@dataclass
class Exchange:
    """An action and its replies, or (``said`` None) messages the bot sent on its own at ``at``."""

    said: Said | None
    shown: list[Shown]
    tag: str
    at: datetime | None = None


@dataclass(frozen=True)
class Gap:
    """Exchanges left out of a transcript."""

    count: int


def shown_of(call: Call) -> Shown:
    message = call.message
    return Shown(
        message.text or "",
        [[text for text, _ in row] for row in message.buttons],
        edited=call.method.startswith("edit"),
        document=message.document.filename if message.document else None,
        photo=message.photo is not None,
    )


@dataclass
class Chat:
    fake: FakeTelegram
    user: FakeUser
    record: bool = False
    exchanges: list[Exchange] = field(default_factory=list)

    def act(
        self,
        said: Said,
        send: Callable[[FakeUser], QueuedUpdate],
        until: str | Callable[[BotMessage], bool] | None = None,
        tag: str = "answer",
    ) -> BotMessage:
        """Do ``said`` and return the bot's reply that matches ``until`` (any reply if None)."""
        update = send(self.user)
        reply = self.user.wait_for_reply(after_update=update, match=until)
        if self.record:
            calls = self.calls(update.seq, reply.call.seq)
            self.exchanges.append(Exchange(said, [shown_of(c) for c in calls], tag))
        return reply

    def pushed(self, since: int, at: datetime, tag: str) -> list[Shown]:
        """The messages the bot sent on its own after call number ``since`` (see :meth:`mark`)."""
        shown = [shown_of(c) for c in self.calls(since)]
        if shown and self.record:
            self.exchanges.append(Exchange(None, shown, tag, at))
        return shown

    def mark(self) -> int:
        calls = self.fake.calls(chat_id=self.user.id)
        return calls[-1].seq if calls else 0

    def calls(self, after: int, until: int | None = None) -> list[Call]:
        return [
            c
            for c in self.fake.calls(chat_id=self.user.id)
            if c.ok and c.message is not None and c.method in REPLY_METHODS and after < c.seq <= (until or c.seq)
        ]


def trimmed(exchanges: list[Exchange], keep: Callable[[int, Exchange], bool]) -> list[Exchange | Gap]:
    """The exchanges ``keep`` chooses, with a :class:`Gap` where others were left out."""
    result: list[Exchange | Gap] = []
    left_out = 0
    for index, exchange in enumerate(exchanges):
        if not keep(index, exchange):
            left_out += 1
            continue
        if left_out:
            result.append(Gap(left_out))
            left_out = 0
        result.append(exchange)
    if left_out:
        result.append(Gap(left_out))
    return result


def highlights(exchanges: list[Exchange], first: int = 2) -> list[Exchange | Gap]:
    """A contact's chat made readable: the start, the first answers, every mistake and its fix,
    the last answer and the submission; then, if indicators came back for correction, the notice,
    the corrected answers and the resubmission."""
    answers = [i for i, e in enumerate(exchanges) if e.tag == "answer"]
    shown = set(answers[:first] + answers[-1:])
    always = ("start", "mistake", "fix", "submit", "returned", "correction")
    return trimmed(exchanges, lambda i, e: e.tag in always or i in shown)
