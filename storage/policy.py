"""A campaign's reminder policy, stored as JSON on the campaign."""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ReminderPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offsets_minutes: list[int] = Field(default_factory=lambda: [7 * 24 * 60, 3 * 24 * 60, 24 * 60, 120])
    working_start: time = time(7, 30)
    working_end: time = time(17, 30)
    working_days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])  # Monday = 0
    skip_holidays: bool = True
    catch_up_hours: int = 12
    # e-mail reminders: to agencies no registered Telegram contact can be reached at, or to every agency
    email_to: Literal["unreached", "all"] = "unreached"
