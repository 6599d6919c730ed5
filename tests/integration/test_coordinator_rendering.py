"""Every coordinator message renders, in Vietnamese and English, for a campaign with no agencies, with one
agency, and with a city of 200 — and stays under Telegram's 4 096 characters without being cut."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from dialogue_helpers import START, Clock
from sqlalchemy import insert

from bot.labels import by_language
from bot.rendering import label_of
from bot.texts import render
from conversations.contact_dialogue import ContactDialogue
from conversations.coordinator_dialogue import CoordinatorDialogue
from conversations.situation import Person
from rubrics import answers as values
from rubrics.bundled import bundled
from rubrics.formatting import vn_number, vn_score
from rubrics.sample_answers import sample_answers
from storage import campaigns
from storage.agency_import import import_csv
from storage.campaigns import CampaignSpec
from storage.invitations import coordinator_invitation
from storage.models import Agency, Answer, Submission
from storage.reports import campaign_report

ZONE = "Asia/Ho_Chi_Minh"
LIMIT = 4096
COORDINATOR = Person(900, 900, "Điều phối")
HEADER = "code,name,level,parent_code,contact_name,contact_phone,contact_email\n"


def city_of(size: int) -> str:
    """A city and ``size - 1`` wards with long official-style names."""
    rows = ["HL,UBND Thành phố Hạ Long,huyen,,,,"]
    rows += [f"P{i:03d},UBND Phường Số {i} thuộc Thành phố Hạ Long tỉnh Quảng Ninh,xa,HL,,," for i in range(1, size)]
    return HEADER + "\n".join(rows) + "\n"


def campaign_with(db, agencies: str | None) -> int:
    rubrics = {"huyen": bundled()["qn2018-huyen"], "xa": bundled()["qn2018-xa"]}
    rng = random.Random(5)
    with db.session() as session:
        campaign = campaigns.create(
            session, CampaignSpec("Đánh giá CQĐT năm 2019", rubrics, START + timedelta(days=14))
        )
        if agencies:
            import_csv(session, campaign, agencies)
            session.flush()
            rows = []
            for agency in session.query(Agency).filter(Agency.campaign_id == campaign.id):
                rubric = rubrics[agency.level]
                for qid, value in sample_answers(rubric, rng).items():
                    na = value is values.NA
                    rows.append(
                        {
                            "agency_id": agency.id,
                            "question_id": qid,
                            "not_applicable": na,
                            "value": None if na else values.to_json(rubric.question(qid), value),
                            "source": "test",
                            "set_at": START,
                        }
                    )
            session.execute(insert(Answer), rows)
            session.query(Submission).filter(Submission.campaign_id == campaign.id).update(
                {"state": "submitted", "submitted_at": START, "revision": 1}
            )
        token = coordinator_invitation(session, campaign, START).token
    return token


def rendered(outcome, lang: str) -> list[str]:
    texts = []
    for reply in outcome.replies:
        text = render(reply.template, lang=lang, zone=ZONE, **reply.context)
        labels = [label_of(b, lang, ZONE) for row in reply.buttons for b in row]
        assert all(0 < len(label) <= 64 for label in labels)
        texts.append(text)
    return texts


@pytest.mark.parametrize("size", [0, 1, 200])
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_coordinator_message_renders_and_fits(db, size, lang):
    agencies = None if size == 0 else city_of(size) if size > 1 else HEADER + "HL,UBND Thành phố Hạ Long,huyen,,,,\n"
    token = campaign_with(db, agencies)
    clock = Clock(START)
    ContactDialogue(db, clock).start(COORDINATOR, token)
    dialogue = CoordinatorDialogue(db, clock, ZONE, by_language(ZONE))
    outcomes = [
        dialogue.status(COORDINATOR),
        dialogue.verify(COORDINATOR, ""),
        dialogue.agency(COORDINATOR, ""),
        dialogue.agency(COORDINATOR, "KHONGCO"),
        dialogue.adjust(COORDINATOR, "HL 9.9 1 lý do"),
        dialogue.remind(COORDINATOR),
        dialogue.chart(COORDINATOR, ""),
        dialogue.chart(COORDINATOR, "xeploai"),
        dialogue.export(COORDINATOR, lang),
        dialogue.targets(COORDINATOR),
        dialogue.targets(COORDINATOR, "HL"),
        dialogue.targets(COORDINATOR, "P001"),
    ]
    first = dialogue.scores(COORDINATOR)
    outcomes.append(first)
    if size:
        pages = first.replies[0].context["pages"]
        outcomes += [dialogue.scores(COORDINATOR, level, page) for level in ("huyen", "xa") for page in range(pages)]
        detail = dialogue.agency(COORDINATOR, "HL")
        outcomes += [dialogue.agency(COORDINATOR, "HL", page) for page in range(detail.replies[0].context["pages"])]
        clock.advance(days=30)
        outcomes.append(dialogue.status(COORDINATOR))  # past the deadline: overdue counts
    texts = [text for outcome in outcomes for text in rendered(outcome, lang)]
    assert texts and all(0 < len(text) < LIMIT for text in texts)
    joined = "\n".join(texts)
    if size == 0:
        assert ("chưa có đơn vị nào" if lang == "vi" else "has no agencies") in joined
    else:
        assert "UBND Thành phố Hạ Long" in joined
    if size == 200:
        assert "(1/14, 199/199 " in joined  # the 199 wards page by 15


def test_the_status_of_a_city_of_200_names_every_level(db):
    token = campaign_with(db, city_of(200))
    clock = Clock(datetime(2019, 10, 15, 2, tzinfo=UTC))
    ContactDialogue(db, clock).start(COORDINATOR, token)
    text = rendered(CoordinatorDialogue(db, clock, ZONE, by_language(ZONE)).status(COORDINATOR), "vi")[0]
    assert "Cấp xã: đã nộp 199/199" in text and "Cấp huyện: đã nộp 1/1" in text


def test_a_city_coordinator_sees_the_rank_within_its_scope_and_across_the_province(db):
    """/donvi of a ward for a city's office: its rank among the city's wards, then among all the wards."""
    rows = ["HL,UBND Thành phố Hạ Long,huyen,,,,", "CP,UBND Thành phố Cẩm Phả,huyen,,,,"]
    rows += [f"HL{i},UBND Phường {i} Hạ Long,xa,HL,,," for i in range(1, 4)]
    rows += [f"CP{i},UBND Phường {i} Cẩm Phả,xa,CP,,," for i in range(1, 8)]
    campaign_with(db, HEADER + "\n".join(rows) + "\n")
    city = Person(901, 901, "Phòng VH-TT Hạ Long")
    with db.session() as session:
        campaign = campaigns.get(session, session.query(Agency.campaign_id).limit(1).scalar())
        token = coordinator_invitation(session, campaign, START, "HL").token
        totals = {e.agency.code: e.effective.total for e in campaign_report(session, campaign, ["xa"])["xa"].agencies}
    clock = Clock(START)
    ContactDialogue(db, clock).start(city, token)
    dialogue = CoordinatorDialogue(db, clock, ZONE, by_language(ZONE))
    for code in ("HL1", "HL2", "HL3"):
        in_city = 1 + sum(1 for c in ("HL1", "HL2", "HL3") if totals[c] > totals[code])
        in_province = 1 + sum(1 for t in totals.values() if t > totals[code])
        outcome = dialogue.agency(city, code)
        assert (outcome.replies[0].context["scope_rank"], outcome.replies[0].context["scope_count"]) == (in_city, 3)
        vi, en = rendered(outcome, "vi")[0], rendered(outcome, "en")[0]
        assert f"Xếp hạng: hạng {in_city}/3 trong phạm vi; {in_province}/10 toàn tỉnh" in vi, vi
        assert f"Rank: {in_city}/3 within your scope; {in_province}/10 across the province" in en, en
    assert "Không có đơn vị mã «CP1» trong phạm vi của Đồng chí" in rendered(dialogue.agency(city, "CP1"), "vi")[0]
    province = Person(900, 900, "Sở")  # the province's office: one rank, campaign-wide
    with db.session() as session:
        token = coordinator_invitation(session, campaigns.get(session, campaign.id), START).token
    ContactDialogue(db, clock).start(province, token)
    whole = rendered(dialogue.agency(province, "HL1"), "vi")[0]
    assert f"Xếp hạng: {1 + sum(1 for t in totals.values() if t > totals['HL1'])}/10" in whole
    assert "trong phạm vi" not in whole


def test_the_agency_detail_shows_how_each_group_adds_up(db):
    """/donvi: per group max, not applicable, applicable, achieved and converted, so the figures add up
    (the indicators' points sum to the achieved, and the converted is achieved × max ÷ applicable)."""
    token = campaign_with(db, city_of(12))
    ContactDialogue(db, Clock(START)).start(COORDINATOR, token)
    dialogue = CoordinatorDialogue(db, Clock(START), ZONE, by_language(ZONE))
    with db.session() as session:
        report = campaign_report(session, campaigns.get(session, 1))["xa"]
    entry = next(e for e in report.ranked() if any(g.excluded for g in e.effective.groups))
    group = next(g for g in entry.effective.groups if g.excluded)
    (text,) = rendered(dialogue.agency(COORDINATOR, entry.agency.code), "vi")
    applicable = group.max - group.excluded
    assert (
        f"tối đa {vn_number(group.max)} − không áp dụng {vn_number(group.excluded)} = áp dụng {vn_number(applicable)}"
        f" · đạt {vn_score(group.achieved)} → quy đổi {vn_score(group.achieved)} × {vn_number(group.max)}"
        f" ÷ {vn_number(applicable)} = {vn_score(group.converted)}"
    ) in text
    leaves = [i for i in entry.effective.indicators.values() if i.code.startswith(group.code + ".")]
    assert sum(i.achieved for i in leaves) == group.achieved
