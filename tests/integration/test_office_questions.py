"""Questions to the office on the database, driven through the dialogues: the repository, the scope of each
coordinator, the refusals, publishing once, and guidance carried into the next campaign.

The round trip through the real bot is in tests/e2e/test_office_questions.py.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from cli_helpers import Cli, without_settings
from dialogue_helpers import START, Clock, answer_all, make_campaign
from sqlalchemy import func, select

from bot.cli import main
from bot.labels import by_language
from bot.reminders.sender import message_of
from bot.rendering import text_of
from bot.texts import render
from conversations.contact_dialogue import ContactDialogue
from conversations.coordinator_dialogue import CoordinatorDialogue
from conversations.office_questions import LISTED
from conversations.reminders.notices import base, describe, overview
from conversations.situation import Person
from rubrics.bundled import bundled
from storage import campaigns
from storage.campaigns import CampaignSpec
from storage.invitations import coordinator_invitation
from storage.models import Contact, Guidance, Notification, OfficeQuestion
from storage.office_questions import QUESTION_LIMIT, carry, guidance_of
from storage.outbox import OutboxStore, Pending

ZONE = "Asia/Ho_Chi_Minh"
XA = bundled()["qn2018-xa"]
STEP = next(s for s in XA.steps if s.indicator is not None and s.question.when is None)
PHONG, KHAU = Person(300, 300, "Thu Hà", "vi"), Person(301, 301, "Văn Minh", "vi")
PROVINCE, CITY = Person(900, 900, "Sở"), Person(901, 901, "Phường Hà Khẩu")


@pytest.fixture
def world(db):
    clock = Clock(START)
    campaign = make_campaign(db, START)
    answer_all(db, "06652", 1)
    contacts = ContactDialogue(db, clock)
    coordinators = CoordinatorDialogue(db, clock, ZONE, by_language(ZONE))
    contacts.start(PHONG, campaign.tokens["06652"])
    contacts.start(KHAU, campaign.tokens["06655"])
    contacts.start(PROVINCE, campaign.coordinator_token)
    with db.session() as session:
        city = coordinator_invitation(session, campaigns.get(session, campaign.id), START, "06655").token
    contacts.start(CITY, city)
    return db, clock, campaign, contacts, coordinators


def texts(outcome) -> str:
    return "\n".join(text_of(reply, "vi", ZONE) for reply in outcome.replies)


def ask(contacts, db, who: Person, text: str) -> int:
    """At STEP, press ❓ and type ``text``; the question's number."""
    contacts.command(who, "sua", str(STEP.number))
    with db.session() as session:
        token = session.scalar(select(Contact.prompt_token).where(Contact.telegram_user_id == who.user_id))
    assert contacts.button(who, f"q:{token}:h:").notice == "ask"
    outcome = contacts.text(who, text)
    assert [r.template for r in outcome.replies] == ["office_asked", "question"], texts(outcome)
    return outcome.replies[0].context["number"]


def notifications(db, kind: str) -> list[tuple[int, str]]:
    with db.session() as session:
        rows = session.execute(select(Notification.telegram_user_id, Notification.key).where(Notification.kind == kind))
        return sorted(rows.all())


