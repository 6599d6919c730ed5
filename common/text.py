"""Comparing words as people type them: without regard to case, diacritics, spacing or punctuation."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """``"  Mã đơn vị  cấp trên"`` → ``"ma don vi cap tren"``: lower case, no diacritics (đ → d), one space
    between words, punctuation and underscores as spaces."""
    decomposed = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return _NOT_WORD.sub(" ", bare).strip()


def words(text: str) -> tuple[str, ...]:
    return tuple(fold(text).split())
