"""A second year of the same rubric family: last year's campaign submitted, this year's campaign opened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dialogue_helpers import AGENCIES, START, answer_all, make_campaign
from sqlalchemy import select

from rubrics.bundled import bundled
from rubrics.compiled import CompiledRubric
from rubrics.loader import load_text
from storage import campaigns
from storage.agency_import import import_csv
from storage.campaigns import CampaignSpec
from storage.db import Database
from storage.invitations import agency_invitations, coordinator_invitation
from storage.models import Agency, Submission

NEXT_START = START + timedelta(days=365)
REFRESHED = "hs_tong"  # carry_forward: false this year (applications received in the period)
RETYPED = "ghi_chu"  # a text question last year, a date this year
RENAMED = "dau_moi"  # asked under a new id this year


def second_year_rubric() -> CompiledRubric:
    """qn2018-xa as next year's file of the same family, with one question to refresh, one whose type
    changed and one under a new id."""
    text = bundled()["qn2018-xa"].source_text
    replacements = [
        ("id: qn2018-xa", "id: qn2019-xa"),
        ('version: "2018.1"', 'version: "2019.1"'),
        (
            f"  - id: {REFRESHED}\n    type: integer\n",
            f"  - id: {REFRESHED}\n    carry_forward: false\n    type: integer\n",
        ),
        (
            f"          - id: {RETYPED}\n            type: text\n",
            f"          - id: {RETYPED}\n            type: date\n",
        ),
        ("            max_length: 1000\n        rule: {type: per_unit", "        rule: {type: per_unit"),
        (f"  - id: {RENAMED}\n", f"  - id: {RENAMED}_2019\n"),
    ]
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return load_text(text)


@dataclass
class SecondYear:
    last_id: int
    id: int
    tokens: dict[str, str]  # this year's invitation tokens by agency code
    coordinator_token: str
    deadline: datetime


def submit(db: Database, campaign_id: int, code: str, state: str = "submitted") -> None:
    with db.session() as session:
        agency = session.scalar(select(Agency).where(Agency.campaign_id == campaign_id, Agency.code == code))
        row = session.scalar(select(Submission).where(Submission.agency_id == agency.id))
        row.state, row.submitted_at = state, START


def second_year(
    db: Database, *, state: str = "submitted", period: tuple[date, date] | None = None, seed: int = 7
) -> SecondYear:
    """Last year's campaign with 06652 answered and in ``state``; this year's campaign with the variant
    rubric for communes, the same agency codes, invitations made."""
    last = make_campaign(db, START)
    answer_all(db, "06652", seed)
    submit(db, last.id, "06652", state)
    deadline = NEXT_START + timedelta(days=14)
    rubrics = {"huyen": bundled()["qn2018-huyen"], "xa": second_year_rubric()}
    with db.session() as session:
        campaign = campaigns.create(session, CampaignSpec("Đánh giá CQĐT năm 2020", rubrics, deadline, period=period))
        import_csv(session, campaign, AGENCIES)
        tokens = {a.code: i.token for a, i in agency_invitations(session, campaign, NEXT_START)}
        coordinator = coordinator_invitation(session, campaign, NEXT_START).token
        return SecondYear(last.id, campaign.id, tokens, coordinator, deadline)
