"""The scoring engine: every rule, not-applicable conversion, bands, ranks and Vietnamese figures.

The Thừa Thiên Huế worked examples from RUBRIC-SOURCES.md must reproduce exactly.
"""

from __future__ import annotations

import json
import textwrap
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from rubrics.answers import NA
from rubrics.formatting import vn_datetime, vn_number, vn_score
from rubrics.loader import load_file, load_text
from rubrics.model import Band, BandScheme
from rubrics.scoring import AgencyInput, AgencyScore, Scorer, band_of, rank

FIXTURES = Path(__file__).parents[1] / "fixtures" / "rubrics"


def one_indicator(questions: str, rule: str, maximum: str = "10") -> str:
    """A rubric with one group holding one indicator of ``maximum`` points."""
    return (
        textwrap.dedent(f"""\
        id: t
        version: 1
        family: t
        title: T
        level: xa
        level_name: Cấp xã
        source: test
        max: {maximum}
        groups:
          - code: "1"
            title: Nhóm 1
            max: {maximum}
            children:
              - code: "1.1"
                title: Chỉ tiêu
                max: {maximum}
                questions:
        """)
        + textwrap.indent(textwrap.dedent(questions), " " * 10)
        + f"        rule: {rule}\n"
    )


def points(rubric_text: str, *cohort: dict, children: dict | None = None) -> list[D]:
    rubric = load_text(rubric_text, "t.yaml")
    agencies = [AgencyInput(i, answers, children or {}) for i, answers in enumerate(cohort)]
    return [s.indicators["1.1"].achieved for s in sorted(Scorer(rubric).score_cohort(agencies), key=lambda s: s.key)]


# --- the Thừa Thiên Huế worked examples ------------------------------------------------


@pytest.fixture(scope="module")
def tth():
    return load_file(FIXTURES / "tth_readiness.yaml")


def test_hue_city_readiness_and_nam_dong_results(tth):
    """Huế: 50 − 2 = 48 applicable, 42,63 achieved → 88,81 % → 44,41, band II.
    Nam Đông: 100 − 8 = 92, 78,53 → 85,36 % → 85,36, band II."""
    answers = {"cbcc_tong": 4800, "may_tinh": 4263, "co_ttdl": NA, "dvc_tyle": D("85.36"), "cong_ttdt": NA}
    score = Scorer(tth).score_cohort([AgencyInput("a", answers)])[0]
    readiness, results = score.groups
    assert (readiness.max, readiness.excluded, readiness.applicable) == (50, 2, 48)
    assert readiness.achieved == D("42.63")
    assert readiness.percent == D("88.81") and readiness.converted == D("44.41")
    assert (results.max, results.excluded, results.applicable) == (100, 8, 92)
    assert results.achieved == D("78.53")
    assert results.percent == D("85.36") and results.converted == D("85.36")
    assert score.group_bands == {"1": "II", "2": "II"}
    assert vn_score(readiness.converted) == "44,41" and vn_score(readiness.percent) == "88,81"


@pytest.mark.parametrize(
    ("percent", "band"),
    [("91", "I"), ("90", "I"), ("89", "II"), ("87", "II"), ("85", "II"), ("82.40", "III"), ("0", "III"), ("100", "I")],
)
def test_thua_thien_hue_bands(tth, percent, band):
    scheme = tth.rubric.bands[0]
    assert band_of(scheme, D(percent)) == band


def test_quang_ninh_bands_are_closed_above():
    """Quảng Ninh: Tốt > 80 %, Khá 70–80 %, then Trung bình."""
    scheme = BandScheme(
        applies_to="total",
        inclusive="upper",
        bands=[
            Band(label="Trung bình", **{"from": D(0)}, to=D(70)),
            Band(label="Khá", **{"from": D(70)}, to=D(80)),
            Band(label="Tốt", **{"from": D(80)}, to=D(100)),
        ],
    )
    assert [band_of(scheme, D(p)) for p in ("0", "70", "70.01", "80", "80.01", "100")] == [
        "Trung bình",
        "Trung bình",
        "Khá",
        "Khá",
        "Tốt",
        "Tốt",
    ]


def test_bound_inclusivity_is_per_band():
    """One band may include a bound its scheme's reading excludes: Khá 70–80 % with 70 included, Tốt > 80 %."""
    scheme = BandScheme(
        applies_to="total",
        inclusive="upper",
        bands=[
            Band(label="Trung bình", **{"from": D(0)}, to=D(70), to_inclusive=False),
            Band(label="Khá", **{"from": D(70)}, from_inclusive=True, to=D(80)),
            Band(label="Tốt", **{"from": D(80)}, to=D(100)),
        ],
    )
    assert [band_of(scheme, D(p)) for p in ("0", "69.99", "70", "80", "80.0001", "100")] == [
        "Trung bình",
        "Trung bình",
        "Khá",
        "Khá",
        "Tốt",
        "Tốt",
    ]


