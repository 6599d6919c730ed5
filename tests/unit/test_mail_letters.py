"""Every e-mail letter renders in Vietnamese and English from a claimed row's context: a subject on one
line, the deep link in the text, and for the invitation an HTML part with the QR code of that link."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.headerregistry import Address
from types import SimpleNamespace

import pytest

from bot.mail.letters import letter_of, qr_png
from conversations.letters import Office
from conversations.reminders.notices import Claimed
from conversations.risk import STALLED, Risk

SENDER = Address("Sở Khoa học và Công nghệ tỉnh Quảng Ninh", "cqdt", "sokhcn.quangninh.gov.vn")
NOW = datetime(2019, 10, 21, 2, 0, tzinfo=UTC)
DEADLINE = datetime(2019, 10, 28, 7, 0, tzinfo=UTC)
CAMPAIGN = SimpleNamespace(
    name="Đánh giá CQĐT năm 2019", period_from=date(2018, 10, 15), period_to=date(2019, 10, 15), grace_hours=2
)
AGENCY = SimpleNamespace(id=5, code="06652", name='UBND Phường <Hà> "Phong"', level="xa", state="not_started")
OVERVIEW = {
    "by_level": {"Cấp xã": {"total": 2, "submitted": 1}},
    "not_started": [AGENCY],
    "in_progress": [],
    "at_risk": [],
    "blocked": [],
    "unreachable": [SimpleNamespace(code="06658", name="UBND Phường Hà Trung", email=None, last_error=None)],
    "overdue": [AGENCY],
    "progress": {},
}
BASE = {"campaign": CAMPAIGN, "deadline": DEADLINE, "now": NOW, "closes_at": DEADLINE + timedelta(hours=2)}
OFFICE = Office("Sở Khoa học và Công nghệ tỉnh Quảng Ninh", "cqdt@sokhcn.quangninh.gov.vn")
AGENCY_CONTEXT = {"agency": AGENCY, "answered": 0, "relevant": 31, "token": "T0k3n_abc"}
CONTEXTS = {
    "invitation": AGENCY_CONTEXT,
    "reminder": AGENCY_CONTEXT,
    "overdue": AGENCY_CONTEXT,
    "returned": {**AGENCY_CONTEXT, "indicators": [{"code": "1.1.1", "title": "Hạ tầng"}], "comment": "Bổ sung"},
    "digest": OVERVIEW,
    "escalation": OVERVIEW,
    "overdue_list": OVERVIEW,
}


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("kind", sorted(CONTEXTS))
def test_each_letter_renders(kind, language):
    context = {**BASE, "office": OFFICE, **CONTEXTS[kind]}
    claimed = Claimed(7, kind, None, language, kind, context, email="vanthu@halong.gov.vn")
    message = letter_of(claimed, "Asia/Ho_Chi_Minh", SENDER, "cqdt_qn_bot")
    assert "\n" not in message["Subject"] and message["To"] == "vanthu@halong.gov.vn"
    assert message["X-CQDT-Kind"] == kind and message["Date"] == "Mon, 21 Oct 2019 09:00:00 +0700"
    text = message.get_body(("plain",)).get_content()
    link = "https://t.me/cqdt_qn_bot?start=T0k3n_abc"
    assert (link in text) == ("token" in CONTEXTS[kind])
    if kind == "invitation":
        html = message.get_body(("html",)).get_content()
        assert f'href="{link}"' in html and "&lt;Hà&gt; &#34;Phong&#34;" in html  # a name cannot write markup
        (image,) = [p for p in message.walk() if p.get_content_type() == "image/png"]
        assert image.get_content() == qr_png(link)
        assert ("14h00 ngày 28/10/2019" if language == "vi" else "28/10/2019") in text
    else:
        assert message.get_body(("html",)) is None


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("vi", "• UBND Phường Hà Khẩu: còn 24 câu, 2 ngày làm việc, chưa hoạt động từ 21/10"),
        ("en", "• UBND Phường Hà Khẩu: 24 questions left, 2 working days, no activity since 21/10"),
    ],
)
def test_the_mailed_digest_lists_the_agencies_at_risk_with_their_reason(language, line):
    last = datetime(2019, 10, 21, 3, 0, tzinfo=UTC)
    at_risk = [Risk(6, "UBND Phường Hà Khẩu", STALLED, 24, 2, Decimal("3.4"), 8, last, 3)]
    context = {**BASE, "office": OFFICE, **OVERVIEW, "at_risk": at_risk}
    claimed = Claimed(7, "digest", None, language, "digest", context, email="vanthu@halong.gov.vn")
    text = letter_of(claimed, "Asia/Ho_Chi_Minh", SENDER, "cqdt_qn_bot").get_body(("plain",)).get_content()
    assert line in text.splitlines()
