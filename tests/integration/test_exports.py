"""The xlsx and csv exports of a real campaign, read back: sheets and headers, exact Decimals (87,10 is stored
as 87.10), names that look like formulas kept as text, control characters dropped, times in local time."""

from __future__ import annotations

import csv
import io
import random
import zipfile
from datetime import UTC, datetime
from decimal import Decimal
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from bot.labels import labels
from conversations.exports import level_rows, printable, sheet_title, write_csv, write_xlsx
from rubrics.bundled import bundled
from rubrics.sample_answers import sample_answers
from storage import campaigns
from storage.agency_import import import_csv
from storage.answers import set_answer
from storage.campaigns import CampaignSpec
from storage.models import Agency, Submission
from storage.reports import LevelReport, campaign_report

ZONE = "Asia/Ho_Chi_Minh"
NOW = datetime(2019, 10, 14, 2, tzinfo=UTC)
SUBMITTED_AT = datetime(2019, 10, 20, 9, 30, tzinfo=UTC)  # 16:30 in Hà Nội
RUBRICS = {"huyen": "qn2018-huyen", "xa": "qn2018-xa"}
FORMULAS = ['=HYPERLINK("http://x.vn","bấm")', "+84 Phường Hà Tu", "-Xã Hạ Long", "@Xã Cẩm Phả"]
AGENCIES = "code,name,level,parent_code,contact_name,contact_phone,contact_email\n" + "\n".join(
    ["H1,UBND Huyện Ba Chẽ,huyen,,,,"]
    + [f'X{n},"{name.replace(chr(34), chr(34) * 2)}",xa,H1,,,' for n, name in enumerate(FORMULAS)]
    + [f"X{n},UBND Xã số {n},xa,H1,,," for n in range(len(FORMULAS), 12)]
)
SATISFIED = Decimal("87.10")  # float(87.10) written with 16 digits is 87.09999999999999


def export_campaign(db) -> dict[str, LevelReport]:
    """Twelve communes of one district, answered at random (one satisfaction rate of 87,10 %), X1 submitted."""
    rubric = bundled()[RUBRICS["xa"]]
    rng = random.Random(7)
    with db.session() as session:
        spec = CampaignSpec("Đánh giá CQĐT năm 2019", {lv: bundled()[r] for lv, r in RUBRICS.items()}, NOW)
        campaign = campaigns.create(session, spec)
        import_csv(session, campaign, AGENCIES)
        for agency in session.scalars(select(Agency).where(Agency.level == "xa").order_by(Agency.code)):
            current: dict = {}
            answers = sample_answers(rubric, rng, na_rate=0.1)
            if agency.code == "X0":
                answers["hai_long_pct"] = SATISFIED
            for qid, value in answers.items():
                set_answer(session, rubric, agency, qid, value, by=None, source="test", now=NOW, current=current)
                current[qid] = value
        x1 = select(Agency.id).where(Agency.code == "X1").scalar_subquery()
        session.execute(
            update(Submission).where(Submission.agency_id == x1).values(state="submitted", submitted_at=SUBMITTED_AT)
        )
        session.flush()
        return campaign_report(session, campaigns.get(session, campaign.id))


def xlsx_of(reports, lang: str = "vi") -> bytes:
    stream = io.BytesIO()
    write_xlsx(stream, reports, labels(lang, ZONE), zone=ZONE)
    assert not stream.closed
    return stream.getvalue()


def stored_numbers(content: bytes, sheet: int) -> dict[str, str]:
    """Cell reference → the number exactly as the sheet's XML stores it."""
    xml = zipfile.ZipFile(io.BytesIO(content)).read(f"xl/worksheets/sheet{sheet}.xml")
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    return {
        c.get("r"): c.find("m:v", ns).text
        for c in ElementTree.fromstring(xml).iterfind(".//m:c", ns)
        if c.get("t") is None and c.find("m:v", ns) is not None
    }


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def test_the_workbook_has_a_sheet_per_level_and_the_questions(db):
    reports = export_campaign(db)
    workbook = load_workbook(io.BytesIO(xlsx_of(reports)))
    assert workbook.sheetnames == ["Cấp huyện", "Cấp xã", "Câu hỏi", "Chỉ số"]
    assert all(sheet.freeze_panes == "A2" for sheet in workbook.worksheets)
    rows = list(workbook["Cấp xã"].iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("Hạng", "Mã đơn vị", "Tên đơn vị")
    assert len(header) == 14 + 3 * 6 + 28 + 1 + 43  # summary, groups, indicators, kept from last year, answers
    assert [row[1] for row in rows[1:]] == [e.agency.code for e in reports["xa"].ranked()]
    questions = list(workbook["Câu hỏi"].iter_rows(values_only=True))
    assert questions[0] == ("Cấp", "Số", "Mã câu hỏi", "Mục", "Nội dung")
    assert len(questions) == 1 + sum(len(r.rubric.steps) for r in reports.values())
    assert questions[1][:3] == ("huyen", 1, reports["huyen"].rubric.steps[0].question.id)
    english = load_workbook(io.BytesIO(xlsx_of(reports, "en")), read_only=True)
    assert next(english.worksheets[1].iter_rows(values_only=True))[:3] == ("Rank", "Agency code", "Agency")


def test_every_decimal_is_stored_with_its_exact_digits_and_two_decimals_shown(db):
    reports = export_campaign(db)
    content = xlsx_of(reports)
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook["Cấp xã"]
    header = [c.value for c in sheet[1]]
    stored = stored_numbers(content, 2)
    answers_from = len(header) - len(reports["xa"].rubric.steps)
    garbled = 0
    for n, row in enumerate(level_rows(labels("vi", ZONE), reports["xa"], ZoneInfo(ZONE)), start=2):
        for col, value in enumerate(row):
            if type(value) is not Decimal:
                continue
            ref = f"{column_letter(col)}{n}"
            assert Decimal(stored[ref]) == value and stored[ref] == str(value), (ref, header[col])
            assert sheet[ref].number_format == ("0.00" if col < answers_from else "General"), header[col]
            garbled += Decimal(f"{float(value):.16G}") != value
    assert garbled  # some of these figures would not survive a float

    x0 = next(r for r in sheet.iter_rows(min_row=2) if r[1].value == "X0")
    cell = x0[next(i for i, h in enumerate(header) if h.endswith("(hai_long_pct)"))]
    assert stored[cell.coordinate] == "87.10" and cell.value == 87.1


def test_a_total_of_87_10_lands_as_87_10(db):
    reports = export_campaign(db)
    entry = reports["xa"].ranked()[0]
    entry.score.total = entry.effective.total = SATISFIED
    content = xlsx_of(reports)
    sheet = load_workbook(io.BytesIO(content))["Cấp xã"]
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("Tổng điểm") + 1)
    assert stored_numbers(content, 2)[cell.coordinate] == "87.10"
    assert cell.value == 87.1 and cell.number_format == "0.00"


