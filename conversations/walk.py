"""The question walk: which questions apply, where a contact goes next, and how far along they are.

Pure functions of a rubric and an agency's answers. A question is *answered*
when the agency's answers hold its id, even as "Bỏ qua" (skipped, stored as
None) or "Không áp dụng"; it is *relevant* when its condition holds on the
answers that count.
"""

from __future__ import annotations

from dataclasses import dataclass

from rubrics.answers import NA, Answers
from rubrics.compiled import CompiledRubric, WalkStep
from rubrics.conditions import effective


def relevant_steps(rubric: CompiledRubric, answers: Answers) -> list[WalkStep]:
    counted = effective(rubric, answers)
    tests = rubric.relevance.tests  # each condition compiled once per rubric
    return [s for s in rubric.steps if s.question.when is None or tests[s.question.id](counted)]


def first_open(rubric: CompiledRubric, answers: Answers, after: int = 0) -> WalkStep | None:
    """The first relevant unanswered question after position ``after``, wrapping round to the start."""
    steps = [s for s in relevant_steps(rubric, answers) if s.question.id not in answers]
    later = [s for s in steps if s.number > after]
    return (later or steps or [None])[0]


def previous(rubric: CompiledRubric, answers: Answers, number: int) -> WalkStep | None:
    earlier = [s for s in relevant_steps(rubric, answers) if s.number < number]
    return earlier[-1] if earlier else None


def step_by_reference(rubric: CompiledRubric, reference: str) -> WalkStep | None:
    """A question by its number ("12"), its id ("cbcc_tong") or an indicator code ("1.1.2")."""
    reference = reference.strip()
    if reference.isdigit() and 1 <= int(reference) <= len(rubric.steps):
        return rubric.steps[int(reference) - 1]
    if reference in rubric.by_id:
        return rubric.by_id[reference]
    item = rubric.items.get(reference)
    if item is None:
        return None
    codes = {item.code}
    codes |= {code for code in rubric.items if code.startswith(item.code + ".")}
    inside = [s for s in rubric.steps if s.section.path and s.section.path[-1].code in codes]
    read = [rubric.by_id[q] for q in rubric.indicator_questions(item)] if item.rule else []
    candidates = sorted(inside + read, key=lambda s: s.number)
    return candidates[0] if candidates else None


@dataclass(frozen=True)
class Progress:
    answered: int
    relevant: int
    missing_required: list[WalkStep]
    missing_evidence: list[WalkStep]

    @property
    def complete(self) -> bool:
        return not self.missing_required and not self.missing_evidence


def progress(rubric: CompiledRubric, answers: Answers, evidence_for: set[str]) -> Progress:
    """How far the agency is: answered of relevant, and what blocks submission."""
    steps = relevant_steps(rubric, answers)
    answered = [s for s in steps if s.question.id in answers]
    missing = [s for s in steps if s.question.required and answers.get(s.question.id) is None]
    needs_evidence = [
        s
        for s in steps
        if s.question.evidence == "required"
        and answers.get(s.question.id) not in (None, NA)
        and s.question.id not in evidence_for
        and s.question.type != "file"
        and not getattr(s.question, "answer_is_evidence", False)
    ]
    return Progress(len(answered), len(steps), missing, needs_evidence)
