"""What each kind of outbox message says, decided when it is claimed.

:data:`NOTICES` maps a kind to a small function that builds the message's
template context from the campaign as it is now, or returns None when the
message no longer applies (the agency submitted, the contact blocked the bot,
nobody is left to list); such a row is cancelled instead of sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from common.settings import DEFAULT_TIMEZONE
from conversations.progress import counted
from conversations.reminders.slots import WorkingTime
from conversations.risk import estimate
from rubrics.scoring import AgencyInput, Scorer
from storage.outbox import AgencyStatus, OutboxStore, Pending, Recipient
from storage.records import IN_PROGRESS, NOT_STARTED, OPEN_STATES, RETURNED, SUBMITTED_STATES, CampaignFacts

log = logging.getLogger(__name__)

OFFICE_ZONE = ZoneInfo(DEFAULT_TIMEZONE)  # the zone of working days when the caller names none


@dataclass
class Claimed:
    """A claimed row and what its message needs."""

    id: int
    kind: str
    chat_id: int | None
    language: str | None
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    with_continue_button: bool = False
    email: str | None = None  # the address, for a row of the e-mail channel
    attempts: int = 0  # requests made before this claim
    button: tuple[str, str] | None = None  # (label's macro in buttons.j2, callback data) of a button under it


Notice = Callable[[OutboxStore, Pending, CampaignFacts, datetime], "Claimed | None"]


def describe(
    outbox: OutboxStore, row: Pending, now: datetime, notices: dict[str, Notice] | None = None
) -> Claimed | None:
    """The message of a due row (its kind looked up in ``notices``, the Telegram ones by default), or None
    when it no longer applies."""
    notice = (NOTICES if notices is None else notices).get(row.kind)
    if notice is None:
        log.warning("outbox row %s has an unknown kind %r", row.id, row.kind)
        return None
    return notice(outbox, row, outbox.campaign(row.campaign_id), now)


def base(campaign: CampaignFacts, now: datetime) -> dict[str, Any]:
    return {"campaign": campaign, "deadline": campaign.deadline, "now": now, "closes_at": campaign.closes_at}


def progress(outbox: OutboxStore, campaign: CampaignFacts, agencies: list[AgencyStatus]) -> dict[int, tuple[int, int]]:
    """(answered, relevant) questions of each agency."""
    rubric_of = {a.id: campaign.rubrics[a.level] for a in agencies}
    return counted(rubric_of, outbox.answers(rubric_of))


def overview(
    outbox: OutboxStore, campaign: CampaignFacts, scope: set[int], now: datetime, zone: ZoneInfo = OFFICE_ZONE
) -> dict[str, Any]:
    """Where the agencies in ``scope`` stand: by level, not started, in progress, at risk (see
    :mod:`conversations.risk`; none once the campaign has closed, when the overdue list says it), blocked, overdue."""
    rows = [a for a in outbox.agencies(campaign.id) if a.id in scope]
    unsubmitted = [r for r in rows if r.state in OPEN_STATES]
    done = progress(outbox, campaign, unsubmitted)
    at_risk = []
    if not campaign.closed(now):
        active = outbox.activity([r.id for r in unsubmitted], zone)
        at_risk = estimate(unsubmitted, done, active, now, campaign.deadline, WorkingTime(campaign.policy, zone))
    by_level: dict[str, dict[str, int]] = {}
    for r in rows:
        counts = by_level.setdefault(campaign.rubrics[r.level].rubric.level_name, {"total": 0, "submitted": 0})
        counts["total"] += 1
        counts["submitted"] += r.state in SUBMITTED_STATES

    return {
        "by_level": by_level,
        "not_started": [r for r in rows if r.state == NOT_STARTED],
        "in_progress": [r for r in rows if r.state in (IN_PROGRESS, RETURNED)],
        "at_risk": at_risk,
        "blocked": outbox.blocked(campaign.id, scope),
        "unreachable": outbox.unreachable(campaign.id, scope),
        "overdue": [r for r in rows if campaign.overdue(r.state, now)],
        "progress": done,
        "unanswered_questions": outbox.office_questions.unanswered_count(campaign.id, scope),
    }


def _contact_notice(
    outbox: OutboxStore, row: Pending, campaign: CampaignFacts, now: datetime, applies: Callable[[str], bool]
) -> Claimed | None:
    """A reminder or an overdue notice to a contact, while ``applies`` holds for the agency's state."""
    agency = outbox.agency(row.agency_id)
    if agency is None or not applies(agency.state):
        return None
    contact = outbox.contact(campaign.id, row.telegram_user_id)
    if contact is None:
        return None
    answered, relevant = progress(outbox, campaign, [agency])[agency.id]
    return Claimed(
        row.id,
        row.kind,
        row.telegram_user_id,
        contact.language_code,
        row.kind,
        {**base(campaign, now), "agency": agency, "state": agency.state, "answered": answered, "relevant": relevant},
        with_continue_button=row.kind == "reminder",
    )


