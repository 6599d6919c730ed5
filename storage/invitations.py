"""Single-use invitation tokens for agency contacts and coordinators."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from common.errors import Refused
from storage import campaigns
from storage.contacts import agency_record
from storage.models import Agency, Campaign, Invitation, StartFailure, StartFailureWindow
from storage.records import UNASSESSED, InvitationRecord

# Telegram deep-link payloads allow up to 64 characters of [A-Za-z0-9_-].
TOKEN_BYTES = 24
COORDINATOR_VALIDITY = timedelta(days=14)
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")

# The limits on guessing invitation tokens, stated here only (the README's "Limits on input" repeats them).
# A wrong token is one that was never issued, is used by someone else or has expired. A valid token always
# passes both limits: they slow guessing down and bound what a flood writes, never lock out the contact.
START_FAILURES_PER_USER = 5  # wrong tokens from one Telegram user within START_FAILURE_WINDOW; then they wait
START_FAILURE_WINDOW = timedelta(minutes=15)
START_FAILURES_PER_MINUTE = 120  # wrong tokens from everyone together in one minute, counted across processes
WINDOW_MINUTES = int(START_FAILURE_WINDOW.total_seconds() // 60)
# rows older than the window are deleted once a minute, so start_failures never holds more than this
MAX_START_FAILURE_ROWS = START_FAILURES_PER_MINUTE * (WINDOW_MINUTES + 1)


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
    query = (
        select(Agency)
        .where(Agency.campaign_id == campaign.id, Agency.level != UNASSESSED)  # such a unit is not invited
        .order_by(Agency.level, Agency.code)
    )
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
    session: Session,
    campaign: Campaign,
    now: datetime,
    scope_code: str | None = None,
    email: str | None = None,
    language_code: str | None = None,
) -> Invitation:
    """A coordinator's invitation; with ``email``, the digest and the overdue list also go to that address."""
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
        email=email,
        language_code=language_code,
    )
    session.add(invitation)
    session.flush()
    return invitation


class Invitations:
    """Redeeming invitations, and the failed attempts that slow down guessing, for one unit of work."""

    def __init__(self, session: Session):
        self.session = session

    def throttled(self, user_id: int, now: datetime) -> bool:
        """Whether this user sent :data:`START_FAILURES_PER_USER` wrong tokens within the window."""
        count = self.session.scalar(
            select(func.count(StartFailure.id)).where(
                StartFailure.telegram_user_id == user_id, StartFailure.at > now - START_FAILURE_WINDOW
            )
        )
        return count >= START_FAILURES_PER_USER

    def count_failure(self, now: datetime) -> bool:
        """Count one wrong token in this minute's global window (one atomic upsert, shared by every process);
        False once the minute is past :data:`START_FAILURES_PER_MINUTE`. The first failure of each minute
        deletes what is older than the window, which keeps the tables bounded whatever the flood."""
        window = now.astimezone(UTC).replace(second=0, microsecond=0)
        dialect = self.session.get_bind().dialect.name
        insert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(StartFailureWindow)
        failures = self.session.execute(
            insert.values(window_start=window, failures=1)
            .on_conflict_do_update(
                index_elements=[StartFailureWindow.window_start],
                set_={"failures": StartFailureWindow.failures + 1},
            )
            .returning(StartFailureWindow.failures)
        ).scalar_one()
        if failures == 1:
            since = now - START_FAILURE_WINDOW
            self.session.execute(delete(StartFailure).where(StartFailure.at <= since))
            self.session.execute(delete(StartFailureWindow).where(StartFailureWindow.window_start <= since))
        return failures <= START_FAILURES_PER_MINUTE

    def failed(self, user_id: int, now: datetime) -> None:
        self.session.add(StartFailure(telegram_user_id=user_id, at=now))

    def find(self, token: str) -> InvitationRecord | None:
        """The invitation with this token; None for any token the bot could not have issued, unread."""
        if not TOKEN_SHAPE.fullmatch(token):
            return None
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
