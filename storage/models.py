"""The tables: rubrics, campaigns, agencies, people, submissions and answers.

Times are stored in UTC; :class:`UTCDateTime` returns timezone-aware values on
SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.records import (  # noqa: F401  (the states, where the tables use them)
    LATE_STATES,
    NOT_STARTED,
    OPEN_STATES,
    SUBMISSION_STATES,
)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC; naive values are refused on the way in."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class StoredRubric(Base):
    """A rubric file exactly as a campaign started with it."""

    __tablename__ = "rubrics"
    __table_args__ = (UniqueConstraint("rubric_id", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rubric_id: Mapped[str] = mapped_column(String(80))
    version: Mapped[str] = mapped_column(String(40))
    family: Mapped[str] = mapped_column(String(80), index=True)
    level: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(400))
    content_hash: Mapped[str] = mapped_column(String(64))
    source_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    period_from: Mapped[date | None] = mapped_column(Date)
    period_to: Mapped[date | None] = mapped_column(Date)
    deadline: Mapped[datetime]
    grace_hours: Mapped[int] = mapped_column(Integer, default=0)
    reminder_policy: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    office_name: Mapped[str | None] = mapped_column(String(300))  # the coordinating office
    office_contact: Mapped[str | None] = mapped_column(String(300))  # its line for questions
    office_letter: Mapped[str | None] = mapped_column(String(200))  # "436/STTTT-CNTT ngày 07/10/2019"
    cohort_frozen_at: Mapped[datetime | None]  # from then on, the cohort is the submissions marked in_cohort

    levels: Mapped[list[CampaignLevel]] = relationship(back_populates="campaign", order_by="CampaignLevel.id")


class CampaignLevel(Base):
    """One rubric per agency level of a campaign."""

    __tablename__ = "campaign_levels"
    __table_args__ = (UniqueConstraint("campaign_id", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(40))
    rubric_pk: Mapped[int] = mapped_column(ForeignKey("rubrics.id"))

    campaign: Mapped[Campaign] = relationship(back_populates="levels")
    rubric: Mapped[StoredRubric] = relationship()


class Agency(Base):
    __tablename__ = "agencies"
    __table_args__ = (
        UniqueConstraint("campaign_id", "code"),
        Index("ix_agencies_campaign_level", "campaign_id", "level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    level: Mapped[str] = mapped_column(String(40))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(200))

    parent: Mapped[Agency | None] = relationship(remote_side=[id])
    submission: Mapped[Submission] = relationship(back_populates="agency", uselist=False)


class Contact(Base):
    """A Telegram user who answers for an agency. One agency per user and campaign."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("campaign_id", "telegram_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    language_code: Mapped[str | None] = mapped_column(String(16))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    blocked_at: Mapped[datetime | None]
    # where the contact is in the walk: the question shown and the token its buttons carry (a
    # button with another token is stale); ``draft`` holds unsaved toggles of a multiple choice
    # and the input mode (answer or evidence)
    current_question: Mapped[str | None] = mapped_column(String(40))
    prompt_token: Mapped[str | None] = mapped_column(String(16))
    menu_token: Mapped[str | None] = mapped_column(String(16))
    draft: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # question id → the time of the answer this contact was last shown ("" for none), so a change a
    # colleague made since is confirmed before it is replaced; and when they were last told of such changes
    seen: Mapped[dict[str, Any]] = mapped_column(default=dict)
    news_at: Mapped[datetime | None]

    agency: Mapped[Agency] = relationship()


class Invitation(Base):
    """A single-use deep-link token for an agency contact or a coordinator."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # contact | coordinator
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    scope_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_by: Mapped[int | None] = mapped_column(BigInteger)
    used_at: Mapped[datetime | None]
    # a coordinator's e-mail address and language: the daily digest and the overdue list also go there
    email: Mapped[str | None] = mapped_column(String(200))
    language_code: Mapped[str | None] = mapped_column(String(16))

    agency: Mapped[Agency | None] = relationship(foreign_keys=[agency_id])
    scope_agency: Mapped[Agency | None] = relationship(foreign_keys=[scope_agency_id])


class Coordinator(Base):
    """A coordinator of a campaign; with a scope agency, they see only its subtree."""

    __tablename__ = "coordinators"
    __table_args__ = (UniqueConstraint("campaign_id", "telegram_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    scope_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    full_name: Mapped[str | None] = mapped_column(String(200))
    language_code: Mapped[str | None] = mapped_column(String(16))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the office question whose answer the coordinator's next message is (after its reply button)
    answering: Mapped[int | None] = mapped_column(Integer)

    scope_agency: Mapped[Agency | None] = relationship()


class Submission(Base):
    """An agency's assessment in a campaign, and where it stands."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), unique=True)
    state: Mapped[str] = mapped_column(String(20), default=NOT_STARTED)
    started_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    receipt_hash: Mapped[str | None] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    verified_by: Mapped[int | None] = mapped_column(BigInteger)
    in_cohort: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    agency: Mapped[Agency] = relationship(back_populates="submission")