@pytest.mark.parametrize(
    ("total", "band"), [("210", "Khá"), ("240", "Khá"), ("240.01", "Tốt"), ("209.99", "Trung bình")]
)
def test_bundled_quang_ninh_bands_read_the_source(total, band):
    """The bundled Quảng Ninh rubrics: 70 % → Khá, 80 % → Khá, just above 80 % → Tốt (on a 300-point scale:
    240,01 is 80,0033 %, which the rounded 80,00 % would have made Khá)."""
    scheme = load_file(Path("rubrics/bundled/qn2018-huyen.yaml")).rubric.bands[0]
    assert band_of(scheme, D(total) * 100 / 300) == band


def three_hundred_points() -> str:
    """A 300-point rubric: 0,01 point per unit counted; Khá up to 80 %, Tốt above."""
    questions, rule = "- {id: q, type: integer, text: Số}\n", "{type: per_unit, question: q, points_per_unit: 0.01}"
    return (
        one_indicator(questions, rule, "300") + "bands:\n  - applies_to: total\n    inclusive: upper\n    bands:\n"
        "      - {label: Khá, from: 0, to: 80}\n      - {label: Tốt, from: 80, to: 100}\n"
    )


def test_a_300_point_rubric_bands_the_exact_percentage():
    rubric = load_text(three_hundred_points(), "t.yaml")
    score = Scorer(rubric).score_cohort([AgencyInput("a", {"q": 24001})])[0]
    assert (score.total, score.percent, score.band) == (D("240.01"), D("80.00"), "Tốt")


def test_whole_group_not_applicable_converts_to_zero_not_a_division_error(tth):
    answers = {"cbcc_tong": 10, "may_tinh": NA, "co_ttdl": NA}
    score = Scorer(tth).score_cohort([AgencyInput("a", answers)])[0]
    assert score.groups[0].applicable == 0 and score.groups[0].percent is None
    assert score.groups[0].converted == 0 and score.group_bands["1"] is None


# --- ranking ---------------------------------------------------------------------------


def test_equal_scores_share_a_rank():
    scores = [AgencyScore(k, [], D(100), {}) for k in "abcd"]
    totals = {"a": D("90"), "b": D("80.5"), "c": D("80.5"), "d": D("12")}
    rank(scores, key=lambda s: totals[s.key])
    assert [s.rank for s in scores] == [1, 2, 2, 4]


# --- every rule ------------------------------------------------------------------------

YES = "- {id: q, type: yes_no, text: Có không}\n"
NUMBERS = "- {id: a, type: integer, text: A}\n- {id: b, type: integer, text: B}\n"


def test_yes_no_rule():
    assert points(one_indicator(YES, "{type: yes_no, question: q}"), {"q": True}, {"q": False}, {}) == [10, 0, 0]
    assert points(
        one_indicator(YES, "{type: yes_no, question: q, points_yes: 6, points_no: 1}"), {"q": True}, {"q": False}, {}
    ) == [6, 1, 0]


def test_option_rule_full_half_none_and_multi_choice_capped():
    single = (
        "- {id: q, type: single_choice, text: Ai chủ trì, options: [{value: ct, label: Chủ tịch}, "
        "{value: pct, label: Phó}, {value: khac, label: Khác}]}\n"
    )
    rule = "{type: option, question: q, points: {ct: full, pct: half, khac: none}}"
    assert points(one_indicator(single, rule), {"q": "ct"}, {"q": "pct"}, {"q": "khac"}) == [10, 5, 0]
    multi = "- {id: q, type: multi_choice, text: Những gì, options: [{value: a, label: A}, {value: b, label: B}]}\n"
    assert points(
        one_indicator(multi, "{type: option, question: q, points: {a: 6, b: 6}}"), {"q": ["a"]}, {"q": ["a", "b"]}
    ) == [6, 10]


def test_ratio_rule_and_its_stated_behaviour_on_zero():
    assert points(
        one_indicator(NUMBERS, "{type: ratio, numerator: a, denominator: b}"),
        {"a": 1, "b": 3},
        {"a": 5, "b": 4},
        {"a": 0, "b": 0},
    ) == [D("3.33"), 10, 0]
    assert points(
        one_indicator(NUMBERS, "{type: ratio, numerator: a, denominator: b, on_zero: full}"), {"a": 0, "b": 0}
    ) == [10]
    rubric = load_text(one_indicator(NUMBERS, "{type: ratio, numerator: a, denominator: b, on_zero: not_applicable}"))
    score = Scorer(rubric).score_cohort([AgencyInput(0, {"a": 0, "b": 0})])[0]
    assert score.indicators["1.1"].not_applicable and score.groups[0].applicable == 0


