"""Reading a rubric file: YAML → pydantic model → cross-checks → :class:`CompiledRubric`.

Every failure becomes one :class:`~rubrics.errors.RubricError` that names the
file, the item's code and the fault. Numbers are read from YAML as text so that
decimals stay exact and codes such as ``1.10`` keep their trailing zero.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rubrics.compiled import CompiledRubric
from rubrics.errors import RubricError
from rubrics.model import QUESTION_TYPES, RULE_TYPES, Rubric
from rubrics.validate import validate


class _ExactLoader(yaml.SafeLoader):
    """A safe YAML loader that leaves decimal numbers as strings (pydantic reads them exactly)."""


_ExactLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:float"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str, file: str | None) -> Any:
    try:
        return yaml.load(text, Loader=_ExactLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise RubricError(file, None, "yaml_syntax", line=(mark.line + 1) if mark else "?",
                          problem=exc.problem or str(exc)) from None
    except yaml.YAMLError as exc:
        raise RubricError(file, None, "yaml_syntax", line="?", problem=str(exc)) from None


def _codes_as_text(node: Any) -> Any:
    """``code: 1`` is an integer to YAML; a rubric code is always text."""
    if isinstance(node, dict):
        return {k: (str(v) if k in ("code", "id", "value", "level") and isinstance(v, int)
                    and not isinstance(v, bool) else _codes_as_text(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_codes_as_text(v) for v in node]
    return node


def load_text(text: str, file: str | None = None) -> CompiledRubric:
    data = parse_yaml(text, file)
    if not isinstance(data, dict):
        raise RubricError(file, None, "not_mapping")
    data = _codes_as_text(data)
    try:
        rubric = Rubric.model_validate(data)
    except ValidationError as exc:
        raise translate(exc, data, file) from None
    compiled = CompiledRubric.build(rubric, text)
    validate(compiled, file)
    return compiled


def load_file(path: str | Path) -> CompiledRubric:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RubricError(path, None, "unreadable", reason=getattr(exc, "strerror", None) or str(exc)) from None
    return load_text(text, str(path))


def translate(exc: ValidationError, data: dict, file: str | None) -> RubricError:
    """The first pydantic error as a rubric fault, attributed to the nearest item or question."""
    error = exc.errors(include_url=False)[0]
    loc = [part for part in error["loc"]]
    code, node = data.get("id"), data
    path = []
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            break
        path.append(part)
        if isinstance(node, dict) and ("code" in node or "id" in node):
            code = str(node.get("code") or node.get("id"))
    fields = [p for p in loc if isinstance(p, str) and not re.fullmatch(r"[A-Za-z_]+\[.*\]|function-.*", p)]
    field = fields[-1] if fields else "?"
    kind = error["type"]
    if kind == "missing":
        return RubricError(file, code, "missing_field", field=field)
    if kind == "extra_forbidden":
        return RubricError(file, code, "extra_field", field=field)
    if kind == "union_tag_not_found":
        return RubricError(file, code, "missing_field", field="type")
    if kind == "union_tag_invalid":
        tag = error.get("ctx", {}).get("tag")
        if [p for p in loc if p in ("rule", "questions")][-1:] == ["rule"]:
            return RubricError(file, code, "unknown_rule", value=tag, allowed=RULE_TYPES)
        return RubricError(file, code, "unknown_question_type", value=tag, allowed=QUESTION_TYPES)
    problem = error["msg"].removeprefix("Value error, ")
    return RubricError(file, code, "bad_value", field=field, problem=problem)
