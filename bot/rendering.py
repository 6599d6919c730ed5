"""Turning a dialogue's :class:`~conversations.replies.Reply` into Telegram text and buttons."""

from __future__ import annotations

from functools import cache

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.texts import environment, render
from conversations.replies import Button, Reply

TELEGRAM_LIMIT = 4096


def text_of(reply: Reply, lang: str, zone: str) -> str:
    text = render(reply.template, lang=lang, zone=zone, **reply.context)
    return text if len(text) <= TELEGRAM_LIMIT else text[: TELEGRAM_LIMIT - 1] + "…"


@cache
def macros(zone: str, lang: str, name: str):
    """The macros of ``{lang}/{name}.j2``, looked up once per process (the templates do not change while it runs)."""
    return environment(zone).get_template(f"{lang}/{name}.j2").module


def label_of(button: Button, lang: str, zone: str) -> str:
    if button.label is not None:
        return button.label
    return str(getattr(macros(zone, lang, "buttons"), button.key)(**button.params)).strip()


def keyboard_of(reply: Reply, lang: str, zone: str) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label_of(b, lang, zone), callback_data=b.data) for b in row] for row in reply.buttons]
    )


def notice_of(key: str | None, lang: str, zone: str) -> str | None:
    if key is None:
        return None
    return str(getattr(macros(zone, lang, "notices"), key)()).strip()


CONTACT_MENU = ("tieptuc", "xemlai", "sua", "trangthai", "nop", "hoidap", "trogiup")
COORDINATOR_MENU = (
    "tinhhinh",
    "diem",
    "donvi",
    "thamdinh",
    "bieudo",
    "muctieu",
    "xuat",
    "nhacnho",
    "hoidap",
    "trogiup",
)
MENUS = {"contact": CONTACT_MENU, "coordinator": COORDINATOR_MENU}


ENGLISH_COMMANDS = {  # the English alias of each command in a menu
    "tieptuc": "continue",
    "xemlai": "review",
    "sua": "edit",
    "trangthai": "status",
    "nop": "submit",
    "trogiup": "help",
    "tinhhinh": "progress",
    "diem": "scores",
    "donvi": "agency",
    "thamdinh": "verify",
    "bieudo": "chart",
    "xuat": "export",
    "nhacnho": "remind",
    "hoidap": "questions",
}


def command_menu(lang: str, names: tuple[str, ...] = CONTACT_MENU) -> list[tuple[str, str]]:
    """(command, description) for setMyCommands, in the menu's order; the English menu lists the
    English aliases."""
    macros = environment().get_template(f"{lang}/commands.j2").module
    shown = ENGLISH_COMMANDS if lang == "en" else {}
    return [(shown.get(name, name), str(getattr(macros, name)()).strip()) for name in names]