def test_ratio_of_a_percentage_alone():
    question = "- {id: p, type: percentage, text: Tỷ lệ}\n"
    assert points(one_indicator(question, "{type: ratio, numerator: p}", "20"), {"p": D("88.5")}) == [D("17.70")]


def test_tiers_rule():
    question = "- {id: n, type: integer, text: Số cuộc họp}\n"
    rule = (
        "{type: tiers, question: n, tiers: [{min: 4, points: 20}, {min: 3, points: 15}, "
        "{min: 2, points: 10}, {min: 1, points: 5}]}"
    )
    assert points(one_indicator(question, rule, "20"), *({"n": n} for n in (6, 4, 3, 2, 1, 0))) == [
        20,
        20,
        15,
        10,
        5,
        0,
    ]


def test_per_unit_rule_with_cap():
    question = "- {id: n, type: integer, text: Số ứng dụng}\n"
    assert points(
        one_indicator(question, "{type: per_unit, question: n, points_per_unit: 1, cap: 5}"), {"n": 3}, {"n": 9}
    ) == [3, 5]


def test_normalized_to_the_best_of_the_cohort():
    question = "- {id: bw, type: decimal, text: Băng thông/CBCC}\n"
    assert points(
        one_indicator(question, "{type: normalized, question: bw}", "40"),
        {"bw": D("2.5")},
        {"bw": D("10")},
        {"bw": D("0")},
        {},
    ) == [10, 40, 0, 0]


def test_base_plus_add_ons():
    questions = (
        "- {id: dc, type: yes_no, text: Có TTDL}\n"
        "- {id: std, type: multi_choice, text: Tiêu chuẩn, options: [{value: tier3, label: Tier 3}, "
        "{value: iso, label: ISO 27001}]}\n- {id: dr, type: yes_no, text: Có DR}\n"
    )
    rule = (
        "{type: base_plus, question: dc, base: 35, add_ons: [{question: std, option: tier3, points: 5}, "
        "{question: std, option: iso, points: 5}, {question: dr, points: 5}]}"
    )
    assert points(
        one_indicator(questions, rule, "50"),
        {"dc": True},
        {"dc": True, "std": ["iso"], "dr": True},
        {"dc": True, "std": ["iso", "tier3"], "dr": True},
        {"dc": False, "dr": True},
    ) == [35, 45, 50, 0]


def test_sum_of_parts_with_a_part_not_applicable():
    questions = YES + "- {id: p, type: percentage, text: Tỷ lệ, allow_na: true}\n"
    rule = (
        "{type: sum, parts: [{max: 4, rule: {type: yes_no, question: q}}, {max: 6, rule: {type: ratio, numerator: p}}]}"
    )
    rubric = load_text(one_indicator(questions, rule))
    scorer = Scorer(rubric)
    both, one_na = scorer.score_cohort([AgencyInput(0, {"q": True, "p": D(50)}), AgencyInput(1, {"q": True, "p": NA})])
    assert both.indicators["1.1"].achieved == 7 and both.groups[0].converted == 7
    assert one_na.indicators["1.1"].excluded == 6 and one_na.groups[0].applicable == 4
    assert one_na.groups[0].converted == 10  # 4 of 4 applicable → full marks once converted


def test_children_share_reads_the_communes_answers():
    rule = "{type: children_share, level: xa, where: {question: mot_cua, equals: true}}"
    rubric = one_indicator(YES, rule).replace("level: xa", "level: huyen", 1)
    communes = [{"mot_cua": True}, {"mot_cua": False}, {"mot_cua": True}, {}]
    assert points(rubric, {}, children={"xa": communes}) == [D("5.00")]
    score = Scorer(load_text(rubric)).score_cohort([AgencyInput(0, {})])[0]
    assert score.indicators["1.1"].not_applicable  # no communes: on_none defaults to not applicable


def district(rule: str) -> str:
    """A district rubric of one 10-point indicator that reads its communes only."""
    return one_indicator("[]\n", rule).replace("level: xa", "level: huyen", 1)


DOSSIERS = [{"hs_tt": 30, "hs": 100}, {"hs_tt": 45, "hs": 50}, {"hs": 50}, {"hs_tt": NA, "hs": NA}]


