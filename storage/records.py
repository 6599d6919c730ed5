"""Plain records the storage layer hands to the layers above: no session, no lazy loading.

:class:`CampaignFacts` is the one place that says when a campaign closes
(deadline plus grace), what its reminder policy is and when an agency is
overdue; everything that asks these questions asks it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from rubrics.compiled import CompiledRubric
from storage.policy import ReminderPolicy

# An agency's submission states: the one spelling of each (the submissions table stores these strings).
NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
SUBMITTED = "submitted"
RETURNED = "returned"  # indicators sent back for correction
VERIFIED = "verified"
SUBMISSION_STATES = (NOT_STARTED, IN_PROGRESS, SUBMITTED, RETURNED, VERIFIED)
OPEN_STATES = (NOT_STARTED, IN_PROGRESS, RETURNED)  # not submitted: answers may change, reminders go out
LATE_STATES = (NOT_STARTED, IN_PROGRESS)  # overdue once the campaign closes (a returned agency did submit)
CARRIED = "carried"  # answers.source of a value kept from last year
SUBMITTED_STATES = (SUBMITTED, VERIFIED)
UNASSESSED = (
    ""  # the level of an organisational unit that is not assessed: never invited or ranked, a parent and a scope
)


@dataclass(frozen=True)
class Office:
    """The office that coordinates a campaign, as its letter names it: every message that says who is
    asking, whom to call and under which letter reads it from here (``campaign.office``)."""

    name: str | None = None  # "Sở Khoa học và Công nghệ tỉnh Quảng Ninh", "Phòng Văn hóa và Thông tin …"
    contact: str | None = None  # "Đồng chí Nguyễn Văn A, 0210 3846 000"
    letter: str | None = None  # "436/STTTT-CNTT ngày 07/10/2019"

    def __bool__(self) -> bool:
        return bool(self.name or self.contact or self.letter)


@dataclass(frozen=True)
class CampaignFacts:
    id: int
    name: str
    period_from: date | None
    period_to: date | None
    deadline: datetime
    grace_hours: int
    state: str
    policy: ReminderPolicy
    rubrics: Mapping[str, CompiledRubric]  # level → the rubric the campaign started with
    office: Office = Office()

    @property
    def closes_at(self) -> datetime:
        """When answers and submissions stop being accepted: the deadline plus the grace hours."""
        return self.deadline + timedelta(hours=self.grace_hours)

    def closed(self, now: datetime) -> bool:
        return now >= self.closes_at

    def overdue(self, state: str, now: datetime) -> bool:
        """An agency is overdue once the campaign has closed and it has not submitted."""
        return self.closed(now) and state in LATE_STATES


@dataclass(frozen=True)
class AgencyRecord:
    id: int
    campaign_id: int
    code: str
    name: str
    level: str
    parent_id: int | None = None


@dataclass
class ContactRecord:
    """A contact and their place in the walk; the unit of work writes back what the dialogue changed."""

    id: int
    campaign_id: int
    agency_id: int
    telegram_user_id: int
    full_name: str | None
    language_code: str | None
    joined_at: datetime
    current_question: str | None = None
    prompt_token: str | None = None
    menu_token: str | None = None
    draft: dict = field(default_factory=dict)
    seen: dict = field(default_factory=dict)  # question id → ISO time of the answer last shown, "" for none
    # (and "~carry_offered" → when /tieptuc offered to keep last year's answers, see conversations.carry)
    news_at: datetime | None = None  # when the contact was last told of colleagues' changes


@dataclass(frozen=True)
class CoordinatorRecord:
    id: int
    campaign_id: int
    telegram_user_id: int
    full_name: str | None
    language_code: str | None
    scope: AgencyRecord | None  # None: the whole campaign

    @property
    def scope_agency_id(self) -> int | None:
        return self.scope.id if self.scope is not None else None


@dataclass
class SubmissionRecord:
    id: int
    agency_id: int
    state: str
    submitted_at: datetime | None
    revision: int
    receipt_hash: str | None


@dataclass(frozen=True)
class InvitationRecord:
    id: int
    campaign_id: int
    role: str  # contact | coordinator
    agency_id: int | None
    scope: AgencyRecord | None
    expires_at: datetime
    used_by: int | None
    used_at: datetime | None

    @property
    def scope_agency_id(self) -> int | None:
        return self.scope.id if self.scope is not None else None


@dataclass(frozen=True)
class ContactWorld:
    """What one update about a contact needs, read in one statement."""

    contact: ContactRecord
    agency: AgencyRecord
    submission: SubmissionRecord
    campaign: CampaignFacts


@dataclass(frozen=True)
class AdjustmentRecord:
    indicator: str
    points: Decimal
    reason: str
    by: int | None
    at: datetime


@dataclass(frozen=True)
class ReturnRecord:
    indicator: str
    comment: str
    by: int | None
    at: datetime


@dataclass(frozen=True)
class EventRecord:
    """One line of the verification log: confirmed, adjusted, returned, resubmitted."""

    kind: str
    indicator: str | None
    points: Decimal | None
    note: str | None
    by: int | None
    at: datetime


@dataclass(frozen=True)
class ChangeRecord:
    """One change in an agency's answer history, its value decoded (NA for không áp dụng)."""

    question_id: str
    value: Any
    changed_by: int | None
    changed_at: datetime
    source: str = "telegram"  # "carried": kept from last year
