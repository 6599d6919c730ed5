"""Which agencies a message can reach: by Telegram (a registered contact who has not blocked the bot), by
e-mail only (an address on the agency list), or by neither ("không liên lạc được")."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Agency, Contact, Notification


class Unreachable(NamedTuple):
    """An agency no Telegram contact can be reached at and no e-mail reaches, and why not."""

    code: str
    name: str
    email: str | None
    last_error: str | None  # the last e-mail's failure, when it had an address


def _reached(campaign_id: int):
    return select(Contact.agency_id).where(Contact.campaign_id == campaign_id, Contact.blocked_at.is_(None))


def reached_by_telegram(session: Session, agency_id: int) -> bool:
    """Whether a contact of the agency is registered and has not blocked the bot."""
    found = select(Contact.id).where(Contact.agency_id == agency_id, Contact.blocked_at.is_(None)).limit(1)
    return session.scalar(found) is not None


def unreachable(session: Session, campaign_id: int, scope: set[int] | None = None) -> list[Unreachable]:
    """The agencies (in ``scope``, or all) with no Telegram contact reached and no e-mail address, or one
    whose last e-mail failed."""
    last_mail = (
        select(Notification.agency_id, func.max(Notification.id).label("last_id"))
        .where(
            Notification.campaign_id == campaign_id,
            Notification.channel == "email",
            Notification.status.in_(("sent", "failed")),
            Notification.agency_id.is_not(None),
        )
        .group_by(Notification.agency_id)
        .subquery()
    )
    query = (
        select(Agency.code, Agency.name, Agency.contact_email, Notification.status, Notification.last_error)
        .outerjoin(last_mail, last_mail.c.agency_id == Agency.id)
        .outerjoin(Notification, Notification.id == last_mail.c.last_id)
        .where(Agency.campaign_id == campaign_id, Agency.id.not_in(_reached(campaign_id)))
        .order_by(Agency.code)
    )
    if scope is not None:
        query = query.where(Agency.id.in_(scope or {-1}))
    return [
        Unreachable(code, name, email or None, error if status == "failed" else None)
        for code, name, email, status, error in session.execute(query)
        if not email or status == "failed"
    ]


def reach_counts(session: Session, campaign_id: int) -> dict[str, int]:
    """How many of the campaign's agencies are reachable by Telegram, by e-mail only, and by neither."""
    reached = {a for (a,) in session.execute(_reached(campaign_id))}
    rows = session.execute(select(Agency.id, Agency.contact_email).where(Agency.campaign_id == campaign_id)).all()
    telegram = sum(1 for agency_id, _ in rows if agency_id in reached)
    email_only = sum(1 for agency_id, email in rows if agency_id not in reached and email)
    return {"telegram": telegram, "email_only": email_only, "neither": len(rows) - telegram - email_only}
