"""`cqdt demo` end to end: what it prints, the files it leaves and what the fake Telegram received."""

from __future__ import annotations

import csv
from collections import Counter
from decimal import Decimal
from email import message_from_bytes, policy
from importlib.resources import files

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import func, select

from bot.cli import cli
from bot.demo import mail, office_questions, scenario, second_year
from bot.demo.fake_telegram import FakeTelegram
from bot.reminders.sender import CONTINUE
from bot.texts import refusal
from common.errors import Refused
from rubrics.bundled import bundled
from storage.db import Database
from storage.models import Agency, Answer, Notification, Submission
from storage.policy import ReminderPolicy

AGENCIES = list(csv.DictReader(files("bot.demo").joinpath("agencies.csv").read_text("utf-8").splitlines()))
OPEN = scenario.STOPS_MIDWAY + scenario.OPENS_ONLY  # registered, not submitted: they get the reminders
CONTACTS = scenario.SUBMITS + OPEN  # in the order they open their invitations
VERIFIED_CHAT = scenario.FIRST_CONTACT + CONTACTS.index(scenario.VERIFIED)  # the verified agency's contact


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One run of `cqdt demo`: its output, its folder and the fake Bot API it talked to."""
    fakes = []

    class Recorded(FakeTelegram):
        def start(self):
            fakes.append(self)
            return super().start()

    out = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scenario, "FakeTelegram", Recorded)
        result = CliRunner().invoke(cli, ["demo", "--output-dir", str(out)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output, out, fakes[0]


def continued(call) -> bool:
    """The message carries the «Tiếp tục trả lời ▶» button (a reminder, or a notice of returned indicators)."""
    keyboard = (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
    return any(button.get("callback_data") == CONTINUE for row in keyboard for button in row)


def reminders_by_chat(fake) -> dict[int, list[str]]:
    received: dict[int, list[str]] = {}
    for call in fake.calls("sendMessage"):
        if continued(call) and "Nhắc hạn" in call.params["text"]:
            received.setdefault(call.chat_id, []).append(call.params["text"])
    return received


def sent_by_kind(out, channel: str = "telegram") -> dict[str, int]:
    """Messages the outbox sent on a channel during the demo, by kind, from the database it left."""
    database = Database(f"sqlite:///{out / 'cqdt-demo.db'}")
    try:
        with database.session() as session:
            return dict(
                session.execute(
                    select(Notification.kind, func.count())
                    .where(Notification.status == "sent", Notification.channel == channel)
                    .group_by(Notification.kind)
                ).all()
            )
    finally:
        database.dispose()


def texts_to(fake, chat_id: int) -> list[str]:
    """Every text the bot sent or edited into the chat, in order."""
    methods = ("sendMessage", "editMessageText")
    return [c.params.get("text") or "" for c in fake.calls(chat_id=chat_id) if c.ok and c.method in methods]


def test_every_phase_reports_progress(demo):
    output, _, _ = demo
    total = len(scenario.PHASES)
    assert [line[: len(f"[{n}/{total}]")] for n, line in enumerate(output.splitlines()[:total], 1)] == [
        f"[{n}/{total}]" for n in range(1, total + 1)
    ]


def test_the_export_holds_every_agency(demo):
    output, out, _ = demo
    path = out / "cqdt-dot-1.xlsx"
    assert str(path) in output
    workbook = load_workbook(path, read_only=True)
    levels = [sheet for sheet in workbook.worksheets if sheet.title.startswith("Cấp")]  # not questions, indicators
    rows = [row for sheet in levels for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert {row[1] for row in rows} == {a["code"] for a in AGENCIES}
    assert {a["name"] for a in AGENCIES} <= {cell for row in rows for cell in row}


def test_the_transcript_shows_the_mistakes_the_refusals_and_the_receipt(demo):
    output, _, _ = demo
    contact = output.split("════ Cán bộ điều phối")[0]
    for mistake, refused in [
        ("mười hai", Refused("answer_not_integer")),
        ("20 người", Refused("answer_number_unit", number="20", unit="người", unit_en="persons")),
        ("12,5", Refused("answer_integer_decimal", number=Decimal("12.5"))),
        ("12.5", Refused("answer_number_decimal_dot", text="12.5", meant="12,5")),
        ("31/02/2019", Refused("answer_date_no_day", day=31, month=2, year=2019, days=28)),
        ("15/3/19", Refused("answer_date_short_year", year="19")),
    ]:
        assert f": {mistake}\n🤖 {refusal(refused)}\n" in contact
    assert "15 tháng 3 năm 2019" not in contact  # an official form of a date is no mistake
    assert "✅ BIÊN NHẬN" in contact and "SHA-256" in contact and "lược bớt" in contact


def test_the_status_counts_match_the_scenario(demo):
    output, _, _ = demo
    names = {"huyen": bundled()["qn2018-huyen"].rubric.level_name, "xa": bundled()["qn2018-xa"].rubric.level_name}
    for level, name in names.items():
        codes = {a["code"] for a in AGENCIES if a["level"] == level}
        submitted, midway = len(codes & set(scenario.SUBMITS)), len(codes & set(scenario.STOPS_MIDWAY))
        expected = f"• {name}: đã nộp {submitted}/{len(codes)} · đang làm {midway} · chưa bắt đầu "
        assert f"{expected}{len(codes) - submitted - midway}\n" in output


def test_each_reminder_reached_each_late_contact_once(demo):
    _, out, fake = demo
    received = reminders_by_chat(fake)
    offsets = len(ReminderPolicy().offsets_minutes)
    assert len(received) == len(OPEN)
    assert all(len(texts) == offsets and len(set(texts)) == offsets for texts in received.values())
    reminded = {next(a["name"] for a in AGENCIES if a["name"] in texts[0]) for texts in received.values()}
    assert reminded == {a["name"] for a in AGENCIES if a["code"] in OPEN}
    sent = sent_by_kind(out)
    assert sent["reminder"] == sum(map(len, received.values()))
    assert sent["submitted"] == len(scenario.SUBMITS) + 1  # and the verified agency's resubmission
    late = (c.chat_id for c in fake.calls("sendMessage") if c.chat_id in received and "hết hạn" in c.params["text"])
    assert Counter(late) == dict.fromkeys(received, 1)


def test_only_the_late_contacts_are_told_the_deadline_passed(demo):
    _, out, fake = demo
    assert not any("Đã hết hạn" in text for text in texts_to(fake, VERIFIED_CHAT))
    assert sent_by_kind(out)["overdue"] == len(OPEN)


def test_the_coordinator_verified_one_agency(demo):
    output, out, fake = demo
    database = Database(f"sqlite:///{out / 'cqdt-demo.db'}")
    try:
        with database.session() as session:
            query = select(Agency.code, Submission.state).join(Submission).where(Agency.campaign_id == 1)
            states = dict(session.execute(query).all())
    finally:
        database.dispose()
    assert states[scenario.VERIFIED] == "verified"
    assert [code for code, state in states.items() if state == "verified"] == [scenario.VERIFIED]

    rows = list(load_workbook(out / "cqdt-dot-1.xlsx", read_only=True)["Cấp xã"].iter_rows(values_only=True))
    column, by_code = rows[0].index("Thẩm định"), {row[1]: row for row in rows[1:]}
    assert by_code[scenario.VERIFIED][column] not in (None, "")
    assert [code for code, row in by_code.items() if row[column] not in (None, "")] == [scenario.VERIFIED]

    notices = [c for c in fake.calls("sendMessage", chat_id=VERIFIED_CHAT) if continued(c)]
    assert len(notices) == 1 and "trả lại 1 chỉ tiêu" in notices[0].params["text"]
    receipts = [text for text in texts_to(fake, VERIFIED_CHAT) if text.startswith("✅ BIÊN NHẬN")]
    assert len(receipts) == 3 and receipts[1].startswith("✅ BIÊN NHẬN NỘP LẠI") and "→" in receipts[1]
    assert not receipts[2].startswith("✅ BIÊN NHẬN NỘP LẠI")  # next year's first submission
    coordinator_texts = texts_to(fake, scenario.COORDINATOR[0])
    assert any("nộp lại bản tự đánh giá sau khi sửa" in text for text in coordinator_texts)
    assert any("✓ thẩm định, tự chấm" in text for text in coordinator_texts)

    contact, coordinator = output.split("════ Cán bộ điều phối")
    contact = contact.split("════ Năm thứ hai")[0]
    assert "↩️ Cơ quan điều phối trả lại 1 chỉ tiêu" in contact and "↩️ Được trả lại để sửa" in contact
    assert contact.count("✅ BIÊN NHẬN") == 2
    assert "sau khi sửa" in coordinator and "✓ thẩm định, tự chấm" in coordinator


def test_both_charts_are_left_as_png(demo):
    output, out, fake = demo
    paths = [out / "cqdt-bieudo-xa.png", out / "cqdt-bieudo-xeploai.png"]
    for path in paths:
        assert str(path) in output
        with Image.open(path) as image:
            assert image.format == "PNG"
    photos = [call.params["photo"].content for call in fake.calls("sendPhoto", chat_id=scenario.COORDINATOR[0])]
    assert [path.read_bytes() for path in paths] == photos


def test_the_ranking_lists_the_agencies_that_did_not_submit_apart(demo):
    output, _, _ = demo
    ranking = output.split("════ Cán bộ điều phối")[1].split("🏆 Cấp xã")[1].split("Xem chi tiết")[0]
    ranked, apart = ranking.split("Chưa xếp hạng (chưa nộp; điểm tạm tính):")
    xa = {a["code"] for a in AGENCIES if a["level"] == "xa"}
    assert {c for c in xa if f"[{c}]" in ranked} == xa & set(scenario.SUBMITS)
    assert all(f"[{c}]" in apart for c in sorted(xa - set(scenario.SUBMITS))[:5])
    assert "(Trung bình)" not in apart and "(Khá)" not in apart


def test_the_demo_saves_the_annex_as_xlsx_and_docx(demo):
    from docx import Document

    output, out, _ = demo
    xlsx, docx = out / "cqdt-dot-1-phu-luc.xlsx", out / "cqdt-dot-1-phu-luc.docx"
    assert str(xlsx) in output and str(docx) in output
    workbook = load_workbook(xlsx)
    assert workbook.sheetnames == ["Cấp huyện", "Cấp xã", "Mục tiêu"]
    column = [c.value for c in workbook["Cấp xã"]["B"]]
    block = next(i for i, c in enumerate(workbook["Cấp xã"]["A"]) if c.value == "Các đơn vị chưa nộp (không xếp hạng)")
    submitted = {a["name"] for a in AGENCIES if a["level"] == "xa" and a["code"] in scenario.SUBMITS}
    assert set(column[7:block]) == submitted  # below the title block and the two header rows
    tables = Document(str(docx)).tables
    assert len(tables) == 2 and {c.text for row in tables[1].rows for c in row.cells} >= submitted


def test_the_demo_prints_one_agency_s_targets(demo):
    output, _, _ = demo
    coordinator = output.split("════ Cán bộ điều phối")[1]
    assert f"/muctieu {scenario.VERIFIED}" in coordinator and "chỉ tiêu chưa đạt điểm tối đa, mất nhiều" in coordinator


def test_the_agencies_that_never_open_their_invitation_are_reached_by_email(demo):
    """Every agency with an address gets the invitation letter (with its QR code); those that never open it
    get each reminder and the overdue notice by e-mail, the others none; each is saved as a named .eml."""
    output, out, _ = demo
    never = [a["code"] for a in AGENCIES if a["code"] not in CONTACTS]
    addressed = [code for code in never if code not in never[-mail.WITHOUT_ADDRESS :]]
    saved = sorted((out / mail.FOLDER).glob("*.eml"))
    assert f"{len(saved)} tệp .eml trong {out / mail.FOLDER}" in output
    letters = {path.name: message_from_bytes(path.read_bytes(), policy=policy.default) for path in saved}
    by_kind = Counter(name.split("-", 1)[1].rsplit("-", 1)[0] for name in letters)
    offsets = len(ReminderPolicy().offsets_minutes)
    assert by_kind == {
        "thu-moi": len(AGENCIES) - mail.WITHOUT_ADDRESS,
        "nhac-han": offsets * len(addressed),
        "qua-han": len(addressed),
    }
    reminded = Counter(name.rsplit("-", 1)[1].removesuffix(".eml") for name in letters if "-nhac-han-" in name)
    assert reminded == dict.fromkeys(addressed, offsets)
    invitation = next(m for name, m in letters.items() if name.endswith(f"-thu-moi-{addressed[0]}.eml"))
    assert invitation["To"] == mail.address_of(addressed[0])
    assert any(p.get_content_type() == "image/png" for p in invitation.walk())
    assert f"t.me/{scenario.BOT_USERNAME}?start=" in invitation.get_body(("plain",)).get_content()
    assert sent_by_kind(out, "email") == {
        "invitation": len(AGENCIES) - mail.WITHOUT_ADDRESS,
        "reminder": offsets * len(addressed),
        "overdue": len(addressed),
    }


def test_a_question_to_the_office_is_answered_and_published_once(demo):
    output, out, fake = demo
    assert "Hỏi cơ quan điều phối (❓, /traloi, /congbo)" in output
    sent = sent_by_kind(out)
    assert sent["office_question"] == 1 and sent["office_answer"] == 1 and sent["guidance"] >= 1
    asker = scenario.FIRST_CONTACT + CONTACTS.index(office_questions.ASKER)
    assert any(office_questions.ANSWER in text and "đã trả lời câu hỏi số" in text for text in texts_to(fake, asker))
    assert any("💡 Hướng dẫn của cơ quan điều phối: " + office_questions.ANSWER in t for t in texts_to(fake, asker))
    told = Counter(c.chat_id for c in fake.calls("sendMessage") if "vừa ban hành hướng dẫn" in c.params["text"])
    assert len(told) == sent["guidance"] and set(told.values()) == {1}  # once to each contact who had answered
    assert f"tới {sent['guidance']} đầu mối đã trả lời câu này" in output
    coordinator = output.split("════ Cán bộ điều phối")[1]
    assert office_questions.QUESTION in coordinator and "📢 Công bố làm hướng dẫn chung" in coordinator


def test_the_second_year_keeps_last_years_answers_and_the_coordinator_sees_which(demo):
    output, out, _ = demo
    second = output.split("════ Năm thứ hai")[1].split("════ Cán bộ điều phối")[0]
    assert "📅 Năm trước: " in second and "(đã thẩm định)" in second  # the featured agency was verified
    assert second.count("bấm [Giữ như năm trước]") == second_year.KEPT_ONE_BY_ONE
    assert "✅ Đã giữ" in second and "✅ BIÊN NHẬN" in second
    assert "💡 Hướng dẫn của cơ quan điều phối: " + office_questions.ANSWER[:60] in second  # carried from last year
    assert "1 hướng dẫn công bố năm trước được chuyển sang đợt mới" in output
    coordinator = output.split("════ Cán bộ điều phối")[1]
    assert "↩ giữ từ năm trước" in coordinator
    database = Database(f"sqlite:///{out / 'cqdt-demo.db'}")
    try:
        with database.session() as session:
            rows = session.execute(
                select(Agency.code, func.count())
                .join(Answer, Answer.agency_id == Agency.id)
                .where(Agency.campaign_id == 2, Answer.source == "carried")
                .group_by(Agency.code)
            ).all()
            states = session.execute(
                select(Agency.code, Submission.state)
                .join(Submission, Submission.agency_id == Agency.id)
                .where(Agency.campaign_id == 2, Submission.state == "submitted")
            ).all()
    finally:
        database.dispose()
    assert {code for code, count in rows if count > second_year.KEPT_ONE_BY_ONE} == set(second_year.AGENCIES)
    assert {code for code, _ in states} == set(second_year.AGENCIES)
