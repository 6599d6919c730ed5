"""The published annex: a print-ready workbook per level and the same annex as a Word document, read back.

Two submitted districts and one that has not submitted (Quảng Ninh 2018, cấp huyện): the workbook has
the title block, the merged two-row header, two-decimal numbers, A4 landscape with the header rows
repeated and frozen panes, and the draft apart at the end; the targets sheet follows. The Word annex
holds the same table. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from docx import Document
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from bot.labels import labels
from conversations.annex import Heading, write_annex_docx, write_annex_xlsx
from conversations.targets import missed
from integration.test_cohort import BANDWIDTH, NOW, answer, set_state
from rubrics.bundled import bundled
from storage import campaigns
from storage.agency_import import import_csv
from storage.campaigns import CampaignSpec
from storage.records import SUBMITTED
from storage.reports import campaign_report

ZONE = "Asia/Ho_Chi_Minh"
HEADING = Heading("Sở Thông tin và Truyền thông", "1234", date(2019, 11, 5))
AGENCIES = "code,name,level,parent_code,contact_name,contact_phone,contact_email\n" + "".join(
    f"{code},{name},huyen,,,,\n" for code, name in (("H1", "Huyện Một"), ("H2", "=Huyện Hai"), ("H3", "Huyện Ba"))
)


def reports_of(db, rubric_ids=("qn2018-huyen", "qn2018-xa")):
    with db.session() as session:
        rubrics = dict(zip(("huyen", "xa"), (bundled()[r] for r in rubric_ids), strict=True))
        campaign = campaigns.create(session, CampaignSpec("Đánh giá CQĐT năm 2019", rubrics, NOW))
        import_csv(session, campaign, AGENCIES)
        if rubric_ids[0].startswith("qn"):
            answer(session, "H1", 1, **{BANDWIDTH: 20})
            answer(session, "H2", 2, **{BANDWIDTH: 10})
            answer(session, "H3", 3, **{BANDWIDTH: 50})
        set_state(session, "H1", SUBMITTED)
        set_state(session, "H2", SUBMITTED)
        return campaign_report(session, campaigns.get(session, campaign.id))


def annex_of(reports) -> bytes:
    stream = io.BytesIO()
    write_annex_xlsx(stream, reports, labels("vi", ZONE), campaign_name="Đánh giá CQĐT năm 2019", heading=HEADING)
    return stream.getvalue()


def test_the_annex_workbook_is_print_ready(db):
    reports = reports_of(db)
    workbook = load_workbook(io.BytesIO(annex_of(reports)))
    assert workbook.sheetnames == ["Cấp huyện", "Cấp xã", "Mục tiêu"]
    sheet = workbook["Cấp huyện"]
    assert sheet["A1"].value == "SỞ THÔNG TIN VÀ TRUYỀN THÔNG"
    assert sheet["A2"].value == "KẾT QUẢ ĐÁNH GIÁ, XẾP HẠNG MỨC ĐỘ CHÍNH QUYỀN ĐIỆN TỬ — CẤP HUYỆN"
    assert sheet["A3"].value == "Đánh giá CQĐT năm 2019"
    assert sheet["A4"].value == "(Kèm theo Quyết định số 1234/QĐ-UBND ngày 05 tháng 11 năm 2019)"
    merged = {str(r) for r in sheet.merged_cells.ranges}
    groups = reports["huyen"].rubric.rubric.groups
    last = 2 + len(groups) + 3  # STT, name, a column per group, total, percentage, band, rank
    assert {"A6:A7", "B6:B7", f"A2:{get_column_letter(last + 1)}2"} <= merged
    assert [sheet.cell(6, c).value for c in (1, 2)] == ["STT", "Tên đơn vị"]
    assert sheet.cell(6, 3).value.startswith("Nhóm 1. ") and sheet.cell(7, 3).value == "Điểm"
    assert [sheet.cell(6, c).value for c in range(3 + len(groups), last + 2)] == [
        "Tổng điểm (tối đa 170)",
        "Tỷ lệ (%)",
        "Xếp loại",
        "Xếp hạng",
    ]
    standing = reports["huyen"].standing()
    for row, entry in enumerate(standing, start=8):
        assert sheet.cell(row, 1).value == row - 7
        assert sheet.cell(row, 2).value == entry.agency.name and sheet.cell(row, 2).data_type == "s"
        total = sheet.cell(row, 3 + len(groups))
        assert Decimal(str(total.value)) == entry.effective.total
        assert total.number_format == "0.00" and sheet.cell(row, 3).number_format == "0.00"
        assert sheet.cell(row, last + 1).value == entry.effective.rank
    block = 8 + len(standing)
    assert sheet.cell(block, 1).value == "Các đơn vị chưa nộp (không xếp hạng)"
    assert [sheet.cell(block + 1, c).value for c in (1, 2)] == [1, "Huyện Ba"]
    assert sheet.cell(block + 1, 3).value.startswith("Chưa nộp: đang làm, đã trả lời ")
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    assert sheet.print_title_rows == "$6:$7" and sheet.freeze_panes == "C8"


def test_a_rubric_classified_per_group_gets_a_band_column_under_each_group(db):
    reports = reports_of(db, ("tth2018-huyen", "tth2018-xa"))
    sheet = load_workbook(io.BytesIO(annex_of(reports)))["Cấp huyện"]
    assert "C6:D6" in {str(r) for r in sheet.merged_cells.ranges}
    assert [sheet.cell(7, c).value for c in (3, 4, 5, 6)] == ["Điểm", "Xếp loại", "Điểm", "Xếp loại"]


def test_the_targets_sheet_lists_exactly_the_indicators_below_full_points(db):
    reports = reports_of(db)
    sheet = load_workbook(io.BytesIO(annex_of(reports)))["Mục tiêu"]
    rows = list(sheet.iter_rows(values_only=True))
    first = reports["huyen"].standing()[0]
    expected = missed(first, reports["huyen"].rubric)
    listed = [r for r in rows if r[0] == first.agency.name]
    assert [(r[1], Decimal(str(r[5]))) for r in listed] == [(m.code, m.lost) for m in expected] and expected
    assert all(m.lost > 0 for m in expected)
    lost = [m.lost for m in expected]
    assert lost == sorted(lost, reverse=True)


def test_the_word_annex_holds_the_same_table(db):
    reports = reports_of(db)
    stream = io.BytesIO()
    write_annex_docx(stream, reports, labels("vi", ZONE), campaign_name="Đánh giá CQĐT năm 2019", heading=HEADING)
    document = Document(io.BytesIO(stream.getvalue()))
    texts = [p.text for p in document.paragraphs]
    assert "(Kèm theo Quyết định số 1234/QĐ-UBND ngày 05 tháng 11 năm 2019)" in texts
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells][:2] == ["STT", "Tên đơn vị"]
    assert table.rows[1].cells[2].text == "Điểm"
    standing = reports["huyen"].standing()
    for row, entry in zip(table.rows[2:], standing, strict=False):
        cells = [c.text for c in row.cells]
        assert cells[1] == entry.agency.name
        assert f"{entry.effective.total:.2f}".replace(".", ",") in cells
    assert table.rows[2 + len(standing)].cells[0].text == "Các đơn vị chưa nộp (không xếp hạng)"
    assert table.rows[3 + len(standing)].cells[1].text == "Huyện Ba"
    section = document.sections[0]
    assert section.page_width > section.page_height
    assert table.rows[0]._tr.xpath("./w:trPr/w:tblHeader")
