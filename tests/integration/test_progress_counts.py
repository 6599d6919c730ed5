"""One count everywhere: walking a rubric with skip logic, every count a contact is shown (welcome, header,
footer, review, /trangthai, /nop) is the number of questions that apply given the answers so far, at
every step; a returned round counts the returned questions alike in the notice, /trangthai and the header."""

from __future__ import annotations

import random
import re

import pytest
from dialogue_helpers import START, Clock, answer_all, make_campaign, yes_no_indicator
from sqlalchemy import select

from bot.labels import by_language
from conversations.contact_dialogue import ContactDialogue
from conversations.coordinator_dialogue import CoordinatorDialogue
from conversations.situation import Person
from conversations.walk import relevant_steps
from integration.test_contact_dialogue import Driver, answer_current, rendered
from rubrics.bundled import bundled
from rubrics.sample_answers import sample_answers
from storage import answers as answer_store
from storage.models import Agency, Contact, Notification

XA = bundled()["qn2018-xa"]
ZONE = "Asia/Ho_Chi_Minh"
HEADER = re.compile(r"· Câu (\d+) · (trả lại )?(\d+)/(\d+)")
ANSWERED = re.compile(r"(?:Đã trả lời|đã trả lời) (\d+)/(\d+) câu")


def stored(db) -> dict:
    with db.session() as session:
        agency = session.scalar(select(Agency).where(Agency.code == "06652"))
        return answer_store.load_agency_answers(session, XA, agency.id)


def counts_of(text: str) -> set[tuple[int, int]]:
    return {(int(a), int(b)) for a, b in ANSWERED.findall(text)}


def a_plan_with_skips(seed: int) -> dict:
    """Answers that leave questions hidden, with one answer that reveals questions (co_wan) given late."""
    plan = sample_answers(XA, random.Random(seed), na_rate=0)
    assert len(relevant_steps(XA, plan)) < len(XA.steps)
    return plan


@pytest.mark.parametrize("seed", [1, 4])
def test_every_count_agrees_at_every_step(db, seed):
    clock = Clock(START)
    campaign = make_campaign(db, START)
    dialogue = ContactDialogue(db, clock)
    driver = Driver(dialogue, 700)
    plan = a_plan_with_skips(seed)
    texts = rendered(driver.start(campaign.tokens["06652"]))
    relevant = len(relevant_steps(XA, {}))
    assert f"— {relevant} câu hỏi" in texts[0]  # the welcome
    changed = 0
    for _ in range(len(XA.steps) + 5):
        prompts = [r for r in driver.outcome.replies if r.prompt_token]
        if not prompts:
            break
        answers = stored(db)
        steps = relevant_steps(XA, answers)
        text = rendered(driver.outcome)[-1]
        number, returned, position, of = HEADER.search(text).groups()
        step = XA.steps[int(number) - 1]
        assert int(of) == len(steps) and int(position) == steps.index(step) + 1 and not returned
        answered = sum(1 for s in steps if s.question.id in answers)
        assert counts_of(text) == {(answered, len(steps))}  # the footer
        if len(steps) != relevant:  # the last answer revealed or hid questions: a sentence says so
            assert re.search(rf"(mở thêm|bỏ) \d+ câu hỏi.*nay có {len(steps)} câu", text)
            changed += 1
        relevant = len(steps)
        for command in ("trangthai", "xemlai", "nop"):
            shown = "\n".join(rendered(driver.command(command)))
            assert counts_of(shown) == {(answered, len(steps))}, (command, shown)
        driver.command("tieptuc")
        assert driver.question.id == step.question.id
        answer_current(driver, plan.get(step.question.id, None if not step.question.required else "Nội dung"))
    assert changed, "the plan revealed or hid no question"
    final = "\n".join(rendered(driver.command("trangthai")))
    assert counts_of(final) == {(len(relevant_steps(XA, stored(db))), len(relevant_steps(XA, stored(db))))}


def test_a_returned_round_counts_the_returned_questions_alike(db):
    clock = Clock(START)
    campaign = make_campaign(db, START)
    answer_all(db, "06652", 1)
    contacts = ContactDialogue(db, clock)
    coordinators = CoordinatorDialogue(db, clock, ZONE, by_language(ZONE))
    contact, coordinator = Person(300, 300, "Thu Hà", "vi"), Person(900, 900, "Sở")
    contacts.start(contact, campaign.tokens["06652"])
    contacts.start(coordinator, campaign.coordinator_token)
    contacts.command(contact, "nop")
    with db.session() as session:
        token = session.scalar(select(Contact.menu_token).where(Contact.telegram_user_id == contact.user_id))
    assert contacts.button(contact, f"m:{token}:c:").notice == "submitted"
    item, _ = yes_no_indicator(XA)
    coordinators.return_indicators(coordinator, f"06652 {item.code} Xin bổ sung số liệu")
    with db.session() as session:
        payload = session.scalar(select(Notification.payload).where(Notification.kind == "returned"))
    questions = payload["questions"]
    assert questions >= 1 and len(payload["indicators"]) == 1

    status = "\n".join(rendered(contacts.command(contact, "trangthai")))
    assert f"trả lại 1 chỉ tiêu ({questions} câu)" in status
    prompt = "\n".join(rendered(contacts.command(contact, "tieptuc")))
    assert f"trả lại 1/{questions}" in prompt
