"""Answers as civil servants write them, through the real bot over HTTP against the fake Bot API.

Each official form of a date, a document citation and a number is accepted and stored as meant; each
mistake is refused with the sentence that names what is wrong, and nothing is stored. A date after
today, a date outside the data period and an over-long text are asked about first, the value waiting
in the database. After submitting, /nop and /tieptuc say when, and a resubmission's receipt says what
changed.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from dialogue_helpers import AGENCIES, START, Clock, answer_all
from sqlalchemy import select
from test_bot_e2e import fake, is_prompt, running, step_of, stored_answers  # noqa: F401 (fixtures)

from bot.app import build_application
from bot.demo.fake_telegram import run_application
from common.settings import Settings
from rubrics.bundled import bundled
from storage import campaigns
from storage.agency_import import import_csv
from storage.campaigns import CampaignSpec
from storage.invitations import agency_invitations
from storage.models import Agency, Answer, Contact, Submission


def start(server, campaign, user_id=800, code="06652"):
    user = server.user(user_id, "Thu Hà")
    user.send_command(f"/start {campaign.tokens[code]}")
    user.wait_for_reply(match=is_prompt)
    return user


def open_question(user, question_id):
    prompt = user.wait_for_reply(after_update=user.send_command(f"/sua {question_id}"), match=is_prompt)
    assert step_of(prompt).question.id == question_id
    return prompt


def refused(user, question_id, text):
    """Type ``text`` at the open question: the bot's refusal, after which the same question comes again."""
    update = user.send_text(text)
    refusal = user.wait_for_reply(after_update=update)
    again = user.wait_for_reply(after_update=update, match=is_prompt)
    assert step_of(again).question.id == question_id, again.text
    return refusal.text


def accepted(user, text):
    """Type ``text``: the bot moves on to the next question."""
    update = user.send_text(text)
    reply = user.wait_for_reply(after_update=update)
    assert is_prompt(reply) and reply.text.startswith("✓ Câu"), reply.text
    return reply


def draft_of(db, user_id):
    with db.session() as session:
        return session.scalar(select(Contact.draft).where(Contact.telegram_user_id == user_id))


def test_dates_in_every_official_form(running, db):  # noqa: F811
    server, clock, campaign = running
    user = start(server, campaign)
    prompt = open_question(user, "co_wan")
    user.press("Có", message_id=prompt.message_id)
    user.wait_for_reply(match=is_prompt)
    for day, written in enumerate(
        [
            "ngày 1 tháng 3 năm 2019",
            "2 tháng 3 năm 2019",
            "3/3/2019",
            "04/03/2019",
            "05-03-2019",
            "06.03.2019",
            "2019-03-07",
            "08/03/2019.",
            "Ngày 09 tháng 03 năm 2019.",
        ],
        start=1,
    ):
        open_question(user, "ngay_ket_noi_wan")
        accepted(user, written)
        assert stored_answers(db)["ngay_ket_noi_wan"] == date(2019, 3, day), written
    open_question(user, "ngay_ket_noi_wan")
    for written, fragment in [
        ("31/02/2019", "Tháng 2 năm 2019 chỉ có 28 ngày nên không có ngày 31/02/2019"),
        ("29/02/2019", "chỉ có 28 ngày"),
        ("15/13/2019", "Không có tháng 13"),
        ("15/3/19", "Năm «19» không đủ bốn chữ số"),
        ("15 tháng 3 năm 19", "Năm «19» không đủ bốn chữ số"),
        ("tháng ba", "ngày/tháng/năm"),
    ]:
        assert fragment in refused(user, "ngay_ket_noi_wan", written), written
    assert stored_answers(db)["ngay_ket_noi_wan"] == date(2019, 3, 9)


def test_a_date_after_today_is_asked_about_and_waits_in_the_database(running, db):  # noqa: F811
    server, clock, campaign = running
    user = start(server, campaign, 801)
    prompt = open_question(user, "co_wan")
    user.press("Có", message_id=prompt.message_id)
    user.wait_for_reply(match=is_prompt)
    open_question(user, "ngay_ket_noi_wan")
    update = user.send_text("15/03/2030")
    doubt = user.wait_for_reply(after_update=update)
    assert doubt.text.startswith("❓ Câu 10: ngày 15/03/2030 nằm sau hôm nay (14/10/2019); Đồng chí có chắc?")
    assert doubt.button_texts == ["✓ Đúng, ghi ngày này", "✏️ Nhập lại"]
    assert "ngay_ket_noi_wan" not in stored_answers(db)
    assert draft_of(db, 801)["pending"] == {"question": "ngay_ket_noi_wan", "value": "2030-03-15"}
    update = user.press("✏️ Nhập lại", message_id=doubt.message_id)
    again = user.wait_for_reply(after_update=update, match=is_prompt)
    assert step_of(again).question.id == "ngay_ket_noi_wan" and "pending" not in draft_of(db, 801)
    update = user.send_text("ngày 15 tháng 3 năm 2030")
    doubt = user.wait_for_reply(after_update=update)
    update = user.press("✓ Đúng, ghi ngày này", message_id=doubt.message_id)
    user.wait_for_reply(after_update=update, match=is_prompt)
    assert stored_answers(db)["ngay_ket_noi_wan"] == date(2030, 3, 15)
    # an older confirmation's button, pressed again, changes nothing
    answered = len(server.calls("answerCallbackQuery"))
    user.press(data=doubt.callback_data("✓ Đúng, ghi ngày này"))
    server.wait_for_calls("answerCallbackQuery", answered + 1)
    assert user.answered_callbacks()[-1].text.startswith("Nút này thuộc tin nhắn cũ")


