"""``cqdt rubric import``: a province's criteria table (xlsx) read into a rubric that runs the day it is read."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from openpyxl import Workbook
from table_helpers import dti_rows, write_table, write_word_table

from bot.cli import main
from rubrics.bundled import BUNDLED_DIR, bundled
from rubrics.errors import RubricError
from rubrics.loader import load_text
from rubrics.scoring import AgencyInput, Scorer
from rubrics.table_import import column_of, import_table, level_of, read_points
from rubrics.table_template import write_template

CLAIMS = {
    "diem_1.1": D("20"),  # Phó Chủ tịch: 1/2 điểm tối đa of 40
    "diem_1.2": D("45.5"),
    "diem_2.1": D("50"),
    "diem_2.2": D("12.25"),
    "diem_3.1": D("150"),
    "diem_3.2": D("100"),
    "diem_4.1": True,  # collected, not scored
    "diem_5.1": D("200"),
    "diem_5.2": D("249.99"),
}


@pytest.fixture
def dti_table(tmp_path):
    return write_table(tmp_path / "bang-dti.xlsx", dti_rows())


def test_a_dti_shaped_table_becomes_a_rubric_on_1000_points_that_scores_claimed_points_exactly(dti_table):
    imported = import_table(dti_table, level="so", rubric_id="dti-thu")
    rubric = imported.rubric
    assert rubric.max == D(1000)
    assert [(g.code, g.title, g.max) for g in rubric.rubric.groups] == [
        ("I", "NHÓM CHỈ SỐ NỀN TẢNG CHUNG", D(500)),
        ("II", "NHÓM CHỈ SỐ HOẠT ĐỘNG", D(500)),
    ]
    assert [i.code for i in rubric.indicators] == ["1.1", "1.2", "2.1", "2.2", "3.1", "3.2", "4.1", "5.1", "5.2"]
    assert rubric.items["2.1"].max == D(50) and rubric.items["1.2"].max == D(60)  # "50,0" and "60đ"
    assert rubric.items["4"].max == 0 and rubric.items["4.1"].rule.type == "yes_no"  # "không tính điểm"
    assert {i.rule.type for i in rubric.indicators if i.max} == {"self_scored"}
    # the title block gives the title and the source; the merged verifying unit belongs to each row under it
    assert rubric.rubric.title == "BỘ CHỈ SỐ ĐÁNH GIÁ CHUYỂN ĐỔI SỐ CẤP SỞ, BAN, NGÀNH"
    assert rubric.rubric.source.startswith("Kèm theo Quyết định số 123/QĐ-UBND ngày 15/01/2026")
    first = rubric.items["1.1"]
    assert first.verified_by == "Sở KH&CN" and rubric.items["1.2"].verified_by == "Sở KH&CN"
    assert first.evidence.startswith("Trích dẫn số hiệu") and first.data_source == "Báo cáo của cơ quan"
    # the letter rows "Điểm tối đa" / "1/2 điểm tối đa" / "0" are the levels of 1.1, resolved against its 40
    assert first.scoring.splitlines() == [
        "a) Bí thư hoặc Chủ tịch là Trưởng ban: 40 điểm",
        "b) Phó Chủ tịch là Trưởng ban: 20 điểm",
        "c) Chưa thành lập: 0 điểm",
    ]
    # a row without STT continues the description of the one above it
    assert rubric.items["1.2"].scoring == "(a ÷ b) × điểm tối đa\na là số văn bản do người đứng đầu ký"
    claim = rubric.question("diem_1.1")
    assert (claim.type, claim.min, claim.max, claim.evidence) == ("decimal", 0, D(40), "required")
    score = Scorer(rubric).score_cohort([AgencyInput("so-a", CLAIMS)])[0]
    assert [g.achieved for g in score.groups] == [D("377.75"), D("449.99")]
    assert score.total == D("827.74") and score.max == D(1000)


def test_the_yaml_is_commented_with_its_source_and_reads_back_as_the_same_rubric(dti_table):
    imported = import_table(dti_table, rubric_id="dti-thu")
    assert imported.yaml_text.startswith("# Bộ tiêu chí nhập từ bảng «bang-dti.xlsx», trang «Sheet1»")
    again = load_text(imported.yaml_text)
    assert [i.code for i in again.indicators] == [i.code for i in imported.rubric.indicators]
    assert "&id" not in imported.yaml_text  # no YAML anchors for an author to puzzle over


def test_a_wrong_group_sum_is_refused_with_its_cell(tmp_path):
    rows = dti_rows()
    rows[10][2] = 45  # 2.2 now 45: group 2 says 100, its components add up to 95
    with pytest.raises(RubricError) as caught:
        import_table(write_table(tmp_path / "sai.xlsx", rows))
    assert caught.value.message.endswith("Sheet1!C15: nhóm 2 tối đa 100 nhưng các chỉ số con cộng lại 95")


def test_the_cli_writes_nothing_when_the_table_does_not_read(tmp_path, capsys):
    rows = dti_rows()
    rows[12][2] = "mười"
    table = write_table(tmp_path / "sai.xlsx", rows)
    out = tmp_path / "ra.yaml"
    assert main(["rubric", "import", str(table), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "Sheet1!C19: «mười» không đọc được thành số điểm" in err
    assert not out.exists()


def test_the_cli_imports_and_validate_preview_and_show_take_the_table_directly(dti_table, tmp_path, capsys):
    out = tmp_path / "dti.yaml"
    assert main(["rubric", "import", str(dti_table), "--level", "so", "--id", "dti-thu", "-o", str(out)]) == 0
    assert "tối đa 1.000 điểm" in capsys.readouterr().out
    assert main(["rubric", "validate", str(out), str(dti_table)]) == 0
    assert capsys.readouterr().out.count("tối đa 1.000 điểm") == 2
    assert main(["rubric", "show", str(dti_table)]) == 0
    assert (
        "1.1 Người đứng đầu làm Trưởng Ban chỉ đạo chuyển đổi số — 40 điểm [cơ quan tự chấm]" in capsys.readouterr().out
    )


def test_a_header_on_one_row_with_other_wordings_and_a_second_sheet(tmp_path):
    workbook = Workbook()
    workbook.active.title = "Hướng dẫn"
    workbook.active.append(["Bảng này không có chỉ số"])
    ws = workbook.create_sheet("Phụ lục II")
    ws.append(
        ["TT", "Tiêu chí đánh giá", "Số điểm", "Phương pháp tính điểm", "Minh chứng", "Ghi chú", "Cơ quan thẩm định"]
    )
    ws.append(["1", "Hạ tầng (30 điểm)", None, None, None, None, None])
    ws.append(["1.1", "Máy tính", 10.5, "Tỷ lệ", "Danh sách", None, "Phòng VH&TT"])
    ws.append(["1.2", "Mạng LAN", "19,5", None, None, None, None])
    path = tmp_path / "phu-luc.xlsx"
    workbook.save(path)
    rubric = import_table(path, sheet="Phụ lục II", level="xa").rubric
    assert rubric.rubric.groups[0].max == D(30) and rubric.rubric.groups[0].title == "Hạ tầng"
    assert rubric.items["1.1"].max == D("10.5") and rubric.items["1.1"].verified_by == "Phòng VH&TT"
    assert rubric.rubric.level_name == "Cấp xã, phường"
    with pytest.raises(RubricError, match="không tìm thấy dòng tiêu đề"):
        import_table(path, sheet="Hướng dẫn")


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("STT", "stt"),
        ("Chỉ số thành phần", "title"),
        ("NỘI DUNG", "title"),
        ("Điểm tối đa", "max"),
        ("Diem toi da", "max"),
        ("Cách tính điểm", "scoring"),
        ("Cách chấm", "scoring"),
        ("Tài liệu kiểm chứng (bản scan)", "evidence"),
        ("Nguồn số liệu", "data_source"),
        ("Đơn vị thẩm định", "verified_by"),
        ("Giữ từ năm trước", "carry_forward"),
        ("Điểm tự chấm", None),
    ],
)
def test_headers_are_found_by_name_without_case_or_diacritics(header, column):
    found = column_of(header)
    assert (found[0] if found else None) == column


@pytest.mark.parametrize(
    ("cell", "points"),
    [
        ("10đ", D(10)),
        ("10 điểm", D(10)),
        ("10,0", D(10)),
        ("1.000", D(1000)),
        ("12.5", D("12.5")),
        (7, D(7)),
        (2.5, D("2.5")),
        ("1/2 điểm tối đa", D(15)),
        ("Điểm tối đa", D(30)),
        ("Không tính điểm", D(0)),
    ],
)
def test_points_as_tables_write_them(cell, points):
    assert read_points(cell, D(30), "t.xlsx", "Sheet1!C9") == points


def test_the_template_is_an_empty_table_the_import_reads(tmp_path):
    path = tmp_path / "mau.xlsx"
    write_template(path)
    rubric = import_table(path).rubric
    assert rubric.max == D(100)
    assert {i.rule.type for i in rubric.indicators} == {"self_scored", "yes_no"}
    assert rubric.items["1.2"].scoring.splitlines()[1] == "b) Mức đạt một nửa: 20 điểm"
    carried = {q.id: q.carry_forward for q in rubric.questions}
    assert carried[rubric.items["1.1"].rule.question] is False  # the «Giữ từ năm trước» column says «Không»
    assert carried[rubric.items["1.2"].rule.question] is True


@pytest.mark.parametrize("rubric_id", ["dti-so", "dti-xa", "pt2016-so", "pt2016-huyen", "vt2019-phong", "vt2019-xa"])
def test_each_sample_is_its_bundled_table_imported(rubric_id):
    level = bundled()[rubric_id].level
    imported = import_table(BUNDLED_DIR / "tables" / f"{rubric_id}.xlsx", level=level, rubric_id=rubric_id, sample=True)
    assert imported.yaml_text == (BUNDLED_DIR / f"{rubric_id}.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("rubric_id", ["dti-so", "dti-xa", "pt2016-so", "pt2016-huyen", "vt2019-phong", "vt2019-xa"])
def test_the_level_is_read_from_the_tables_title_when_not_given(rubric_id):
    imported = import_table(BUNDLED_DIR / "tables" / f"{rubric_id}.xlsx", rubric_id=rubric_id, sample=True)
    assert imported.rubric.level == bundled()[rubric_id].level


@pytest.mark.parametrize(
    ("title", "level"),
    [
        ("BỘ CHỈ SỐ ĐÁNH GIÁ CHUYỂN ĐỔI SỐ CẤP XÃ", "xa"),
        ("PHIẾU TỰ ĐÁNH GIÁ CỦA UBND CÁC PHƯỜNG, XÃ", "xa"),
        ("Bộ tiêu chí đánh giá Chính quyền điện tử cấp huyện", "huyen"),
        ("PHIẾU TỰ ĐÁNH GIÁ CỦA CÁC PHÒNG, BAN THUỘC UBND THÀNH PHỐ", "phong"),
        ("Bộ chỉ số đánh giá chuyển đổi số các sở, ban, ngành", "so"),
        ("BỘ CHỈ SỐ ĐÁNH GIÁ CHUYỂN ĐỔI SỐ CẤP TỈNH", "tinh"),
        ("BỘ CHỈ SỐ ĐÁNH GIÁ CHUYỂN ĐỔI SỐ CẤP …", "so"),
    ],
)
def test_the_title_names_the_level(title, level):
    assert level_of(["UBND TỈNH QUẢNG NINH", title]) == level


def sheet_of(tmp_path, rows, name="bang.xlsx"):
    workbook = Workbook()
    ws = workbook.active
    ws.append(["STT", "Nội dung", "Điểm tối đa", "Cách chấm"])
    for row in rows:
        ws.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


def test_numbering_that_restarts_in_each_pillar_and_letters_that_add_up(tmp_path):
    path = sheet_of(
        tmp_path,
        [
            ["I", "Nền tảng", 30, None],
            ["1", "Hạ tầng", 30, None],
            ["a", "Máy tính", 10, None],
            ["b", "Mạng LAN", 20, None],
            ["II", "Hoạt động", 20, None],
            ["1", "Dịch vụ công", 20, None],
            [None, "Tổng cộng", 50, None],
        ],
    )
    rubric = import_table(path).rubric
    assert [i.code for i in rubric.indicators] == ["1.a", "1.b", "II.1"]
    assert rubric.items["1"].max == D(30) and rubric.items["II.1"].max == D(20)


def test_a_total_row_that_disagrees_and_a_leaf_without_points_name_their_cells(tmp_path):
    total = sheet_of(tmp_path, [["1", "Hạ tầng", 30, None], [None, "Tổng điểm", "40", None]], "tong.xlsx")
    with pytest.raises(RubricError, match=r"Sheet!C3: dòng tổng ghi 40 điểm nhưng các nhóm cộng lại 30"):
        import_table(total)
    empty = sheet_of(tmp_path, [["1", "Hạ tầng", None, None], ["1.1", "Máy tính", None, None]], "trong.xlsx")
    with pytest.raises(RubricError, match=r"Sheet!C3: chỉ số 1.1 không có điểm tối đa"):
        import_table(empty)
    wrong = sheet_of(tmp_path, [["1", "Hạ tầng", 10, None], ["1,1", "Máy tính", 10, None]], "stt.xlsx")
    with pytest.raises(RubricError, match=r"Sheet!A3: STT «1,1» không phải dạng"):
        import_table(wrong)


def test_capital_letters_are_pillars_above_roman_groups(tmp_path):
    path = sheet_of(
        tmp_path,
        [
            ["A", "Chính quyền số", 20, None],
            ["I", "Hạ tầng", 20, None],
            ["1", "Máy tính", 20, None],
            ["B", "Kinh tế số", 10, None],
            ["II", "Thanh toán", 10, None],
            ["2", "Thanh toán trực tuyến", 10, None],
            ["C", "Xã hội số", 5, None],
            ["3", "Định danh điện tử", 5, None],
        ],
    )
    rubric = import_table(path).rubric
    assert [(g.code, g.max) for g in rubric.rubric.groups] == [("A", 20), ("B", 10), ("C", 5)]
    assert rubric.items["3"].max == 5 and rubric.parents["3"] == "C"


def test_a_table_in_a_word_document_reads_as_the_same_rubric(tmp_path):
    rows = dti_rows()
    for row in rows:
        row[6] = None
    document = write_word_table(tmp_path / "bang-dti.docx", rows)
    rubric = import_table(document, level="so").rubric
    assert rubric.max == D(1000) and len(rubric.indicators) == 9
    assert rubric.rubric.title == "BỘ CHỈ SỐ ĐÁNH GIÁ CHUYỂN ĐỔI SỐ CẤP SỞ, BAN, NGÀNH"
    assert rubric.items["1.1"].verified_by == "Sở KH&CN" and rubric.items["1.2"].verified_by == "Sở KH&CN"
    assert rubric.items["2.1"].verified_by is None
    assert rubric.items["1.1"].scoring.splitlines()[1] == "b) Phó Chủ tịch là Trưởng ban: 20 điểm"
    score = Scorer(rubric).score_cohort([AgencyInput("so-a", CLAIMS)])[0]
    assert score.total == D("827.74")
    rows[10][2] = 45
    with pytest.raises(RubricError, match=r"Bảng 1!C10: nhóm 2 tối đa 100 nhưng các chỉ số con cộng lại 95"):
        import_table(write_word_table(tmp_path / "sai.docx", rows))


def test_a_keep_from_last_year_column_marks_the_indicators_to_answer_anew(tmp_path):
    workbook = Workbook()
    ws = workbook.active
    ws.append(["STT", "Chỉ số", "Điểm tối đa", "Cách tính điểm", "Giữ từ năm trước"])
    ws.append(["1", "Hạ tầng", 30, None, None])
    ws.append(["1.1", "Máy tính", 10, "Tỷ lệ", "Không"])
    ws.append(["1.2", "Mạng LAN", 20, None, "Có"])
    path = tmp_path / "giu-nam-truoc.xlsx"
    workbook.save(path)
    imported = import_table(path, level="xa")
    kept = {q.id: q.carry_forward for q in imported.rubric.questions}
    assert kept == {"diem_1.1": False, "diem_1.2": True}
    assert imported.yaml_text.count("carry_forward: false") == 1
