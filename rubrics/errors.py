"""Rubric faults, each one message naming the file, the item's code and what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from rubrics.formatting import vn_number

_env = Environment(
    loader=PackageLoader("rubrics", "templates"),
    undefined=StrictUndefined,
    autoescape=False,
    keep_trailing_newline=False,
)
_env.filters["vn"] = vn_number
_messages = _env.get_template("errors.vi.j2").module


class RubricError(Exception):
    """A rubric file that cannot be used. ``code`` is the item or question it concerns."""

    def __init__(self, file: str | Path | None, code: str | None, fault: str, **params: Any):
        self.file = str(file) if file is not None else None
        self.code = code
        self.fault = fault
        self.params = params
        super().__init__(self.message)

    @property
    def reason(self) -> str:
        return str(getattr(_messages, self.fault)(**self.params)).strip()

    @property
    def message(self) -> str:
        where = [part for part in (self.file, self.code) if part]
        return ": ".join(where + [self.reason])
