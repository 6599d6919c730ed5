"""What leaders aim at: the indicators that missed full points, for one agency and for a level.

For an agency, every indicator whose points fall short of its applicable maximum, by points lost
(most first), with the answers its rule read and the evidence given. For a level, the indicators
the ranked agencies miss, by how many miss them and the average points those agencies lost. An
indicator that does not apply to an agency (not applicable) is no target. The figures are the
verified ones where the agency was verified, as in the ranking.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rubrics.compiled import CompiledRubric
from rubrics.rules import ZERO, quantize
from storage.reports import AgencyReport, LevelReport


@dataclass(frozen=True)
class Missed:
    """One indicator one agency did not reach in full."""

    code: str
    title: str
    max: Decimal
    achieved: Decimal
    lost: Decimal
    answers: list[tuple[Any, Any]]  # (question, answer) of each question the indicator's rule reads
    evidence: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Commonly:
    """One indicator the agencies of a level miss: how many of them, and the average points they lost."""

    code: str
    title: str
    max: Decimal
    missed_by: int
    of: int
    average_lost: Decimal


def missed(
    entry: AgencyReport, rubric: CompiledRubric, evidence: Mapping[str, list[dict[str, Any]]] | None = None
) -> list[Missed]:
    """The agency's indicators below full points, most points lost first (then by code, in rubric order)."""
    order = {item.code: n for n, item in enumerate(rubric.indicators)}
    found = []
    for item in rubric.indicators:
        score = entry.effective.indicators[item.code]
        lost = score.applicable - score.achieved
        if score.applicable <= 0 or lost <= 0:
            continue
        questions = rubric.indicator_questions(item)
        found.append(
            Missed(
                item.code,
                item.title,
                score.applicable,
                score.achieved,
                lost,
                [(rubric.question(q), entry.answers.get(q)) for q in questions],
                [e for q in questions for e in (evidence or {}).get(q, [])],
            )
        )
    return sorted(found, key=lambda m: (-m.lost, order[m.code]))


def commonly_missed(report: LevelReport) -> list[Commonly]:
    """The indicators the level's ranked agencies miss, most agencies first, then most points lost on average."""
    ranked = report.standing()
    totals: dict[str, list[Decimal]] = {}
    for entry in ranked:
        for m in missed(entry, report.rubric):
            totals.setdefault(m.code, []).append(m.lost)
    items = {item.code: item for item in report.rubric.indicators}
    found = [
        Commonly(
            code, items[code].title, items[code].max, len(lost), len(ranked), quantize(sum(lost, ZERO) / len(lost))
        )
        for code, lost in totals.items()
    ]
    return sorted(found, key=lambda c: (-c.missed_by, -c.average_lost, c.code))


EvidenceOf = Callable[[int, list[str]], Mapping[str, list[dict[str, Any]]]]


def agency_targets(entry: AgencyReport, rubric: CompiledRubric, evidence_of: EvidenceOf) -> list[Missed]:
    """:func:`missed`, with the evidence read through ``evidence_of(agency id, question ids)``."""
    return missed(entry, rubric, evidence_of(entry.agency.id, [q.id for q in rubric.questions]))
