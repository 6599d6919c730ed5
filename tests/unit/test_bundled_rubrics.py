"""The bundled rubrics keep every sourced number exact and, between them, use the whole format."""

from __future__ import annotations

import random
from decimal import Decimal as D

import pytest

from rubrics.bundled import bundled
from rubrics.model import QUESTION_TYPES, RULE_TYPES, SumRule
from rubrics.sample_answers import sample_answers
from rubrics.scoring import AgencyInput, Scorer

# RUBRIC-SOURCES.md: the published group maxima of each criteria set.
SOURCED = {
    "mic2392-xa": ("xa", [30, 60], 90),
    "mic2392-huyen": ("huyen", [50, 100], 150),
    "qn2018-xa": ("xa", [30, 60, 10], 100),
    "qn2018-huyen": ("huyen", [50, 100, 20], 170),
    "qn2018-so": ("so", [20, 60, 20], 100),
    "tth2018-huyen": ("huyen", [50, 100], 150),
    "tth2018-xa": ("xa", [30, 60], 90),
    "tth2018-tinh": ("tinh", None, None),  # Phụ lục I: its maxima are not in the sources
    "dti-so": ("so", [500, 500], 1000),  # QĐ 922/QĐ-BTTTT: nền tảng chung 500 + hoạt động 500
    "dti-xa": ("xa", [500, 500], 1000),
    "pt2016-so": ("so", None, None),  # QĐ 1702/QĐ-UBND 2016: its maxima are not in the sources
    "pt2016-huyen": ("huyen", None, None),
    "vt2019-phong": ("phong", None, None),  # letter 436/STTTT-CNTT 2019
    "vt2019-xa": ("xa", None, None),
}

# RUBRIC-SOURCES.md, DTI cấp tỉnh (922/2022): the main indicators and their points; Đô thị thông minh is
# collected, not scored.
DTI_MAIN = [
    ("Nhận thức số", 100),
    ("Thể chế số", 100),
    ("Hạ tầng số", 100),
    ("Nhân lực số", 100),
    ("An toàn thông tin mạng", 100),
    ("Đô thị thông minh", 0),
    ("Hoạt động chính quyền số", 200),
    ("Hoạt động kinh tế số", 150),
    ("Hoạt động xã hội số", 150),
]


@pytest.mark.parametrize("rubric_id", ["dti-so", "dti-xa"])
def test_the_dti_samples_follow_the_sourced_pillars_and_main_indicators(rubric_id):
    rubric = bundled()[rubric_id]
    main = [(m.title, m.max) for g in rubric.rubric.groups for m in g.children]
    assert main == [(title, D(points)) for title, points in DTI_MAIN]
    assert "922/QĐ-BTTTT ngày 20/05/2022" in rubric.rubric.source


def rule_types(rule) -> set[str]:
    if isinstance(rule, SumRule):
        return {"sum"}.union(*(rule_types(p.rule) for p in rule.parts))
    return {rule.type}


@pytest.mark.parametrize("rubric_id", sorted(SOURCED))
def test_sourced_maxima_are_exact(rubric_id):
    rubric = bundled()[rubric_id]
    level, groups, total = SOURCED[rubric_id]
    assert rubric.level == level
    if groups is not None:
        assert [g.max for g in rubric.rubric.groups] == [D(g) for g in groups]
        assert rubric.max == D(total)


def test_quang_ninh_department_groups_are_named_as_published():
    titles = [g.title for g in bundled()["qn2018-so"].rubric.groups]
    assert titles[0].startswith("Hạ tầng kỹ thuật") and titles[1].startswith("Ứng dụng")
    assert titles[2].startswith("Nhân lực")


@pytest.mark.parametrize("rubric_id", sorted(SOURCED))
def test_each_file_has_enough_questions_and_marks_its_samples(rubric_id):
    rubric = bundled()[rubric_id]
    assert len(rubric.steps) >= 25
    assert rubric.rubric.sample and all(item.sample for item in rubric.indicators)


def test_between_them_every_question_type_and_every_rule_is_used():
    questions = {s.question.type for r in bundled().values() for s in r.steps}
    rules = set().union(*(rule_types(i.rule) for r in bundled().values() for i in r.indicators))
    assert questions == set(QUESTION_TYPES)
    # no published district rubric adds up its communes' figures yet; tests/unit/test_scoring.py and
    # tests/integration/test_children_figures.py cover children_sum and children_ratio
    assert rules == set(RULE_TYPES) - {"children_sum", "children_ratio"}


def test_the_commune_rubric_used_end_to_end_has_every_question_type():
    assert {s.question.type for s in bundled()["qn2018-xa"].steps} == set(QUESTION_TYPES)


def test_bands_follow_the_sources():
    qn = bundled()["qn2018-huyen"].rubric.bands
    assert [(s.applies_to, s.inclusive) for s in qn] == [("total", "upper")]
    assert sorted((b.label, b.from_, b.to) for b in qn[0].bands) == [
        ("Khá", 70, 80),
        ("Trung bình", 0, 70),
        ("Tốt", 80, 100),
    ]
    tth = bundled()["tth2018-huyen"].rubric.bands
    assert [s.applies_to for s in tth] == ["groups"]
    assert {b.label: b.from_ for b in tth[0].bands} == {"I": 90, "II": 85, "III": 0}


@pytest.mark.parametrize("rubric_id", sorted(SOURCED))
def test_every_bundled_rubric_scores_a_cohort_within_its_maxima(rubric_id):
    rubric = bundled()[rubric_id]
    rng = random.Random(rubric_id)
    cohort = [AgencyInput(i, sample_answers(rubric, rng, completeness=c)) for i, c in enumerate((1, 1, 0.5, 0))]
    scores = Scorer(rubric).score_cohort(cohort)
    for score in scores:
        assert 0 <= score.total <= rubric.max
        for group in score.groups:
            assert 0 <= group.achieved <= group.applicable <= group.max
    assert scores[3].total == 0 or rubric_id.endswith("huyen")
