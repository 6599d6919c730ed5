"""Single-use invitation tokens for agency contacts and coordinators."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import Refused
from storage.models import Agency, Campaign, Invitation

# Telegram deep-link payloads allow up to 64 characters of [A-Za-z0-9_-].
TOKEN_BYTES = 24
COORDINATOR_VALIDITY = timedelta(days=14)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def deep_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"


def contact_expiry(campaign: Campaign) -> datetime:
    return campaign.deadline + timedelta(hours=campaign.grace_hours)


def agency_invitations(
    session: Session, campaign: Campaign, now: datetime, agency_code: str | None = None
) -> list[tuple[Agency, Invitation]]:
    """The open invitation of each agency, issuing a new one where the last was used or expired.

    Running this twice gives the same links until someone uses one, so a printed
    letter stays valid; a used link is replaced for the next colleague.
    """
    query = select(Agency).where(Agency.campaign_id == campaign.id).order_by(Agency.level, Agency.code)
    if agency_code is not None:
        query = query.where(Agency.code == agency_code)
    agencies = list(session.scalars(query))
    if agency_code is not None and not agencies:
        raise Refused("agency_not_found", code=agency_code)
    open_by_agency = {
        inv.agency_id: inv
        for inv in session.scalars(
            select(Invitation)
            .where(
                Invitation.campaign_id == campaign.id,
                Invitation.role == "contact",
                Invitation.used_at.is_(None),
                Invitation.expires_at > now,
            )
            .order_by(Invitation.id)
        )
    }
    result = []
    for agency in agencies:
        invitation = open_by_agency.get(agency.id)
        if invitation is None:
            invitation = Invitation(
                campaign_id=campaign.id,
                token=new_token(),
                role="contact",
                agency_id=agency.id,
                expires_at=max(contact_expiry(campaign), now + timedelta(days=1)),
                created_at=now,
            )
            session.add(invitation)
        result.append((agency, invitation))
    session.flush()
    return result


def coordinator_invitation(
    session: Session, campaign: Campaign, now: datetime, scope_code: str | None = None
) -> Invitation:
    scope = None
    if scope_code is not None:
        scope = session.scalar(select(Agency).where(Agency.campaign_id == campaign.id, Agency.code == scope_code))
        if scope is None:
            raise Refused("agency_not_found", code=scope_code)
    invitation = Invitation(
        campaign_id=campaign.id,
        token=new_token(),
        role="coordinator",
        scope_agency_id=scope.id if scope else None,
        expires_at=now + COORDINATOR_VALIDITY,
        created_at=now,
    )
    session.add(invitation)
    session.flush()
    return invitation
