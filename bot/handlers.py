"""How Telegram reaches the dialogues: PTB handlers that turn updates into dialogue calls and
send the replies back.

Database work runs in a worker thread so the event loop keeps serving other
users; :class:`PerUserUpdateProcessor` keeps each user's updates in order.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import unicodedata
from pathlib import Path

from pathvalidate import sanitize_filename
from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import BaseUpdateProcessor, ContextTypes

from bot.charts import bands_chart, totals_chart
from bot.log_throttle import FailureLog
from bot.rendering import MENUS, command_menu, keyboard_of, notice_of, text_of
from bot.texts import language_of, render
from common.errors import Refused
from common.settings import Settings
from conversations.contact_dialogue import ContactDialogue, Upload
from conversations.coordinator_dialogue import CoordinatorDialogue
from conversations.replies import Outcome, Reply
from conversations.situation import Person

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 4096  # Telegram's longest message; only a forged webhook request sends more
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # the Bot API's getFile limit: a larger file cannot be fetched at all


def evidence_type(file_name: str | None, mime_type: str | None, allowed: frozenset[str]) -> bool:
    """Whether a document is a kind of file evidence can be: its name's extension is allowed, or, for a file
    without one, an extension its MIME type is known by."""
    name = file_name or ""
    if "." in name:
        return name.rpartition(".")[2].lower() in allowed
    known = {extension.lstrip(".") for extension in mimetypes.guess_all_extensions((mime_type or "").lower())}
    return bool(known & allowed)


def stored_name(file_name: str | None, evidence_id: int) -> str:
    """The file's original name as it is safe to store: no folders, no characters a file system refuses
    or a shell or spreadsheet treats specially, no leading dot, Unicode in NFC (the Vietnamese letters
    kept); a name nothing is left of becomes ``minh-chung-<id>``."""
    name = unicodedata.normalize("NFC", file_name or "").replace("/", " ").replace("\\", " ")
    name = sanitize_filename(name, platform="universal").lstrip(".=+-@ ").strip()
    return name[:150] or f"minh-chung-{evidence_id}"


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Updates of different users run concurrently; one user's updates run one after another."""

    def __init__(self, max_concurrent_updates: int = 64):
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}

    async def do_process_update(self, update: object, coroutine) -> None:
        user = update.effective_user.id if isinstance(update, Update) and update.effective_user else 0
        lock = self._locks.setdefault(user, asyncio.Lock())
        try:
            async with lock:
                await coroutine
        finally:
            if not lock.locked() and self._locks.get(user) is lock:
                del self._locks[user]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def draw(kind: str, data, lang: str) -> bytes:
    """The PNG of a coordinator's chart reply: totals within a level, or bands per level."""
    return bands_chart(data, lang=lang) if kind == "bands" else totals_chart(data, lang=lang)


def person(update: Update) -> Person:
    user = update.effective_user
    return Person(
        user.id,
        update.effective_chat.id if update.effective_chat else user.id,
        user.full_name,
        user.language_code,
        update.update_id,
    )


COORDINATOR_COMMANDS = {
    "tinhhinh": "status",
    "progress": "status",
    "diem": "scores",
    "scores": "scores",
    "donvi": "agency",
    "agency": "agency",
    "thamdinh": "verify",
    "verify": "verify",
    "xacnhan": "confirm",
    "confirm": "confirm",
    "dieuchinh": "adjust",
    "adjust": "adjust",
    "tralai": "return",
    "return": "return",
    "bieudo": "chart",
    "chart": "chart",
    "xuat": "export",
    "export": "export",
    "nhacnho": "remind",
    "remind": "remind",
    "muctieu": "targets",
    "targets": "targets",
    "traloi": "reply",
    "reply": "reply",
    "congbo": "publish",
    "publish": "publish",
}


