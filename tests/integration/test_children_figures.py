"""A district's figures added up from its communes' own answers (``children_sum``, ``children_ratio``).

District H1 has three communes: two have submitted their dossiers, one is still a draft with far
larger numbers. The district's indicators read the two submitted communes only, in the kept
scoreboard and in a fresh report, until the third submits; a campaign whose commune rubric lacks
the question, or has it as a percentage, is refused before anything is written.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from dialogue_helpers import Clock
from sqlalchemy import select, update

from common.errors import Refused
from conversations.contact_dialogue import ContactDialogue
from integration.test_contact_dialogue import Driver, rendered
from rubrics.loader import load_text
from storage import campaigns
from storage.agency_import import import_csv
from storage.answers import set_answer
from storage.campaigns import CampaignSpec
from storage.invitations import agency_invitations
from storage.models import Agency, Campaign, Submission
from storage.records import SUBMITTED
from storage.reports import Scoreboard, campaign_report

NOW = datetime(2026, 10, 20, 3, 0, tzinfo=UTC)

COMMUNE = textwrap.dedent("""\
    id: qb-xa
    version: 1
    family: qb-xa
    title: Phiếu cấp xã
    level: xa
    level_name: Cấp xã
    source: test
    max: 10
    questions:
      - {id: hs_tong, type: integer, text: Tổng số hồ sơ TTHC đã tiếp nhận}
      - {id: hs_truc_tuyen, type: integer, text: Số hồ sơ nộp trực tuyến, max: {question: hs_tong}}
      - {id: hs_tyle, type: percentage, text: Tỷ lệ hồ sơ trực tuyến, required: false}
    groups:
      - code: "1"
        title: Dịch vụ công
        max: 10
        children:
          - code: "1.1"
            title: Tỷ lệ hồ sơ trực tuyến
            max: 10
            rule: {type: ratio, numerator: hs_truc_tuyen, denominator: hs_tong}
""")

DISTRICT = textwrap.dedent("""\
    id: qb-huyen
    version: 1
    family: qb-huyen
    title: Phiếu cấp huyện
    level: huyen
    level_name: Cấp huyện
    source: test
    max: 20
    groups:
      - code: "1"
        title: Dịch vụ công
        max: 15
        children:
          - code: "1.1"
            title: Tỷ lệ hồ sơ trực tuyến của các xã
            max: 10
            rule: {type: children_ratio, level: xa, numerator: hs_truc_tuyen, denominator: hs_tong}
          - code: "1.2"
            title: Số hồ sơ trực tuyến của các xã
            max: 5
            rule:
              type: children_sum
              level: xa
              question: hs_truc_tuyen
              tiers: [{min: 1000, points: 5}, {min: 100, points: 3}]
      - code: "2"
        title: Kế hoạch
        max: 5
        children:
          - code: "2.1"
            title: Có kế hoạch
            max: 5
            questions:
              - {id: co_ke_hoach, type: yes_no, text: Có kế hoạch không}
            rule: {type: yes_no, question: co_ke_hoach}