def test_each_coordinator_sees_and_answers_only_its_scope(world):
    db, clock, _, contacts, coordinators = world
    phong = ask(contacts, db, PHONG, "Số liệu tính đến ngày nào?")
    clock.advance(minutes=5)
    khau = ask(contacts, db, KHAU, "Có tính cán bộ hợp đồng không?")
    # the province's office hears of both, the city's office of Hà Khẩu's only
    assert [u for u, _ in notifications(db, "office_question")] == [900, 900, 901]

    listed = contacts.command(PROVINCE, "hoidap")
    assert [e["question"].id for e in listed.replies[0].context["entries"]] == [phong, khau]  # oldest first
    assert [e["question"].id for e in contacts.command(CITY, "hoidap").replies[0].context["entries"]] == [khau]

    for attempt in (coordinators.reply(CITY, f"{phong} Tính đến 30/9."), coordinators.publish(CITY, str(phong))):
        assert attempt.notice == "refused"
        assert f"Không có câu hỏi số {phong} trong phạm vi" in texts(attempt)
    assert coordinators.button(CITY, f"k:h:{phong}", None).notice == "refused"
    assert "Tính đến" not in str(contacts.command(PHONG, "hoidap").replies[0].context)

    answered = coordinators.reply(CITY, f"{khau} Có, tính cả cán bộ hợp đồng.")
    assert answered.notice == "saved" and answered.replies[0].buttons[0][0].data == f"k:p:{khau}"
    assert notifications(db, "office_answer")[0][0] == KHAU.user_id
    assert [e["question"].id for e in contacts.command(PROVINCE, "hoidap").replies[0].context["entries"]] == [phong]
    mine = texts(contacts.command(KHAU, "hoidap"))
    assert "Trả lời: «Có, tính cả cán bộ hợp đồng.»" in mine and "Số liệu tính đến" not in mine


def test_refusals_leave_nothing_half_done(world):
    db, _, _, contacts, coordinators = world
    contacts.command(KHAU, "sua", str(STEP.number))
    with db.session() as session:
        token = session.scalar(select(Contact.prompt_token).where(Contact.telegram_user_id == KHAU.user_id))
    contacts.button(KHAU, f"q:{token}:h:")
    assert "quá giới hạn 1.000 ký tự" in texts(contacts.text(KHAU, "x" * (QUESTION_LIMIT + 1)))
    assert "ký tự điều khiển" in texts(contacts.text(KHAU, "Hỏi\x07"))
    with db.session() as session:
        assert session.scalar(select(func.count(OfficeQuestion.id))) == 0
    number = contacts.text(KHAU, "Hỏi lần này được chứ?").replies[0].context["number"]

    assert "chưa được trả lời" in texts(coordinators.publish(PROVINCE, str(number)))
    assert "không phải số câu hỏi" in texts(coordinators.reply(PROVINCE, "abc trả lời"))
    assert "/traloi số_câu_hỏi" in texts(coordinators.reply(PROVINCE, ""))
    waiting = coordinators.reply(PROVINCE, str(number))  # /traloi N alone: the answer comes next
    assert waiting.replies[0].template == "office_answer_prompt"
    assert "Đã huỷ thao tác đang chờ" in texts(contacts.command(PROVINCE, "huy"))  # /huy: no answer awaited now
    assert contacts.text(PROVINCE, "Có.").replies[0].template == "not_registered"

    coordinators.button(PROVINCE, f"k:h:{number}", None)
    assert contacts.text(PROVINCE, "Được.").replies[0].template == "office_answered"
    assert contacts.text(PROVINCE, "Thêm nữa.").replies[0].template == "not_registered"  # answered once only
    coordinators.publish(PROVINCE, str(number))
    assert "đã được công bố làm hướng dẫn" in texts(coordinators.reply(PROVINCE, f"{number} Sửa lại."))


def test_guidance_is_shown_everywhere_and_sent_once(world):
    db, _, campaign, contacts, coordinators = world
    number = ask(contacts, db, KHAU, "Có tính cán bộ hợp đồng không?")
    coordinators.reply(PROVINCE, f"{number} Có, tính cả cán bộ hợp đồng.")
    first = coordinators.publish(PROVINCE, str(number))
    assert first.replies[0].context["sent"] == 1  # Hà Phong's contact: its agency had answered the question
    again = coordinators.button(PROVINCE, f"k:p:{number}", None)
    assert again.replies[0].context == {**first.replies[0].context, "sent": 0, "again": True}
    assert [u for u, _ in notifications(db, "guidance")] == [PHONG.user_id]
    with db.session() as session:
        assert session.scalar(select(func.count(Guidance.id))) == 1

    for who in (PHONG, KHAU):
        shown = contacts.command(who, "sua", str(STEP.number))
        assert "💡 Hướng dẫn của cơ quan điều phối: Có, tính cả cán bộ hợp đồng." in texts(shown)


