"""Answers written by hand in YAML (``question_id: value``, ``na`` for không áp dụng).

Used by ``cqdt rubric score`` and by test fixtures. Values are read exactly as
the loader reads rubrics: decimals stay exact, dates are YAML dates.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from rubrics.answers import NA, check
from rubrics.compiled import CompiledRubric
from rubrics.errors import RubricError
from rubrics.loader import parse_yaml

NOT_APPLICABLE = "na"


YES_NO = {"yes": True, "có": True, "co": True, "no": False, "không": False, "khong": False}


def _coerce(kind: str, raw: Any) -> Any:
    if kind == "yes_no" and isinstance(raw, str):
        return YES_NO[raw.strip().lower()]
    if kind in ("decimal", "percentage"):
        return Decimal(str(raw))
    if kind == "integer" and isinstance(raw, str):
        return int(raw)
    if kind == "date" and isinstance(raw, str):
        return date.fromisoformat(raw)
    if kind == "document" and isinstance(raw, dict):
        ngay = raw.get("ngay")
        return {
            "so_hieu": str(raw.get("so_hieu", "")),
            "trich_yeu": str(raw.get("trich_yeu", "")),
            "ngay": date.fromisoformat(ngay) if isinstance(ngay, str) else ngay,
        }
    if kind == "file" and isinstance(raw, dict):
        return {
            "file_id": str(raw.get("file_id") or raw.get("file_name", "")),
            "file_name": raw.get("file_name"),
            "size": raw.get("size"),
            "mime_type": raw.get("mime_type"),
        }
    if kind == "single_choice" and raw is not None:
        return str(raw)
    if kind == "multi_choice" and isinstance(raw, list):
        return [str(v) for v in raw]
    return raw


def parse_answers(rubric: CompiledRubric, data: Any, file: str | None = None) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise RubricError(file, None, "answers_not_mapping")
    answers: dict[str, Any] = {}
    for qid, raw in data.items():
        qid = str(qid)
        if qid not in rubric.by_id:
            raise RubricError(file, qid, "answer_unknown_question", rubric=rubric.id)
        question = rubric.question(qid)
        if raw == NOT_APPLICABLE:
            if not question.allow_na:
                raise RubricError(file, qid, "answer_na_not_allowed")
            answers[qid] = NA
            continue
        try:
            value = _coerce(question.type, raw)
        except (InvalidOperation, ValueError, TypeError, KeyError):
            raise RubricError(file, qid, "answer_invalid", type=question.type, value=raw) from None
        fault = check(question, value, answers)
        if fault is not None:
            raise RubricError(file, qid, "answer_invalid", type=question.type, value=raw)
        answers[qid] = value
    return answers


def load_answers(rubric: CompiledRubric, text: str, file: str | None = None) -> dict[str, Any]:
    return parse_answers(rubric, parse_yaml(text, file), file)
