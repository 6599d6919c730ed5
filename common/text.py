"""Comparing words as people type them: without regard to case, diacritics, spacing or punctuation."""

from __future__ import annotations

import re
import unicodedata

from common.errors import Refused

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """``"  Mã đơn vị  cấp trên"`` → ``"ma don vi cap tren"``: lower case, no diacritics (đ → d), one space
    between words, punctuation and underscores as spaces."""
    decomposed = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return _NOT_WORD.sub(" ", bare).strip()


def words(text: str) -> tuple[str, ...]:
    return tuple(fold(text).split())


# C0 controls other than tab and the line breaks, DEL, and the C1 controls: never typed, and a NUL in a
# name breaks the xlsx export later. Every input refuses them: agency lists, rubric files, typed answers,
# coordinators' comments.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_character(text: str | None) -> str | None:
    """The first control character in ``text`` as ``"U+0000"``, or None when it has none."""
    found = CONTROL.search(text) if text else None
    return f"U+{ord(found.group()):04X}" if found else None


def refuse_control(text: str | None, key: str) -> None:
    """Refuse ``text`` with the refusal ``key`` (given ``char``) when it holds a control character."""
    char = control_character(text)
    if char is not None:
        raise Refused(key, char=char)
