"""Who is ranked and whom the others are measured against: a draft neither gets a rank nor moves anyone's score.

Two submitted districts and one that has not submitted, typing a far larger bandwidth (a rule
normalised to the best reads it): the submitted districts' scores and ranks stay what they are
without the draft, and the draft is listed after them with no rank and no band, in the reports,
``cqdt scores --json``, the charts and the exports. Freezing the cohort keeps a late submission from
moving the others.
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from cli_helpers import Cli
from dialogue_helpers import Clock
from openpyxl import load_workbook
from sqlalchemy import select, update

from bot.charts import totals_figure
from bot.labels import by_language, labels
from conversations.annex import Heading, write_annex_xlsx
from conversations.contact_dialogue import ContactDialogue
from conversations.coordinator_dialogue import CoordinatorDialogue
from conversations.exports import write_csv, write_xlsx
from integration.test_coordinator_rendering import COORDINATOR, ZONE, rendered
from rubrics.bundled import bundled
from rubrics.sample_answers import sample_answers
from storage import campaigns, cohort
from storage.agency_import import import_csv
from storage.answers import set_answer
from storage.campaigns import CampaignSpec
from storage.invitations import coordinator_invitation
from storage.models import Agency, Submission
from storage.records import IN_PROGRESS, SUBMITTED
from storage.reports import Scoreboard, campaign_report

RUBRIC = bundled()["qn2018-huyen"]
NOW = datetime(2019, 10, 20, 3, 0, tzinfo=UTC)
AGENCIES = "code,name,level,parent_code,contact_name,contact_phone,contact_email\n" + "".join(
    f"{code},{name},huyen,,,,\n" for code, name in (("H1", "Huyện Một"), ("H2", "Huyện Hai"), ("H3", "Huyện Ba"))
)
BANDWIDTH = "bang_thong_bq"  # read by an indicator normalised to the best


def answer(session, code: str, seed: int, **given) -> None:
    agency = session.scalar(select(Agency).where(Agency.code == code))
    answers = {**sample_answers(RUBRIC, random.Random(seed), na_rate=0), **given}
    current: dict = {}
    for qid, value in answers.items():
        set_answer(session, RUBRIC, agency, qid, value, by=None, source="test", now=NOW, current=current)
        current[qid] = value


def set_state(session, code: str, state: str) -> None:
    agency = session.scalar(select(Agency.id).where(Agency.code == code))
    session.execute(
        update(Submission)
        .where(Submission.agency_id == agency)
        .values(state=state, submitted_at=NOW if state == SUBMITTED else None, revision=Submission.revision + 1)
    )


@pytest.fixture
def campaign_id(db) -> int:
    with db.session() as session:
        rubrics = {"huyen": RUBRIC, "xa": bundled()["qn2018-xa"]}
        campaign = campaigns.create(session, CampaignSpec("Đánh giá CQĐT năm 2019", rubrics, NOW))
        import_csv(session, campaign, AGENCIES)
        answer(session, "H1", 1, **{BANDWIDTH: Decimal(20)})
        answer(session, "H2", 2, **{BANDWIDTH: Decimal(10)})
        set_state(session, "H1", SUBMITTED)
        set_state(session, "H2", SUBMITTED)
        return campaign.id


def standing(db, campaign_id: int, board: Scoreboard | None = None) -> dict[str, tuple]:
    with db.session() as session:
        row = campaigns.get(session, campaign_id)
        report = (board.report(session, row) if board else campaign_report(session, row))["huyen"]
        return {e.agency.code: (e.effective.rank, e.effective.total, e.effective.band) for e in report.ranked()}


def test_a_draft_typing_a_larger_value_changes_no_submitted_score(db, campaign_id):
    board = Scoreboard()
    alone = standing(db, campaign_id, board)
    assert list(alone) == ["H1", "H2", "H3"] and alone["H3"][0] is None
    with db.session() as session:
        answer(session, "H3", 3, **{BANDWIDTH: Decimal(50)})
    after = standing(db, campaign_id, board)
    assert after == standing(db, campaign_id)  # the kept scoreboard agrees with a fresh report
    assert {c: after[c] for c in ("H1", "H2")} == {c: alone[c] for c in ("H1", "H2")}
    assert list(after) == ["H1", "H2", "H3"]
    rank, total, band = after["H3"]
    assert rank is None and band is None and total > 0
    with db.session() as session:  # once it submits, it is the best and the others are measured against it
        set_state(session, "H3", SUBMITTED)
    submitted = standing(db, campaign_id, board)
    assert submitted["H3"][0] is not None and submitted["H1"][1] < alone["H1"][1]


def test_the_draft_is_listed_unranked_in_json_diem_charts_and_exports(db, campaign_id, capsys, database_url):
    with db.session() as session:
        answer(session, "H3", 3, **{BANDWIDTH: Decimal(50)})
        reports = campaign_report(session, campaigns.get(session, campaign_id))
    scored = json.loads(Cli(capsys, database_url)("scores", "--campaign", str(campaign_id), "--json"))
    agencies = scored["levels"][0]["agencies"]
    assert [(a["code"], a["ranked"]) for a in agencies] == [("H1", True), ("H2", True), ("H3", False)]
    assert agencies[2]["rank"] is None and agencies[2]["band"] is None and agencies[2]["progress"]["answered"] > 0

    bars = totals_figure(reports["huyen"], lang="vi").axes[0].get_yticklabels()
    assert [t.get_text() for t in bars][-1] == "Huyện Ba"

    xlsx = io.BytesIO()
    write_xlsx(xlsx, reports, labels("vi", "Asia/Ho_Chi_Minh"), zone="Asia/Ho_Chi_Minh")
    rows = list(load_workbook(xlsx, read_only=True).worksheets[0].iter_rows(values_only=True))
    head = rows[0]
    last = dict(zip(head, rows[-1]))
    assert last["Mã đơn vị"] == "H3" and last["Hạng"] is None and last["Xếp loại"] is None
    assert [dict(zip(head, r))["Hạng"] for r in rows[1:3]] == [1, 2]

    annex = io.BytesIO()
    write_annex_xlsx(annex, reports, labels("vi", ZONE), campaign_name="Đợt", heading=Heading())
    names = [c.value for c in load_workbook(annex)["Cấp huyện"]["B"]]
    assert names[7:9] == ["Huyện Một", "Huyện Hai"] and names[-1] == "Huyện Ba"

    with db.session() as session:
        token = coordinator_invitation(session, campaigns.get(session, campaign_id), NOW).token
    ContactDialogue(db, Clock(NOW)).start(COORDINATOR, token)
    outcome = CoordinatorDialogue(db, Clock(NOW), ZONE, by_language(ZONE)).scores(COORDINATOR, "huyen")
    shown = rendered(outcome, "vi")[0]
    ranked, apart = shown.split("Chưa xếp hạng")
    assert "1. Huyện Một [H1]" in ranked and "2. Huyện Hai [H2]" in ranked and "H3" not in ranked
    assert "– Huyện Ba [H3] — đang làm" in apart

    text = io.BytesIO()
    write_csv(text, reports, labels("vi", "Asia/Ho_Chi_Minh"), zone="Asia/Ho_Chi_Minh")
    records = list(csv.DictReader(io.StringIO(text.getvalue().decode("utf-8-sig"))))
    assert [(r["Mã đơn vị"], r["Hạng"], r["Xếp loại"] == "") for r in records][-1] == ("H3", "", True)


def test_a_frozen_cohort_keeps_a_late_submission_from_moving_the_others(db, campaign_id):
    with db.session() as session:
        frozen = cohort.freeze(session, campaigns.get(session, campaign_id), NOW)
        assert frozen == 2
        set_state(session, "H3", IN_PROGRESS)
        answer(session, "H3", 3, **{BANDWIDTH: Decimal(50)})
    before = standing(db, campaign_id)
    with db.session() as session:
        set_state(session, "H3", SUBMITTED)
    late = standing(db, campaign_id)
    assert {c: late[c][1] for c in ("H1", "H2")} == {c: before[c][1] for c in ("H1", "H2")}
    assert late["H3"][0] is not None  # the late submission is ranked, measured against the frozen cohort
    with db.session() as session:
        cohort.unfreeze(session, campaigns.get(session, campaign_id))
    assert standing(db, campaign_id)["H1"][1] < before["H1"][1]


def test_the_coordinator_freezes_the_cohort_from_the_command_line(db, campaign_id, capsys, database_url):
    cqdt = Cli(capsys, database_url)
    frozen = json.loads(cqdt("campaign", "freeze", str(campaign_id), "--json"))
    assert frozen["cohort"] == 2 and frozen["frozen_at"]
    assert "Nhóm so sánh đã chốt lúc" in cqdt("campaign", "show", str(campaign_id))
    assert "Đã bỏ chốt" in cqdt("campaign", "freeze", str(campaign_id), "--undo")
    assert "Nhóm so sánh đã chốt" not in cqdt("campaign", "show", str(campaign_id))


def test_a_district_s_indicator_from_its_communes_reads_only_those_that_submitted(db):
    xa = bundled()["qn2018-xa"]
    rows = "code,name,level,parent_code,contact_name,contact_phone,contact_email\n"
    rows += "H1,Huyện Một,huyen,,,,\nX1,Xã Một,xa,H1,,,\nX2,Xã Hai,xa,H1,,,\n"
    with db.session() as session:
        campaign = campaigns.create(session, CampaignSpec("Đợt thử", {"huyen": RUBRIC, "xa": xa}, NOW))
        import_csv(session, campaign, rows)
        answer(session, "H1", 1)
        set_state(session, "H1", SUBMITTED)
        for code, has_one_stop in (("X1", True), ("X2", False)):
            agency = session.scalar(select(Agency).where(Agency.code == code))
            set_answer(session, xa, agency, "mot_cua_dien_tu", has_one_stop, by=None, source="test", now=NOW)
        set_state(session, "X1", SUBMITTED)
        campaign_id = campaign.id

    def share() -> Decimal:
        with db.session() as session:
            report = campaign_report(session, campaigns.get(session, campaign_id))["huyen"]
            return report.agencies[0].effective.indicators["2.3.5"].achieved

    alone = share()  # X2's draft ("no one-stop system") is not read: one commune of one has it
    assert alone == RUBRIC.items["2.3.5"].max
    with db.session() as session:
        set_state(session, "X2", SUBMITTED)
    assert share() == alone / 2
