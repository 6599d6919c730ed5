"""Vietnamese telephone numbers in the form offices write them.

A mobile number has ten digits (03, 05, 07, 08, 09 …) grouped 4-3-3: ``0912 345 678``. A landline has
eleven: the area code 02x or 02xx and the subscriber's number, grouped ``024 3825 1234`` (Hà Nội, TP Hồ Chí
Minh: two-digit area code after the 0) or ``0203 3825 123`` (every other province). These are the groupings
libphonenumber (the ``phonenumbers`` package) gives as the national format; the rule is short enough to
keep here without the dependency.
"""

from __future__ import annotations

import re

_ALLOWED = re.compile(r"^[0-9 .\-()+\u00a0]+$")
_MOBILE = "35789"
_TWO_DIGIT_AREAS = ("024", "028")


def normalise_phone(text: str) -> str | None:
    """The number in its Vietnamese form, or None when it is not a Vietnamese mobile or landline number.

    Accepts "+84 912 345 678", "(+84) 912345678", "0084912345678", "84912345678", "0912.345.678",
    "0912-345-678", and the number Excel keeps when a phone was typed into a number cell (912345678: the
    leading 0 lost)."""
    text = text.strip()
    if not _ALLOWED.match(text) or text.count("+") > 1 or ("+" in text and not re.match(r"^\(?\+", text)):
        return None
    digits = re.sub(r"[^0-9]", "", text)
    if "+" in text:
        if not digits.startswith("84"):
            return None
        digits = "0" + digits[2:]
    elif digits.startswith("0084"):
        digits = "0" + digits[4:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    elif not digits.startswith("0") and (
        (len(digits) == 9 and digits[0] in _MOBILE) or (len(digits) == 10 and digits[0] == "2")
    ):
        digits = "0" + digits
    if len(digits) == 10 and digits[0] == "0" and digits[1] in _MOBILE:
        return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
    if len(digits) == 11 and digits.startswith("02"):
        if digits[:3] in _TWO_DIGIT_AREAS:
            return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
        return f"{digits[:4]} {digits[4:8]} {digits[8:]}"
    return None