def test_names_that_look_like_formulas_stay_text_and_control_characters_go(db):
    reports = export_campaign(db)
    by_code = {e.agency.code: e for e in reports["xa"].agencies}
    by_code["X5"].agency.name = "UBND Xã\x00 Đồng\x1b Lâm\x7f"
    workbook = load_workbook(io.BytesIO(xlsx_of(reports)))
    names = {row[1].value: row[2] for row in workbook["Cấp xã"].iter_rows(min_row=2)}
    for n, name in enumerate(FORMULAS):
        assert names[f"X{n}"].value == name and names[f"X{n}"].data_type == "s"
    assert names["X5"].value == "UBND Xã Đồng Lâm"
    content = zipfile.ZipFile(io.BytesIO(xlsx_of(reports))).read("xl/worksheets/sheet2.xml")
    assert b"<f>" not in content

    stream = io.BytesIO()
    write_csv(stream, reports, labels("vi", ZONE), zone=ZONE)
    assert not stream.closed and stream.getvalue().startswith(b"\xef\xbb\xbf")
    records = {r["Mã đơn vị"]: r for r in csv.DictReader(io.StringIO(stream.getvalue().decode("utf-8-sig")))}
    assert [records[f"X{n}"]["Tên đơn vị"] for n in range(len(FORMULAS))] == ["'" + name for name in FORMULAS]
    assert records["X5"]["Tên đơn vị"] == "UBND Xã Đồng Lâm"


def test_csv_figures_are_exact_and_times_local(db):
    reports = export_campaign(db)
    stream = io.BytesIO()
    write_csv(stream, reports, labels("vi", ZONE), zone=ZONE)
    records = list(csv.DictReader(io.StringIO(stream.getvalue().decode("utf-8-sig"))))
    assert len(records) == 13 and records[0]["Cấp"] == "huyen"
    expected = {e.agency.code: e.effective for r in reports.values() for e in r.agencies}
    for record in records:
        assert record["Tổng điểm"] == str(expected[record["Mã đơn vị"]].total)
        assert record["Nhóm 1 – quy đổi"] == str(expected[record["Mã đơn vị"]].groups[0].converted)
    by_code = {r["Mã đơn vị"]: r for r in records}
    assert by_code["X1"]["Thời điểm nộp"] == "20/10/2019 16:30" and by_code["X1"]["Trạng thái"] == "Đã nộp"
    assert by_code["X2"]["Thời điểm nộp"] == ""


def test_the_submission_time_is_a_local_date_cell(db):
    reports = export_campaign(db)
    sheet = load_workbook(io.BytesIO(xlsx_of(reports)))["Cấp xã"]
    header = [c.value for c in sheet[1]]
    rows = {r[1].value: r for r in sheet.iter_rows(min_row=2)}
    cell = rows["X1"][header.index("Thời điểm nộp")]
    assert cell.value == datetime(2019, 10, 20, 16, 30)
    assert cell.number_format == "dd/mm/yyyy hh:mm"
    assert rows["X2"][header.index("Thời điểm nộp")].value is None


@pytest.mark.parametrize(
    ("name", "title"),
    [("Cấp xã", "Cấp xã"), ("[Cấp]: xã/phường?", "Cấp xãphường"), ("'Cấp xã'", "Cấp xã"), ("\x00", "Sheet")],
)
def test_sheet_titles_are_ones_excel_accepts(name, title):
    assert sheet_title(name, set()) == title


def test_sheet_titles_are_unique_whatever_the_case():
    taken: set[str] = set()
    assert [sheet_title(n, taken) for n in ("Cấp xã", "CẤP XÃ", "cấp xã")] == ["Cấp xã", "CẤP XÃ 2", "cấp xã 3"]
    assert len(sheet_title("x" * 40, set())) <= 31


def test_printable_keeps_tabs_and_line_breaks_only():
    assert printable("a\tb\nc\r\x00d\x08\x1f\x7f\ufffe") == "a\tb\nc\rd"
    assert printable("".join(map(chr, range(32)))) == "\t\n\r"
