"""The rubric file format: questions, the item tree, scoring rules and bands.

These pydantic models describe what a rubric author writes in YAML. They check
shape and types only; the cross-references (a rule reading a question, sums,
cycles, bands) are checked in :mod:`rubrics.validate`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Points = Annotated[Decimal, Field(ge=0)]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]*$", max_length=40)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class QuestionRef(Strict):
    """A bound taken from another question's answer, e.g. ``max: {question: cbcc_tong}``."""

    question: Identifier


Bound = Decimal | QuestionRef


class Condition(Strict):
    """A relevance condition on earlier answers (skip logic).

    Either a test on one question (``question`` plus one comparison), or a
    combination: ``all``, ``any`` or ``not``.
    """

    question: Identifier | None = None
    equals: Any = None
    not_equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    contains: str | None = None
    gt: Decimal | None = None
    gte: Decimal | None = None
    lt: Decimal | None = None
    lte: Decimal | None = None
    answered: bool | None = None
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        combinators = [c for c in ("all", "any", "not_") if getattr(self, c) is not None]
        tests = [t for t in self.comparisons() if getattr(self, t) is not None]
        if self.question is not None:
            if combinators or len(tests) != 1:
                raise ValueError("condition_shape")
        elif len(combinators) != 1 or tests:
            raise ValueError("condition_shape")
        return self

    @staticmethod
    def comparisons() -> tuple[str, ...]:
        return ("equals", "not_equals", "in_", "contains", "gt", "gte", "lt", "lte", "answered")

    def test(self) -> str:
        return next(t for t in self.comparisons() if getattr(self, t) is not None)

    def questions(self) -> set[str]:
        """Every question this condition reads."""
        found = {self.question} if self.question else set()
        for sub in (self.all or []) + (self.any or []) + ([self.not_] if self.not_ else []):
            found |= sub.questions()
        return found


class Option(Strict):
    value: Identifier
    label: str
    label_en: str | None = None


class QuestionBase(Strict):
    id: Identifier
    text: str = Field(min_length=1)
    text_en: str | None = None
    hint: str | None = None
    hint_en: str | None = None
    required: bool = True
    allow_na: bool = False
    evidence: Literal["none", "optional", "required"] = "none"
    when: Condition | None = None
    carry_forward: bool = True  # last year's answer may be kept; false for figures refreshed every year


class YesNoQuestion(QuestionBase):
    type: Literal["yes_no"]


class SingleChoiceQuestion(QuestionBase):
    type: Literal["single_choice"]
    options: list[Option] = Field(min_length=2)


class MultiChoiceQuestion(QuestionBase):
    type: Literal["multi_choice"]
    options: list[Option] = Field(min_length=2)


class NumberQuestion(QuestionBase):
    min: Bound | None = Decimal(0)
    max: Bound | None = None
    unit: str | None = None
    unit_en: str | None = None


class IntegerQuestion(NumberQuestion):
    type: Literal["integer"]


class DecimalQuestion(NumberQuestion):
    type: Literal["decimal"]


class PercentageQuestion(NumberQuestion):
    type: Literal["percentage"]
    max: Bound | None = Decimal(100)


class DateQuestion(QuestionBase):
    type: Literal["date"]
    min: date | None = None
    max: date | None = None
    in_period: bool = False  # the date falls in the campaign's data period; one outside it is asked about


class TextQuestion(QuestionBase):
    type: Literal["text"]
    max_length: int = Field(default=500, ge=1, le=3500)


class DocumentQuestion(QuestionBase):
    """A reference to an official document: số hiệu, ngày, trích yếu."""

    type: Literal["document"]
    # the typed citation is itself the evidence (the document is public, e.g. on the province's gazette),
    # so the contact is not asked for a file as well
    answer_is_evidence: bool = False


class FileQuestion(QuestionBase):
    """An uploaded file (evidence)."""

    type: Literal["file"]


