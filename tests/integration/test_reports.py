"""The per-process scoreboard: after any sequence of changes it agrees, figure for figure, with a fresh report.

A refresh rescores only the agencies whose revision moved and their parents, and a whole level only
when a cohort's best value moved; these tests move the best value up and down, change what a
district's indicator reads of its communes, move a commune to another district and remove one,
comparing every figure after each step.
"""

from __future__ import annotations

import gc
import random
from decimal import Decimal

import pytest
from dialogue_helpers import START
from sqlalchemy import delete, select, update

from rubrics.answers import NA
from rubrics.bundled import bundled
from rubrics.sample_answers import sample_answers
from storage import campaigns
from storage.agency_import import import_csv
from storage.answers import load_agency_answers, set_answer
from storage.campaigns import CampaignSpec
from storage.models import Agency, Answer, Submission
from storage.records import IN_PROGRESS, SUBMITTED
from storage.reports import Scoreboard, campaign_report

RUBRICS = {"huyen": bundled()["qn2018-huyen"], "xa": bundled()["qn2018-xa"]}
DISTRICTS, COMMUNES = 2, 8


@pytest.fixture
def campaign_id(db) -> int:
    """Two districts of four communes each, every agency with sample answers, submitted."""
    lines = ["code,name,level,parent_code,contact_name,contact_phone,contact_email"]
    lines += [f"h{d},Huyện {d},huyen,,,," for d in range(DISTRICTS)]
    lines += [f"x{c},Xã {c},xa,h{c % DISTRICTS},,," for c in range(COMMUNES)]
    rng = random.Random(5)
    with db.session() as session:
        campaign = campaigns.create(session, CampaignSpec("Đợt thử", RUBRICS, START.replace(month=11)))
        import_csv(session, campaign, "\n".join(lines) + "\n")
        for agency in session.scalars(select(Agency).where(Agency.campaign_id == campaign.id)):
            rubric, current = RUBRICS[agency.level], {}
            for qid, value in sample_answers(rubric, rng, na_rate=0.2).items():
                set_answer(session, rubric, agency, qid, value, by=None, source="test", now=START, current=current)
                current[qid] = value
        session.execute(update(Submission).values(state=SUBMITTED, submitted_at=START))  # all of them count
        return campaign.id


def figures(reports) -> dict:
    """Every figure of every agency: ranks, totals, bands, groups and indicators, exactly."""

    def item(score) -> tuple:
        return (score.code, str(score.max), str(score.excluded), str(score.achieved), str(score.converted))

    found = {}
    for level, report in reports.items():
        for entry in report.agencies:
            s = entry.effective
            found[entry.agency.code] = (
                level,
                s.rank,
                str(s.total),
                str(s.percent),
                s.band,
                dict(s.group_bands),
                [item(g) for g in s.groups],
                [item(i) for i in s.indicators.values()],
                entry.agency.state,
            )
    return found


def agree(db, board: Scoreboard, campaign_id: int) -> dict:
    with db.session() as session:
        row = campaigns.get(session, campaign_id)
        kept, fresh = figures(board.report(session, row)), figures(campaign_report(session, row))
    assert kept == fresh
    return kept


def answer(db, code: str, question_id: str, change) -> None:
    """The agency's answer to the question becomes ``change(current answer)``, and it submits again."""
    with db.session() as session:
        agency = session.scalar(select(Agency).where(Agency.code == code))
        rubric = RUBRICS[agency.level]
        current = load_agency_answers(session, rubric, agency.id)
        value = change(current.get(question_id))
        reopened = update(Submission).where(Submission.agency_id == agency.id)
        session.execute(reopened.values(state=IN_PROGRESS))
        set_answer(session, rubric, agency, question_id, value, by=None, source="test", now=START, current=current)
        session.execute(reopened.values(state=SUBMITTED))


def test_the_scoreboard_agrees_with_a_fresh_report_after_every_change(db, campaign_id):
    board = Scoreboard()
    before = agree(db, board, campaign_id)
    steps = [
        ("x0", "bang_thong_bq", lambda _: Decimal("999.5")),  # the communes' best value moves up: all of them change
        ("x0", "bang_thong_bq", lambda _: Decimal("0.5")),  # and down again, to the next best
        ("x1", "mot_cua_dien_tu", lambda yes: not yes),  # an answer that the district's indicator reads
        ("x1", "mot_cua_dien_tu", lambda yes: not yes),
        ("h0", "bang_thong_bq", lambda value: value + 1),
        ("x2", "hai_long_pct", lambda value: Decimal(50) if value is NA else NA),
        ("x3", "mot_cua_dien_tu", lambda yes: not yes),
    ]
    for code, question_id, change in steps:
        answer(db, code, question_id, change)
        after = agree(db, board, campaign_id)
        assert after != before, (code, question_id)
        before = after
    with db.session() as session:  # a commune moves to the other district, without a new revision
        districts = dict(session.execute(select(Agency.code, Agency.id).where(Agency.level == "huyen")).all())
        session.execute(update(Agency).where(Agency.code == "x6").values(parent_id=districts["h1"]))
    after = agree(db, board, campaign_id)
    assert after != before
    with db.session() as session:
        gone = session.scalar(select(Agency.id).where(Agency.code == "x5"))
        session.execute(delete(Answer).where(Answer.agency_id == gone))
        session.execute(delete(Submission).where(Submission.agency_id == gone))
        session.execute(delete(Agency).where(Agency.id == gone))
    assert "x5" not in agree(db, board, campaign_id)


def test_a_large_build_is_frozen_out_of_the_cyclic_collector(db, campaign_id, monkeypatch):
    """Once the scores are built the collector no longer tracks them; a small refresh freezes nothing."""
    monkeypatch.setattr("storage.reports.FREEZE_AFTER", DISTRICTS + COMMUNES)
    gc.unfreeze()
    board = Scoreboard()
    with db.session() as session:
        reports = board.report(session, campaigns.get(session, campaign_id))
    frozen = gc.get_freeze_count()
    entry = reports["xa"].agencies[0]
    assert frozen > 0 and not any(entry.effective is o for o in gc.get_objects())
    answer(db, "x0", "mot_cua_dien_tu", lambda yes: not yes)
    with db.session() as session:
        board.report(session, campaigns.get(session, campaign_id))
    assert gc.get_freeze_count() <= frozen  # nothing more frozen (some frozen objects were freed since)
    gc.unfreeze()
