"""Last year's answers: the repository, the rules that say what is offered, the keep button and /tieptuc's
keep-all offer, through the contact's dialogue on a real database."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from cli_helpers import Cli
from dialogue_helpers import Clock
from openpyxl import load_workbook
from second_year_helpers import NEXT_START, REFRESHED, RENAMED, RETYPED, second_year
from sqlalchemy import delete, select

from bot.labels import labels
from bot.rendering import keyboard_of, text_of
from conversations import carry
from conversations.contact_dialogue import ContactDialogue
from conversations.exports import write_csv, write_xlsx
from conversations.situation import Person, situation
from conversations.walk import relevant_steps
from rubrics.answers import NA
from storage import audit, campaigns
from storage.invitations import agency_invitations
from storage.last_year import carried_answers
from storage.models import Agency, AnswerChange
from storage.models import Answer as AnswerRow
from storage.records import AgencyRecord
from storage.reports import campaign_report

pytestmark = pytest.mark.integration
USER = 500


def agency_record(db, campaign_id: int, code: str = "06652") -> AgencyRecord:
    with db.session() as session:
        a = session.scalar(select(Agency).where(Agency.campaign_id == campaign_id, Agency.code == code))
        return AgencyRecord(a.id, a.campaign_id, a.code, a.name, a.level, a.parent_id)


def last_values(db, campaign_id: int, code: str = "06652"):
    agency = agency_record(db, campaign_id, code)
    with db.unit() as unit:
        return unit.last_year.values(unit.campaign(campaign_id), agency)


def rendered(outcome) -> list[str]:
    for reply in outcome.replies:
        keyboard_of(reply, "vi", "Asia/Ho_Chi_Minh")
    return [text_of(reply, "vi", "Asia/Ho_Chi_Minh") for reply in outcome.replies]


def joined(db, year, user: int = USER):
    """A contact of 06652 registered this year (a colleague through the invitation issued after the first)."""
    dialogue = ContactDialogue(db, Clock(NEXT_START))
    who = Person(user, user, "Nguyễn Thu Hà", "vi")
    with db.session() as session:
        campaign = campaigns.get(session, year.id)
        token = agency_invitations(session, campaign, NEXT_START, "06652")[0][1].token
    outcome = dialogue.start(who, token)
    rendered(outcome)
    return dialogue, who, outcome


def keys(reply) -> dict[str, str]:
    return {b.key: b.data for row in reply.buttons for b in row}


def stored(db, campaign_id: int) -> dict[str, tuple]:
    agency = agency_record(db, campaign_id)
    with db.session() as session:
        rows = session.execute(
            select(AnswerRow.question_id, AnswerRow.value, AnswerRow.source, AnswerRow.set_by).where(
                AnswerRow.agency_id == agency.id
            )
        )
        return {qid: (value, source, by) for qid, value, source, by in rows}


def test_the_repository_reads_a_submitted_answer_set_and_says_whether_it_was_verified(db):
    year = second_year(db)
    found = last_values(db, year.id)
    with db.session() as session:
        last = campaigns.facts(session, year.last_id).rubrics["xa"]
        agency = session.scalar(select(Agency).where(Agency.campaign_id == year.last_id, Agency.code == "06652"))
        rows = session.execute(select(AnswerRow).where(AnswerRow.agency_id == agency.id)).scalars().all()
    answered = {r.question_id for r in rows if r.value is not None or r.not_applicable}
    assert set(found) == answered and found
    assert not any(v.verified for v in found.values())
    assert found["cbcc_tong"].question_type == "integer" and isinstance(found["cbcc_tong"].value, int)
    assert found[RETYPED].question_type == last.question(RETYPED).type == "text"
    assert last_values(db, year.id, "06655") == {}  # nothing submitted last year


def test_a_verified_submission_is_marked_verified(db):
    year = second_year(db, state="verified")
    assert all(v.verified for v in last_values(db, year.id).values())


def test_an_unsubmitted_answer_set_of_last_year_offers_nothing(db):
    year = second_year(db, state="in_progress")
    assert last_values(db, year.id) == {}
    dialogue, who, outcome = joined(db, year)
    assert outcome.replies[-1].context["last_year"] is None
    assert "keep_last_year" not in keys(outcome.replies[-1])
    assert outcome.replies[-1].context["step"].question.id == f"{RENAMED}_2019"
    offer = dialogue.command(who, "tieptuc")
    assert [r.template for r in offer.replies] == ["question"]


def test_the_keep_button_stores_last_years_value_as_carried_forward(db):
    year = second_year(db, state="verified")
    dialogue, who, outcome = joined(db, year)
    assert outcome.replies[-1].context["last_year"] is None  # a question under a new id: nothing last year
    outcome = dialogue.text(who, "Nguyễn Thu Hà, công chức Văn phòng, 0912 345 678")
    prompt = outcome.replies[-1]
    assert prompt.context["step"].question.id == "cbcc_tong"
    expected = last_values(db, year.id)["cbcc_tong"].value
    shown = prompt.context["last_year"]
    assert shown.offered and shown.verified and shown.value == expected
    text = rendered(outcome)[-1]
    assert f"Năm trước: {expected}" in text and "(đã thẩm định)" in text
    outcome = dialogue.button(who, keys(prompt)["keep_last_year"], message_id=9)
    assert outcome.notice == "saved"
    assert outcome.replies[-1].context["just_answered"]["value"] == expected
    review = rendered(dialogue.command(who, "xemlai"))[-1]
    assert f"→ {expected} người ↩ giữ từ năm trước" in review
    assert review.count("↩ giữ từ năm trước") == 1
    assert stored(db, year.id)["cbcc_tong"] == (expected, carry.SOURCE, USER)
    agency = agency_record(db, year.id)
    with db.session() as session:
        change = session.scalars(
            select(AnswerChange).where(AnswerChange.agency_id == agency.id, AnswerChange.question_id == "cbcc_tong")
        ).one()
        entries = [e for e in audit.chain(session, agency.id) if e.question_id == "cbcc_tong"]
    assert (change.source, change.changed_by, change.changed_at) == (carry.SOURCE, USER, NEXT_START)
    assert entries[-1].data["source"] == carry.SOURCE
    again = dialogue.button(who, keys(prompt)["keep_last_year"], message_id=9)
    assert again.notice == "stale_button"


def test_a_question_to_refresh_shows_last_year_without_the_button(db):
    year = second_year(db)
    dialogue, who, _ = joined(db, year)
    outcome = dialogue.command(who, "sua", "5")
    prompt = outcome.replies[-1]
    assert prompt.context["step"].question.id == REFRESHED
    assert prompt.context["last_year"].why_not == "refresh" and not prompt.context["last_year"].offered
    assert "keep_last_year" not in keys(prompt)
    assert "cần số liệu của năm nay" in rendered(outcome)[-1]


def test_a_question_whose_type_changed_or_id_is_new_shows_nothing(db):
    year = second_year(db)
    dialogue, who, _ = joined(db, year)
    with db.unit() as unit:
        place = situation(unit, USER, NEXT_START)
        assert carry.last_year(place, place.rubric.by_id[RETYPED]) is None
        assert carry.last_year(place, place.rubric.by_id[f"{RENAMED}_2019"]) is None
        assert carry.last_year(place, place.rubric.by_id["cbcc_tong"]).offered


def test_documents_older_than_the_data_period_are_shown_but_not_offered_and_dates_are_offered(db):
    year = second_year(db, period=(date(2019, 1, 1), date(2019, 12, 31)))
    last = agency_record(db, year.last_id)
    written = {
        "ngay_ket_noi_wan": "2018-03-01",
        "ke_hoach_vb": {"so_hieu": "12/KH-UBND", "ngay": "2018-01-15", "trich_yeu": "Kế hoạch ứng dụng CNTT"},
        "co_wan": True,
        "co_ke_hoach": True,
    }
    with db.session() as session:
        session.execute(
            delete(AnswerRow).where(AnswerRow.agency_id == last.id, AnswerRow.question_id.in_(list(written)))
        )
        session.add_all(AnswerRow(agency_id=last.id, question_id=q, value=v) for q, v in written.items())
    joined(db, year)
    with db.unit() as unit:
        place = situation(unit, USER, NEXT_START)
        found = carry.last_year(place, place.rubric.by_id["ke_hoach_vb"])
        assert found is not None and found.why_not == "outdated" and not found.offered
        assert carry.last_year(place, place.rubric.by_id["ngay_ket_noi_wan"]).offered  # when it was connected
        assert carry.last_year(place, place.rubric.by_id["co_wan"]).offered
    with db.session() as session:
        session.execute(
            AnswerRow.__table__.update()
            .where(AnswerRow.agency_id == last.id, AnswerRow.question_id == "ke_hoach_vb")
            .values(value={**written["ke_hoach_vb"], "ngay": "2019-02-01"})
        )
    with db.unit() as unit:
        place = situation(unit, USER, NEXT_START)
        assert carry.last_year(place, place.rubric.by_id["ke_hoach_vb"]).offered


def test_tieptuc_keeps_every_offered_value_once_and_leaves_this_years_answers(db):
    year = second_year(db)
    dialogue, who, _ = joined(db, year)
    dialogue.text(who, "Nguyễn Thu Hà, 0912 345 678")
    last = last_values(db, year.id)
    dialogue.text(who, str(last["cbcc_tong"].value + 1))  # this year's own answer
    offer = dialogue.command(who, "tieptuc")
    reply = offer.replies[-1]
    assert reply.template == "carry_offer"
    listed = [item["step"].question.id for item in reply.context["items"]]
    assert "cbcc_tong" not in listed and REFRESHED not in listed and RETYPED not in listed
    assert "quy_che_tep" not in listed  # a file: this year's evidence is sent anew
    assert "ke_hoach_vb" not in listed  # its evidence is required: kept at its question, which asks for it
    assert f"Giữ tất cả {len(listed)} câu như năm trước" in str(
        keyboard_of(reply, "vi", "Asia/Ho_Chi_Minh").inline_keyboard
    )
    rendered(offer)
    outcome = dialogue.button(who, keys(reply)["carry_all"], message_id=12)
    rendered(outcome)
    done = outcome.replies[0]
    assert done.template == "carry_done" and done.edit_message_id == 12
    kept = [s.question.id for s in (k["step"] for k in done.context["kept"])]
    answers = stored(db, year.id)
    assert kept and kept == listed
    assert all(answers[q][1] == carry.SOURCE and answers[q][2] == USER for q in kept)
    assert answers["cbcc_tong"][1] == "telegram" and answers["cbcc_tong"][0] == last["cbcc_tong"].value + 1
    assert REFRESHED not in answers
    with db.unit() as unit:
        place = situation(unit, USER, NEXT_START)
        assert carry.offerable(place) == []  # nothing left that was offered and is relevant
        relevant = {s.question.id for s in relevant_steps(place.rubric, place.answers)}
    assert set(kept) <= relevant
    assert dialogue.button(who, keys(reply)["carry_all"], message_id=12).notice == "stale_button"
    again = dialogue.command(who, "tieptuc")
    assert [r.template for r in again.replies] == ["question"]


def test_tieptuc_after_the_deadline_offers_nothing(db):
    year = second_year(db)
    dialogue, who, _ = joined(db, year)
    dialogue.clock.now = year.deadline + timedelta(hours=1)
    outcome = dialogue.command(who, "tieptuc")
    assert [r.template for r in outcome.replies] == ["refusal", "status"]
    assert stored(db, year.id) == {}


def test_not_applicable_last_year_is_offered_where_this_year_allows_it(db):
    year = second_year(db)
    last = agency_record(db, year.last_id)
    with db.session() as session:
        session.execute(delete(AnswerRow).where(AnswerRow.agency_id == last.id, AnswerRow.question_id == "co_wan"))
        session.add(AnswerRow(agency_id=last.id, question_id="co_wan", value=None, not_applicable=True))
    joined(db, year)
    with db.unit() as unit:
        place = situation(unit, USER, NEXT_START)
        found = carry.last_year(place, place.rubric.by_id["co_wan"])
        assert found.value is NA and found.offered


def test_the_exports_name_the_answers_kept_from_last_year(db):
    year = second_year(db)
    dialogue, who, outcome = joined(db, year)
    dialogue.text(who, "Nguyễn Thu Hà, 0912 345 678")
    prompt = dialogue.command(who, "sua", "2").replies[-1]
    dialogue.button(who, keys(prompt)["keep_last_year"], message_id=3)  # question 2 kept with its button
    with db.session() as session:
        carried = carried_answers(session, year.id)
        reports = campaign_report(session, campaigns.get(session, year.id))
    agency = agency_record(db, year.id)
    assert carried == {agency.id: {"cbcc_tong"}}
    words = labels("vi", "Asia/Ho_Chi_Minh")
    workbook, table = io.BytesIO(), io.BytesIO()
    write_xlsx(workbook, reports, words, zone="Asia/Ho_Chi_Minh", carried=carried)
    write_csv(table, reports, words, zone="Asia/Ho_Chi_Minh", carried=carried)
    rows = list(load_workbook(io.BytesIO(workbook.getvalue()))["Cấp xã"].iter_rows(values_only=True))
    column = rows[0].index("Câu giữ từ năm trước")
    kept = {row[1]: row[column] for row in rows[1:]}
    assert kept == {"06652": "2", "06655": None}
    lines = list(csv.reader(io.StringIO(table.getvalue().decode("utf-8-sig"))))
    assert lines[0][-1] == "Câu giữ từ năm trước"
    assert {line[2]: line[-1] for line in lines[1:]} == {"193": "", "06652": "2", "06655": ""}


def test_a_colleagues_unseen_answer_is_confirmed_before_last_years_replaces_it(db):
    year = second_year(db)
    dialogue, who, _ = joined(db, year)
    dialogue.text(who, "Nguyễn Thu Hà, 0912 345 678")
    prompt = dialogue.command(who, "sua", "2").replies[-1]  # shown while it has no answer yet
    colleague_dialogue, colleague, _ = joined(db, year, user=USER + 1)
    colleague_dialogue.command(colleague, "sua", "2")
    colleague_dialogue.text(colleague, "7")
    pressed = dialogue.button(who, keys(prompt)["keep_last_year"], message_id=4)
    asked = pressed.replies[-1]
    assert asked.template == "colleague_answered"
    assert stored(db, year.id)["cbcc_tong"][1:] == ("telegram", USER + 1)
    rendered(dialogue.button(who, keys(asked)["replace_colleague"], message_id=4))
    expected = last_values(db, year.id)["cbcc_tong"].value
    assert stored(db, year.id)["cbcc_tong"] == (expected, carry.SOURCE, USER)


def test_an_english_contact_sees_last_year_in_english(db):
    year = second_year(db, state="verified")
    dialogue = ContactDialogue(db, Clock(NEXT_START))
    who = Person(USER, USER, "Ha", "en")
    dialogue.start(who, year.tokens["06652"])
    outcome = dialogue.command(who, "edit", "2")
    text = text_of(outcome.replies[-1], "en", "Asia/Ho_Chi_Minh")
    keyboard = keyboard_of(outcome.replies[-1], "en", "Asia/Ho_Chi_Minh").inline_keyboard
    labels_shown = [b.text for row in keyboard for b in row]
    assert "Last year: " in text and "(verified)" in text and "Keep last year's" in labels_shown
    offer = dialogue.command(who, "continue").replies[-1]
    assert text_of(offer, "en", "Asia/Ho_Chi_Minh").startswith("📅 Last year your agency answered")


def test_the_audit_chain_and_the_cli_export_say_which_answers_were_carried(db, database_url, capsys, tmp_path):
    year = second_year(db)
    dialogue, who, _ = joined(db, year)
    prompt = dialogue.command(who, "sua", "2").replies[-1]
    dialogue.button(who, keys(prompt)["keep_last_year"], message_id=3)
    cli = Cli(capsys, database_url)
    shown = cli("audit", "show", "--agency", "06652")
    assert [line for line in shown.splitlines() if "(giữ từ năm trước)" in line] == [
        line for line in shown.splitlines() if "câu cbcc_tong" in line
    ]
    assert "(giữ từ năm trước)" in shown
    cli("export", "--campaign", str(year.id), "--format", "csv", "-o", str(tmp_path / "kq.csv"))
    lines = list(csv.reader(io.StringIO((tmp_path / "kq.csv").read_text("utf-8-sig"))))
    assert lines[0][-1] == "Câu giữ từ năm trước" and {line[2]: line[-1] for line in lines[1:]}["06652"] == "2"
