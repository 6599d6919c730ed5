"""The contact's dialogue driven without Telegram: registration, the walk, bad input, buttons, submission.

Every reply is also rendered through its template, so a template that fails to
render fails here.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from dialogue_helpers import START, Clock, make_campaign
from sqlalchemy import func, select

from bot.demo.contacts import typed
from bot.rendering import keyboard_of, text_of
from conversations.contact_dialogue import ContactDialogue, Upload
from conversations.replies import Outcome, Reply
from conversations.situation import Person
from rubrics.answers import NA
from rubrics.bundled import bundled
from rubrics.model import QUESTION_TYPES
from rubrics.sample_answers import sample_answers
from storage import answers as answer_store
from storage import campaigns as campaign_store
from storage.invitations import agency_invitations
from storage.models import Agency, AnswerChange, Contact, Submission

ZONE = "Asia/Ho_Chi_Minh"


def rendered(outcome: Outcome, lang: str = "vi") -> list[str]:
    texts = []
    for reply in outcome.replies:
        texts.append(text_of(reply, lang, ZONE))
        keyboard_of(reply, lang, ZONE)
    return texts


class Driver:
    """One Telegram user talking to the dialogue."""

    def __init__(self, dialogue: ContactDialogue, user_id: int, name: str = "Nguyễn Thu Hà", lang: str = "vi"):
        self.dialogue = dialogue
        self.who = Person(user_id, user_id, name, lang)
        self.outcome = Outcome()

    def _take(self, outcome: Outcome) -> Outcome:
        rendered(outcome, "en" if self.who.language == "en" else "vi")
        self.outcome = outcome
        return outcome

    def start(self, token=None):
        return self._take(self.dialogue.start(self.who, token))

    def say(self, text: str):
        return self._take(self.dialogue.text(self.who, text))

    def command(self, name: str, argument: str = ""):
        return self._take(self.dialogue.command(self.who, name, argument))

    def upload(self, name="bien-ban.pdf"):
        return self._take(
            self.dialogue.upload(self.who, Upload("document", f"F-{name}", f"U-{name}", name, 2048, "application/pdf"))
        )

    @property
    def prompt(self) -> Reply:
        return next(r for r in reversed(self.outcome.replies) if r.prompt_token)

    def buttons(self, reply: Reply | None = None) -> dict[str, str]:
        reply = reply or self.prompt
        return {
            (b.key or "") + (":" + str(b.params.get("option").value) if "option" in b.params else ""): b.data
            for row in reply.buttons
            for b in row
        }

    def press(self, key: str, reply: Reply | None = None):
        return self._take(self.dialogue.button(self.who, self.buttons(reply)[key]))

    def press_data(self, data: str):
        return self._take(self.dialogue.button(self.who, data))

    @property
    def question(self):
        return self.prompt.context["question"]


@pytest.fixture
def world(db):
    clock = Clock(START)
    campaign = make_campaign(db, START)
    return db, clock, campaign, ContactDialogue(db, clock)


def answers_of(db, code: str) -> dict:
    rubric = bundled()["qn2018-xa"]
    with db.session() as session:
        agency = session.scalar(select(Agency).where(Agency.code == code))
        return answer_store.load_agency_answers(session, rubric, agency.id)


def answer_current(driver: Driver, value) -> None:
    question = driver.question
    if value is NA:
        driver.press("not_applicable")
    elif value is None:
        driver.press("skip")
    elif question.type == "yes_no":
        driver.press("yes" if value else "no")
    elif question.type == "single_choice":
        driver.press(f"option:{value}")
    elif question.type == "multi_choice":
        for option in value:
            driver.press(f"toggle:{option}")
        driver.press("done")
    elif question.type == "file":
        driver.upload(value["file_name"])
    else:
        driver.say(typed(question, value))
    if any(r.context.get("asked_evidence") for r in driver.outcome.replies):  # asked for evidence: later
        driver.press("later")


def test_start_without_an_invitation_explains_how_to_get_one(world):
    db, clock, campaign, dialogue = world
    texts = rendered(dialogue.start(Person(1, 1, "A", "vi"), None))
    assert "đường dẫn mời" in texts[0]


def test_bad_tokens_leak_nothing_and_are_throttled(world):
    db, clock, campaign, dialogue = world
    who = Person(2, 2, "B", "vi")
    first = rendered(dialogue.start(who, "khong-hop-le"))[0]
    assert "Phường" not in first and "không dùng được" in first
    for _ in range(4):
        dialogue.start(who, "sai")
    assert "quá nhiều" in rendered(dialogue.start(who, "sai-nua"))[0]
    clock.advance(minutes=16)
    assert "không dùng được" in rendered(dialogue.start(who, "sai"))[0]
    # a valid token is never held back by the throttle (test_invitation_guessing.py has the rest)
    assert "Hà Phong" in rendered(dialogue.start(who, campaign.tokens["06652"]))[0]


def test_a_used_token_is_refused_to_someone_else(world):
    db, clock, campaign, dialogue = world
    Driver(dialogue, 10).start(campaign.tokens["06652"])
    assert "không dùng được" in rendered(dialogue.start(Person(11, 11, "C", "vi"), campaign.tokens["06652"]))[0]


def test_walk_a_whole_rubric_with_every_question_type_then_submit(world):
    db, clock, campaign, dialogue = world
    driver = Driver(dialogue, 100)
    texts = rendered(driver.start(campaign.tokens["06652"]))
    assert "UBND Phường Hà Phong" in texts[0] and "Câu 1 · 1/31" in texts[-1]
    rubric = bundled()["qn2018-xa"]
    plans = (sample_answers(rubric, random.Random(seed), na_rate=0.2) for seed in range(500))
    plan = next(
        p
        for p in plans
        if len({rubric.question(q).type for q, v in p.items() if v is not NA}) == 10 and NA in p.values()
    )
    seen_types = set()
    for _ in range(200):
        if not any(r.prompt_token for r in driver.outcome.replies):
            break
        question = driver.question
        seen_types.add(question.type)
        answer_current(driver, plan.get(question.id, None if not question.required else _fallback(question)))
    assert seen_types == set(QUESTION_TYPES)
    assert driver.outcome.replies[-1].template == "all_answered"
    stored = answers_of(db, "06652")
    mismatched = {
        q: (stored.get(q), v)
        for q, v in plan.items()
        if rubric.question(q).type != "file" and stored.get(q, "missing") != v
    }
    assert not mismatched
    assert all(stored[q]["file_name"] == v["file_name"] for q, v in plan.items() if rubric.question(q).type == "file")
    driver.command("nop")
    missing = driver.outcome.replies[0]
    if missing.template == "submit_missing":
        for step in missing.context["evidence"]:
            driver.command("sua", str(step.number))
            driver.upload(f"minh-chung-{step.number}.pdf")
        driver.command("nop")
    assert driver.outcome.replies[0].template == "submit_confirm"
    confirm = driver.outcome.replies[0]
    receipt = driver.press("confirm_submit", confirm)
    text = rendered(receipt)[0]
    assert "BIÊN NHẬN" in text and "SHA-256" in text and "Hà Phong" in text
    with db.session() as session:
        submission = session.scalar(select(Submission).join(Agency).where(Agency.code == "06652"))
        assert submission.state == "submitted" and len(submission.receipt_hash) == 64
    refused = driver.command("sua", "1")
    assert "đã nộp" in rendered(refused)[0]
    assert rendered(driver.command("xemlai"))[0].startswith("Xem lại")


def _fallback(question):
    return {"yes_no": True, "integer": 1, "text": "Nội dung"}.get(question.type, True)


def test_typed_answers_in_vietnamese_formats_and_every_kind_of_bad_input(world):
    db, clock, campaign, dialogue = world
    driver = Driver(dialogue, 200)
    driver.start(campaign.tokens["06652"])
    rubric = bundled()["qn2018-xa"]
    first = rubric.by_id["cbcc_tong"].question
    driver.command("sua", "cbcc_tong")
    assert driver.question.id == first.id
    for bad, fragment in [("mười hai", "số nguyên"), ("12,5", "số nguyên"), ("-3", "trở lên"), ("1" * 40, "số nguyên")]:
        texts = rendered(driver.say(bad))
        assert fragment in texts[0] and texts[1].startswith("Thông tin chung · Câu 2 · ")
        assert first.id not in answers_of(db, "06652")
    driver.say("1.234")
    assert answers_of(db, "06652")[first.id] == 1234
    # a bounded question: not above the total given earlier
    bounded = next(
        s
        for s in rubric.steps
        if getattr(s.question, "max", None) is not None
        and hasattr(s.question.max, "question")
        and s.question.max.question == first.id
    )
    driver.command("sua", str(bounded.number))
    texts = rendered(driver.say("5.000"))
    assert "không được lớn hơn 1.234" in texts[0]
    assert bounded.question.id not in answers_of(db, "06652")
    # a date that is not a date, an over-long text
    date_step = next(s for s in rubric.steps if s.question.type == "date")
    driver.command("sua", date_step.question.when.question)  # the date is asked only after a "yes"
    driver.press("yes")
    driver.command("sua", str(date_step.number))
    assert "chỉ có 28 ngày" in rendered(driver.say("31/02/2019"))[0]
    driver.say("28/10/2018")
    assert answers_of(db, "06652")[date_step.question.id].isoformat() == "2018-10-28"
    text_step = next(s for s in rubric.steps if s.question.type == "text" and s.question.when is None)
    driver.command("sua", str(text_step.number))
    texts = rendered(driver.say("x" * (text_step.question.max_length + 1)))
    assert "vượt giới hạn" in texts[0]
    # a sticker or a voice message where text is expected
    texts = rendered(dialogue.unsupported(driver.who, "sticker"))
    assert "chữ" in texts[0] and "Câu" in texts[1]
    # a file where none is expected
    number_step = next(
        s
        for s in rubric.steps
        if s.question.type == "decimal" and s.question.evidence == "none" and s.question.when is None
    )
    driver.command("sua", str(number_step.number))
    assert "không cần tệp" in rendered(driver.upload())[0]
    driver.say("12,5")
    assert answers_of(db, "06652")[number_step.question.id] == Decimal("12.5")


def test_stale_double_tapped_and_forged_buttons_change_nothing(world):
    db, clock, campaign, dialogue = world
    driver = Driver(dialogue, 300)
    driver.start(campaign.tokens["06652"])
    rubric = bundled()["qn2018-xa"]
    yes_no = next(s for s in rubric.steps if s.question.type == "yes_no" and s.question.when is None)
    driver.command("sua", str(yes_no.number))
    old_prompt = driver.prompt
    driver.press("yes")
    before = answers_of(db, "06652")
    history = _history_count(db)
    again = dialogue.button(driver.who, Driver.buttons(driver, old_prompt)["no"])  # double tap / stale
    assert again.notice == "stale_button" and not again.replies
    for forged in ("q:zzz:a:1", "garbage", "q:" + old_prompt.prompt_token + ":a:99", "m:x:c:", "q::a:1", "x" * 64):
        outcome = dialogue.button(driver.who, forged)
        assert outcome.notice in ("stale_button", "invalid_button") and not outcome.replies
    assert answers_of(db, "06652") == before and _history_count(db) == history


def _history_count(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count(AnswerChange.id)))


def test_back_skip_not_applicable_and_skip_logic(world):
    db, clock, campaign, dialogue = world
    driver = Driver(dialogue, 400)
    driver.start(campaign.tokens["06652"])
    rubric = bundled()["qn2018-xa"]
    driver.say("20")
    second = driver.question
    driver.press("back")
    assert driver.question.id == rubric.steps[0].question.id
    assert "Câu trả lời hiện tại: 20" in rendered(driver.outcome)[-1]
    driver.press("keep")
    assert driver.question.id == second.id
    na_step = next(s for s in rubric.steps if s.question.allow_na and s.question.when is None)
    driver.command("sua", str(na_step.number))
    driver.press("not_applicable")
    assert answers_of(db, "06652")[na_step.question.id] is NA
    optional = next(s for s in rubric.steps if not s.question.required and s.question.when is None)
    driver.command("sua", str(optional.number))
    driver.press("skip")
    assert answers_of(db, "06652")[optional.question.id] is None
    gated = next(
        s
        for s in rubric.steps
        if s.question.when is not None and s.question.when.question and s.question.when.equals is True
    )
    gate = rubric.by_id[gated.question.when.question]
    driver.command("sua", str(gate.number))
    driver.press("no")
    assert rendered(driver.command("sua", str(gated.number)))[0].startswith(f"Câu {gated.number} không áp dụng")
    driver.command("sua", str(gate.number))
    driver.press("yes")
    assert driver.question.id == gated.question.id  # re-evaluated: the gated question now comes next


def test_edit_from_review(world):
    db, clock, campaign, dialogue = world
    driver = Driver(dialogue, 500)
    driver.start(campaign.tokens["06652"])
    driver.say("20")
    review = driver.command("xemlai").replies[0]
    assert review.template == "review"
    edit = next(b for row in review.buttons for b in row if b.key == "edit_number" and b.params["number"] == 1)
    driver.press_data(edit.data)
    assert driver.question.id == bundled()["qn2018-xa"].steps[0].question.id
    driver.say("25")
    assert answers_of(db, "06652")[bundled()["qn2018-xa"].steps[0].question.id] == "25"
    assert driver.outcome.replies[0].context["just_answered"]["value"] == "25"


def test_submit_lists_what_is_missing(world):
    db, clock, campaign, dialogue = world
    driver = Driver(dialogue, 600)
    driver.start(campaign.tokens["06652"])
    texts = rendered(driver.command("nop"))
    assert texts[0].startswith("Chưa thể nộp") and "Câu 1:" in texts[0]


def test_after_the_deadline_answers_are_refused_but_viewing_works(db):
    clock = Clock(START)
    campaign = make_campaign(db, START, grace_hours=2)
    dialogue = ContactDialogue(db, clock)
    driver = Driver(dialogue, 700)
    driver.start(campaign.tokens["06652"])
    first = bundled()["qn2018-xa"].steps[0].question.id
    clock.now = campaign.deadline + timedelta(hours=1)  # within the grace
    driver.say("20")
    assert answers_of(db, "06652")[first] == "20"
    clock.advance(hours=1, seconds=1)
    texts = rendered(driver.say("30"))
    assert "Đã hết hạn" in texts[0] and answers_of(db, "06652")[first] == "20"
    assert "hết hạn" in rendered(driver.command("nop"))[0]
    assert rendered(driver.command("xemlai"))[0].startswith("Xem lại")
    assert "Trạng thái" in rendered(driver.command("trangthai"))[0]


def test_two_contacts_of_one_agency_share_the_answers(world):
    db, clock, campaign, dialogue = world
    lan = Driver(dialogue, 801, "Trần Thị Lan")
    lan.start(campaign.tokens["06652"])
    with db.session() as session:
        token = next(
            inv.token
            for agency, inv in agency_invitations(session, campaign_store.get(session, campaign.id), clock.now, "06652")
        )
    minh = Driver(dialogue, 802, "Lê Văn Minh")
    minh.start(token)
    lan.say("40")
    texts = rendered(minh.command("sua", "1"))
    assert "40" in texts[0] and "Trần Thị Lan" in texts[0]
    minh.say("41")
    assert answers_of(db, "06652")[bundled()["qn2018-xa"].steps[0].question.id] == "41"
    with db.session() as session:
        who = [c.changed_by for c in session.scalars(select(AnswerChange).order_by(AnswerChange.id))]
        assert who[-2:] == [801, 802]
        assert session.scalar(select(func.count(Contact.id))) == 2


def test_english_users_get_english_templates(world):
    db, clock, campaign, dialogue = world
    driver = Driver(dialogue, 900, "Anna", "en")
    texts = rendered(driver.start(campaign.tokens["06652"]), "en")
    assert "Question 1 · 1/31" in texts[-1]


def test_a_total_cannot_drop_below_an_answer_it_bounds(world):
    db, clock, campaign, dialogue = world
    driver = Driver(dialogue, 1000)
    driver.start(campaign.tokens["06652"])
    driver.command("sua", "cbcc_tong")
    driver.say("30")
    driver.command("sua", "cbcc_may_tinh")
    driver.say("25")
    driver.command("sua", "cbcc_tong")
    texts = rendered(driver.say("20"))
    assert "Câu 6 đã khai 25" in texts[0] and "/sua 6" in texts[0]
    assert answers_of(db, "06652")["cbcc_tong"] == 30