class Adjustment(Base):
    """A coordinator's verified points for one indicator of one agency, replacing the self-assessed points."""

    __tablename__ = "adjustments"
    __table_args__ = (UniqueConstraint("agency_id", "indicator"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    indicator: Mapped[str] = mapped_column(String(40))
    points: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    reason: Mapped[str] = mapped_column(Text)
    by: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ReturnedIndicator(Base):
    """An indicator returned to the agency for correction, with the coordinator's comment.

    Open while ``resolved_at`` is empty; resubmitting resolves every open return of the agency.
    """

    __tablename__ = "returned_indicators"
    __table_args__ = (Index("ix_returned_indicators_open", "agency_id", "resolved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    indicator: Mapped[str] = mapped_column(String(40))
    comment: Mapped[str] = mapped_column(Text)
    by: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]


class VerificationEvent(Base):
    """Append-only log of verification: confirmed, adjusted, returned, resubmitted."""

    __tablename__ = "verification_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    indicator: Mapped[str | None] = mapped_column(String(40))
    points: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    note: Mapped[str | None] = mapped_column(Text)
    by: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Answer(Base):
    """The current answer of an agency to one question."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("agency_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(40))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    not_applicable: Mapped[bool] = mapped_column(Boolean, default=False)
    set_by: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(20), default="telegram")
    set_at: Mapped[datetime] = mapped_column(default=utcnow)


class Evidence(Base):
    """A file, photo or document reference given as evidence (minh chứng) for a question."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))  # document | photo | reference | link
    file_id: Mapped[str | None] = mapped_column(String(200))
    file_unique_id: Mapped[str | None] = mapped_column(String(100))
    file_name: Mapped[str | None] = mapped_column(String(300))
    size: Mapped[int | None] = mapped_column(BigInteger)
    mime_type: Mapped[str | None] = mapped_column(String(120))
    reference: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    url: Mapped[str | None] = mapped_column(String(2000))  # an https link given as evidence
    local_path: Mapped[str | None] = mapped_column(String(500))
    uploaded_by: Mapped[int | None] = mapped_column(BigInteger)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


NOTIFICATION_STATES = ("pending", "sending", "sent", "cancelled", "dropped", "blocked", "failed", "uncertain")


class Notification(Base):
    """An outbox row: one message to one person, planned ahead, claimed by one sender, marked when sent.

    ``key`` is unique, so planning the same reminder twice, or two processes planning at once,
    gives one row; the sender claims pending rows one at a time, so each is sent at most once.
    ``channel`` is ``telegram`` (to ``telegram_user_id``) or ``email`` (to ``email``).
    """

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(10), default="telegram", server_default="telegram")
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger)
    email: Mapped[str | None] = mapped_column(String(200))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    due_at: Mapped[datetime]
    catch_up_until: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StartFailure(Base):
    """A /start with a bad token, kept to throttle guessing (pruned once past the per-user window)."""

    __tablename__ = "start_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class StartFailureWindow(Base):
    """How many bad /start tokens all users together sent in one minute: the global limit on guessing.

    One row per minute, counted up atomically (an upsert), so several bot processes share the count.
    """

    __tablename__ = "start_failure_windows"

    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class HandledUpdate(Base):
    """A Telegram update a contact's dialogue has applied, recorded in the same transaction: Telegram
    delivers an update again when its first delivery was not confirmed (a process killed after the commit),
    and the second delivery must not be applied again. Kept two days (Telegram keeps an update for one)."""

    __tablename__ = "handled_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    handled_at: Mapped[datetime] = mapped_column(index=True)


class RemindConfirmation(Base):
    """The token of one /nhacnho confirmation button: issued to one coordinator for one scope, used once."""

    __tablename__ = "remind_confirmations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    scope_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class AnswerChange(Base):
    """Append-only history of every answer change: who, when, what."""

    __tablename__ = "answer_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(40))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    not_applicable: Mapped[bool] = mapped_column(Boolean, default=False)
    cleared: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_by: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(20), default="telegram")
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """One entry of an agency's hash-chained record: an answer, evidence, verification step or submission.

    ``hash`` is the SHA-256 of the entry's canonical JSON, which holds ``prev_hash``, the previous entry's hash.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (UniqueConstraint("agency_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    question_id: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[Any] = mapped_column(JSON, nullable=True)
    by: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime]
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), index=True)


class OfficeQuestion(Base):
    """A contact's question to the coordinating office about one question of the rubric, and its answer."""

    __tablename__ = "office_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(40))
    asked_by: Mapped[int] = mapped_column(BigInteger)
    asker_name: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(String(1000))
    asked_at: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(String(2000))
    answered_by: Mapped[int | None] = mapped_column(BigInteger)
    answered_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    published_by: Mapped[int | None] = mapped_column(BigInteger)


class Guidance(Base):
    """The office's guidance at one question of a level's rubric, shown to every contact of the campaign:
    a published answer (``source_id``), or guidance carried from an earlier campaign (``carried_from_id``)."""

    __tablename__ = "guidance"
    __table_args__ = (
        UniqueConstraint("source_id"),
        UniqueConstraint("campaign_id", "carried_from_id"),
        Index("ix_guidance_question", "campaign_id", "level", "question_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(40))
    question_id: Mapped[str] = mapped_column(String(40))
    question: Mapped[str] = mapped_column(String(1000))
    text: Mapped[str] = mapped_column(String(2000))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("office_questions.id", ondelete="SET NULL"))
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("guidance.id", ondelete="SET NULL"))
    published_by: Mapped[int | None] = mapped_column(BigInteger)
    published_at: Mapped[datetime]