def test_guidance_carries_into_the_next_campaign_once(world):
    db, _, campaign, contacts, coordinators = world
    number = ask(contacts, db, KHAU, "Có tính cán bộ hợp đồng không?")
    coordinators.reply(PROVINCE, f"{number} Có, tính cả cán bộ hợp đồng.")
    coordinators.publish(PROVINCE, str(number))
    with db.session() as session:
        rubrics = {"huyen": bundled()["qn2018-huyen"], "xa": XA}
        spec = CampaignSpec("Đánh giá CQĐT năm 2020", rubrics, START + timedelta(days=380))
        following = campaigns.create(session, spec)
        copied = carry(session, campaign.id, following.id, START + timedelta(days=360))
        assert [(g.level, g.question_id, g.text, g.carried) for g in copied] == [
            ("xa", STEP.question.id, "Có, tính cả cán bộ hợp đồng.", True)
        ]
        assert carry(session, campaign.id, following.id, START + timedelta(days=361)) == []
        assert [g.id for g in guidance_of(session, following.id)] == [copied[0].id]


def test_the_command_line_offers_and_carries_the_guidance(world, database_url, capsys, monkeypatch):
    db, _, campaign, contacts, coordinators = world
    without_settings(monkeypatch)
    cqdt = Cli(capsys, database_url)
    number = ask(contacts, db, KHAU, "Có tính cán bộ hợp đồng không?")
    coordinators.reply(PROVINCE, f"{number} Có, tính cả cán bộ hợp đồng.")
    coordinators.publish(PROVINCE, str(number))

    code = main(
        ["--database-url", database_url, "campaign", "create", "--name", "Đánh giá CQĐT năm 2020"]
        + ["--rubric", "huyen=qn2018-huyen", "--rubric", "xa=qn2018-xa", "--deadline", "2020-10-28 14:00", "--yes"]
    )
    created = capsys.readouterr()
    assert code == 0
    following = int(created.out.strip())
    assert (
        f"Đợt trước cùng bộ tiêu chí (số {campaign.id}, «Đánh giá CQĐT năm 2019») có 1 hướng dẫn đã công bố; "
        f"chép sang đợt này bằng: cqdt guidance carry --from {campaign.id} --to {following}"
    ) in created.err

    carried = cqdt("guidance", "carry", "--from", str(campaign.id), "--to", str(following))
    assert f"Đã chép 1 hướng dẫn từ đợt {campaign.id} sang đợt {following}" in carried
    assert f"câu {STEP.question.id}: hỏi «Có tính cán bộ hợp đồng không?» — Có, tính cả cán bộ hợp đồng." in carried
    again = cqdt("guidance", "carry", "--from", str(campaign.id), "--to", str(following), "--json")
    assert json.loads(again)["guidance"] == []
    listed = cqdt("guidance", "list", "--campaign", str(following))
    assert "(chép từ đợt trước)" in listed


