"""Creating and reading campaigns: one rubric per agency level, a deadline to the hour."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, object_session, selectinload

from common.errors import Refused
from common.text import refuse_control
from rubrics.compiled import CompiledRubric
from rubrics.errors import RubricError
from rubrics.model import ChildrenRule, ChildrenShareRule
from rubrics.rules import child_questions, children_rules
from rubrics.validate import Validator
from storage import rubric_store
from storage.models import Agency, Campaign, CampaignLevel, Notification, StoredRubric, Submission
from storage.policy import ReminderPolicy
from storage.records import SUBMITTED_STATES, UNASSESSED, CampaignFacts, Office


@dataclass
class CampaignSpec:
    name: str
    rubrics: dict[str, CompiledRubric]
    deadline: datetime  # timezone-aware
    period: tuple[date, date] | None = None
    grace_hours: int = 0
    office: Office = Office()


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
                missing = sorted(q for q in child_questions(rule) if q not in child.by_id)
                if missing:
                    raise Refused(
                        "children_question_missing",
                        rubric=rubric.id,
                        code=item.code,
                        child_rubric=child.id,
                        question=missing[0],
                    )
                if not isinstance(rule, ChildrenShareRule):
                    check_child_numbers(rubric, item.code, child, rule)
                    continue
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


def check_child_numbers(rubric: CompiledRubric, code: str, child: CompiledRubric, rule: ChildrenRule) -> None:
    """A rule that adds up the children's answers reads number questions of theirs (not percentages)."""
    for qid in sorted(child_questions(rule)):
        kind = child.question(qid).type
        if kind not in ("integer", "decimal"):
            raise Refused(
                "children_question_type", rubric=rubric.id, code=code, child_rubric=child.id, question=qid, type=kind
            )


LETTER = re.compile(
    r"^\s*(?:(?:công văn|văn bản|kế hoạch|thông báo)\s+)?(?:số\s+)?\d+/[0-9A-Za-zĐđ&.\-]+", re.IGNORECASE
)
OFFICE_LIMITS = {"name": 300, "contact": 300, "letter": 200}


def check_office(office: Office) -> None:
    """The office's fields within their lengths, without control characters, and a letter that starts with
    its number and symbol as Nghị định 30/2020 writes it ("436/STTTT-CNTT ngày 07/10/2019")."""
    for name, limit in OFFICE_LIMITS.items():
        value = getattr(office, name)
        if value is None:
            continue
        refuse_control(value, "office_control")
        if not value.strip() or len(value) > limit:
            raise Refused("office_field", field=name, limit=limit)
    if office.letter is not None and not LETTER.match(office.letter):
        raise Refused("office_letter", value=office.letter)


def check_spec(spec: CampaignSpec, *, check_children: bool = True) -> None:
    """Refuse a campaign that cannot be created, before anything is written."""
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
    check_office(spec.office)
    if check_children:
        check_levels(spec.rubrics)


def create(session: Session, spec: CampaignSpec, *, check_children: bool = True) -> Campaign:
    """A new open campaign; ``check_children=False`` lets a rule read a child level the campaign lacks
    (a preview of one rubric alone)."""
    check_spec(spec, check_children=check_children)
    campaign = Campaign(
        name=spec.name.strip(),
        deadline=spec.deadline,
        grace_hours=spec.grace_hours,
        period_from=spec.period[0] if spec.period else None,
        period_to=spec.period[1] if spec.period else None,
        reminder_policy=ReminderPolicy().model_dump(mode="json"),
        state="open",
        office_name=_stripped(spec.office.name),
        office_contact=_stripped(spec.office.contact),
        office_letter=_stripped(spec.office.letter),
    )
    session.add(campaign)
    session.flush()
    for level, rubric in spec.rubrics.items():
        session.add(
            CampaignLevel(campaign_id=campaign.id, level=level, rubric_pk=rubric_store.store(session, rubric).id)
        )
    session.flush()
    return campaign


def _stripped(value: str | None) -> str | None:
    return " ".join(value.split()) if value else None


def office_of(campaign: Campaign) -> Office:
    return Office(campaign.office_name, campaign.office_contact, campaign.office_letter)


def get(session: Session, campaign_id: int) -> Campaign:
    levels = joinedload(Campaign.levels).joinedload(CampaignLevel.rubric).defer(StoredRubric.source_text)
    campaign = session.get(Campaign, campaign_id, options=[levels])
    if campaign is None:
        raise Refused("campaign_not_found", campaign_id=campaign_id)
    return campaign


def rubrics_by_level(campaign: Campaign) -> dict[str, CompiledRubric]:
    return {cl.level: rubric_store.compiled(cl.rubric) for cl in campaign.levels}


_facts: dict[tuple, tuple[tuple, CampaignFacts]] = {}