def reminder(outbox: OutboxStore, row: Pending, campaign: CampaignFacts, now: datetime) -> Claimed | None:
    """To a contact whose agency has not submitted (or was returned)."""
    return _contact_notice(outbox, row, campaign, now, lambda state: state in OPEN_STATES)


def overdue(outbox: OutboxStore, row: Pending, campaign: CampaignFacts, now: datetime) -> Claimed | None:
    """To a contact whose agency is overdue: the campaign closed and it never submitted."""
    return _contact_notice(outbox, row, campaign, now, lambda state: campaign.overdue(state, now))


def returned(outbox: OutboxStore, row: Pending, campaign: CampaignFacts, now: datetime) -> Claimed | None:
    """To a contact: the coordinator returned indicators to correct (the payload lists them)."""
    contact = outbox.contact(campaign.id, row.telegram_user_id)
    agency = outbox.agency(row.agency_id)
    if contact is None or agency is None:
        return None
    context = {**base(campaign, now), "agency": agency, **row.payload}
    return Claimed(
        row.id, row.kind, row.telegram_user_id, contact.language_code, "returned", context, with_continue_button=True
    )


def submitted(outbox: OutboxStore, row: Pending, campaign: CampaignFacts, now: datetime) -> Claimed | None:
    """To a coordinator: an agency in their scope submitted (the payload carries its score)."""
    coordinator = outbox.coordinator(campaign.id, row.telegram_user_id)
    if coordinator is None:
        return None
    payload = row.payload
    context = {
        "agency_name": payload["agency_name"],
        "at": datetime.fromisoformat(payload["at"]),
        "total": Decimal(payload["total"]),
        "max": Decimal(payload["max"]),
        "again": payload.get("again", False),
    }
    return Claimed(row.id, row.kind, row.telegram_user_id, coordinator.language_code, "submitted", context)


def receipt(outbox: OutboxStore, row: Pending, campaign: CampaignFacts, now: datetime) -> Claimed | None:
    """To the contact who submitted: the receipt, with the score of the answers as submitted (they are
    locked from then on) and the SHA-256 the payload carries."""
    contact = outbox.contact(campaign.id, row.telegram_user_id)
    agency = outbox.agency(row.agency_id)
    if contact is None or agency is None:
        return None
    rubric = campaign.rubrics[agency.level]
    answers = outbox.answers({agency.id: rubric})[agency.id]
    score = Scorer(rubric).score_cohort([AgencyInput(agency.id, answers)])[0]
    context = {
        "agency": agency,
        "at": datetime.fromisoformat(row.payload["at"]),
        "score": score,
        "hash": row.payload["hash"],
        "rubric": rubric.rubric,
        "office": campaign.office,
        "earlier_total": Decimal(row.payload["earlier_total"]) if "earlier_total" in row.payload else None,
    }
    return Claimed(row.id, row.kind, row.telegram_user_id, contact.language_code, "receipt", context)


