"""Setting up a campaign for dialogue tests, and a controlled clock."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from rubrics.bundled import bundled
from rubrics.sample_answers import sample_answers
from storage import campaigns
from storage.agency_import import import_csv
from storage.answers import set_answer
from storage.campaigns import CampaignSpec
from storage.db import Database
from storage.invitations import agency_invitations, coordinator_invitation
from storage.models import Agency, Evidence
from storage.models import Campaign as CampaignRow

AGENCIES = """code,name,level,parent_code,contact_name,contact_phone,contact_email
193,UBND Thành phố Hạ Long,huyen,,,,
06652,UBND Phường Hà Phong,xa,193,Nguyễn Thu Hà,0912345678,
06655,UBND Phường Hà Khẩu,xa,193,,,
"""


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@dataclass
class Campaign:
    id: int
    tokens: dict[str, str]  # agency code → invitation token
    coordinator_token: str
    deadline: datetime


def make_campaign(db: Database, now: datetime, *, deadline: datetime | None = None, grace_hours: int = 0) -> Campaign:
    deadline = deadline or now + timedelta(days=14)
    rubrics = {"huyen": bundled()["qn2018-huyen"], "xa": bundled()["qn2018-xa"]}
    with db.session() as session:
        campaign = campaigns.create(
            session, CampaignSpec("Đánh giá CQĐT năm 2019", rubrics, deadline, grace_hours=grace_hours)
        )
        import_csv(session, campaign, AGENCIES)
        tokens = {agency.code: invitation.token for agency, invitation in agency_invitations(session, campaign, now)}
        coordinator = coordinator_invitation(session, campaign, now).token
        return Campaign(campaign.id, tokens, coordinator, deadline)


def campaign_due_now(db: Database, now: datetime) -> Campaign:
    """A campaign whose one reminder (an hour before a deadline 30 minutes away) is due now, at any hour."""
    campaign = make_campaign(db, now, deadline=now + timedelta(minutes=30))
    with db.session() as session:
        row = session.get(CampaignRow, campaign.id)
        row.reminder_policy = {
            **row.reminder_policy,
            "offsets_minutes": [60],
            "working_days": list(range(7)),
            "working_start": "00:00:00",
            "working_end": "23:59:00",
        }
    return campaign


START = datetime(2019, 10, 14, 2, 0, tzinfo=UTC)  # 9h00 in Hà Nội, two weeks before the deadline


def answer_all(db: Database, code: str, seed: int, rubric_id: str = "qn2018-xa") -> None:
    """Every question of the agency answered, with evidence wherever it is required, so it can submit."""
    rubric = bundled()[rubric_id]
    with db.session() as session:
        agency = session.scalar(select(Agency).where(Agency.code == code).order_by(Agency.id.desc()))
        current: dict = {}
        for qid, value in sample_answers(rubric, random.Random(seed), na_rate=0).items():
            set_answer(session, rubric, agency, qid, value, by=None, source="test", now=START, current=current)
            current[qid] = value
        for step in rubric.steps:
            if step.question.evidence == "required":
                session.add(Evidence(agency_id=agency.id, question_id=step.question.id, kind="document"))


def yes_no_indicator(rubric):
    """(indicator, step) of an indicator whose rule reads one yes/no question."""
    for item in rubric.indicators:
        read = rubric.indicator_questions(item)
        if len(read) == 1 and rubric.question(read[0]).type == "yes_no":
            return item, rubric.by_id[read[0]]
    raise AssertionError(f"{rubric.id} has no single yes/no indicator")