def outbox_messages(db, kind: str, lang: str) -> list[tuple[str, list]]:
    """(text, buttons) of each outbox row of ``kind`` as the sender would write it in ``lang``; a row whose
    message no longer applies (a question answered meanwhile) is left out, as the sender cancels it."""
    with db.session() as session:
        outbox = OutboxStore(session)
        rows = session.scalars(select(Notification).where(Notification.kind == kind).order_by(Notification.id))
        pending = [Pending(r.id, r.campaign_id, r.kind, r.telegram_user_id, r.agency_id, r.payload) for r in rows]
        claimed = [describe(outbox, row, START) for row in pending]
    written = [message_of(replace(c, language=lang), ZONE) for c in claimed if c is not None]
    return [(text, markup.inline_keyboard if markup else []) for text, markup in written]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_message_is_written_in_both_languages_and_fits_telegram(world, lang):
    db, clock, campaign, contacts, coordinators = world
    numbers = []
    for n in range(LISTED + 2):
        clock.advance(minutes=1)
        numbers.append(ask(contacts, db, KHAU, f"Câu hỏi {n}: " + "rất dài " * 120))
    listed = contacts.command(PROVINCE, "hoidap")
    assert [e["question"].id for e in listed.replies[0].context["entries"]] == numbers[:LISTED]
    outcomes = [listed, coordinators.reply(PROVINCE, str(numbers[0]))]
    outcomes.append(contacts.text(PROVINCE, "Trả lời " + "rất dài " * 240))
    outcomes += [coordinators.publish(PROVINCE, str(numbers[0])), contacts.command(KHAU, "hoidap")]
    outcomes.append(contacts.command(PHONG, "sua", str(STEP.number)))
    for outcome in outcomes:
        for reply in outcome.replies:
            text = text_of(reply, lang, ZONE)
            assert len(text) < 4096 and "None" not in text, text
    assert (lang == "en") == ("Guidance from the coordinating office" in text_of(outcomes[-1].replies[-1], lang, ZONE))

    questions = outbox_messages(db, "office_question", lang)
    assert len(questions) == 2 * (len(numbers) - 1)  # to both offices; the answered one is not sent any more
    (question, buttons) = questions[0]
    assert f"{STEP.indicator.code}" in question and buttons[0][0].callback_data == f"k:h:{numbers[1]}"
    assert "rất dài" in outbox_messages(db, "office_answer", lang)[0][0]
    assert [b for _, b in outbox_messages(db, "guidance", lang)] == [[]]


def test_the_digest_counts_the_unanswered_questions_in_scope(world):
    db, _, campaign, contacts, coordinators = world
    ask(contacts, db, PHONG, "Hỏi một?")
    answered = ask(contacts, db, KHAU, "Hỏi hai?")
    ask(contacts, db, KHAU, "Hỏi ba?")
    coordinators.reply(PROVINCE, f"{answered} Đáp.")
    with db.session() as session:
        outbox = OutboxStore(session)
        facts = outbox.campaign(campaign.id)
        everything = outbox.scope(campaign.id, None)
        khau = {a.id for a in outbox.agencies(campaign.id) if a.code == "06655"}
        assert overview(outbox, facts, everything, START)["unanswered_questions"] == 2
        assert overview(outbox, facts, khau, START)["unanswered_questions"] == 1
    digest = render("digest", lang="vi", zone=ZONE, **base(facts, START), **overview_of(db, campaign.id))
    assert "❓ Câu hỏi của đơn vị đang chờ cơ quan điều phối trả lời: 2 (xem /hoidap)." in digest


def overview_of(db, campaign_id: int) -> dict:
    with db.session() as session:
        outbox = OutboxStore(session)
        return overview(outbox, outbox.campaign(campaign_id), outbox.scope(campaign_id, None), START)


def test_the_question_shown_again_while_asking_says_so(world):
    db, _, _, contacts, _ = world
    contacts.command(KHAU, "tieptuc")
    with db.session() as session:
        token = session.scalar(select(Contact.prompt_token).where(Contact.telegram_user_id == KHAU.user_id))
    contacts.button(KHAU, f"q:{token}:h:")
    again = contacts.command(KHAU, "tieptuc")  # e.g. a reminder's button pressed meanwhile: the same question
    assert "❓ Đang chờ câu hỏi gửi cơ quan điều phối" in texts(again)
    moved = contacts.command(KHAU, "sua", str(STEP.number))  # another question: no longer asking
    assert "Đang chờ câu hỏi" not in texts(moved)
    assert contacts.text(KHAU, "12").replies[-1].context["just_answered"]["value"] == 12


@pytest.mark.parametrize("forged", ["k:h:99999999999999999999999", "k:p:99999999999999999999999", "k:h:0"])
def test_forged_numbers_name_no_question(world, forged):
    _, _, _, _, coordinators = world
    outcome = coordinators.button(PROVINCE, forged, None)
    assert outcome.notice == "refused" and outcome.replies[0].template == "refusal"
    typed = coordinators.reply(PROVINCE, "99999999999999999999999 Có.")
    assert "không phải số câu hỏi" in texts(typed)
