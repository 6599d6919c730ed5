"""Validation of rubric files: every class of author mistake gives one clear RubricError.

Each file in ``fixtures/rubrics/invalid/`` is a small rubric with exactly one
mistake, described by the comment on its first line. ``CASES`` below says which
fault each must raise and which item code or question id it must name.
"""

from __future__ import annotations

import builtins
import inspect
import re
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import pytest
from pydantic import BaseModel

import rubrics.model
from rubrics.bundled import bundled_paths
from rubrics.errors import RubricError
from rubrics.loader import load_file, load_text, parse_yaml

FIXTURES = Path(__file__).parents[1] / "fixtures" / "rubrics"
INVALID = FIXTURES / "invalid"
VALID = FIXTURES / "tth_readiness.yaml"


class Expected(NamedTuple):
    fault: str | tuple[str, ...]  # a macro name in rubrics/templates/errors.vi.j2 (or the acceptable ones)
    code: str | None  # the item code or question id at fault; None where none applies
    mentions: tuple[str, ...] = ()  # further text the message must contain (the offending name or value)


# fixture name → what loading it must report.
CASES: dict[str, Expected] = {
    # references
    "dangling_ref_rule": Expected("dangling_ref", "1.1", ("q_nope",)),
    "dangling_ref_when": Expected("dangling_ref", "q_co_ht", ("q_nope",)),
    "dangling_ref_bound": Expected("dangling_ref", "q_so", ("q_nope",)),
    "relevance_cycle": Expected("relevance_cycle", "q_co", ("q_co_ht",)),
    "later_reference_when": Expected("later_reference", "q_co", ("q_so_dv",)),
    "later_reference_bound": Expected("later_reference", "q_so_dv", ("q_ty_le",)),
    # sums
    "children_sum_mismatch": Expected("sum_mismatch", "1", ("9", "10")),
    "groups_total_mismatch": Expected("total_mismatch", "groups-total-mismatch", ("15", "16")),
    "sum_parts_mismatch": Expected("sum_mismatch", "2.2", ("2,5", "3")),
    "points_above_max_tiers": Expected("points_above_max", "2.1", ("3", "2")),
    # codes
    "duplicate_item_code": Expected("duplicate_code", "1.2"),
    "duplicate_question_id": Expected("duplicate_code", "q_tong"),
    "duplicate_option": Expected("duplicate_option", "q_lc", ("day_du",)),
    # types of questions and rules
    "unknown_question_type": Expected("unknown_question_type", "q_so", ("number",)),
    "unknown_rule_type": Expected("unknown_rule", "1.1", ("yes_or_no",)),
    "unknown_rule_type_in_part": Expected("unknown_rule", "2.2", ("percent",)),
    "wrong_type_ratio_over_text": Expected("wrong_question_type", "1.2", ("q_ghi_chu", "text")),
    "wrong_type_yes_no_over_integer": Expected("wrong_question_type", "1.1", ("q_tong", "integer")),
    "wrong_type_condition": Expected("wrong_question_type", "q_co_ht", ("q_co", "yes_no")),
    "wrong_type_bound": Expected("wrong_question_type", "q_so", ("q_co", "yes_no")),
    "unknown_option_rule": Expected("unknown_option", "1.3", ("q_lc", "khong_co")),
    "unknown_option_condition": Expected("unknown_option", "q_co_ht", ("q_lc", "khong_co")),
    "bound_order": Expected("bound_order", "q_so_dv"),
    "self_scored_unbounded": Expected("self_scored_bound", "1.1", ("q_diem", "10")),
    # rules that add up the communes' answers
    "children_sum_no_scoring": Expected("children_sum_scoring", "2.1", ("tiers", "points_per_unit")),
    "children_ratio_tier_over_100": Expected("children_ratio_tier", "2.1", ("150", "0 đến 100")),
    "children_rule_own_level": Expected("children_own_level", "2.1", ("huyen", "children_ratio")),
    "children_share_own_level": Expected("children_own_level", "2.1", ("huyen", "children_share")),
    # bands
    "bands_overlap": Expected("band_overlap", "bands[total]", ("Khá", "Tốt")),
    "bands_gap": Expected("band_gap", "bands[total]", ("75", "80")),
    "bands_not_covering": Expected("band_cover", "bands[total]", ("10",)),
    "band_reversed": Expected("band_order", "bands[total]", ("Khá",)),
    "bands_bound_twice": Expected("band_bound_twice", "bands[total]", ("Khá", "Tốt", "80")),
    "bands_bound_none": Expected("band_bound_none", "bands[total]", ("Khá", "Tốt", "80")),
    # the item tree
    "leaf_without_rule": Expected("leaf_without_rule", "1.1"),
    "group_with_rule": Expected("group_with_rule", "1"),
    # shape
    "missing_field": Expected("missing_field", "1.2", ("title",)),
    "missing_question_type": Expected("missing_field", "q_co", ("type",)),
    "extra_field": Expected("extra_field", "q_co", ("alow_na",)),
    "misspelt_required_field": Expected("extra_field", "1.2", ("titel",)),
    "negative_points": Expected("bad_value", "1.1", ("points_no",)),
    "date_out_of_range": Expected("bad_value", "q_ngay", ("2020-13-01",)),
    "bound_misspelt": Expected("extra_field", "q_so", ("questoin",)),
    "when_not_mapping": Expected("bad_value", "q_co_ht", ("when",)),
    # the file itself
    "yaml_syntax": Expected("yaml_syntax", None),
    "list_not_mapping": Expected("not_mapping", None),
}

