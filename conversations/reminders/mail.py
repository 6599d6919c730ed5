"""The e-mail channel's side of the outbox: which letters and reminders go by e-mail, and what each says.

An agency whose contact never registered (or blocked the bot) is reached at the e-mail address of the
agency list, on the same policy and working-time slots as Telegram reminders; with the policy's
``email_to = "all"`` every agency with an address is. Coordinators who gave an address with their
invitation get the daily digest, the warning of agencies not started and the overdue list there too.
Invitation letters are queued by ``cqdt invites --send-email``. A row is planned once per key, like a
Telegram one; its message is built when it is claimed, or it is cancelled when it no longer applies (the
agency submitted, a Telegram contact registered since and the policy reaches only the others).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from conversations.letters import Office, office_of
from conversations.reminders.notices import OFFICE_ZONE, Claimed, Notice, base, overview, progress
from conversations.reminders.slots import WorkingTime
from storage.notifications import Planned
from storage.outbox import AgencyStatus, OutboxStore, Pending
from storage.records import LATE_STATES, OPEN_STATES, RETURNED, CampaignFacts

EMAIL = "email"
INVITATION = "invitation"


@dataclass(frozen=True)
class MailChannel:
    """The e-mail channel is on: who signs its letters."""

    office: Office


def mailbox_key(email: str, scope_agency_id: int | None) -> str:
    """A short, stable key part for one coordinator address and scope."""
    return "m" + hashlib.sha256(f"{email.lower()}|{scope_agency_id}".encode()).hexdigest()[:16]


def _mailed_agencies(outbox: OutboxStore, campaign: CampaignFacts) -> list[tuple[int, str]]:
    """(agency id, address) of the agencies e-mail reminders go to under the campaign's policy."""
    reached = {agency_id for agency_id, _ in outbox.reachable_contacts(campaign.id)}
    every = campaign.policy.email_to == "all"
    return [(a, email) for a, email in outbox.mail_agencies(campaign.id) if every or a not in reached]


def plan_mail(
    outbox: OutboxStore, campaign: CampaignFacts, zone, generation: str, escalation: datetime | None = None
) -> list[Planned]:
    """The e-mail deadline messages: reminders and the overdue notice to agencies, the "not started" warning at
    ``escalation`` and the overdue list to coordinators' addresses (see :func:`conversations.reminders.plan.plan`
    for the Telegram ones)."""
    working = WorkingTime(campaign.policy, zone)
    deadline, closing = campaign.deadline, campaign.closes_at
    catch_up = timedelta(hours=campaign.policy.catch_up_hours)
    states = outbox.states(campaign.id)
    mailed = [(a, email) for a, email in _mailed_agencies(outbox, campaign) if states.get(a) in OPEN_STATES]
    planned: list[Planned] = []
    for offset in sorted(set(campaign.policy.offsets_minutes), reverse=True):
        slot = working.place(deadline - timedelta(minutes=offset), deadline)
        if slot is None:
            continue
        for agency_id, email in mailed:
            key = f"{generation}:remind:{offset}:e{agency_id}"
            planned.append(
                Planned(
                    key,
                    "reminder",
                    None,
                    agency_id,
                    slot,
                    min(slot + catch_up, deadline),
                    {"offset_minutes": offset},
                    EMAIL,
                    email,
                )
            )
    for agency_id, email in mailed:
        if states.get(agency_id) in LATE_STATES:
            key = f"{generation}:overdue:e{agency_id}"
            planned.append(Planned(key, "overdue", None, agency_id, closing, closing + catch_up, {}, EMAIL, email))
    for box in outbox.mailboxes(campaign.id):
        payload = {"scope": sorted(outbox.scope(campaign.id, box.scope_agency_id)), "language": box.language_code}
        mailbox = mailbox_key(box.email, box.scope_agency_id)
        if escalation is not None:
            key = f"{generation}:escalation:{mailbox}"
            until = escalation + catch_up
            planned.append(Planned(key, "escalation", None, None, escalation, until, payload, EMAIL, box.email))
        key = f"{generation}:overdue_list:{mailbox}"
        planned.append(Planned(key, "overdue_list", None, None, closing, closing + catch_up, payload, EMAIL, box.email))
    return planned