@pytest.mark.parametrize(
    "written, expected",
    [
        (
            "Quyết định số 1784/QĐ-UBND ngày 13/8/2018 của UBND tỉnh về việc ban hành Bộ tiêu chí đánh giá",
            {
                "loai": "Quyết định",
                "so_hieu": "1784/QĐ-UBND",
                "ngay": date(2018, 8, 13),
                "co_quan": "UBND tỉnh",
                "trich_yeu": "Ban hành Bộ tiêu chí đánh giá",
            },
        ),
        (
            "Kế hoạch số 12/KH-UBND ngày 15/01/2018",
            {"loai": "Kế hoạch", "so_hieu": "12/KH-UBND", "ngay": date(2018, 1, 15), "trich_yeu": ""},
        ),
        ("12/KH-UBND ngày 15/01/2018", {"so_hieu": "12/KH-UBND", "ngay": date(2018, 1, 15), "trich_yeu": ""}),
        (
            "12/KH-UBND, 15/01/2018, Kế hoạch ứng dụng CNTT năm 2018",
            {"so_hieu": "12/KH-UBND", "ngay": date(2018, 1, 15), "trich_yeu": "Kế hoạch ứng dụng CNTT năm 2018"},
        ),
        (
            "Kế hoạch số 12/KH-UBND ngày 15 tháng 01 năm 2018 của UBND xã Hà Phong",
            {
                "loai": "Kế hoạch",
                "so_hieu": "12/KH-UBND",
                "ngay": date(2018, 1, 15),
                "co_quan": "UBND xã Hà Phong",
                "trich_yeu": "",
            },
        ),
        (
            "12/KH-UBND; 15/01/2018; Kế hoạch ứng dụng CNTT năm 2018.",
            {"so_hieu": "12/KH-UBND", "ngay": date(2018, 1, 15), "trich_yeu": "Kế hoạch ứng dụng CNTT năm 2018"},
        ),
    ],
)
def test_document_citations_as_officials_write_them(running, db, written, expected):  # noqa: F811
    server, clock, campaign = running
    user = start(server, campaign, 802)
    prompt = open_question(user, "co_ke_hoach")
    user.press("Có", message_id=prompt.message_id)
    user.wait_for_reply(match=is_prompt)
    open_question(user, "ke_hoach_vb")
    accepted(user, written)
    assert stored_answers(db)["ke_hoach_vb"] == expected


def test_a_citation_dated_after_today_is_asked_about_before_it_is_stored(running, db):  # noqa: F811
    server, clock, campaign = running
    user = start(server, campaign, 805)
    prompt = open_question(user, "co_ke_hoach")
    user.press("Có", message_id=prompt.message_id)
    user.wait_for_reply(match=is_prompt)
    open_question(user, "ke_hoach_vb")
    update = user.send_text("Kế hoạch số 12/KH-UBND ngày 15/01/2091")  # 2019 typed backwards
    doubt = user.wait_for_reply(after_update=update)
    assert doubt.text.startswith(
        "❓ Câu 17: văn bản 12/KH-UBND ghi ngày 15/01/2091, sau hôm nay (14/10/2019); Đồng chí có chắc?"
    )
    assert doubt.button_texts == ["✓ Đúng, ghi văn bản này", "✏️ Nhập lại"]
    assert "ke_hoach_vb" not in stored_answers(db)
    update = user.press("✏️ Nhập lại", message_id=doubt.message_id)
    user.wait_for_reply(after_update=update, match=is_prompt)
    accepted(user, "Kế hoạch số 12/KH-UBND ngày 15/01/2019")
    assert stored_answers(db)["ke_hoach_vb"]["ngay"] == date(2019, 1, 15)


