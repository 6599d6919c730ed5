"""The reminder plan of a campaign: which message goes to whom, and when.

Planned rows go into the ``notifications`` outbox with a unique key, so planning
again (every scheduler tick, from any process) adds only what is missing. The
key carries the deadline, so moving the deadline plans fresh reminders, while a
reminder already sent for the same deadline is never planned twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.reminders.slots import WorkingTime
from storage.models import LATE_STATES, OPEN_STATES, Agency, Campaign, Contact, Coordinator, Notification, Submission
from storage.notifications import Planned, store
from storage.policy import ReminderPolicy
from storage.scope import agencies_in_scope

ESCALATION_BEFORE = timedelta(days=3)
PLANNED_KINDS = ("reminder", "escalation", "overdue", "overdue_list")


def policy_of(campaign: Campaign) -> ReminderPolicy:
    return ReminderPolicy.model_validate(campaign.reminder_policy or {})


def closes_at(campaign: Campaign) -> datetime:
    return campaign.deadline + timedelta(hours=campaign.grace_hours)


def plan(session: Session, campaign: Campaign, zone: ZoneInfo) -> list[Planned]:
    """Every deadline message of the campaign, for the agencies that have not submitted now."""
    policy = policy_of(campaign)
    working = WorkingTime(policy, zone)
    deadline = campaign.deadline
    generation = f"c{campaign.id}:d{int(deadline.timestamp())}"
    catch_up = timedelta(hours=policy.catch_up_hours)
    open_agencies = dict(
        session.execute(
            select(Agency.id, Submission.state)
            .join(Submission, Submission.agency_id == Agency.id)
            .where(Agency.campaign_id == campaign.id, Submission.state.in_(OPEN_STATES))
        ).all()
    )
    contacts = session.execute(
        select(Contact.agency_id, Contact.telegram_user_id).where(
            Contact.campaign_id == campaign.id, Contact.blocked_at.is_(None)
        )
    ).all()
    planned: list[Planned] = []
    for offset in sorted(set(policy.offsets_minutes), reverse=True):
        slot = working.place(deadline - timedelta(minutes=offset), deadline)
        if slot is None:
            continue
        for agency_id, user_id in contacts:
            if agency_id in open_agencies:
                planned.append(
                    Planned(
                        f"{generation}:remind:{offset}:u{user_id}",
                        "reminder",
                        user_id,
                        agency_id,
                        slot,
                        min(slot + catch_up, deadline),
                        {"offset_minutes": offset},
                    )
                )
    closing = closes_at(campaign)
    for agency_id, user_id in contacts:
        if open_agencies.get(agency_id) in LATE_STATES:
            planned.append(
                Planned(
                    f"{generation}:overdue:u{user_id}", "overdue", user_id, agency_id, closing, closing + catch_up, {}
                )
            )
    escalation = working.place(deadline - ESCALATION_BEFORE, deadline)
    for coordinator in session.scalars(select(Coordinator).where(Coordinator.campaign_id == campaign.id)):
        scope = agencies_in_scope(session, campaign.id, coordinator.scope_agency_id)
        if escalation is not None:
            planned.append(
                Planned(
                    f"{generation}:escalation:u{coordinator.telegram_user_id}",
                    "escalation",
                    coordinator.telegram_user_id,
                    None,
                    escalation,
                    escalation + catch_up,
                    {"scope": sorted(scope)},
                )
            )
        planned.append(
            Planned(
                f"{generation}:overdue_list:u{coordinator.telegram_user_id}",
                "overdue_list",
                coordinator.telegram_user_id,
                None,
                closing,
                closing + catch_up,
                {"scope": sorted(scope)},
            )
        )
    return planned


def replan(session: Session, campaign: Campaign, zone: ZoneInfo) -> int:
    """After a change of deadline or policy: drop the pending deadline messages and plan again."""
    session.execute(
        delete(Notification).where(
            Notification.campaign_id == campaign.id,
            Notification.status == "pending",
            Notification.kind.in_(PLANNED_KINDS),
        )
    )
    return store(session, campaign.id, plan(session, campaign, zone))
