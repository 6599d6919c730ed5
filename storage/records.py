"""Plain records the storage layer hands to the layers above: no session, no lazy loading.

:class:`CampaignFacts` is the one place that says when a campaign closes
(deadline plus grace), what its reminder policy is and when an agency is
overdue; everything that asks these questions asks it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from rubrics.compiled import CompiledRubric
from storage.policy import ReminderPolicy

OPEN_STATES = ("not_started", "in_progress", "returned")  # not submitted: answers may change, reminders go out
LATE_STATES = ("not_started", "in_progress")  # overdue once the campaign closes (a returned agency did submit)
SUBMITTED_STATES = ("submitted", "verified")


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

    @property
    def closes_at(self) -> datetime:
        """When answers and submissions stop being accepted: the deadline plus the grace hours."""
        return self.deadline + timedelta(hours=self.grace_hours)

    def closed(self, now: datetime) -> bool:
        return now >= self.closes_at

    def overdue(self, state: str, now: datetime) -> bool:
        """An agency is overdue once the campaign has closed and it has not submitted."""
        return self.closed(now) and state in LATE_STATES
