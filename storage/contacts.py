"""Contacts and coordinators: finding who a Telegram user is, registering them, and their place in the walk.

A contact's world (contact, agency, submission, campaign) is read in one
statement; the campaign's rubrics come from the per-process cache in
:func:`storage.campaigns.facts_of`. The contact comes back as a plain
:class:`~storage.records.ContactRecord`; what the dialogue changes on it is
written back when the unit of work ends (:class:`storage.unit.Unit`).
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from functools import cache

import orjson
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, aliased

from storage import campaigns
from storage.models import Agency, Campaign, Contact, Coordinator, Submission
from storage.records import AgencyRecord, ContactRecord, ContactWorld, CoordinatorRecord, SubmissionRecord

POSITION = ("current_question", "prompt_token", "menu_token", "draft", "language_code", "seen", "news_at")


def agency_record(row: Agency) -> AgencyRecord:
    return AgencyRecord(row.id, row.campaign_id, row.code, row.name, row.level, row.parent_id)


def contact_record(row: Contact) -> ContactRecord:
    return ContactRecord(
        id=row.id,
        campaign_id=row.campaign_id,
        agency_id=row.agency_id,
        telegram_user_id=row.telegram_user_id,
        full_name=row.full_name,
        language_code=row.language_code,
        joined_at=row.joined_at,
        current_question=row.current_question,
        prompt_token=row.prompt_token,
        menu_token=row.menu_token,
        draft=dict(row.draft or {}),
        seen=dict(row.seen or {}),
        news_at=row.news_at,
    )


def submission_record(row: Submission) -> SubmissionRecord:
    return SubmissionRecord(row.id, row.agency_id, row.state, row.submitted_at, row.revision, row.receipt_hash)


def coordinator_record(row: Coordinator, scope: Agency | None) -> CoordinatorRecord:
    return CoordinatorRecord(
        row.id,
        row.campaign_id,
        row.telegram_user_id,
        row.full_name,
        row.language_code,
        agency_record(scope) if scope is not None else None,
    )


class Contacts:
    """The contacts and coordinators of every campaign, for one unit of work."""

    def __init__(self, session: Session):
        self.session = session
        self._loaded: list[tuple[ContactRecord, tuple]] = []

    def _track(self, contact: ContactRecord) -> ContactRecord:
        self._loaded.append((contact, _snapshot(contact)))
        return contact

    def world(self, user_id: int, *, lock: bool = False) -> ContactWorld | None:
        """The user's contact in their most recently joined campaign, with its agency, submission and
        campaign; with ``lock`` the submission row is locked for the transaction, so two contacts of one
        agency (or two bot processes) write its answers one after the other."""
        found = self.session.execute(
            _world(lock and self.session.get_bind().dialect.name == "postgresql"), {"user_id": user_id}
        ).first()
        if found is None:
            return None
        contact, agency, submission, campaign = found
        return ContactWorld(
            self._track(contact_record(contact)),
            agency_record(agency),
            submission_record(submission),
            campaigns.facts_of(campaign),
        )

    def exists(self, user_id: int) -> bool:
        return self.session.scalar(select(func.count(Contact.id)).where(Contact.telegram_user_id == user_id)) > 0

    def coordinator(self, user_id: int) -> CoordinatorRecord | None:
        """The user's coordinator row in their most recently joined campaign."""
        scope = aliased(Agency)
        found = self.session.execute(
            select(Coordinator, scope)
            .outerjoin(scope, scope.id == Coordinator.scope_agency_id)
            .where(Coordinator.telegram_user_id == user_id)
            .order_by(Coordinator.joined_at.desc(), Coordinator.id.desc())
            .limit(1)
        ).first()
        return coordinator_record(*found) if found is not None else None

    def coordinators_of(self, campaign_id: int) -> list[CoordinatorRecord]:
        scope = aliased(Agency)
        rows = self.session.execute(
            select(Coordinator, scope)
            .outerjoin(scope, scope.id == Coordinator.scope_agency_id)
            .where(Coordinator.campaign_id == campaign_id)
            .order_by(Coordinator.id)
        ).all()
        return [coordinator_record(c, s) for c, s in rows]

    def registered_elsewhere(self, campaign_id: int, user_id: int, agency_id: int) -> AgencyRecord | None:
        """The other agency this user already answers for in the campaign, if any."""
        found = self.session.execute(
            select(Agency)
            .join(Contact, Contact.agency_id == Agency.id)
            .where(
                Contact.campaign_id == campaign_id,
                Contact.telegram_user_id == user_id,
                Contact.agency_id != agency_id,
            )
        ).scalar()
        return agency_record(found) if found is not None else None

    def join(
        self, campaign_id: int, agency_id: int, user_id: int, name: str | None, language: str | None, now: datetime
    ) -> None:
        """Register the user as a contact of the agency (once)."""
        existing = self.session.scalar(
            select(Contact.id).where(Contact.campaign_id == campaign_id, Contact.telegram_user_id == user_id)
        )
        if existing is None:
            self.session.add(
                Contact(
                    campaign_id=campaign_id,
                    agency_id=agency_id,
                    telegram_user_id=user_id,
                    full_name=name,
                    language_code=language,
                    joined_at=now,
                )
            )
            self.session.flush()

    def join_as_coordinator(
        self,
        campaign_id: int,
        scope_agency_id: int | None,
        user_id: int,
        name: str | None,
        language: str | None,
        now: datetime,
    ) -> None:
        """Register the user as a coordinator of the campaign; joining again takes the new scope."""
        coordinator = self.session.scalar(
            select(Coordinator).where(Coordinator.campaign_id == campaign_id, Coordinator.telegram_user_id == user_id)
        )
        if coordinator is None:
            coordinator = Coordinator(
                campaign_id=campaign_id,
                telegram_user_id=user_id,
                full_name=name,
                language_code=language,
                joined_at=now,
            )
            self.session.add(coordinator)
        coordinator.scope_agency_id = scope_agency_id
        self.session.flush()

    def count_of_agency(self, agency_id: int) -> int:
        return self.session.scalar(select(func.count(Contact.id)).where(Contact.agency_id == agency_id))

    def write_back(self) -> None:
        """Store what changed on the contacts handed out in this unit of work."""
        for contact, before in self._loaded:
            after = _snapshot(contact)
            if after == before:
                continue
            changed = tuple(name for name, old, new in zip(_FIELDS, before, after) if old != new)
            unknown = set(changed) - set(POSITION)
            if unknown:
                raise ValueError(f"contact fields are read-only here: {sorted(unknown)}")
            values = {f"new_{name}": getattr(contact, name) for name in changed}
            if self.session.autoflush:
                self.session.flush()  # what the ORM would flush before its own UPDATE
            self.session.connection().execute(_position_update(changed), {"contact_id": contact.id, **values})
        self._loaded.clear()


