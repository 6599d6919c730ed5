"""The grammars of dates, citations and numbers as officials write them (Nghị định 30/2020/NĐ-CP)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.texts import refusal
from common.errors import Refused
from conversations.citations import parse_citation
from conversations.dates import parse_date
from conversations.doubts import shortened
from conversations.parsing import parse_number

FORMS = [
    "ngày 15 tháng 3 năm 2019",
    "Ngày 15 tháng 03 năm 2019",
    "15 tháng 3 năm 2019",
    "15/3/2019",
    "15/03/2019",
    "15-03-2019",
    "15.03.2019",
    "2019-03-15",
    "15/03/2019.",
    "ngày 15/3/2019",
]


@pytest.mark.parametrize("written", FORMS)
def test_every_official_form_of_a_date(written):
    assert parse_date(written) == date(2019, 3, 15)


@pytest.mark.parametrize(
    "written, key, sentence",
    [
        ("31/02/2019", "answer_date_no_day", "Tháng 2 năm 2019 chỉ có 28 ngày nên không có ngày 31/02/2019"),
        ("29/02/2020", None, None),
        ("31/04/2019", "answer_date_no_day", "Tháng 4 năm 2019 chỉ có 30 ngày"),
        ("15/13/2019", "answer_date_no_month", "Không có tháng 13"),
        ("15/3/19", "answer_date_short_year", "Năm «19» không đủ bốn chữ số"),
        ("15.03.19", "answer_date_short_year", "Năm «19» không đủ bốn chữ số"),
        ("15 tháng 3 năm 19", "answer_date_short_year", "Năm «19» không đủ bốn chữ số"),
        ("15/03-2019", "answer_not_date", "ngày/tháng/năm"),
        ("hôm qua", "answer_not_date", "ngày/tháng/năm"),
    ],
)
def test_a_date_that_does_not_exist_or_has_a_short_year_is_refused_saying_why(written, key, sentence):
    if key is None:
        assert parse_date(written) == date(2020, 2, 29)
        return
    with pytest.raises(Refused) as refused:
        parse_date(written)
    assert refused.value.key == key and sentence in refusal(refused.value)


@pytest.mark.parametrize(
    "written, fields",
    [
        (
            "Quyết định số 1784/QĐ-UBND ngày 13/8/2018 của UBND tỉnh về việc ban hành Bộ tiêu chí",
            {
                "loai": "Quyết định",
                "so_hieu": "1784/QĐ-UBND",
                "co_quan": "UBND tỉnh",
                "trich_yeu": "Ban hành Bộ tiêu chí",
            },
        ),
        ("Kế hoạch số 12/KH-UBND ngày 15/01/2018", {"loai": "Kế hoạch", "so_hieu": "12/KH-UBND", "trich_yeu": ""}),
        ("12/KH-UBND ngày 15/01/2018", {"so_hieu": "12/KH-UBND", "trich_yeu": ""}),
        (
            "12/KH-UBND, 15/01/2018, Kế hoạch ứng dụng CNTT",
            {"so_hieu": "12/KH-UBND", "trich_yeu": "Kế hoạch ứng dụng CNTT"},
        ),
        (
            "12/KH-UBND; 15/01/2018; Kế hoạch ứng dụng CNTT",
            {"so_hieu": "12/KH-UBND", "trich_yeu": "Kế hoạch ứng dụng CNTT"},
        ),
        (
            "12/KH-UBND\n15/01/2018\nKế hoạch ứng dụng CNTT",
            {"so_hieu": "12/KH-UBND", "trich_yeu": "Kế hoạch ứng dụng CNTT"},
        ),
        (
            "Nghị định 30/2020/NĐ-CP ngày 5 tháng 3 năm 2020 của Chính phủ về công tác văn thư",
            {"loai": "Nghị định", "so_hieu": "30/2020/NĐ-CP", "co_quan": "Chính phủ", "trich_yeu": "Công tác văn thư"},
        ),
        (
            "Công văn 436/STTTT-CNTT của Sở TTTT ngày 20/3/2019 V/v báo cáo",
            {"loai": "Công văn", "so_hieu": "436/STTTT-CNTT", "co_quan": "Sở TTTT", "trich_yeu": "Báo cáo"},
        ),
        ("125; 15/03/2019; Ban hành quy chế", {"so_hieu": "125", "trich_yeu": "Ban hành quy chế"}),
    ],
)
def test_citations_keep_their_parts_apart(written, fields):
    found = parse_citation(written)
    assert {k: v for k, v in found.items() if k != "ngay"} == fields
    assert isinstance(found["ngay"], date)


@pytest.mark.parametrize(
    "written, key, sentence",
    [
        ("Kế hoạch số 12/KH-UBND", "citation_no_date", "Không thấy ngày ban hành của văn bản 12/KH-UBND"),
        ("Kế hoạch ứng dụng CNTT năm 2018", "citation_no_number", "Không thấy số và ký hiệu của văn bản"),
        ("15/01/2018; Kế hoạch", "citation_no_number", "Không thấy số và ký hiệu"),
        ("12/KH-UBND ngày 30/02/2018", "answer_date_no_day", "chỉ có 28 ngày"),
        ("12/KH-UBND ngày 15/1/18", "answer_date_short_year", "không đủ bốn chữ số"),
    ],
)
def test_a_citation_refusal_names_the_missing_part(written, key, sentence):
    with pytest.raises(Refused) as refused:
        parse_citation(written)
    assert refused.value.key == key and sentence in refusal(refused.value)


@pytest.mark.parametrize(
    "written, kind, value",
    [
        ("1.234", "integer", Decimal(1234)),
        ("1234", "integer", Decimal(1234)),
        ("1 234", "integer", Decimal(1234)),
        ("20.", "integer", Decimal(20)),
        ("12,5", "decimal", Decimal("12.5")),
        ("1.250,5", "decimal", Decimal("1250.5")),
        ("85%", "percentage", Decimal(85)),
        ("85,5 %", "percentage", Decimal("85.5")),
    ],
)
def test_numbers_in_vietnamese_grouping(written, kind, value):
    assert parse_number(written, kind) == value


@pytest.mark.parametrize(
    "written, kind, key, sentence",
    [
        ("20 người", "integer", "answer_number_unit", "Chỉ gõ số, không kèm đơn vị (người): xin gõ «20»"),
        ("12,5", "integer", "answer_integer_decimal", "cần một số nguyên, còn 12,5 có phần thập phân"),
        ("12.5", "decimal", "answer_number_decimal_dot", "nếu «12.5» là 12,5, xin gõ «12,5»"),
        ("1,234.5", "decimal", "answer_number_decimal_dot", "xin gõ «1.234,5»"),
        ("1e3", "integer", "answer_number_exponent", "lũy thừa"),
        ("1E3", "decimal", "answer_number_exponent", "lũy thừa"),
        ("85%", "integer", "answer_number_percent", "không phải tỷ lệ phần trăm"),
        ("mười hai", "integer", "answer_not_integer", "số nguyên"),
    ],
)
def test_a_number_refusal_says_what_is_wrong(written, kind, key, sentence):
    with pytest.raises(Refused) as refused:
        parse_number(written, kind, "người")
    assert refused.value.key == key and sentence in refusal(refused.value)


def test_an_over_long_text_is_cut_at_a_word_within_the_limit():
    text = "một hai ba " * 100
    kept = shortened(text, 500)
    assert text.startswith(kept) and 400 < len(kept) <= 500 and not kept.endswith(" ")
    assert shortened("x" * 600, 500) == "x" * 500