Question = Annotated[
    YesNoQuestion
    | SingleChoiceQuestion
    | MultiChoiceQuestion
    | IntegerQuestion
    | DecimalQuestion
    | PercentageQuestion
    | DateQuestion
    | TextQuestion
    | DocumentQuestion
    | FileQuestion,
    Field(discriminator="type"),
]
QUESTION_TYPES = (
    "yes_no",
    "single_choice",
    "multi_choice",
    "integer",
    "decimal",
    "percentage",
    "date",
    "text",
    "document",
    "file",
)
NUMERIC_TYPES = frozenset({"integer", "decimal", "percentage"})


# --- scoring rules -----------------------------------------------------------


class YesNoRule(Strict):
    """Full points (or ``points_yes``) for yes, ``points_no`` for no."""

    type: Literal["yes_no"]
    question: Identifier
    points_yes: Points | None = None
    points_no: Points = Decimal(0)


OptionPoints = Points | Literal["full", "half", "none"]


class OptionRule(Strict):
    """Points per chosen option; for multiple choice the chosen options add up, capped at max."""

    type: Literal["option"]
    question: Identifier
    points: dict[str, OptionPoints] = Field(min_length=1)


class RatioRule(Strict):
    """(numerator ÷ denominator) × max, capped at max. A percentage question alone is its own ratio."""

    type: Literal["ratio"]
    numerator: Identifier
    denominator: Identifier | None = None
    on_zero: Literal["zero", "full", "not_applicable"] = "zero"


class SelfScoredRule(Strict):
    """The points the agency claims, answered to a number ``question``; capped at max and verified like any other."""

    type: Literal["self_scored"]
    question: Identifier


class Tier(Strict):
    min: Decimal
    points: Points


class TiersRule(Strict):
    """The points of the highest threshold reached; ``otherwise`` below all of them."""

    type: Literal["tiers"]
    question: Identifier
    tiers: list[Tier] = Field(min_length=1)
    otherwise: Points = Decimal(0)


class PerUnitRule(Strict):
    """``points_per_unit`` for each unit counted, at most ``cap`` (default: max)."""

    type: Literal["per_unit"]
    question: Identifier
    points_per_unit: Points
    cap: Points | None = None


class NormalizedRule(Strict):
    """Own value ÷ the highest value among the agencies of the same level × max."""

    type: Literal["normalized"]
    question: Identifier


class AddOn(Strict):
    question: Identifier
    option: Identifier | None = None
    points: Points


class BasePlusRule(Strict):
    """``base`` points when the yes/no ``question`` holds, plus each add-on that holds; capped at max."""

    type: Literal["base_plus"]
    question: Identifier
    base: Points
    add_ons: list[AddOn] = Field(default_factory=list)


class Part(Strict):
    title: str | None = None
    max: Points
    rule: Rule


class SumRule(Strict):
    """The sum of parts, each scored by its own rule against its own max."""

    type: Literal["sum"]
    parts: list[Part] = Field(min_length=2)


class ChildrenShareRule(Strict):
    """The share of this agency's child agencies (e.g. a district's communes) where ``where`` holds × max."""

    type: Literal["children_share"]
    level: Identifier
    where: Condition
    on_none: Literal["zero", "not_applicable"] = "not_applicable"


class ChildrenSumRule(Strict):
    """The sum of a number ``question`` of the child agencies' rubric over this agency's children, scored by
    ``tiers`` (the highest threshold the sum reaches) or ``points_per_unit`` (up to ``cap``); exactly one of them."""

    type: Literal["children_sum"]
    level: Identifier
    question: Identifier
    tiers: list[Tier] | None = Field(default=None, min_length=1)
    otherwise: Points = Decimal(0)
    points_per_unit: Points | None = None
    cap: Points | None = None
    on_none: Literal["zero", "not_applicable"] = "not_applicable"