def test_children_sum_scores_the_communes_total_by_tiers_or_per_unit():
    tiers = "{type: children_sum, level: xa, question: hs_tt, tiers: [{min: 100, points: 10}, {min: 50, points: 6}]}"
    # 30 + 45 = 75 online dossiers; the unanswered and the not applicable add nothing
    assert points(district(tiers), {}, children={"xa": DOSSIERS}) == [D("6.00")]
    assert points(district(tiers), {}, children={"xa": DOSSIERS[:1]}) == [D("0.00")]  # 30: below every threshold
    per_unit = "{type: children_sum, level: xa, question: hs_tt, points_per_unit: 0.1, cap: 7}"
    assert points(district(per_unit), {}, children={"xa": DOSSIERS}) == [D("7.00")]  # 7.5, capped at 7
    assert points(district(per_unit), {}, children={"xa": DOSSIERS[:1]}) == [D("3.00")]


def test_children_ratio_divides_the_communes_sums():
    rule = "{type: children_ratio, level: xa, numerator: hs_tt, denominator: hs}"
    # (30 + 45) ÷ (100 + 50 + 50) = 37.5 % of 10 points
    assert points(district(rule), {}, children={"xa": DOSSIERS}) == [D("3.75")]
    tiered = rule.replace("}", ", tiers: [{min: 50, points: 10}, {min: 37.5, points: 5}], otherwise: 1}")
    assert points(district(tiered), {}, children={"xa": DOSSIERS}) == [D("5.00")]  # exactly 37.5 % reaches 37.5
    assert points(district(tiered), {}, children={"xa": DOSSIERS[:1]}) == [D("1.00")]  # 30 %


def test_children_ratio_without_dossiers_or_communes():
    rule = "{type: children_ratio, level: xa, numerator: hs_tt, denominator: hs, on_zero: not_applicable}"
    nothing = [{"hs_tt": 0, "hs": 0}]
    score = Scorer(load_text(district(rule))).score_cohort([AgencyInput(0, {}, {"xa": nothing})])[0]
    assert score.indicators["1.1"].not_applicable
    assert points(district(rule.replace("not_applicable", "full")), {}, children={"xa": nothing}) == [D("10.00")]
    assert points(district(rule.replace("not_applicable", "zero")), {}, children={"xa": nothing}) == [D("0.00")]


@pytest.mark.parametrize(
    ("rule", "excluded"),
    [
        ("{type: children_ratio, level: xa, numerator: hs_tt, denominator: hs}", 10),
        ("{type: children_sum, level: xa, question: hs, points_per_unit: 1}", 10),
        ("{type: children_sum, level: xa, question: hs, points_per_unit: 1, on_none: zero}", 0),
    ],
)
def test_children_sums_without_communes_follow_on_none(rule, excluded):
    score = Scorer(load_text(district(rule))).score_cohort([AgencyInput(0, {})])[0]
    assert score.indicators["1.1"].excluded == excluded and score.indicators["1.1"].achieved == 0


def test_not_applicable_answer_excludes_the_indicator():
    questions = "- {id: q, type: yes_no, text: Có không, allow_na: true}\n"
    rubric = load_text(one_indicator(questions, "{type: yes_no, question: q}"))
    score = Scorer(rubric).score_cohort([AgencyInput(0, {"q": NA})])[0]
    assert score.indicators["1.1"].excluded == 10 and score.groups[0].applicable == 0


def test_answers_of_questions_skipped_by_relevance_do_not_count():
    questions = (
        "- {id: has, type: yes_no, text: Có không}\n"
        "- {id: n, type: integer, text: Bao nhiêu, when: {question: has, equals: true}}\n"
    )
    rule = "{type: per_unit, question: n, points_per_unit: 1}"
    # n was answered while has was yes; has was changed to no afterwards
    assert points(one_indicator(questions, rule), {"has": True, "n": 4}, {"has": False, "n": 4}) == [4, 0]


def test_rounding_is_half_up_to_hundredths():
    assert points(one_indicator(NUMBERS, "{type: ratio, numerator: a, denominator: b}", "1"), {"a": 1, "b": 8}) == [
        D("0.13")
    ]  # 0.125 → 0.13


# --- Vietnamese figures ----------------------------------------------------------------


def test_vietnamese_number_and_date_formats():
    from datetime import datetime

    assert vn_score(D("150.77")) == "150,77"
    assert vn_number(1234) == "1.234" and vn_number(D("12.5")) == "12,5"
    assert vn_datetime(datetime(2019, 10, 28, 14, 0)) == "14h00 ngày 28/10/2019"
    assert date(2019, 10, 28).strftime("%d/%m/%Y") == "28/10/2019"


def test_rubric_score_on_the_command_line_bands_240_01_of_300_as_good(tmp_path, capsys):
    from bot.cli import main

    rubric = tmp_path / "r300.yaml"
    rubric.write_text(three_hundred_points(), encoding="utf-8")
    answers = tmp_path / "answers.yaml"
    answers.write_text("q: 24001\n", encoding="utf-8")
    assert main(["rubric", "score", str(rubric), str(answers), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["total"], shown["percent"], shown["band"]) == ("240.01", "80.00", "Tốt")
