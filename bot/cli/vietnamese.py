"""click's own words (usage errors, ``--help``'s headings, prompts) in Vietnamese.

click (8 and later) passes every message it shows through gettext: each of its modules calls ``_()`` and
``ngettext()``, imported from :mod:`gettext` (``from gettext import gettext as _``). The process-wide
gettext domain would pick a compiled ``.mo`` catalogue by the LANGUAGE / LANG of whoever runs the
command; cqdt's command line is Vietnamese whatever the terminal's locale, so :func:`install` binds those
two names in click's modules to a :class:`gettext.NullTranslations` over cqdt's own catalogue,
``bot/templates/cli/click.j2`` (click's message ids → Vietnamese, like every other word of cqdt, in a
template). A message the catalogue lacks stays click's; ``tests/unit/test_click_vietnamese.py`` checks
that every id of the catalogue is still one click uses.

It is installed when ``bot.cli`` is imported, before its commands are declared, since click reads a few
of its words (``--version``'s help) when a command is declared rather than when it runs. The placeholders
of the usage lines ("[OPTIONS]", "COMMAND [ARGS]...", "TEXT") are not gettext ids: :func:`localize` sets
them on the commands once they are declared.
"""

from __future__ import annotations

import gettext
import importlib
from collections.abc import Mapping

import click

from bot.texts import environment

CLICK_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "termui", "types", "utils")


class ClickCatalogue(gettext.NullTranslations):
    """Translations from a mapping of message ids; a plural id maps to [singular, plural] by its singular."""

    def __init__(self, messages: Mapping[str, str | list[str]]):
        super().__init__()
        self.messages = messages

    def gettext(self, message: str) -> str:
        found = self.messages.get(message)
        if found is None:
            return message
        return found if isinstance(found, str) else found[0]

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        found = self.messages.get(singular)
        if found is None:
            return singular if n == 1 else plural
        if isinstance(found, str):
            return found
        return found[0] if n == 1 else found[1]


def metavars() -> Mapping[str, str]:
    return environment().get_template("cli/click.j2").module.metavars


def localize(command: click.Command) -> None:
    """The usage line's and --help's placeholders of a command and of every command under it in Vietnamese:
    "[OPTIONS]", "COMMAND [ARGS]..." and an option's value named by its type ("TEXT", "INTEGER")."""
    words = metavars()
    command.options_metavar = words.get(command.options_metavar, command.options_metavar)
    if isinstance(command, click.Group):
        command.subcommand_metavar = words.get(command.subcommand_metavar, command.subcommand_metavar)
        for child in command.commands.values():
            localize(child)
    for param in command.params:
        if param.metavar is None and not getattr(param, "is_flag", False):
            param.metavar = words.get(param.type.name.upper())


def catalogue() -> ClickCatalogue:
    return ClickCatalogue(environment().get_template("cli/click.j2").module.messages)


def install() -> ClickCatalogue:
    """Make click speak Vietnamese in this process; calling it again changes nothing."""
    translations = catalogue()
    for name in CLICK_MODULES:
        module = importlib.import_module(f"click.{name}")
        if getattr(module, "_", None) is gettext.gettext or isinstance(
            getattr(getattr(module, "_", None), "__self__", None), ClickCatalogue
        ):
            module._ = translations.gettext
        if getattr(module, "ngettext", None) is gettext.ngettext or isinstance(
            getattr(getattr(module, "ngettext", None), "__self__", None), ClickCatalogue
        ):
            module.ngettext = translations.ngettext
    return translations
