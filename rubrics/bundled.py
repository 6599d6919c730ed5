"""The rubric files shipped with cqdt, in ``rubrics/bundled/``."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from rubrics.compiled import CompiledRubric
from rubrics.loader import load_file

BUNDLED_DIR = Path(__file__).parent / "bundled"


def bundled_paths() -> list[Path]:
    return sorted(BUNDLED_DIR.glob("*.yaml"))


@cache
def bundled() -> dict[str, CompiledRubric]:
    """Every bundled rubric by id."""
    rubrics = (load_file(path) for path in bundled_paths())
    return {r.id: r for r in rubrics}