def office_question(outbox: OutboxStore, row: Pending, campaign: CampaignFacts, now: datetime) -> Claimed | None:
    """To a coordinator in scope: a contact's question to the office, with a reply button, while unanswered."""
    coordinator = outbox.coordinator(campaign.id, row.telegram_user_id)
    question = outbox.office_questions.get(campaign.id, row.payload["number"])
    if coordinator is None or question is None or question.answered_at is not None:
        return None
    context = {
        "number": question.id,
        "agency_name": question.agency_name,
        "agency_code": question.agency_code,
        "asker": question.asker_name,
        "at": question.asked_at,
        "text": question.text,
        "step": campaign.rubrics[question.level].by_id.get(question.question_id),
    }
    button = ("reply_office", f"k:h:{question.id}")
    return Claimed(
        row.id, row.kind, row.telegram_user_id, coordinator.language_code, "office_question", context, button=button
    )


def office_answer(outbox: OutboxStore, row: Pending, campaign: CampaignFacts, now: datetime) -> Claimed | None:
    """To the contact who asked: the office's answer to their question."""
    contact = outbox.contact(campaign.id, row.telegram_user_id)
    question = outbox.office_questions.get(campaign.id, row.payload["number"])
    if contact is None or question is None or question.answer is None:
        return None
    context = {
        "number": question.id,
        "text": question.text,
        "answer": question.answer,
        "step": campaign.rubrics[question.level].by_id.get(question.question_id),
    }
    return Claimed(row.id, row.kind, row.telegram_user_id, contact.language_code, "office_answer", context)


def guidance(outbox: OutboxStore, row: Pending, campaign: CampaignFacts, now: datetime) -> Claimed | None:
    """To a contact whose agency had answered the question: the guidance the office published at it."""
    contact = outbox.contact(campaign.id, row.telegram_user_id)
    found = outbox.office_questions.guidance_by_id(row.payload["guidance"])
    if contact is None or found is None:
        return None
    context = {
        "question": found.question,
        "text": found.text,
        "step": campaign.rubrics[found.level].by_id.get(found.question_id),
    }
    return Claimed(row.id, row.kind, row.telegram_user_id, contact.language_code, "guidance", context)


def _coordinator_overview(
    outbox: OutboxStore, row: Pending, campaign: CampaignFacts, now: datetime, zone: ZoneInfo
) -> tuple[Recipient, dict[str, Any]] | None:
    coordinator = outbox.coordinator(campaign.id, row.telegram_user_id)
    if coordinator is None:
        return None
    scope = set(row.payload.get("scope") or outbox.scope(campaign.id, coordinator.scope_agency_id))
    return coordinator, {**base(campaign, now), **overview(outbox, campaign, scope, now, zone), **row.payload}


def _overview_notice(listed: str | None, zone: ZoneInfo) -> Notice:
    """A coordinator's overview; with ``listed``, only while that list of agencies is not empty."""

    def notice(outbox: OutboxStore, row: Pending, campaign: CampaignFacts, now: datetime) -> Claimed | None:
        found = _coordinator_overview(outbox, row, campaign, now, zone)
        if found is None or (listed is not None and not found[1][listed]):
            return None
        coordinator, context = found
        return Claimed(row.id, row.kind, row.telegram_user_id, coordinator.language_code, row.kind, context)

    return notice


def telegram_notices(zone: ZoneInfo) -> dict[str, Notice]:
    """The Telegram messages by kind; the coordinators' overviews count working days in ``zone``."""
    return {
        "reminder": reminder,
        "overdue": overdue,
        "returned": returned,
        "submitted": submitted,
        "receipt": receipt,
        "office_question": office_question,
        "office_answer": office_answer,
        "guidance": guidance,
        "digest": _overview_notice(None, zone),  # every working morning, whatever it says
        "escalation": _overview_notice("not_started", zone),  # three days before: who has not started
        "overdue_list": _overview_notice("overdue", zone),  # at closing: who is overdue
    }


NOTICES = telegram_notices(OFFICE_ZONE)
