"""One count of how far an agency is, the same in every message: the questions that apply given the
answers so far (``relevant``), how many of them are answered, and where a question stands among them.

In a returned round the count is of the returned questions that apply. When an answer reveals or hides
questions, :func:`scope_change` says by how many, so the contact sees why the count moved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conversations.walk import relevant_steps
from rubrics.answers import Answers
from rubrics.compiled import CompiledRubric, WalkStep
from storage.agencies import AgencyState
from storage.records import NOT_STARTED


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


def counted(rubric_of: dict[int, CompiledRubric], stored: dict[int, dict[str, Any]]) -> dict[int, tuple[int, int]]:
    """(answered, relevant) questions of each agency, from its rubric and its stored answers."""
    result = {}
    for agency_id, rubric in rubric_of.items():
        relevant = relevant_steps(rubric, stored[agency_id])
        result[agency_id] = (sum(1 for s in relevant if s.question.id in stored[agency_id]), len(relevant))
    return result


class AnswerCounts:
    """(answered, relevant) questions of many agencies, kept by the process between calls (a coordinator's
    /tinhhinh): an agency's answers are read again only when its submission's revision has moved, which every
    answer change does, and an agency not started has answered nothing, so its answers are not read at all."""

    def __init__(self) -> None:
        self._known: dict[int, tuple[int, tuple[int, int]]] = {}  # agency id → (revision, counts)

    def of(
        self,
        rows: list[AgencyState],
        rubric_of: dict[int, CompiledRubric],
        load: Callable[[dict[int, CompiledRubric]], dict[int, dict[str, Any]]],
    ) -> dict[int, tuple[int, int]]:
        """The counts of ``rows``; ``load`` reads the answers of the agencies whose counts are not known."""
        result: dict[int, tuple[int, int]] = {}
        empty: dict[int, int] = {}  # id(rubric) → its relevant questions before any answer
        stale: dict[int, CompiledRubric] = {}
        for row in rows:
            rubric = rubric_of[row.id]
            known = self._known.get(row.id)
            if row.state == NOT_STARTED:
                if id(rubric) not in empty:
                    empty[id(rubric)] = len(relevant_steps(rubric, {}))
                result[row.id] = (0, empty[id(rubric)])
            elif known is not None and known[0] == row.revision:
                result[row.id] = known[1]
            else:
                stale[row.id] = rubric
        if stale:
            fresh = counted(stale, load(stale))
            revision = {row.id: row.revision for row in rows}
            for agency_id, counts in fresh.items():
                self._known[agency_id] = (revision[agency_id], counts)
            result |= fresh
        return result
