"""Evidence at its question, and two colleagues of one agency, through the real bot against the fake Bot API."""

from __future__ import annotations

import random
from datetime import date

import test_bot_e2e
from dialogue_helpers import START
from sqlalchemy import select
from test_bot_e2e import RUBRIC, _second_invitation, is_prompt, stored_answers

from rubrics.sample_answers import sample_answers
from storage.answers import set_answer
from storage.models import Agency, Evidence

fake, running = test_bot_e2e.fake, test_bot_e2e.running  # the fake Bot API, and the bot running against it
CITATION = "Kế hoạch số 12/KH-UBND ngày 15 tháng 01 năm 2018 của UBND xã Hà Phong về việc ứng dụng CNTT năm 2018"


def answered_but_the_plan(db) -> None:
    """Every question answered (by an import, no contact), the commune saying it has no IT plan."""
    plan = sample_answers(RUBRIC, random.Random(3), na_rate=0)
    plan["co_ke_hoach"] = False
    plan.pop("ke_hoach_vb", None)
    with db.session() as session:
        agency = session.scalar(select(Agency).where(Agency.code == "06652"))
        current: dict = {}
        for qid, value in plan.items():
            set_answer(session, RUBRIC, agency, qid, value, by=None, source="test", now=START, current=current)
            current[qid] = value


def evidence_of(db, question_id: str) -> list[Evidence]:
    with db.session() as session:
        rows = session.scalars(select(Evidence).where(Evidence.question_id == question_id).order_by(Evidence.id))
        return [(e.kind, e.file_name, e.url) for e in rows]


def test_a_citation_is_asked_for_its_evidence_at_once_and_an_album_attaches_every_page(running, db):
    fake, clock, campaign = running
    answered_but_the_plan(db)
    user = fake.user(500, "Thu Hà")
    user.send_command(f"/start {campaign.tokens['06652']}")
    user.wait_for_reply(match="Kính chào")
    prompt = user.wait_for_reply(after_update=user.send_command("/sua co_ke_hoach"), match=is_prompt)
    update = user.press("Có", message_id=prompt.message_id)
    plan_question = user.wait_for_reply(after_update=update, match="Thông tin văn bản kế hoạch")
    assert "mở thêm 1 câu hỏi" in plan_question.text  # the answer revealed the plan's question
    assert "Cần minh chứng" in plan_question.text and "Nhập văn bản minh chứng" not in plan_question.text

    asked = user.wait_for_reply(after_update=user.send_text(CITATION), match=is_prompt)
    assert (
        "✓ Câu 17: Kế hoạch số 12/KH-UBND ngày 15/01/2018 của UBND xã Hà Phong" in asked.text
        and "Thông tin văn bản kế hoạch" in asked.text
    )  # the same question
    assert "Xin gửi tệp minh chứng" in asked.text and "«Để sau»" in asked.text
    assert "Để sau ▶" in asked.button_texts

    pages = user.send_album([b"\xff\xd8\xff page 1", b"\xff\xd8\xff page 2", b"\xff\xd8\xff page 3"])
    listed = user.wait_for_reply(after_update=pages[-1], match="📎 3 minh chứng")
    names = [name for kind, name, url in evidence_of(db, "ke_hoach_vb")]
    assert len(names) == 3 and all(kind == "photo" for kind, _, _ in evidence_of(db, "ke_hoach_vb"))
    assert all(name in listed.text for name in names)
    assert "Cần minh chứng" not in listed.text and "Để sau ▶" not in listed.button_texts
    assert sum(text.startswith("✖ Gỡ") for text in listed.button_texts) == 3

    link = user.send_text("https://ubnd.haphong.gov.vn/ke-hoach-2018.pdf")
    shown = user.wait_for_reply(after_update=link, match="📎 4 minh chứng")
    assert "https://ubnd.haphong.gov.vn/ke-hoach-2018.pdf" in shown.text
    assert ("link", None, "https://ubnd.haphong.gov.vn/ke-hoach-2018.pdf") in evidence_of(db, "ke_hoach_vb")
    removed = user.press(next(t for t in shown.button_texts if "ke-hoach-2018" in t), message_id=shown.message_id)
    assert "📎 3 minh chứng" in user.wait_for_reply(after_update=removed, match=is_prompt).text

    reply = user.wait_for_reply(after_update=user.send_command("/nop"))
    assert "xác nhận nộp" in reply.text and "Chưa thể nộp" not in reply.text
    user.press("✅ Xác nhận nộp", message_id=reply.message_id)
    assert "SHA-256" in user.wait_for_reply(match="BIÊN NHẬN").text
    cited = stored_answers(db)["ke_hoach_vb"]
    assert (cited["loai"], cited["so_hieu"], cited["ngay"]) == ("Kế hoạch", "12/KH-UBND", date(2018, 1, 15))
    assert cited["co_quan"] == "UBND xã Hà Phong" and cited["trich_yeu"].startswith("Ứng dụng CNTT năm 2018")


