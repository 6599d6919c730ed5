"""The templates themselves: a refusal key names one sentence only."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from jinja2 import nodes

from bot.texts import environment

TEMPLATES = Path(__file__).parents[2] / "bot" / "templates"
REFUSALS = sorted(TEMPLATES.glob("*/refusals.j2"))


def test_every_language_has_its_refusals():
    assert {p.parent.name for p in REFUSALS} >= {"vi", "en"}


@pytest.mark.parametrize("path", REFUSALS, ids=lambda p: p.parent.name)
def test_no_refusal_is_defined_twice(path):
    """A second macro of the same name silently overrides the first (issue 17: agency_not_found)."""
    tree = environment().parse(path.read_text(encoding="utf-8"))
    names = Counter(macro.name for macro in tree.find_all(nodes.Macro))
    assert [name for name, count in names.items() if count > 1] == []


def test_vietnamese_and_english_refusals_have_the_same_keys():
    keys = {}
    for path in REFUSALS:
        tree = environment().parse(path.read_text(encoding="utf-8"))
        keys[path.parent.name] = {macro.name for macro in tree.find_all(nodes.Macro)}
    assert keys["vi"] == keys["en"]
