"""The coordinating office in what contacts read: the welcome, the reminders and the receipt name it, its letter
and its contact line when the campaign gives them, and no office at all when it does not."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from bot.texts import render
from storage.records import Office

NOW = datetime(2019, 10, 21, 2, 0, tzinfo=UTC)
DEADLINE = datetime(2019, 10, 28, 7, 0, tzinfo=UTC)
VIET_TRI = Office(
    "Phòng Văn hóa và Thông tin thành phố Việt Trì", "Đồng chí Hà, 0210 3846 000", "436/STTTT-CNTT ngày 07/10/2019"
)


def texts(office: Office, lang: str) -> dict[str, str]:
    campaign = SimpleNamespace(name="Đánh giá năm 2019", office=office)
    agency = SimpleNamespace(name="Phòng Nội vụ")
    rubric = SimpleNamespace(title="Phiếu tự đánh giá", title_en=None, bands=[], groups=[])
    score = SimpleNamespace(total=Decimal("80.5"), max=Decimal(100), band=None, groups=[])
    common = {"campaign": campaign, "agency": agency, "deadline": DEADLINE, "now": NOW}
    return {
        "welcome": render("welcome", lang=lang, rubric=rubric, relevant=25, **common),
        "reminder": render("reminder", lang=lang, state="in_progress", answered=3, relevant=25, **common),
        "receipt": render("receipt", lang=lang, agency=agency, at=NOW, score=score, hash="ab" * 32, rubric=rubric,
                          office=office, earlier_total=None),
    }  # fmt: skip


def test_the_office_letter_and_contact_are_named_in_vietnamese():
    shown = texts(VIET_TRI, "vi")
    line = (
        "Cơ quan điều phối: Phòng Văn hóa và Thông tin thành phố Việt Trì, theo văn bản số 436/STTTT-CNTT ngày "
        "07/10/2019. Thắc mắc xin liên hệ: Đồng chí Hà, 0210 3846 000."
    )
    assert line in shown["welcome"] and line in shown["reminder"]
    assert "Điểm chính thức do Phòng Văn hóa và Thông tin thành phố Việt Trì thẩm định." in shown["receipt"]
    assert "Thắc mắc xin liên hệ: Đồng chí Hà, 0210 3846 000." in shown["receipt"]


def test_in_english_too():
    shown = texts(VIET_TRI, "en")
    assert (
        "Coordinating office: Phòng Văn hóa và Thông tin thành phố Việt Trì, under letter no. 436/" in shown["welcome"]
    )
    assert "verification by Phòng Văn hóa và Thông tin thành phố Việt Trì." in shown["receipt"]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_without_an_office_no_office_is_named(lang):
    shown = texts(Office(), lang)
    assert not any(
        word in text for text in shown.values() for word in ("Sở ", "Cơ quan điều phối:", "Coordinating office:")
    )
    assert "cơ quan điều phối thẩm định" in shown["receipt"] or "the coordinating agency" in shown["receipt"]
