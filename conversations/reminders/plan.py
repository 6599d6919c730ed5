"""The reminder plan of a campaign: which message goes to whom, and when.

Planned rows go into the outbox with a unique key, so planning again (every
scheduler tick, from any process) adds only what is missing. The key carries
the deadline, so moving the deadline plans fresh reminders, while a reminder
already sent for the same deadline is never planned twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from conversations.reminders.mail import mail_digests, plan_mail
from conversations.reminders.slots import WorkingTime
from storage.notifications import Planned
from storage.outbox import OutboxStore
from storage.records import LATE_STATES, OPEN_STATES, CampaignFacts

ESCALATION_BEFORE = timedelta(days=3)
PLANNED_KINDS = ("reminder", "escalation", "overdue", "overdue_list")
DIGEST_AT = (8, 0)
DIGEST_CATCH_UP = timedelta(hours=4)


def plan(outbox: OutboxStore, campaign: CampaignFacts, zone: ZoneInfo, mail: bool = False) -> list[Planned]:
    """Every deadline message of the campaign, for the agencies that have not submitted now; with ``mail``,
    the e-mail ones too (:func:`conversations.reminders.mail.plan_mail`)."""
    working = WorkingTime(campaign.policy, zone)
    deadline = campaign.deadline
    generation = f"c{campaign.id}:d{int(deadline.timestamp())}"
    catch_up = timedelta(hours=campaign.policy.catch_up_hours)
    open_agencies = {a: state for a, state in outbox.states(campaign.id).items() if state in OPEN_STATES}
    contacts = outbox.reachable_contacts(campaign.id)
    planned: list[Planned] = []
    for offset in sorted(set(campaign.policy.offsets_minutes), reverse=True):
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
    closing = campaign.closes_at
    for agency_id, user_id in contacts:
        # overdue at closing unless it submits before: the notice is checked again when it is due
        if open_agencies.get(agency_id) in LATE_STATES:
            planned.append(
                Planned(
                    f"{generation}:overdue:u{user_id}", "overdue", user_id, agency_id, closing, closing + catch_up, {}
                )
            )
    escalation = working.place(deadline - ESCALATION_BEFORE, deadline)
    for coordinator in outbox.coordinators(campaign.id):
        user_id = coordinator.telegram_user_id
        scope = {"scope": sorted(outbox.scope(campaign.id, coordinator.scope_agency_id))}
        if escalation is not None:
            planned.append(
                Planned(
                    f"{generation}:escalation:u{user_id}",
                    "escalation",
                    user_id,
                    None,
                    escalation,
                    escalation + catch_up,
                    scope,
                )
            )
        planned.append(
            Planned(
                f"{generation}:overdue_list:u{user_id}",
                "overdue_list",
                user_id,
                None,
                closing,
                closing + catch_up,
                scope,
            )
        )
    return planned + (plan_mail(outbox, campaign, zone, generation, escalation) if mail else [])


def digests(
    outbox: OutboxStore, campaign: CampaignFacts, now: datetime, zone: ZoneInfo, mail: bool = False
) -> list[Planned]:
    """Today's 08:00 digest for each coordinator (and, with ``mail``, each coordinator's e-mail address), on
    working days until the campaign closes."""
    local = now.astimezone(zone)
    if not WorkingTime(campaign.policy, zone).is_working_day(local.date()) or now > campaign.closes_at:
        return []
    due = datetime(local.year, local.month, local.day, *DIGEST_AT, tzinfo=zone)
    day = local.date().isoformat()
    mailed = mail_digests(outbox, campaign, due, DIGEST_CATCH_UP) if mail else []
    return mailed + [
        Planned(
            f"c{campaign.id}:digest:{day}:u{c.telegram_user_id}",
            "digest",
            c.telegram_user_id,
            None,
            due,
            due + DIGEST_CATCH_UP,
            {"scope": sorted(outbox.scope(campaign.id, c.scope_agency_id))},
        )
        for c in outbox.coordinators(campaign.id)
    ]


def replan(outbox: OutboxStore, campaign: CampaignFacts, zone: ZoneInfo, mail: bool = False) -> int:
    """After a change of deadline or policy: drop the pending deadline messages and plan again."""
    outbox.forget_pending(campaign.id, PLANNED_KINDS)
    return outbox.queue(campaign.id, plan(outbox, campaign, zone, mail))
