"""Limits and control characters in rubric files (issue 15, defects 6 and 11): a file too large, or with too
many groups, indicators or questions, is refused at once naming the limit; a control character in a name or
a text is refused naming the item or question and what to do."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from rubrics.errors import RubricError
from rubrics.loader import MAX_ITEMS, MAX_QUESTIONS, MAX_RUBRIC_BYTES, load_file, load_text

VALID = Path(__file__).parents[1] / "fixtures" / "rubrics" / "tth_readiness.yaml"
HEAD = "id: big\nversion: 1\nfamily: big\ntitle: Lớn\nlevel: huyen\nmax: 1\n"


def refused(text: str) -> RubricError:
    started = time.perf_counter()
    with pytest.raises(RubricError) as caught:
        load_text(text, "lon.yaml")
    assert time.perf_counter() - started < 1.0  # refused at once, not after a validation of every item
    return caught.value


def test_a_200000_group_rubric_is_refused_at_once_by_its_size():
    groups = "".join(f'  - {{code: "{n}", title: Nhóm {n}, max: 1}}\n' for n in range(200_000))
    error = refused(HEAD + "groups:\n" + groups)
    assert error.fault == "too_large" and f"{MAX_RUBRIC_BYTES:,}".replace(",", ".") in error.message


def test_too_many_groups_and_indicators_within_the_byte_limit():
    items = ",".join(f'{{code: "{n}", title: N, max: 1}}' for n in range(MAX_ITEMS + 1))
    text = HEAD + f"groups: [{items}]\n"
    assert len(text.encode()) < MAX_RUBRIC_BYTES
    error = refused(text)
    assert error.fault == "too_many_items" and str(MAX_ITEMS) in error.message.replace(".", "")


def test_too_many_questions_within_the_byte_limit():
    questions = ",".join(f"{{id: q{n}, type: yes_no, text: C}}" for n in range(MAX_QUESTIONS + 1))
    text = HEAD + f"questions: [{questions}]\n" + 'groups: [{code: "1", title: N, max: 1}]\n'
    error = refused(text)
    assert error.fault == "too_many_questions" and str(MAX_QUESTIONS) in error.message.replace(".", "")


@pytest.mark.parametrize(
    ("old", "new", "code", "char"),
    [
        ("title: Dịch vụ công", 'title: "Dịch vụ\\x00 công"', "2.1", "U+0000"),
        ("text: Tổng số CBCC}", 'text: "Tổng số\\x1b CBCC"}', "cbcc_tong", "U+001B"),
        ("title: Bộ tiêu chí thử nghiệm", 'title: "Bộ tiêu chí\\x7f"', "test-tth", "U+007F"),
    ],
)
def test_a_control_character_in_a_name_or_text_is_refused_naming_where(old, new, code, char):
    text = VALID.read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(RubricError) as caught:
        load_text(text.replace(old, new, 1), "bo.yaml")
    error = caught.value
    assert error.fault == "control_character" and error.code == code and char in error.message
    assert "\n" not in error.message and "gõ lại" in error.message


def test_the_bundled_rubrics_are_within_every_limit():
    from rubrics.bundled import bundled_paths

    for path in bundled_paths():
        load_file(path)


def test_yaml_nested_100000_deep_is_refused_not_a_crash():
    with pytest.raises(RubricError) as caught:
        load_text(HEAD + "groups: " + "[" * 100_000 + "]" * 100_000 + "\n", "sau.yaml")
    assert caught.value.fault in ("too_deep", "yaml_syntax") and "\n" not in caught.value.message