def test_a_citation_refusal_names_the_missing_part(running, db):  # noqa: F811
    server, clock, campaign = running
    user = start(server, campaign, 803)
    prompt = open_question(user, "co_ke_hoach")
    user.press("Có", message_id=prompt.message_id)
    user.wait_for_reply(match=is_prompt)
    open_question(user, "ke_hoach_vb")
    for written, fragment in [
        ("Kế hoạch số 12/KH-UBND", "Không thấy ngày ban hành của văn bản 12/KH-UBND"),
        ("Kế hoạch ứng dụng CNTT năm 2018", "Không thấy số và ký hiệu của văn bản"),
        ("12/KH-UBND ngày 31/02/2018", "chỉ có 28 ngày"),
    ]:
        assert fragment in refused(user, "ke_hoach_vb", written), written
    assert "ke_hoach_vb" not in stored_answers(db)


def test_numbers_refused_with_what_is_wrong(running, db):  # noqa: F811
    server, clock, campaign = running
    user = start(server, campaign, 804)
    open_question(user, "cbcc_tong")
    for written, fragment in [
        ("20 người", "Chỉ gõ số, không kèm đơn vị (người): xin gõ «20»"),
        ("12,5", "cần một số nguyên, còn 12,5 có phần thập phân"),
        ("1e3", "«1e3» là cách viết lũy thừa"),
        ("85%", "không phải tỷ lệ phần trăm"),
        ("1.5", "nếu «1.5» là 1,5, xin gõ «1,5»"),
        ("mười hai", "số nguyên"),
    ]:
        assert fragment in refused(user, "cbcc_tong", written), written
    assert "cbcc_tong" not in stored_answers(db)
    accepted(user, "1.234")
    assert stored_answers(db)["cbcc_tong"] == 1234
    open_question(user, "bang_thong_bq")
    assert "nếu «12.5» là 12,5, xin gõ «12,5»" in refused(user, "bang_thong_bq", "12.5")
    assert "dấu %" in refused(user, "bang_thong_bq", "12,5%")
    accepted(user, "1.250,5")
    assert stored_answers(db)["bang_thong_bq"] == Decimal("1250.5")
    open_question(user, "tthc_dung_han_pct")
    accepted(user, "97,5%")
    assert stored_answers(db)["tthc_dung_han_pct"] == Decimal("97.5")