""")

AGENCIES = "code,name,level,parent_code,contact_name,contact_phone,contact_email\n" + "".join(
    f"{code},{name},{level},{parent},,,\n"
    for code, name, level, parent in (
        ("H1", "Huyện Một", "huyen", ""),
        ("X1", "Xã Một", "xa", "H1"),
        ("X2", "Xã Hai", "xa", "H1"),
        ("X3", "Xã Ba", "xa", "H1"),
    )
)


def answer(session, rubric, code: str, **answers) -> None:
    agency = session.scalar(select(Agency).where(Agency.code == code))
    current: dict = {}
    for qid, value in answers.items():
        set_answer(session, rubric, agency, qid, value, by=None, source="test", now=NOW, current=current)
        current[qid] = value


def submit(session, code: str) -> None:
    agency = session.scalar(select(Agency.id).where(Agency.code == code))
    session.execute(
        update(Submission)
        .where(Submission.agency_id == agency)
        .values(state=SUBMITTED, submitted_at=NOW, revision=Submission.revision + 1)
    )


@pytest.fixture
def campaign_id(db) -> int:
    commune, district = load_text(COMMUNE, "qb-xa.yaml"), load_text(DISTRICT, "qb-huyen.yaml")
    with db.session() as session:
        campaign = campaigns.create(session, CampaignSpec("Khảo sát 2026", {"huyen": district, "xa": commune}, NOW))
        import_csv(session, campaign, AGENCIES)
        answer(session, commune, "X1", hs_tong=100, hs_truc_tuyen=80)
        answer(session, commune, "X2", hs_tong=50, hs_truc_tuyen=20)
        answer(session, commune, "X3", hs_tong=1000, hs_truc_tuyen=1000)  # a draft
        answer(session, district, "H1", co_ke_hoach=True)
        submit(session, "X1")
        submit(session, "X2")
        return campaign.id


def district_points(db, campaign_id: int, board: Scoreboard | None = None) -> dict[str, Decimal]:
    with db.session() as session:
        campaign = session.get(Campaign, campaign_id)
        report = (board.report(session, campaign) if board else campaign_report(session, campaign))["huyen"]
        (h1,) = report.agencies
        return {code: score.achieved for code, score in h1.score.indicators.items()}


def test_the_district_reads_its_submitted_communes_not_the_draft(db, campaign_id):
    board = Scoreboard()
    # (80 + 20) ÷ (100 + 50) × 10 = 6,67; 100 online dossiers reach the 100 threshold: 3
    expected = {"1.1": Decimal("6.67"), "1.2": Decimal("3.00"), "2.1": Decimal("5.00")}
    assert district_points(db, campaign_id, board) == expected
    assert district_points(db, campaign_id) == expected
    with db.session() as session:  # the draft commune corrects its figures: still not counted
        answer(session, load_text(COMMUNE), "X3", hs_tong=2000)
    assert district_points(db, campaign_id, board) == expected
    with db.session() as session:
        submit(session, "X3")
    # (80 + 20 + 1000) ÷ (100 + 50 + 2000) × 10 = 5,12; 1 100 online dossiers: 5
    submitted = {"1.1": Decimal("5.12"), "1.2": Decimal("5.00"), "2.1": Decimal("5.00")}
    assert district_points(db, campaign_id, board) == submitted
    assert district_points(db, campaign_id) == submitted


@pytest.mark.parametrize(
    ("numerator", "refusal"),
    [("hs_truc_tuyen_xa", "children_question_missing"), ("hs_tyle", "children_question_type")],
)
def test_a_campaign_whose_communes_lack_the_number_is_refused(db, numerator, refusal):
    district = DISTRICT.replace("numerator: hs_truc_tuyen", f"numerator: {numerator}")
    rubrics = {"huyen": load_text(district), "xa": load_text(COMMUNE)}
    with db.session() as session, pytest.raises(Refused) as caught:
        campaigns.create(session, CampaignSpec("Khảo sát 2026", rubrics, NOW))
    assert caught.value.key == refusal and caught.value.params["question"] == numerator
    with db.session() as session:
        assert session.scalar(select(Campaign.id)) is None


def test_the_district_contact_sees_its_communes_figures_in_the_review(db, campaign_id):
    with db.session() as session:
        campaign = session.get(Campaign, campaign_id)
        ((_, invitation),) = agency_invitations(session, campaign, NOW, "H1")
        token = invitation.token
    district = Driver(ContactDialogue(db, Clock(NOW)), 901, "Hoàng Văn Nam")
    district.start(token)
    review = rendered(district.command("xemlai"))[-1]  # group 1 has no question: its page shows the figures
    assert review.startswith("Xem lại (1/2) — Nhóm 1. Dịch vụ công")
    assert "Tính từ phiếu đã nộp của các đơn vị cấp dưới (không phải nhập):" in review
    assert "• 1.1 Tỷ lệ hồ sơ trực tuyến của các xã: 100/150 = 66,67 % (2 đơn vị đã nộp) → 6,67/10 điểm" in review
    assert "• 1.2 Số hồ sơ trực tuyến của các xã: tổng 100 (2 đơn vị đã nộp) → 3,00/5 điểm" in review
    assert "Tổng điểm tạm tính: 14,67/20" in review  # 6,67 + 3 + 5 for the plan, not 5 of 5 applicable
    assert "Điểm tạm tính nhóm 1: 9,67/15,00" in review
    english = Driver(ContactDialogue(db, Clock(NOW)), 901, "Hoàng Văn Nam", "en")
    assert "100/150 = 66,67 % (2 agencies submitted) → 6,67/10 points" in rendered(english.command("xemlai"), "en")[-1]