_FIELDS = tuple(f.name for f in fields(ContactRecord))


def _snapshot(contact: ContactRecord) -> tuple:
    """The contact's fields, its JSON ones (draft, seen) as their serialised text: cheaper than a deep copy,
    and any change to them, in place or not, shows."""
    values = (getattr(contact, name) for name in _FIELDS)
    return tuple(orjson.dumps(value) if isinstance(value, dict) else value for value in values)


@cache
def _world(lock_submission: bool):
    """The query of a user's contact world, built once; with ``lock_submission`` it locks the submission row."""
    query = (
        select(Contact, Agency, Submission, Campaign)
        .join(Agency, Agency.id == Contact.agency_id)
        .join(Submission, Submission.agency_id == Contact.agency_id)
        .join(Campaign, Campaign.id == Contact.campaign_id)
        .where(Contact.telegram_user_id == bindparam("user_id"))
        .order_by(Contact.joined_at.desc(), Contact.id.desc())
        .limit(1)
    )
    return query.with_for_update(of=Submission) if lock_submission else query


@cache
def _position_update(names: tuple[str, ...]):
    """The UPDATE of these fields of a contact's place in the walk, built once per set of fields, on the table."""
    columns = Contact.__table__.c
    return (
        update(Contact.__table__)
        .where(columns.id == bindparam("contact_id"))
        .values({name: bindparam(f"new_{name}", type_=columns[name].type) for name in names})
    )
