"""The demo's second year: next year's campaign of the same rubric families, the same agency codes, and a
few of last year's agencies answering it with last year's answers to keep.

The guidance the office published last year is carried into the new campaign (what ``cqdt guidance
carry`` does). The featured contact (last year verified) opens next year's invitation, keeps three answers
with one press each, accepts /tieptuc's offer to keep the rest in one step, answers what is left, opens the
question the guidance is about (/sua) to read it there, and submits; two other agencies do the same without
being recorded. The coordinator of the new campaign then opens the featured agency in /donvi, where the kept
answers are marked.
"""

from __future__ import annotations

import re
from datetime import timedelta
from importlib.resources import files
from typing import Any

from bot.demo.contacts import Contact, is_next, is_prompt, label
from bot.demo.office_questions import carry_guidance
from bot.demo.transcript import Chat, Exchange, Gap, Said, trimmed
from storage import campaigns
from storage.agency_import import import_csv
from storage.campaigns import CampaignSpec
from storage.invitations import agency_invitations, coordinator_invitation
from storage.last_year import carried_answers

YEAR = timedelta(days=366)  # 2020 is a leap year: the same dates one year on
NAME = "Đánh giá mức độ Chính quyền điện tử năm 2020"
AGENCIES = ("06652", "06655", "06658")  # submitted last year; the first was verified
KEPT_ONE_BY_ONE = 3
SHOWN = ("start", "kept", "carry_offer", "carry_all", "guidance", "submit")  # the exchanges its transcript keeps


def transcript(chat: Chat) -> list[Exchange | Gap]:
    """The featured contact's second year made readable: the keeping, and the submission."""
    return trimmed(chat.exchanges, lambda _, e: e.tag in SHOWN)


def _keep_all_button(texts: list[str]) -> tuple[str, int]:
    """The offer's «Giữ tất cả N câu như năm trước» and its N."""
    for text in texts:
        found = re.search(r"\d+", text)
        if found and text == label("carry_all", count=int(found.group())):
            return text, int(found.group())
    raise RuntimeError(f"no keep-all offer among {texts}")


def _read_guidance(chat: Chat, number: int) -> None:
    """/sua the question the carried guidance is about: its prompt shows the guidance."""
    edit = f"/sua {number}"
    chat.act(Said("command", edit), lambda u: u.send_command(edit), "Hướng dẫn của cơ quan điều phối", "guidance")


def second_year(demo) -> dict[str, Any]:
    """Next year's round: a new campaign like the demo's (its rubrics, its period and deadline a year on),
    three agencies keeping last year's answers, and /donvi showing which were kept."""
    with demo.db.session() as session:
        last = campaigns.get(session, demo.campaign_id)
        period = (last.period_from + YEAR, last.period_to + YEAR) if last.period_from else None
        deadline = last.deadline + YEAR
        spec = CampaignSpec(NAME, campaigns.rubrics_by_level(last), deadline, period)
        campaign = campaigns.create(session, spec)
        demo.clock.now = deadline - timedelta(days=14)
        import_csv(session, campaign, files("bot.demo").joinpath("agencies.csv").read_text("utf-8"))
        tokens = {a.code: i.token for a, i in agency_invitations(session, campaign, demo.clock.now)}
        coordinator = coordinator_invitation(session, campaign, demo.clock.now).token
        campaign_id, rubric_of = campaign.id, campaigns.rubrics_by_level(campaign)
    notes = carry_guidance(demo, demo.campaign_id, campaign_id, demo.clock.now)
    keep_all = []
    for number, code in enumerate(AGENCIES):
        demo.clock.now += timedelta(minutes=15)
        chat = Chat(demo.fake, demo.people[code].chat.user, record=number == 0)
        if number == 0:
            demo.second_year = chat
        rubric = rubric_of[demo.levels[code]]
        contact = Contact(chat, rubric, demo.plan(rubric, code))
        prompt = contact.open(tokens[code])
        for _ in range(KEPT_ONE_BY_ONE):
            prompt = contact.press(prompt, label("keep_last_year"), is_prompt, "kept")
        offer = chat.act(Said("command", "/tieptuc"), lambda u: u.send_command("/tieptuc"), None, "carry_offer")
        button, count = _keep_all_button(offer.button_texts)
        keep_all.append(count)
        contact.walk(contact.press(offer, button, is_next, "carry_all"))
        if number == 0 and notes:
            _read_guidance(chat, rubric.by_id[notes[0].question_id].number)
        contact.submit()
    demo.clock.now += timedelta(minutes=15)
    demo.coordinator.act(Said("start", coordinator), lambda u: u.send_command(f"/start {coordinator}"), None, "start")
    summary = demo.ask(f"/donvi {AGENCIES[0]}", "Tự đánh giá", "second_year")
    page = label("page_next_short")
    demo.coordinator.act(
        Said("press", page), lambda u: u.press(page, message_id=summary.message_id), "giữ từ năm trước", "second_year"
    )
    with demo.db.session() as session:
        carried = carried_answers(session, campaign_id)
    return {
        "campaign": NAME,
        "agencies": len(AGENCIES),
        "one_by_one": KEPT_ONE_BY_ONE,
        "keep_all": keep_all,
        "carried": sum(len(questions) for questions in carried.values()),
        "guidance": len(notes),
    }