class ChildrenRatioRule(Strict):
    """The children's ``numerator`` answers summed ÷ their ``denominator`` answers summed: × max, or, with
    ``tiers``, the points of the highest threshold (in percent) the ratio reaches."""

    type: Literal["children_ratio"]
    level: Identifier
    numerator: Identifier
    denominator: Identifier
    tiers: list[Tier] | None = Field(default=None, min_length=1)
    otherwise: Points = Decimal(0)
    on_zero: Literal["zero", "full", "not_applicable"] = "zero"
    on_none: Literal["zero", "not_applicable"] = "not_applicable"


ChildrenRule = ChildrenShareRule | ChildrenSumRule | ChildrenRatioRule

Rule = Annotated[
    YesNoRule
    | OptionRule
    | RatioRule
    | TiersRule
    | PerUnitRule
    | NormalizedRule
    | BasePlusRule
    | SumRule
    | ChildrenShareRule
    | ChildrenSumRule
    | ChildrenRatioRule
    | SelfScoredRule,
    Field(discriminator="type"),
]
RULE_TYPES = (
    "yes_no",
    "option",
    "ratio",
    "tiers",
    "per_unit",
    "normalized",
    "base_plus",
    "sum",
    "children_share",
    "children_sum",
    "children_ratio",
    "self_scored",
)
Part.model_rebuild()


# --- the item tree -------------------------------------------------------------


class Item(Strict):
    """A group, sub-group or indicator. An indicator has a rule; a group has children."""

    code: Annotated[str, Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z.\-]*$", max_length=20)]
    title: str = Field(min_length=1)
    title_en: str | None = None
    max: Points
    scoring: str | None = None  # cách tính điểm, as the criteria table words it
    evidence: str | None = None
    data_source: str | None = None  # nguồn số liệu
    verified_by: str | None = None
    scoring_en: str | None = None  # English contacts and coordinators see these, never the Vietnamese texts above
    evidence_en: str | None = None
    data_source_en: str | None = None
    verified_by_en: str | None = None
    sample: bool = False
    questions: list[Question] = Field(default_factory=list)
    children: list[Item] = Field(default_factory=list)
    rule: Rule | None = None

    @property
    def is_indicator(self) -> bool:
        return self.rule is not None


class Band(Strict):
    label: str = Field(min_length=1)
    label_en: str | None = None
    from_: Decimal = Field(alias="from", ge=0, le=100)
    to: Decimal = Field(ge=0, le=100)
    from_inclusive: bool | None = None
    to_inclusive: bool | None = None


class BandScheme(Strict):
    """Bands on the exact percentage of max, for the total or for each top-level group.

    ``inclusive: lower`` means a band holds ``from ≤ % < to`` (the top band
    includes 100); ``upper`` means ``from < % ≤ to`` (the bottom band includes 0).
    A band's ``from_inclusive`` or ``to_inclusive`` overrides the scheme's reading of that bound.
    """

    applies_to: Literal["total", "groups"]
    inclusive: Literal["lower", "upper"] = "lower"
    bands: list[Band] = Field(min_length=1)

    def bounds(self) -> list[tuple[Band, bool, bool]]:
        """Each band, lowest first, with whether it includes its ``from`` and its ``to``."""
        ordered = sorted(self.bands, key=lambda b: (b.from_, b.to))
        last, lower = len(ordered) - 1, self.inclusive == "lower"
        return [
            (
                band,
                band.from_inclusive if band.from_inclusive is not None else lower or index == 0,
                band.to_inclusive if band.to_inclusive is not None else not lower or index == last,
            )
            for index, band in enumerate(ordered)
        ]


class Rubric(Strict):
    id: Identifier
    version: str
    family: Identifier
    title: str
    title_en: str | None = None
    level: Identifier
    level_name: str
    level_name_en: str | None = None
    source: str
    sample: bool = False
    notes: str | None = None
    max: Points
    questions: list[Question] = Field(default_factory=list)
    groups: list[Item] = Field(min_length=1)
    bands: list[BandScheme] = Field(default_factory=list)

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, (int, float)) else value