def test_huy_leaves_the_pending_citation_and_is_understood_everywhere(running, db):
    fake, clock, campaign = running
    user = fake.user(510)
    user.send_command(f"/start {campaign.tokens['06652']}")
    user.wait_for_reply(match=is_prompt)
    prompt = user.wait_for_reply(after_update=user.send_command("/sua co_ke_hoach"), match=is_prompt)
    user.press("Có", message_id=prompt.message_id)
    user.wait_for_reply(match="Thông tin văn bản kế hoạch")
    first = user.wait_for_reply(after_update=user.send_command("/sua 2"), match=is_prompt)
    assert "Tổng số cán bộ" in first.text
    cancelled = user.wait_for_reply(after_update=user.send_command("/huy"), match="huỷ")
    assert "Không có thao tác nào đang chờ" in cancelled.text
    update = user.send_command("/cancel")
    user.wait_for_reply(after_update=update, match="Không có thao tác nào đang chờ")
    again = user.wait_for_reply(after_update=update, match=is_prompt)
    assert "Tổng số cán bộ" in again.text  # the question stays where it was

    wrong = user.send_document("cai-dat.exe", b"MZ\x90\x00", "application/octet-stream")
    assert "pdf" in user.wait_for_reply(after_update=wrong, match="không phải loại minh chứng").text
    assert evidence_of(db, "cbcc_tong") == []


def test_a_pending_reference_is_left_with_huy(running, db):
    fake, clock, campaign = running
    user = fake.user(520)
    user.send_command(f"/start {campaign.tokens['06652']}")
    user.wait_for_reply(match=is_prompt)
    prompt = user.wait_for_reply(after_update=user.send_command("/sua cbcc_tap_huan"), match=is_prompt)
    pressed = user.press("📝 Nhập văn bản minh chứng", message_id=prompt.message_id)
    user.wait_for_reply(after_update=pressed, match="Xin nhập văn bản minh chứng")
    left = user.send_command("/huy")
    assert "Đã huỷ thao tác đang chờ" in user.wait_for_reply(after_update=left, match="huỷ").text
    shown = user.wait_for_reply(after_update=left, match=is_prompt)
    assert "Đang chờ văn bản minh chứng" not in shown.text
    answered = user.send_text("12")  # an answer again, not a document reference
    assert "✓ Câu 13: 12" in user.wait_for_reply(after_update=answered, match=is_prompt).text
    assert stored_answers(db)["cbcc_tap_huan"] == 12
    assert evidence_of(db, "cbcc_tap_huan") == []


def test_two_colleagues_answer_one_question(running, db):
    fake, clock, campaign = running
    lan, minh = fake.user(601, "Lan"), fake.user(602, "Minh")
    lan.send_command(f"/start {campaign.tokens['06652']}")
    lan.wait_for_reply(match=is_prompt)
    minh.send_command(f"/start {_second_invitation(db, campaign.id, clock.now)}")
    minh.wait_for_reply(match=is_prompt)
    lan.wait_for_reply(after_update=lan.send_command("/sua cbcc_tong"), match=is_prompt)
    minh_prompt = minh.wait_for_reply(after_update=minh.send_command("/sua cbcc_tong"), match=is_prompt)
    assert "Câu trả lời hiện tại" not in minh_prompt.text  # neither has answered yet

    clock.advance(minutes=5)
    lan.wait_for_reply(after_update=lan.send_text("40"), match="✓ Câu 2: 40")
    clock.advance(minutes=5)
    asked = minh.wait_for_reply(after_update=minh.send_text("60"), match="⚠️")
    assert "Lan" in asked.text and "40" in asked.text and "60" in asked.text and "9h05" in asked.text
    assert stored_answers(db)["cbcc_tong"] == 40  # nothing replaced before Minh confirms
    confirmed = minh.press("Thay bằng câu trả lời của tôi", message_id=asked.message_id)
    minh.wait_for_reply(after_update=confirmed, match="✓ Câu 2: 60")
    assert stored_answers(db)["cbcc_tong"] == 60

    clock.advance(minutes=5)
    told = lan.send_command("/trangthai")
    news = lan.wait_for_reply(after_update=told, match="👥")
    assert "Câu 2: Minh sửa thành 60" in news.text
    status = lan.wait_for_reply(after_update=told, match="Tiến độ")
    assert "👥" not in status.text
    again = lan.send_command("/trangthai")
    assert "👥" not in lan.wait_for_reply(after_update=again, match="Tiến độ").text  # told once


def test_a_button_on_an_older_prompt_does_not_overwrite_a_newer_answer(running, db):
    fake, clock, campaign = running
    lan, minh = fake.user(611, "Lan"), fake.user(612, "Minh")
    lan.send_command(f"/start {campaign.tokens['06652']}")
    lan.wait_for_reply(match=is_prompt)
    minh.send_command(f"/start {_second_invitation(db, campaign.id, clock.now)}")
    minh.wait_for_reply(match=is_prompt)
    old = minh.wait_for_reply(after_update=minh.send_command("/sua co_wan"), match=is_prompt)
    lan_prompt = lan.wait_for_reply(after_update=lan.send_command("/sua co_wan"), match=is_prompt)
    clock.advance(minutes=1)
    lan.press("Có", message_id=lan_prompt.message_id)
    lan.wait_for_reply(match="✓ Câu")
    assert stored_answers(db)["co_wan"] is True
    clock.advance(minutes=1)
    pressed = minh.press("Không", message_id=old.message_id)
    asked = minh.wait_for_reply(after_update=pressed, match="⚠️")
    assert "Lan" in asked.text
    assert stored_answers(db)["co_wan"] is True
    kept = minh.press("Giữ câu trả lời của đồng nghiệp ▶", message_id=asked.message_id)
    minh.wait_for_reply(after_update=kept, match=is_prompt)
    assert stored_answers(db)["co_wan"] is True
