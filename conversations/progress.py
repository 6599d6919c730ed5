"""One count of how far an agency is, the same in every message: the questions that apply given the
answers so far (``relevant``), how many of them are answered, and where a question stands among them.

In a returned round the count is of the returned questions that apply. When an answer reveals or hides
questions, :func:`scope_change` says by how many, so the contact sees why the count moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conversations.walk import relevant_steps
from rubrics.answers import Answers
from rubrics.compiled import CompiledRubric, WalkStep


@dataclass(frozen=True)
class Position:
    """Where a question stands: its place among the questions that count, and how many count."""

    index: int  # 1-based; 0 when the question is not among them
    of: int
    returned: bool = False  # counting the questions returned for correction

    def context(self) -> dict[str, Any]:
        return {"position": self.index, "counted": self.of, "returned_round": self.returned}


def position(steps: list[WalkStep], step: WalkStep, returned: dict[str, str]) -> Position:
    """``steps`` are the relevant steps; with ``returned`` questions, the count is of those."""
    counted = [s for s in steps if s.question.id in returned] if returned else steps
    numbers = [s.number for s in counted]
    index = numbers.index(step.number) + 1 if step.number in numbers else 0
    return Position(index, len(counted), bool(returned))


def scope_change(rubric: CompiledRubric, before: Answers, after: Answers) -> dict[str, int] | None:
    """How many questions an answer revealed and hid, if any."""
    was = {s.number for s in relevant_steps(rubric, before)}
    now = {s.number for s in relevant_steps(rubric, after)}
    if was == now:
        return None
    return {"revealed": len(now - was), "hidden": len(was - now), "relevant": len(now)}