def _key(campaign: Campaign) -> tuple:
    """The campaign in its database: a process may open several (tests, ``cqdt rubric preview``'s in-memory
    one), each numbering its campaigns from 1, so the moment it was created is part of the key."""
    session = object_session(campaign)
    return (session.get_bind().url if session is not None else None, campaign.id, campaign.created_at)


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
        office_of(campaign),
    )


def facts_of(campaign: Campaign) -> CampaignFacts:
    """The campaign as a plain record, compiled rubrics included; cached per process, checked by its revision."""
    revision, key = _revision(campaign), _key(campaign)
    cached = _facts.get(key)
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
        office=office_of(campaign),
    )
    _facts[key] = (revision, facts)
    return facts


def facts(session: Session, campaign_id: int) -> CampaignFacts:
    return facts_of(get(session, campaign_id))


def listing(session: Session) -> list[tuple[Campaign, int, int]]:
    """Every campaign with its number of agencies and of submitted agencies."""
    agencies = select(func.count(Agency.id)).where(Agency.campaign_id == Campaign.id).scalar_subquery()
    submitted = (
        select(func.count(Submission.id))
        .where(Submission.campaign_id == Campaign.id, Submission.state.in_(SUBMITTED_STATES))
        .scalar_subquery()
    )
    rows = session.execute(
        select(Campaign, agencies, submitted)
        .options(selectinload(Campaign.levels).selectinload(CampaignLevel.rubric))
        .order_by(Campaign.id)
    ).all()
    return [(c, n, s) for c, n, s in rows]


def contact_counts(session: Session, campaign_id: int) -> dict[str, int]:
    """How many agencies the campaign has, how many of them a contact phone, and how many an e-mail address."""
    agencies, phones, emails = session.execute(
        select(
            func.count(Agency.id),
            func.count(func.nullif(Agency.contact_phone, "")),
            func.count(func.nullif(Agency.contact_email, "")),
        ).where(Agency.campaign_id == campaign_id, Agency.level != UNASSESSED)
    ).one()
    return {"agencies": agencies, "with_phone": phones, "with_email": emails}


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


# -- plain records for the command line and the demo ---------------------------------------


@dataclass(frozen=True)
class LevelRubric:
    rubric: str
    version: str
    content_hash: str
    level_name: str


@dataclass(frozen=True)
class CampaignSummary:
    """A campaign as ``cqdt campaign`` shows it; the counts of agencies only in a listing."""

    id: int
    name: str
    state: str
    deadline: datetime
    grace_hours: int
    period_from: date | None
    period_to: date | None
    levels: dict[str, LevelRubric]
    office: Office = Office()
    agencies: int | None = None
    submitted: int | None = None


def summary_of(campaign: Campaign, agencies: int | None = None, submitted: int | None = None) -> CampaignSummary:
    rubrics = facts_of(campaign).rubrics
    return CampaignSummary(
        id=campaign.id,
        name=campaign.name,
        state=campaign.state,
        deadline=campaign.deadline,
        grace_hours=campaign.grace_hours,
        period_from=campaign.period_from,
        period_to=campaign.period_to,
        levels={
            cl.level: LevelRubric(
                cl.rubric.rubric_id, cl.rubric.version, cl.rubric.content_hash, rubrics[cl.level].rubric.level_name
            )
            for cl in campaign.levels
        },
        office=office_of(campaign),
        agencies=agencies,
        submitted=submitted,
    )


def create_summary(session: Session, spec: CampaignSpec) -> CampaignSummary:
    """Create the campaign (see :func:`create`); its summary as stored."""
    campaign = create(session, spec)
    session.refresh(campaign)
    return summary_of(campaign)


def summary(session: Session, campaign_id: int) -> CampaignSummary:
    return summary_of(get(session, campaign_id))


def summaries(session: Session) -> list[CampaignSummary]:
    """Every campaign with its number of agencies and of submitted agencies."""
    return [summary_of(c, n, s) for c, n, s in listing(session)]


def sent_by_kind(session: Session, campaign_id: int, channel: str = "telegram") -> dict[str, int]:
    """How many of the campaign's messages the outbox has sent on a channel, by kind."""
    rows = session.execute(
        select(Notification.kind, func.count())
        .where(Notification.campaign_id == campaign_id, Notification.status == "sent", Notification.channel == channel)
        .group_by(Notification.kind)
    ).all()
    return dict(rows)


def submission_state(session: Session, campaign_id: int, code: str) -> str:
    """The state of the submission of the campaign's agency with this code."""
    state = session.scalar(
        select(Submission.state)
        .join(Agency, Agency.id == Submission.agency_id)
        .where(Agency.campaign_id == campaign_id, Agency.code == code)
    )
    if state is None:
        raise Refused("agency_not_found", code=code)
    return state
