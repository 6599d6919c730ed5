"""A validated rubric, flattened for the walk and for scoring.

:class:`CompiledRubric` keeps the pydantic :class:`~rubrics.model.Rubric`
and adds what every consumer needs: the questions in walk order with the
section they sit in, lookups by id and code, and the indicators.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from rubrics.answers import DECODERS
from rubrics.conditions import Relevance
from rubrics.model import Item, Question, QuestionRef, Rubric
from rubrics.rules import rule_questions


@dataclass(frozen=True)
class Section:
    """Where a question sits: the chain of items above it, e.g. Nhóm 1 › 1.1."""

    path: tuple[Item, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.path)


@dataclass(frozen=True)
class WalkStep:
    number: int  # 1-based position in the walk, "Câu 3/42"
    question: Question
    section: Section

    @property
    def indicator(self) -> Item | None:
        """The indicator the question belongs to (its scoring text, evidence, data source and verifying unit
        are shown with it), or None for a general question or one of a group."""
        path = self.section.path
        return path[-1] if path and path[-1].is_indicator else None


@dataclass
class CompiledRubric:
    rubric: Rubric
    source_text: str
    content_hash: str
    steps: list[WalkStep] = field(default_factory=list)
    by_id: dict[str, WalkStep] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    indicators: list[Item] = field(default_factory=list)
    parents: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def build(cls, rubric: Rubric, source_text: str) -> CompiledRubric:
        compiled = cls(rubric, source_text, content_hash(source_text))
        for question in rubric.questions:
            compiled._add_step(question, Section(()))

        def visit(item: Item, path: tuple[Item, ...], parent: str | None) -> None:
            here = path + (item,)
            compiled.items[item.code] = item
            compiled.parents[item.code] = parent
            for question in item.questions:
                compiled._add_step(question, Section(here))
            if item.is_indicator:
                compiled.indicators.append(item)
            for child in item.children:
                visit(child, here, item.code)

        for group in rubric.groups:
            visit(group, (), None)
        return compiled

    def _add_step(self, question: Question, section: Section) -> None:
        step = WalkStep(len(self.steps) + 1, question, section)
        self.steps.append(step)
        self.by_id.setdefault(question.id, step)

    @property
    def id(self) -> str:
        return self.rubric.id

    @property
    def level(self) -> str:
        return self.rubric.level

    @property
    def max(self) -> Decimal:
        return self.rubric.max

    @property
    def questions(self) -> list[Question]:
        return [step.question for step in self.steps]

    @cached_property
    def decoders(self) -> dict[str, Callable[[Any], Any]]:
        """For each question whose stored JSON is not already its value (decimals, dates, documents),
        how a stored value (not None) becomes the answer."""
        return {q.id: DECODERS[q.type] for q in self.questions if q.type in DECODERS}

    @cached_property
    def bound_dependents(self) -> dict[str, list[str]]:
        """For each question used as a bound (e.g. the total number of CBCC), the questions bounded by it."""
        dependents: dict[str, list[str]] = {}
        for question in self.questions:
            for bound in (getattr(question, "min", None), getattr(question, "max", None)):
                if isinstance(bound, QuestionRef):
                    dependents.setdefault(bound.question, []).append(question.id)
        return dependents

    @cached_property
    def relevance(self) -> Relevance:
        """The skip logic: the conditions of the conditional questions, compiled, in walk order."""
        return Relevance(self.questions)

    def question(self, question_id: str) -> Question:
        return self.by_id[question_id].question

    def indicator_questions(self, item: Item) -> list[str]:
        """The questions an indicator's rule reads, in walk order."""
        wanted = rule_questions(item.rule) if item.rule else set()
        return [q.id for q in self.questions if q.id in wanted]


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