def test_an_over_long_text_is_quoted_back_not_lost(running, db):  # noqa: F811
    server, clock, campaign = running
    user = start(server, campaign, 805)
    prompt = open_question(user, "dau_moi")
    limit = step_of(prompt).question.max_length
    long = " ".join(f"Nguyễn Văn An {i}" for i in range(limit // 10))
    update = user.send_text(long)
    doubt = user.wait_for_reply(after_update=update)
    assert f"câu trả lời dài {len(long)} ký tự, vượt giới hạn {limit} ký tự nên chưa được ghi" in doubt.text
    kept = doubt.text.split("\n\n", 1)[1]
    assert long.startswith(kept) and limit * 0.8 < len(kept) <= limit
    assert "dau_moi" not in stored_answers(db)
    update = user.press("✓ Ghi phần đầu", message_id=doubt.message_id)
    user.wait_for_reply(after_update=update, match=is_prompt)
    assert stored_answers(db)["dau_moi"] == kept


@pytest.fixture
def period_bot(fake, db, tmp_path):  # noqa: F811
    """The bot, with a campaign on the Thừa Thiên Huế rubrics and the data period 15/10/2018–15/10/2019."""
    clock = Clock(START)
    rubrics = {"huyen": bundled()["tth2018-huyen"], "xa": bundled()["tth2018-xa"]}
    spec = CampaignSpec(
        "DTI 2019", rubrics, START + timedelta(days=14), period=(date(2018, 10, 15), date(2019, 10, 15))
    )
    with db.session() as session:
        campaign = campaigns.create(session, spec)
        import_csv(session, campaign, AGENCIES)
        token = next(inv.token for a, inv in agency_invitations(session, campaign, START) if a.code == "06652")
    application = build_application(Settings(token=fake.token, telegram_api_url=fake.api_url), db, clock=clock)
    with run_application(application):
        fake.wait_for_long_poll()
        yield fake, token


def test_a_date_outside_the_data_period_is_asked_about(period_bot, db):
    server, token = period_bot
    user = server.user(806, "Lê Minh")
    user.send_command(f"/start {token}")
    user.wait_for_reply(match=is_prompt)
    prompt = user.wait_for_reply(after_update=user.send_command("/sua ngay_so_lieu"), match=is_prompt)
    assert "Ngày chốt số liệu" in prompt.text
    update = user.send_text("01/09/2018")
    doubt = user.wait_for_reply(after_update=update)
    assert "ngày 01/09/2018 nằm ngoài kỳ số liệu của đợt đánh giá (15/10/2018–15/10/2019); Đồng chí có chắc?" in (
        doubt.text
    )
    update = user.send_text("01/10/2019")
    nxt = user.wait_for_reply(after_update=update)
    assert nxt.text.startswith("✓ Câu ") and ": 01/10/2019" in nxt.text.split("\n")[0]


def test_after_submitting_nop_and_tieptuc_say_when(running, db):  # noqa: F811
    server, clock, campaign = running
    user = start(server, campaign, 807)
    answer_all(db, "06652", seed=11)
    update = user.send_command("/nop")
    confirm = user.wait_for_reply(after_update=update, match="xác nhận nộp")
    user.press("✅ Xác nhận nộp", message_id=confirm.message_id)
    receipt = user.wait_for_reply(match="BIÊN NHẬN")
    assert "NỘP LẠI" not in receipt.text
    clock.advance(hours=2)
    for command in ("/nop", "/tieptuc"):
        reply = user.wait_for_reply(after_update=user.send_command(command)).text
        assert "đã nộp bản tự đánh giá lúc 09h00 ngày 14/10/2019" in reply, command
        assert "Biên nhận" in reply, command


def test_a_resubmission_receipt_says_what_changed(running, db):  # noqa: F811
    server, clock, campaign = running
    user = start(server, campaign, 808)
    coordinator = server.user(809, "Sở")
    coordinator.wait_for_reply(after_update=coordinator.send_command(f"/start {campaign.coordinator_token}"))
    answer_all(db, "06652", seed=11)
    with db.session() as session:
        agency = session.scalar(select(Agency).where(Agency.code == "06652"))
        session.execute(
            Answer.__table__.update()
            .where(Answer.agency_id == agency.id, Answer.question_id == "co_lan")
            .values(value=False)
        )
    confirm = user.wait_for_reply(after_update=user.send_command("/nop"), match="xác nhận nộp")
    user.press("✅ Xác nhận nộp", message_id=confirm.message_id)
    first = user.wait_for_reply(match="BIÊN NHẬN")
    clock.advance(hours=1)
    item = next(
        i for i in bundled()["qn2018-xa"].indicators if "co_lan" in bundled()["qn2018-xa"].indicator_questions(i)
    )
    update = coordinator.send_command(f"/tralai 06652 {item.code} Trụ sở đã có mạng LAN")
    assert "Đã trả lại 1 chỉ tiêu" in coordinator.wait_for_reply(after_update=update).text
    prompt = user.wait_for_reply(after_update=user.send_command("/tieptuc"), match=is_prompt)
    assert step_of(prompt).question.id == "co_lan"
    reply = user.wait_for_reply(after_update=user.press("Có", message_id=prompt.message_id))
    while is_prompt(reply):  # the indicator's other questions: kept as they are
        reply = user.wait_for_reply(after_update=user.press("Giữ nguyên ▶", message_id=reply.message_id))
    assert "/nop" in reply.text
    confirm = user.wait_for_reply(after_update=user.send_command("/nop"), match="xác nhận nộp")
    user.press("✅ Xác nhận nộp", message_id=confirm.message_id)
    again = user.wait_for_reply(match="BIÊN NHẬN NỘP LẠI")
    assert "Đây là bản nộp lại" in again.text and first.text != again.text
    assert re.search(r"Điểm tạm tính: [\d,]+ → [\d,]+ \(\+[\d,]+ điểm\)", again.text), again.text


def test_coordinator_refusals_say_what_is_missing(running, db):  # noqa: F811
    server, clock, campaign = running
    coordinator = server.user(810, "Sở")
    coordinator.wait_for_reply(after_update=coordinator.send_command(f"/start {campaign.coordinator_token}"))
    contact = start(server, campaign, 811)
    answer_all(db, "06652", seed=11)
    confirm = contact.wait_for_reply(after_update=contact.send_command("/nop"), match="xác nhận nộp")
    contact.press("✅ Xác nhận nộp", message_id=confirm.message_id)
    contact.wait_for_reply(match="BIÊN NHẬN")
    for command, sentence in [
        ("/dieuchinh 06652 1.1 2", "Xin ghi lý do điều chỉnh sau số điểm"),
        ("/tralai 06652 1.1", "Xin ghi nhận xét sau mã chỉ tiêu"),
        ("/tralai 06652", "Xin ghi mã các chỉ tiêu cần trả lại"),
        ("/diem tinh", "Đợt đánh giá không có cấp «tinh»; các cấp: huyen, xa."),
        ("/bieudo phuong", "Đợt đánh giá không có cấp «phuong»; các cấp: huyen, xa."),
    ]:
        reply = coordinator.wait_for_reply(after_update=coordinator.send_command(command)).text
        assert reply == sentence or reply.startswith(sentence), (command, reply)
    assert "Cấp xã" in coordinator.wait_for_reply(after_update=coordinator.send_command("/diem Xã")).text
    with db.session() as session:
        assert session.scalar(select(Submission.state).join(Agency).where(Agency.code == "06652")) == "submitted"
