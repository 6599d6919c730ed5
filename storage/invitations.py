"""Single-use invitation tokens for agency contacts and coordinators."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased

from common.errors import Refused
from storage import campaigns
from storage.contacts import agency_record
from storage.models import Agency, Campaign, Invitation, StartFailure
from storage.records import InvitationRecord

# Telegram deep-link payloads allow up to 64 characters of [A-Za-z0-9_-].
TOKEN_BYTES = 24
COORDINATOR_VALIDITY = timedelta(days=14)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def deep_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"


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
                expires_at=max(campaigns.facts_of(campaign).closes_at, now + timedelta(days=1)),
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


class Invitations:
    """Redeeming invitations, and the failed attempts that slow down guessing, for one unit of work."""

    def __init__(self, session: Session):
        self.session = session

    def failures_since(self, user_id: int, since: datetime) -> int:
        return self.session.scalar(
            select(func.count(StartFailure.id)).where(StartFailure.telegram_user_id == user_id, StartFailure.at > since)
        )

    def failed(self, user_id: int, now: datetime) -> None:
        self.session.add(StartFailure(telegram_user_id=user_id, at=now))

    def find(self, token: str) -> InvitationRecord | None:
        scope = aliased(Agency)
        found = self.session.execute(
            select(Invitation, scope)
            .outerjoin(scope, scope.id == Invitation.scope_agency_id)
            .where(Invitation.token == token)
        ).first()
        if found is None:
            return None
        invitation, scope_agency = found
        return InvitationRecord(
            invitation.id,
            invitation.campaign_id,
            invitation.role,
            invitation.agency_id,
            agency_record(scope_agency) if scope_agency is not None else None,
            invitation.expires_at,
            invitation.used_by,
            invitation.used_at,
        )

    def use(self, invitation_id: int, user_id: int, now: datetime) -> None:
        """Mark the invitation used by this user, unless it already was."""
        self.session.execute(
            update(Invitation)
            .where(Invitation.id == invitation_id, Invitation.used_at.is_(None))
            .values(used_by=user_id, used_at=now)
        )