class Handlers:
    def __init__(
        self,
        dialogue: ContactDialogue,
        coordinators: CoordinatorDialogue,
        zone: str,
        evidence_dir: Path | None = None,
        *,
        inline_steps: bool = False,
        failures: FailureLog | None = None,
        evidence_extensions: frozenset[str] = Settings().evidence_extensions,
    ):
        self.failures = failures or FailureLog()
        self.failures.logger = self.failures.logger or log
        self.dialogue = dialogue
        self.coordinators = coordinators
        self.zone = zone
        self.evidence_dir = evidence_dir
        self.inline_steps = inline_steps
        self.evidence_extensions = evidence_extensions

    async def run(self, fn, *args):
        """Work that may take long (a coordinator's report, a chart) runs on a thread."""
        return await asyncio.to_thread(fn, *args)

    async def step(self, fn, *args):
        """A contact's step: a few milliseconds of one transaction. Where the database serialises its
        writes in this process anyway (SQLite), it runs on the event loop: a thread would only add the
        hand-overs of the interpreter lock (measured: 101 → 147 answers/s, p50 168 → 98 ms, in
        bench/conversation_bench.py). On a server database it runs on a thread, so a round trip to the
        server never holds up the loop."""
        return fn(*args) if self.inline_steps else await asyncio.to_thread(fn, *args)

    def oversized(self, update: Update) -> Refused | None:
        """What is wrong with the update's size or type, checked before any work: a text over Telegram's
        limit, a file over what the Bot API lets the bot fetch, or a document no evidence can be."""
        message = update.effective_message
        text = (message.text or message.caption or "") if message else ""
        if len(text) > MAX_TEXT_CHARS:
            return Refused("message_too_long", length=len(text), limit=MAX_TEXT_CHARS)
        upload = (message.document or (message.photo[-1] if message.photo else None)) if message else None
        if upload is not None and (upload.file_size or 0) > MAX_UPLOAD_BYTES:
            name = getattr(upload, "file_name", None) or f"photo-{upload.file_unique_id}.jpg"
            return Refused("upload_too_large", name=name, size=upload.file_size, limit=MAX_UPLOAD_BYTES)
        document = message.document if message else None
        if document is not None and not evidence_type(document.file_name, document.mime_type, self.evidence_extensions):
            return Refused("upload_wrong_type", name=document.file_name or "", allowed=sorted(self.evidence_extensions))
        if message is not None and message.photo and not {"jpg", "jpeg"} & self.evidence_extensions:
            return Refused("upload_wrong_type", name="", allowed=sorted(self.evidence_extensions))
        return None

    async def refused_at_once(self, update: Update) -> bool:
        """Refuse an oversized update in one sentence (True), with no database work; False to go on."""
        refused = self.oversized(update)
        if refused is not None:
            await self.deliver(update, person(update), Outcome([Reply("refusal", {"refused": refused})]))
        return refused is not None

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if await self.refused_at_once(update):
            return
        token = context.args[0] if context.args else None
        who = person(update)
        await self.deliver(update, who, await self.step(self.dialogue.start, who, token))

    async def command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if await self.refused_at_once(update):
            return
        text = update.effective_message.text or ""
        name = text.split()[0].lstrip("/").split("@")[0].lower()
        argument = " ".join(context.args or [])
        who = person(update)
        await self.deliver(update, who, await self.step(self.dialogue.command, who, name, argument))

    async def coordinator_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if await self.refused_at_once(update):
            return
        name = (update.effective_message.text or "").split()[0].lstrip("/").split("@")[0].lower()
        who, argument, dialogue = person(update), " ".join(context.args or []), self.coordinators
        calls = {
            "status": lambda: dialogue.status(who),
            "scores": lambda: dialogue.scores(who, argument or None),
            "agency": lambda: dialogue.agency(who, argument),
            "verify": lambda: dialogue.verify(who, argument),
            "confirm": lambda: dialogue.confirm(who, argument),
            "adjust": lambda: dialogue.adjust(who, argument),
            "return": lambda: dialogue.return_indicators(who, argument),
            "chart": lambda: dialogue.chart(who, argument),
            "export": lambda: dialogue.export(who, language_of(who.language)),
            "remind": lambda: dialogue.remind(who),
            "targets": lambda: dialogue.targets(who, argument),
            "reply": lambda: dialogue.reply(who, argument),
            "publish": lambda: dialogue.publish(who, argument),
        }
        await self.deliver(update, who, await self.run(calls[COORDINATOR_COMMANDS[name]]))

    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if await self.refused_at_once(update):
            return
        who = person(update)
        await self.deliver(update, who, await self.step(self.dialogue.text, who, update.effective_message.text))

    async def upload(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if await self.refused_at_once(update):
            return
        message = update.effective_message
        if message.document:
            doc = message.document
            upload = Upload(
                "document",
                doc.file_id,
                doc.file_unique_id,
                doc.file_name,
                doc.file_size,
                doc.mime_type,
                message.media_group_id,
            )
        else:
            photo = message.photo[-1]
            upload = Upload(
                "photo",
                photo.file_id,
                photo.file_unique_id,
                f"photo-{photo.file_unique_id}.jpg",
                photo.file_size,
                "image/jpeg",
                message.media_group_id,
            )
        who = person(update)
        outcome = await self.step(self.dialogue.upload, who, upload, self.evidence_dir is not None)
        await self.deliver(update, who, outcome)

    async def unsupported(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        kind = next(
            (
                k
                for k in (
                    "sticker",
                    "voice",
                    "video",
                    "video_note",
                    "audio",
                    "animation",
                    "location",
                    "contact",
                    "poll",
                )
                if getattr(message, k, None)
            ),
            "other",
        )
        who = person(update)
        await self.deliver(update, who, await self.step(self.dialogue.unsupported, who, kind))

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        who = person(update)
        message_id = query.message.message_id if query.message else None
        data = query.data or ""
        if data.startswith("k:"):
            outcome = await self.run(self.coordinators.button, who, data, message_id)
        else:
            outcome = await self.step(self.dialogue.button, who, data, message_id)
        notice = notice_of(outcome.notice, language_of(who.language), self.zone)

        async def answer() -> None:
            try:
                await query.answer(notice)
            except TelegramError as exc:
                log.info("callback answer failed: %s", exc)

        # The answer is stored already: the button's notice and the next question go out together.
        await asyncio.gather(answer(), self.deliver(update, who, outcome))

    async def deliver(self, update: Update, who: Person, outcome: Outcome) -> None:
        """Send (or edit) each reply in order."""
        bot = update.get_bot()
        lang = language_of(who.language)
        for reply in outcome.replies:
            text, markup = text_of(reply, lang, self.zone), keyboard_of(reply, lang, self.zone)
            if reply.document is not None:
                name, content = reply.document
                await bot.send_document(who.chat_id, content, filename=name, caption=text[:1024])
                continue
            if reply.chart is not None:
                picture = await self.run(draw, *reply.chart, lang)
                await bot.send_photo(who.chat_id, picture, caption=text[:1024], filename="bieudo.png")
                continue
            if reply.edit_message_id is None or not await self.edited(bot, who, reply.edit_message_id, text, markup):
                await bot.send_message(who.chat_id, text, reply_markup=markup)
            if reply.download and self.evidence_dir is not None:
                await self.save_evidence(bot, *reply.download)
        if outcome.menu is not None:
            commands = [BotCommand(n, d) for n, d in command_menu(lang, MENUS[outcome.menu])]
            try:
                await bot.set_my_commands(commands, scope=BotCommandScopeChat(who.chat_id))
            except TelegramError as exc:
                log.info("command menu not set: %s", exc)

    async def edited(self, bot, who: Person, message_id: int, text: str, markup) -> bool:
        """Edit a message in place; False if it cannot be edited (then a new message is sent)."""
        try:
            await bot.edit_message_text(text, chat_id=who.chat_id, message_id=message_id, reply_markup=markup)
        except BadRequest as exc:
            return "not modified" in str(exc).lower()
        return True

    async def save_evidence(self, bot, evidence_id: int, file_id: str, file_name: str | None) -> None:
        """Download the file to ``<evidence dir>/<evidence id>/<its original name, made safe>``."""
        try:
            telegram_file = await bot.get_file(file_id)
            folder = self.evidence_dir / str(evidence_id)
            folder.mkdir(parents=True, exist_ok=True)
            path = await telegram_file.download_to_drive(folder / stored_name(file_name, evidence_id))
        except (TelegramError, OSError) as exc:
            log.warning("evidence %s not downloaded: %s", evidence_id, exc)
            return
        await self.step(self.dialogue.evidence_saved, evidence_id, str(path))

    async def error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # A flood of failing updates writes one traceback a minute, and the count of the others.
        self.failures.log(logging.ERROR, "update failed", exc_info=context.error)
        if isinstance(update, Update) and update.effective_chat:
            lang = language_of(update.effective_user.language_code if update.effective_user else None)
            try:
                await context.bot.send_message(update.effective_chat.id, render("internal_error", lang=lang))
            except TelegramError:
                pass