def mail_digests(outbox: OutboxStore, campaign: CampaignFacts, due: datetime, catch_up: timedelta) -> list[Planned]:
    """Today's digest to each coordinator's address."""
    day = due.date().isoformat()
    return [
        Planned(
            f"c{campaign.id}:digest:{day}:{mailbox_key(box.email, box.scope_agency_id)}",
            "digest",
            None,
            None,
            due,
            due + catch_up,
            {"scope": sorted(outbox.scope(campaign.id, box.scope_agency_id)), "language": box.language_code},
            EMAIL,
            box.email,
        )
        for box in outbox.mailboxes(campaign.id)
    ]


def invitation_rows(
    campaign: CampaignFacts, agencies: list[tuple[int, str, str]], now: datetime, language: str, round_: int
) -> list[Planned]:
    """An invitation letter to each (agency id, address, token); ``round_`` > 0 sends them again (--resend)."""
    suffix = f":r{round_}" if round_ else ""
    return [
        Planned(
            f"c{campaign.id}:invitation:a{agency_id}{suffix}",
            INVITATION,
            None,
            agency_id,
            now,
            max(campaign.closes_at, now + timedelta(days=1)),
            {"token": token, "language": language},
            EMAIL,
            email,
        )
        for agency_id, email, token in agencies
    ]


def _letter(
    row: Pending, channel: MailChannel, campaign: CampaignFacts, now: datetime, template: str, **context: Any
) -> Claimed:
    context = {**base(campaign, now), "office": office_of(campaign, channel.office), **context}
    language = row.payload.get("language")
    return Claimed(row.id, row.kind, None, language, template, context, email=row.email, attempts=row.attempts)


def _still_mailed(outbox: OutboxStore, campaign: CampaignFacts, agency: AgencyStatus) -> bool:
    """An agency still gets e-mail reminders: the policy mails everyone, or no Telegram contact reaches it."""
    return campaign.policy.email_to == "all" or not outbox.reached_by_telegram(agency.id)


def mail_notices(channel: MailChannel, zone: ZoneInfo = OFFICE_ZONE) -> dict[str, Notice]:
    """What each kind of e-mail row says (None: it no longer applies, the row is cancelled); the coordinators'
    overviews count working days in ``zone``."""

    def agency_letter(outbox: OutboxStore, row: Pending, campaign: CampaignFacts, now: datetime, applies):
        agency = outbox.agency(row.agency_id) if row.agency_id is not None else None
        if agency is None or not applies(agency) or not _still_mailed(outbox, campaign, agency):
            return None
        answered, relevant = progress(outbox, campaign, [agency])[agency.id]
        token = outbox.invitation_token(campaign.id, agency.id, now)
        return _letter(
            row, channel, campaign, now, row.kind, agency=agency, answered=answered, relevant=relevant, token=token
        )

    def reminder(outbox, row, campaign, now):
        return agency_letter(outbox, row, campaign, now, lambda a: a.state in OPEN_STATES)

    def overdue(outbox, row, campaign, now):
        return agency_letter(outbox, row, campaign, now, lambda a: campaign.overdue(a.state, now))

    def returned(outbox, row, campaign, now):
        agency = outbox.agency(row.agency_id) if row.agency_id is not None else None
        if agency is None or agency.state != RETURNED:
            return None
        token = outbox.invitation_token(campaign.id, agency.id, now)
        return _letter(row, channel, campaign, now, "returned", agency=agency, token=token, **row.payload)

    def invitation(outbox, row, campaign, now):
        agency = outbox.agency(row.agency_id) if row.agency_id is not None else None
        if agency is None:
            return None
        return _letter(row, channel, campaign, now, INVITATION, agency=agency, token=row.payload["token"])

    def coordinator_overview(listed: str | None) -> Notice:
        def notice(outbox, row, campaign, now):
            context = overview(outbox, campaign, set(row.payload.get("scope") or ()), now, zone)
            if listed is not None and not context[listed]:
                return None
            return _letter(row, channel, campaign, now, row.kind, **context)

        return notice

    return {
        "reminder": reminder,
        "overdue": overdue,
        "returned": returned,
        INVITATION: invitation,
        "digest": coordinator_overview(None),
        "escalation": coordinator_overview("not_started"),
        "overdue_list": coordinator_overview("overdue"),
    }
