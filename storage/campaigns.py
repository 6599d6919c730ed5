"""Creating and reading campaigns: one rubric per agency level, a deadline to the hour."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from common.errors import Refused
from rubrics.compiled import CompiledRubric
from rubrics.errors import RubricError
from rubrics.rules import children_rules
from rubrics.validate import Validator
from storage import rubric_store
from storage.models import Agency, Campaign, CampaignLevel, StoredRubric, Submission
from storage.policy import ReminderPolicy
from storage.records import CampaignFacts


@dataclass
class CampaignSpec:
    name: str
    rubrics: dict[str, CompiledRubric]
    deadline: datetime  # timezone-aware
    period: tuple[date, date] | None = None
    grace_hours: int = 0


def check_levels(rubrics: dict[str, CompiledRubric]) -> None:
    """Every rule that reads child agencies must name a level of the campaign, and questions it has."""
    for level, rubric in rubrics.items():
        for item in rubric.indicators:
            for rule in children_rules(item.rule):
                child = rubrics.get(rule.level)
                if child is None:
                    raise Refused(
                        "children_level_missing",
                        level=level,
                        rubric=rubric.id,
                        code=item.code,
                        child_level=rule.level,
                        levels=sorted(rubrics),
                    )
                missing = sorted(q for q in rule.where.questions() if q not in child.by_id)
                if missing:
                    raise Refused(
                        "children_question_missing",
                        rubric=rubric.id,
                        code=item.code,
                        child_rubric=child.id,
                        question=missing[0],
                    )
                try:
                    Validator(child, None).check_condition(item.code, rule.where)
                except RubricError as exc:
                    raise Refused(
                        "children_condition_invalid",
                        rubric=rubric.id,
                        code=item.code,
                        child_rubric=child.id,
                        reason=exc.reason,
                    ) from None


def create(session: Session, spec: CampaignSpec) -> Campaign:
    if not spec.name.strip():
        raise Refused("campaign_name_empty")
    if not spec.rubrics:
        raise Refused("campaign_no_rubric")
    for level, rubric in spec.rubrics.items():
        if level != rubric.level:
            raise Refused("rubric_level_mismatch", level=level, rubric=rubric.id, rubric_level=rubric.level)
    if spec.period and spec.period[0] > spec.period[1]:
        raise Refused("period_reversed", start=spec.period[0], end=spec.period[1])
    if spec.grace_hours < 0:
        raise Refused("grace_negative")
    check_levels(spec.rubrics)
    campaign = Campaign(
        name=spec.name.strip(),
        deadline=spec.deadline,
        grace_hours=spec.grace_hours,
        period_from=spec.period[0] if spec.period else None,
        period_to=spec.period[1] if spec.period else None,
        reminder_policy=ReminderPolicy().model_dump(mode="json"),
        state="open",
    )
    session.add(campaign)
    session.flush()
    for level, rubric in spec.rubrics.items():
        session.add(
            CampaignLevel(campaign_id=campaign.id, level=level, rubric_pk=rubric_store.store(session, rubric).id)
        )
    session.flush()
    return campaign


def get(session: Session, campaign_id: int) -> Campaign:
    levels = joinedload(Campaign.levels).joinedload(CampaignLevel.rubric).defer(StoredRubric.source_text)
    campaign = session.get(Campaign, campaign_id, options=[levels])
    if campaign is None:
        raise Refused("campaign_not_found", campaign_id=campaign_id)
    return campaign


def rubrics_by_level(campaign: Campaign) -> dict[str, CompiledRubric]:
    return {cl.level: rubric_store.compiled(cl.rubric) for cl in campaign.levels}


_facts: dict[int, tuple[tuple, CampaignFacts]] = {}


def _revision(campaign: Campaign) -> tuple:
    """Everything of a campaign row that can change; its levels and rubrics never do once it exists."""
    policy = json.dumps(campaign.reminder_policy or {}, sort_keys=True)
    return (
        campaign.name,
        campaign.period_from,
        campaign.period_to,
        campaign.deadline,
        campaign.grace_hours,
        campaign.state,
        policy,
    )


def facts_of(campaign: Campaign) -> CampaignFacts:
    """The campaign as a plain record, compiled rubrics included; cached per process, checked by its revision."""
    revision = _revision(campaign)
    cached = _facts.get(campaign.id)
    if cached is not None and cached[0] == revision:
        return cached[1]
    rubrics = cached[1].rubrics if cached is not None else rubrics_by_level(campaign)
    facts = CampaignFacts(
        id=campaign.id,
        name=campaign.name,
        period_from=campaign.period_from,
        period_to=campaign.period_to,
        deadline=campaign.deadline,
        grace_hours=campaign.grace_hours,
        state=campaign.state,
        policy=ReminderPolicy.model_validate(campaign.reminder_policy or {}),
        rubrics=MappingProxyType(rubrics),
    )
    _facts[campaign.id] = (revision, facts)
    return facts


def facts(session: Session, campaign_id: int) -> CampaignFacts:
    return facts_of(get(session, campaign_id))


def listing(session: Session) -> list[tuple[Campaign, int, int]]:
    """Every campaign with its number of agencies and of submitted agencies."""
    agencies = select(func.count(Agency.id)).where(Agency.campaign_id == Campaign.id).scalar_subquery()
    submitted = (
        select(func.count(Submission.id))
        .where(Submission.campaign_id == Campaign.id, Submission.state.in_(("submitted", "verified")))
        .scalar_subquery()
    )
    rows = session.execute(
        select(Campaign, agencies, submitted)
        .options(selectinload(Campaign.levels).selectinload(CampaignLevel.rubric))
        .order_by(Campaign.id)
    ).all()
    return [(c, n, s) for c, n, s in rows]


def state_counts(session: Session, campaign_id: int) -> dict[str, dict[str, int]]:
    """Submission states counted per level: {level: {state: n}}."""
    rows = session.execute(
        select(Agency.level, Submission.state, func.count())
        .join(Submission, Submission.agency_id == Agency.id)
        .where(Agency.campaign_id == campaign_id)
        .group_by(Agency.level, Submission.state)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for level, state, n in rows:
        counts.setdefault(level, {})[state] = n
    return counts


def set_reminder_policy(session: Session, campaign_id: int, policy: ReminderPolicy) -> CampaignFacts:
    """Give the campaign a new reminder policy; its facts as they are now."""
    campaign = get(session, campaign_id)
    campaign.reminder_policy = policy.model_dump(mode="json")
    return facts_of(campaign)


def set_deadline(
    session: Session, campaign_id: int, deadline: datetime, grace_hours: int | None = None
) -> CampaignFacts:
    """Move the deadline (timezone-aware), and the grace hours when given; its facts as they are now."""
    campaign = get(session, campaign_id)
    campaign.deadline = deadline
    if grace_hours is not None:
        campaign.grace_hours = grace_hours
    return facts_of(campaign)
