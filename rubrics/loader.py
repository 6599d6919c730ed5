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

from common.text import control_character
from rubrics.compiled import CompiledRubric
from rubrics.errors import RubricError
from rubrics.model import QUESTION_TYPES, RULE_TYPES, Rubric
from rubrics.validate import validate


class _Exact:
    """A safe YAML loader that reads every scalar but true, false and null as text.

    Numbers stay exact (pydantic reads "0.1" as Decimal("0.1")), codes such as
    ``010`` or ``1.10`` keep their digits, dates are checked by the model, and a
    key written twice in one mapping is an error rather than a silent overwrite.
    """

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key «{key}»", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _ExactLoader(_Exact, yaml.SafeLoader):
    """The pure-Python loader, whose messages say what is wrong with a file."""


class _FastExactLoader(_Exact, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The same loader over libyaml's parser, when PyYAML has it: several times faster."""


_TEXT_TAGS = {
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:bool",
}
for _loader in (_ExactLoader, _FastExactLoader):
    _loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in _TEXT_TAGS]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    # Only true/false are booleans (as in YAML 1.2): "Yes", "No", "On" and "Off" stay text.
    _loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )


# A bundled rubric is about 50 000 bytes with some 40 groups and indicators and 45 questions; twenty times
# that is a mistake (or an attack) and is refused before it is parsed or validated item by item.
MAX_RUBRIC_BYTES = 1_000_000
MAX_ITEMS = 1_000  # groups, sub-groups and indicators
MAX_QUESTIONS = 1_000


def check_size(size: int, file: str | None) -> None:
    if size > MAX_RUBRIC_BYTES:
        raise RubricError(file, None, "too_large", size=size, limit=MAX_RUBRIC_BYTES)


def check_content(data: dict, file: str | None) -> None:
    """Before the model is built: counts of items and questions within the limits, and no control
    character in any name or text (reported with the nearest item's code or question's id)."""
    items = questions = 0
    stack: list[tuple[Any, str | None, str | None]] = [(data, str(data.get("id") or "") or None, None)]
    while stack:
        node, code, field = stack.pop()
        if isinstance(node, str):
            char = control_character(node)
            if char is not None:
                raise RubricError(file, code, "control_character", field=field or "?", char=char)
        elif isinstance(node, dict):
            here = node.get("code") or node.get("id")
            code = str(here) if isinstance(here, str | int) else code
            for key, value in node.items():
                if isinstance(value, list) and key in ("groups", "children"):
                    items += len(value)
                    if items > MAX_ITEMS:
                        raise RubricError(file, None, "too_many_items", limit=MAX_ITEMS)
                elif isinstance(value, list) and key == "questions":
                    questions += len(value)
                    if questions > MAX_QUESTIONS:
                        raise RubricError(file, None, "too_many_questions", limit=MAX_QUESTIONS)
                stack.append((key, code, str(key)))
                stack.append((value, code, str(key)))
        elif isinstance(node, list):
            stack.extend((value, code, field) for value in node)


def parse_yaml(text: str, file: str | None) -> Any:
    """The YAML document; a file libyaml refuses is read again by the pure-Python parser, whose error is
    the one reported."""
    try:
        return yaml.load(text, Loader=_FastExactLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError:
        pass
    try:
        return yaml.load(text, Loader=_ExactLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise RubricError(
            file, None, "yaml_syntax", line=(mark.line + 1) if mark else "?", problem=exc.problem or str(exc)
        ) from None
    except yaml.YAMLError as exc:
        raise RubricError(file, None, "yaml_syntax", line="?", problem=str(exc)) from None


def load_text(text: str, file: str | None = None) -> CompiledRubric:
    check_size(len(text.encode("utf-8", "surrogatepass")), file)
    try:
        data = parse_yaml(text, file)
    except RecursionError:
        raise RubricError(file, None, "too_deep") from None
    if not isinstance(data, dict):
        raise RubricError(file, None, "not_mapping")
    check_content(data, file)
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
        check_size(path.stat().st_size, str(path))
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RubricError(path, None, "unreadable", reason=getattr(exc, "strerror", None) or str(exc)) from None
    return load_text(text, str(path))


PRIORITY = ("extra_forbidden", "union_tag_invalid", "union_tag_not_found", "missing")


def translate(exc: ValidationError, data: dict, file: str | None) -> RubricError:
    """The most telling pydantic error as a rubric fault, attributed to the nearest item or question."""
    errors = exc.errors(include_url=False)
    error = min(errors, key=lambda e: PRIORITY.index(e["type"]) if e["type"] in PRIORITY else len(PRIORITY))
    loc, kind = list(error["loc"]), error["type"]
    code, node, field = data.get("id"), data, None
    for part in loc:
        if isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        elif isinstance(node, dict) and part in node:
            node, field = node[part], part
        elif isinstance(part, str) and kind in ("missing", "extra_forbidden") and isinstance(node, dict):
            field = part
            break
        else:
            continue  # a union member's name, not a key of the file
        if isinstance(node, dict) and ("code" in node or "id" in node):
            code = str(node.get("code") or node.get("id"))
    if kind in ("missing", "extra_forbidden") and isinstance(loc[-1], str):
        field = loc[-1]
    field = field or "?"
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
    if error["msg"].endswith("condition_shape"):
        return RubricError(file, code, "condition_shape")
    return RubricError(
        file,
        code,
        "bad_value",
        field=field,
        value=error.get("input"),
        problem=kind,
        ctx=error.get("ctx") or {},
        msg=error["msg"].removeprefix("Value error, "),
    )