# Names a rubric author must never see: the rubric models and Python's exceptions.
PYTHON_NAMES = sorted(
    {name for name, obj in vars(rubrics.model).items() if inspect.isclass(obj) and issubclass(obj, BaseModel)}
    | {name for name, obj in vars(builtins).items() if inspect.isclass(obj) and issubclass(obj, BaseException)}
    | {
        "RubricError",
        "ValidationError",
        "MarkedYAMLError",
        "ScannerError",
        "ParserError",
        "ConstructorError",
        "CompiledRubric",
        "Decimal",
        "NoneType",
    }
)
PYTHON_NAME = re.compile(r"\b(?:" + "|".join(PYTHON_NAMES) + r")\b|<class |Traceback")


def assert_readable(error: RubricError, path: Path | str) -> str:
    """One line for the rubric author: the file first, no Python in it."""
    text = str(error)
    assert text == error.message
    assert text.startswith(f"{path}: "), text
    assert "\n" not in text and "\r" not in text, text
    assert not PYTHON_NAME.search(text), f"Python name in message: {PYTHON_NAME.search(text)[0]!r} in {text}"
    return text


def case_params():
    return [pytest.param(name, expected, id=name) for name, expected in CASES.items()]


# --- the invalid fixtures --------------------------------------------------------


def test_every_fixture_has_an_expected_fault():
    on_disk = {path.stem for path in INVALID.glob("*.yaml")}
    assert on_disk == set(CASES), (
        f"fixtures without an entry in CASES: {sorted(on_disk - set(CASES))}; "
        f"entries without a fixture: {sorted(set(CASES) - on_disk)}"
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture_says_what_is_wrong(name):
    first = (INVALID / f"{name}.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert re.fullmatch(r"# \S.*", first), f"{name}.yaml must start with a one-line comment, not {first!r}"


@pytest.mark.parametrize(("name", "expected"), case_params())
def test_invalid_rubric_is_rejected(name, expected):
    path = INVALID / f"{name}.yaml"
    with pytest.raises(RubricError) as caught:
        load_file(path)
    error = caught.value
    faults = expected.fault if isinstance(expected.fault, tuple) else (expected.fault,)
    assert error.fault in faults, f"{name}: fault {error.fault!r}, expected {expected.fault!r}: {error}"
    assert error.code == expected.code, f"{name}: code {error.code!r}, expected {expected.code!r}: {error}"
    assert error.file == str(path)
    text = assert_readable(error, path)
    if expected.code is not None:
        assert text.startswith(f"{path}: {expected.code}: "), text
    for mention in expected.mentions:
        assert mention in text, f"{name}: message does not mention {mention!r}: {text}"


def test_yaml_syntax_error_gives_the_line():
    path = INVALID / "yaml_syntax.yaml"
    broken = next(
        n
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if not line.startswith("#") and line.count("{") != line.count("}")
    )
    with pytest.raises(RubricError) as caught:
        load_file(path)
    # YAML notices an unclosed "{" where the next line starts; either line points the author to it.
    assert caught.value.params["line"] in (broken, broken + 1)
    assert f"dòng {caught.value.params['line']}" in str(caught.value)


def test_unreadable_file(tmp_path):
    path = tmp_path / "khong_co.yaml"
    with pytest.raises(RubricError) as caught:
        load_file(path)
    assert caught.value.fault == "unreadable"
    assert caught.value.code is None
    assert_readable(caught.value, path)


def test_load_text_without_a_file_name():
    with pytest.raises(RubricError) as caught:
        load_text("- a\n- b\n")
    assert caught.value.fault == "not_mapping"
    assert caught.value.file is None
    assert "\n" not in str(caught.value)


# --- valid rubrics and exact numbers -----------------------------------------------


def test_valid_fixture_loads():
    compiled = load_file(VALID)
    assert compiled.id == "test-tth"
    assert compiled.max == Decimal(150)
    assert list(compiled.items) == ["1", "1.1", "1.2", "2", "2.1", "2.2"]
    assert [q.id for q in compiled.questions] == ["cbcc_tong", "may_tinh", "co_ttdl", "dvc_tyle", "cong_ttdt"]
    assert [i.code for i in compiled.indicators] == ["1.1", "1.2", "2.1", "2.2"]


DECIMALS = """\
id: decimals
version: 1.10
family: test
title: Điểm lẻ
level: xa
level_name: Cấp xã
source: tests
max: 0.3
questions:
  - {id: q_co, type: yes_no, text: Có không}
  - {id: q_ty_le, type: percentage, text: Tỷ lệ}
groups:
  - code: 1
    title: Nhóm 1
    max: 0.3
    children:
      - code: 1.1
        title: Chỉ tiêu một chấm một
        max: 0.1
        rule: {type: yes_no, question: q_co}
      - code: 1.10
        title: Chỉ tiêu một chấm mười
        max: 0.2
        rule:
          type: sum
          parts:
            - {max: 0.1, rule: {type: yes_no, question: q_co}}
            - {max: 0.1, rule: {type: ratio, numerator: q_ty_le}}
bands:
  - applies_to: total
    bands:
      - {label: Đạt, from: 33.3, to: 100}
      - {label: Chưa đạt, from: 0, to: 33.3}
"""


def test_decimals_stay_exact():
    assert 0.1 + 0.2 != 0.3  # what reading YAML floats as floats would get wrong
    compiled = load_text(DECIMALS, "decimals.yaml")
    assert compiled.max == Decimal("0.3")
    assert isinstance(compiled.max, Decimal)
    assert str(compiled.items["1"].max) == "0.3"
    assert str(compiled.items["1.1"].max) == "0.1"
    assert str(compiled.items["1.10"].max) == "0.2"
    assert str(compiled.rubric.bands[0].bands[0].from_) == "33.3"


def test_decimal_sums_are_checked_exactly():
    text = DECIMALS.replace("        max: 0.2\n", "        max: 0.21\n")
    with pytest.raises(RubricError) as caught:
        load_text(text, "decimals.yaml")
    assert caught.value.fault == "sum_mismatch"
    assert caught.value.code == "1"
    assert caught.value.params["actual"] == Decimal("0.31")
    assert "0,31" in str(caught.value)  # written as a Vietnamese reader expects


def test_codes_and_version_stay_text():
    compiled = load_text(DECIMALS, "decimals.yaml")
    # code: 1.10 is not the number 1.1, so it is neither "1.1" nor a duplicate of it
    assert list(compiled.items) == ["1", "1.1", "1.10"]
    assert compiled.rubric.version == "1.10"
    assert all(isinstance(code, str) for code in compiled.items)


def test_codes_with_leading_zeros_stay_text():
    text = DECIMALS.replace("  - code: 1\n", "  - code: 010\n").replace("      - code: 1.1\n", "      - code: 01\n")
    compiled = load_text(text, "decimals.yaml")
    assert list(compiled.items)[:2] == ["010", "01"]


def test_duplicate_yaml_key_is_rejected():
    text = DECIMALS.replace("    title: Nhóm 1\n", "    title: Nhóm 1\n    title: Nhóm 2\n")
    with pytest.raises(RubricError) as caught:
        load_text(text, "decimals.yaml")
    assert_readable(caught.value, "decimals.yaml")


# --- the bundled rubrics -----------------------------------------------------------

EXPECTED_BUNDLED = (
    "mic2392-xa",
    "mic2392-huyen",
    "qn2018-xa",
    "qn2018-huyen",
    "qn2018-so",
    "tth2018-tinh",
    "tth2018-huyen",
    "tth2018-xa",
)


@pytest.mark.parametrize("path", bundled_paths(), ids=lambda path: path.name)
def test_bundled_rubric_validates(path):
    compiled = load_file(path)
    assert compiled.indicators
    assert compiled.questions


def _declared_id(path: Path) -> str | None:
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"), str(path))
    except RubricError:
        return None
    return data.get("id") if isinstance(data, dict) else None


def test_expected_bundled_rubrics_are_present():
    paths = bundled_paths()
    names = {path.stem for path in paths} | {_declared_id(path) for path in paths}
    missing = [name for name in EXPECTED_BUNDLED if name not in names]
    assert not missing, f"bundled rubrics missing from rubrics/bundled/: {missing}"
    assert len(paths) >= len(EXPECTED_BUNDLED)


def test_bundled_rubric_ids_are_unique():
    ids = [_declared_id(path) for path in bundled_paths()]
    duplicates = sorted({i for i in ids if i is not None and ids.count(i) > 1})
    assert not duplicates, f"two bundled files declare the same rubric id: {duplicates}"


def test_the_command_line_exit_code_says_whether_a_rubric_is_valid(capsys):
    from bot.cli import main

    invalid = sorted((FIXTURES / "invalid").glob("*.yaml"))[0]
    assert main(["rubric", "validate", str(invalid)]) == 1
    assert main(["rubric", "validate", str(bundled_paths()[0])]) == 0
    assert "Lỗi" in capsys.readouterr().err
