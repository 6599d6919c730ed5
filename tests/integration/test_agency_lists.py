"""``cqdt agencies import`` and ``cqdt agencies template`` with the files offices keep, written by the tests:
an Excel list with Vietnamese headers under a title block, a semicolon CSV, a BOM CSV, a Windows-1258 CSV,
an empty file, phones in several forms, contacts carried over from an earlier campaign, the template round
trip, and a control character; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from datetime import UTC, datetime

import pytest
import xlsxwriter
from cli_helpers import Cli, without_settings
from openpyxl import load_workbook
from sqlalchemy import select

from rubrics.bundled import bundled
from storage import campaigns
from storage.campaigns import CampaignSpec
from storage.db import Database, upgrade
from storage.models import Agency

RUBRICS = {"huyen": "qn2018-huyen", "xa": "qn2018-xa"}
DEADLINE = datetime(2031, 10, 28, 7, 0, tzinfo=UTC)
TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def windows_1258(text: str) -> bytes:
    """The text as Excel writes it on a Vietnamese Windows: the tone mark as a combining character."""
    out = []
    for ch in text:
        parts = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES))
        out.append(base + "".join(c for c in parts if c in TONES))
    return "".join(out).encode("cp1258")


@pytest.fixture
def cqdt(capsys, database_url, monkeypatch):
    without_settings(monkeypatch)
    database = Database(database_url, ensure=False)
    upgrade(database.engine)
    database.dispose()
    return Cli(capsys, database_url)


def new_campaign(url: str, name: str = "Đánh giá CQĐT năm 2031") -> int:
    database = Database(url)
    try:
        with database.session() as session:
            rubrics = {level: bundled()[rubric] for level, rubric in RUBRICS.items()}
            return campaigns.create(session, CampaignSpec(name, rubrics, DEADLINE)).id
    finally:
        database.dispose()


def agencies(url: str, campaign_id: int) -> dict[str, Agency]:
    database = Database(url)
    try:
        with database.session() as session:
            rows = session.scalars(select(Agency).where(Agency.campaign_id == campaign_id)).all()
            out = {}
            for a in rows:
                out[a.code] = (a.name, a.level, a.parent.code if a.parent else None, a.contact_name,
                               a.contact_phone, a.contact_email)  # fmt: skip
            return out
    finally:
        database.dispose()


def import_(cqdt, campaign_id: int, path, *args: str, expect: int = 0) -> str:
    return cqdt("agencies", "import", "--campaign", str(campaign_id), str(path), *args, expect=expect)


def write_xlsx(path, rows, title="Sheet1", widths=True) -> None:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet(title)
    bold = workbook.add_format({"bold": True})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value, bold if r < 3 else None)
    if widths:
        sheet.set_column(0, 8, 20)
    workbook.close()


OFFICE_LIST = [
    ["ỦY BAN NHÂN DÂN TỈNH QUẢNG NINH", None, None, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"],
    ["DANH SÁCH CÁC ĐƠN VỊ THAM GIA ĐÁNH GIÁ CHÍNH QUYỀN ĐIỆN TỬ NĂM 2031"],
    [],
    ["STT", "Mã đơn vị", "Tên đơn vị", "Cấp", "Mã đơn vị cấp trên", "Họ tên đầu mối", "Số điện thoại",
     "Thư điện tử"],
    [1, 193, "UBND Thành phố Hạ Long", "Cấp huyện", None, "Trần Văn Nam", "+84 203 3825 123", None],
    [],
    [2, 22015, "UBND Phường Hà Phong", "Xã", 193, "Nguyễn Thu Hà", 912345679, "ha.nt@quangninh.gov.vn"],
    [3, "06655", "UBND Phường Hà Khẩu", "cấp xã", "193", None, "0912.345.680", None],
]  # fmt: skip


def test_an_excel_list_with_vietnamese_headers_and_a_title_block_imports(cqdt, database_url, tmp_path):
    campaign_id = new_campaign(database_url)
    path = tmp_path / "Danh sách đơn vị.xlsx"
    write_xlsx(path, OFFICE_LIST, title="Danh sách")
    out = import_(cqdt, campaign_id, path)
    assert "3 mới, 0 cập nhật, 0 không đổi" in out
    assert agencies(database_url, campaign_id) == {
        "193": ("UBND Thành phố Hạ Long", "huyen", None, "Trần Văn Nam", "0203 3825 123", None),
        "22015": ("UBND Phường Hà Phong", "xa", "193", "Nguyễn Thu Hà", "0912 345 679", "ha.nt@quangninh.gov.vn"),
        "06655": ("UBND Phường Hà Khẩu", "xa", "193", None, "0912 345 680", None),
    }
    again = json.loads(import_(cqdt, campaign_id, path, "--json"))
    assert again == {"created": 0, "updated": 0, "unchanged": 3}


def test_a_problem_in_a_sheet_is_reported_by_its_cell(cqdt, database_url, tmp_path):
    campaign_id = new_campaign(database_url)
    rows = [list(r) for r in OFFICE_LIST]
    rows[6][6] = "0912 34"  # G7: not a phone
    rows[7][3] = "phường"  # D8: not a level of the campaign
    path = tmp_path / "don-vi.xlsx"
    write_xlsx(path, rows, title="Danh sách")
    err = import_(cqdt, campaign_id, path, expect=1)
    assert "ô 'Danh sách'!G7: số điện thoại «0912 34» ở cột Số điện thoại không đúng dạng" in err
    assert "0912 345 678" in err
    assert "ô 'Danh sách'!D8: cấp «phường» không có trong đợt đánh giá" in err
    assert agencies(database_url, campaign_id) == {}


def test_a_semicolon_csv_imports(cqdt, database_url, tmp_path):
    campaign_id = new_campaign(database_url)
    path = tmp_path / "don-vi.csv"
    path.write_text(
        "Mã đơn vị;Tên đơn vị;Cấp;Mã đơn vị cấp trên;Người đầu mối;Điện thoại;Email\n"
        "193;UBND Thành phố Hạ Long, tỉnh Quảng Ninh;huyen;;;;\n"
        ";;;;;;\n"
        "06652;UBND Phường Hà Phong;xa;193;Nguyễn Thu Hà;0912-345-678;ha.nt@quangninh.gov.vn\n",
        encoding="utf-8",
    )
    assert "2 mới" in import_(cqdt, campaign_id, path)
    found = agencies(database_url, campaign_id)
    assert found["193"][0] == "UBND Thành phố Hạ Long, tỉnh Quảng Ninh"
    assert found["06652"] == ("UBND Phường Hà Phong", "xa", "193", "Nguyễn Thu Hà", "0912 345 678",
                              "ha.nt@quangninh.gov.vn")  # fmt: skip


def test_a_csv_with_a_bom_imports(cqdt, database_url, tmp_path):
    campaign_id = new_campaign(database_url)
    path = tmp_path / "don-vi.csv"
    path.write_bytes("STT,Mã đơn vị,Tên đơn vị,Cấp\r\n1,193,UBND Thành phố Hạ Long,Cấp huyện\r\n".encode("utf-8-sig"))
    assert "1 mới" in import_(cqdt, campaign_id, path)
    assert agencies(database_url, campaign_id)["193"][:2] == ("UBND Thành phố Hạ Long", "huyen")


def test_a_windows_1258_csv_imports_with_composed_letters(cqdt, database_url, tmp_path):
    campaign_id = new_campaign(database_url)
    path = tmp_path / "don-vi.csv"
    path.write_bytes(
        windows_1258(
            "Mã đơn vị,Tên đơn vị,Cấp,Mã đơn vị cấp trên,Họ tên đầu mối\r\n"
            "193,UBND Thành phố Hạ Long,huyện,,\r\n"
            "06652,UBND Phường Hà Phong,xã,193,Nguyễn Thu Hà\r\n"
        )
    )
    assert "2 mới" in import_(cqdt, campaign_id, path)
    found = agencies(database_url, campaign_id)
    assert found["06652"][:4] == ("UBND Phường Hà Phong", "xa", "193", "Nguyễn Thu Hà")  # NFC, as typed here


def test_a_tcvn3_csv_is_refused_with_the_saving_advice(cqdt, database_url, tmp_path):
    campaign_id = new_campaign(database_url)
    path = tmp_path / "don-vi.csv"
    path.write_bytes(b"code,name,level\r\n193,UBND Th\xb5nh ph\xe8 H\xb9 Long,huyen\r\n")  # TCVN3
    err = import_(cqdt, campaign_id, path, expect=1)
    assert "Tệp › Lưu thành › CSV UTF-8" in err and "Traceback" not in err and "codec" not in err
    assert agencies(database_url, campaign_id) == {}


def test_an_empty_file_and_a_header_alone_are_told_apart(cqdt, database_url, tmp_path):
    campaign_id = new_campaign(database_url)
    empty = tmp_path / "trong.csv"
    empty.write_bytes(b"")
    err = import_(cqdt, campaign_id, empty, expect=1)
    assert "Tệp trống" in err and "agencies template" in err and "tiêu đề (" not in err
    header = tmp_path / "tieu-de.csv"
    header.write_text("Mã đơn vị;Tên đơn vị;Cấp\n", encoding="utf-8")
    assert "không có dòng đơn vị nào" in import_(cqdt, campaign_id, header, expect=1)
    blank = tmp_path / "trong.xlsx"
    write_xlsx(blank, [], widths=False)
    assert "Tệp trống" in import_(cqdt, campaign_id, blank, expect=1)


def test_an_unknown_column_is_reported_with_the_accepted_ones(cqdt, database_url, tmp_path):
    campaign_id = new_campaign(database_url)
    path = tmp_path / "don-vi.csv"
    path.write_text("Mã đơn vị,Tên đơn vị,Cấp,Ghi chú\n193,UBND Thành phố Hạ Long,huyen,\n", encoding="utf-8")
    err = import_(cqdt, campaign_id, path, expect=1)
    assert "dòng 1" in err and "không nhận ra cột «Ghi chú»" in err
    assert "Mã đơn vị, Tên đơn vị, Cấp, Mã đơn vị cấp trên, Họ tên đầu mối, Điện thoại, Thư điện tử" in err


def test_phones_in_several_forms_are_stored_in_one_and_a_bad_one_names_its_line(cqdt, database_url, tmp_path):
    campaign_id = new_campaign(database_url)
    typed = ["+84 912 345 679", "84912345679", "0912.345.679", "0912-345-679", "02033825123", "024.3825.1234"]
    lines = ["code,name,level,parent_code,contact_name,contact_phone,contact_email"]
    lines += [f"X{n},Xã {n},xa,,,{phone}," for n, phone in enumerate(typed)]
    path = tmp_path / "don-vi.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_(cqdt, campaign_id, path)
    phones = {code: row[4] for code, row in agencies(database_url, campaign_id).items()}
    assert phones == {"X0": "0912 345 679", "X1": "0912 345 679", "X2": "0912 345 679", "X3": "0912 345 679",
                      "X4": "0203 3825 123", "X5": "024 3825 1234"}  # fmt: skip
    path.write_text("\n".join([*lines, "X9,Xã 9,xa,,,1900 1234,"]) + "\n", encoding="utf-8")
    err = import_(cqdt, campaign_id, path, expect=1)
    assert "dòng 8: số điện thoại «1900 1234» ở cột contact_phone không đúng dạng" in err


def test_contacts_are_carried_over_from_an_earlier_campaign_never_over_the_file(cqdt, database_url, tmp_path):
    last_year = new_campaign(database_url, "Đánh giá CQĐT năm 2030")
    header = "Mã đơn vị,Tên đơn vị,Cấp,Mã đơn vị cấp trên,Họ tên đầu mối,Điện thoại,Thư điện tử\n"
    before = tmp_path / "2030.csv"
    before.write_text(
        header + "193,UBND Thành phố Hạ Long,huyen,,Trần Văn Nam,0203 3825 123,nam.tv@quangninh.gov.vn\n"
        "06652,UBND Phường Hà Phong,xa,193,Nguyễn Thu Hà,0912345678,ha.nt@quangninh.gov.vn\n"
        "06655,UBND Phường Hà Khẩu,xa,193,,,\n",
        encoding="utf-8",
    )
    import_(cqdt, last_year, before)
    this_year = new_campaign(database_url)
    now = tmp_path / "2031.csv"
    now.write_text(
        header + "193,UBND Thành phố Hạ Long,huyen,,,,\n"
        "06652,UBND Phường Hà Phong,xa,193,Lê Minh Tuấn,,\n"  # a new contact: the file's name stays
        "06655,UBND Phường Hà Khẩu,xa,193,,,\n"  # nothing to carry over
        "06658,UBND Phường Hồng Hà,xa,193,,,\n",  # new this year
        encoding="utf-8",
    )
    out = import_(cqdt, this_year, now, "--contacts-from", str(last_year))
    assert "4 mới" in out and f"đã điền đầu mối còn trống cho 2 đơn vị từ đợt {last_year}" in out
    found = agencies(database_url, this_year)
    assert found["193"][3:] == ("Trần Văn Nam", "0203 3825 123", "nam.tv@quangninh.gov.vn")
    assert found["06652"][3:] == ("Lê Minh Tuấn", "0912 345 678", "ha.nt@quangninh.gov.vn")
    assert found["06655"][3:] == (None, None, None) and found["06658"][3:] == (None, None, None)
    again = json.loads(import_(cqdt, this_year, now, "--contacts-from", str(last_year), "--json"))
    assert again == {"created": 0, "updated": 0, "unchanged": 4, "filled": 2}
    plain = json.loads(import_(cqdt, this_year, now, "--json"))  # without it, the file's blanks are blanks
    assert plain == {"created": 0, "updated": 2, "unchanged": 2}
    assert "Không có đợt đánh giá số 99" in import_(cqdt, this_year, now, "--contacts-from", "99", expect=1)


def test_the_template_is_filled_in_and_imported(cqdt, database_url, tmp_path):
    campaign_id = new_campaign(database_url)
    path = tmp_path / "don-vi.xlsx"
    out = cqdt("agencies", "template", "-o", str(path), "--campaign", str(campaign_id))
    assert "don-vi.xlsx" in out and "Cấp huyện; Cấp xã" in out
    workbook = load_workbook(path)
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[1]] == ["Mã đơn vị", "Tên đơn vị", "Cấp", "Mã đơn vị cấp trên",
                                           "Họ tên đầu mối", "Điện thoại", "Thư điện tử"]  # fmt: skip
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width > sheet.column_dimensions["A"].width
    formats = {k: sheet.column_dimensions[k].number_format for k in "ABCF"}
    assert formats == {"A": "@", "B": "General", "C": "General", "F": "@"}  # codes and phones are text
    [validation] = sheet.data_validations.dataValidation
    assert validation.type == "list" and "C2" in validation.sqref
    levels = workbook[validation.formula1.split("!")[0].strip("='")]
    assert [r[0].value for r in levels.iter_rows()] == ["Cấp huyện", "Cấp xã"]
    sheet.append(["193", "UBND Thành phố Hạ Long", "Cấp huyện", None, "Trần Văn Nam", "0203 3825 123"])
    sheet.append(["06652", "UBND Phường Hà Phong", "Cấp xã", "193", None, "0912 345 678", "ha@quangninh.gov.vn"])
    workbook.save(path)
    assert "2 mới" in import_(cqdt, campaign_id, path)
    assert agencies(database_url, campaign_id)["06652"] == (
        "UBND Phường Hà Phong", "xa", "193", None, "0912 345 678", "ha@quangninh.gov.vn")  # fmt: skip

    csv_path = tmp_path / "don-vi.csv"
    cqdt("agencies", "template", "-o", str(csv_path))
    content = csv_path.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf") and content.decode("utf-8-sig").startswith("Mã đơn vị,Tên đơn vị,")
    csv_path.write_bytes(content + "06655,UBND Phường Hà Khẩu,xa,193,,,\r\n".encode())
    assert "1 mới, 0 cập nhật, 0 không đổi" in import_(cqdt, campaign_id, csv_path)
    assert agencies(database_url, campaign_id).keys() == {"193", "06652", "06655"}


def test_a_control_character_is_refused_with_its_cell_or_line(cqdt, database_url, tmp_path):
    campaign_id = new_campaign(database_url)
    path = tmp_path / "don-vi.xlsx"
    write_xlsx(path, [["Mã đơn vị", "Tên đơn vị", "Cấp"], ["193", "UBND Thành phố\x00 Hạ Long", "huyen"]])
    err = import_(cqdt, campaign_id, path, expect=1)
    assert "ô Sheet1!B2: cột Tên đơn vị có ký tự điều khiển không in được (U+0000)" in err
    csv_path = tmp_path / "don-vi.csv"
    csv_path.write_bytes(b"code,name,level\n193,UBND\x1b[0m Ha Long,huyen\n")
    err = import_(cqdt, campaign_id, csv_path, expect=1)
    assert "dòng 2: cột name có ký tự điều khiển không in được (U+001B)" in err
    assert agencies(database_url, campaign_id) == {}


def test_a_sheet_is_chosen_by_name(cqdt, database_url, tmp_path):
    campaign_id = new_campaign(database_url)
    stream = io.BytesIO()
    workbook = xlsxwriter.Workbook(stream, {"in_memory": True})
    workbook.add_worksheet("Hướng dẫn").write(0, 0, "Danh sách ở trang sau")
    sheet = workbook.add_worksheet("Đơn vị")
    for c, value in enumerate(["Mã đơn vị", "Tên đơn vị", "Cấp"]):
        sheet.write(0, c, value)
        sheet.write(1, c, ["193", "UBND Thành phố Hạ Long", "huyen"][c])
    workbook.close()
    path = tmp_path / "don-vi.xlsx"
    path.write_bytes(stream.getvalue())
    assert "1 mới" in import_(cqdt, campaign_id, path, "--sheet", "Đơn vị")
    assert "không có trang «Trang 3»; các trang: Hướng dẫn, Đơn vị" in import_(
        cqdt, campaign_id, path, "--sheet", "Trang 3", expect=1
    )


def test_formula_like_names_round_trip_as_text_and_a_nul_is_refused_with_its_line(cqdt, database_url, tmp_path):
    """A list with names a spreadsheet would run as formulas, and a NUL byte: the NUL's line is named and
    nothing is imported; without it the names are imported as typed and come out as text in xlsx and csv."""
    campaign_id = new_campaign(database_url)
    formulas = ['=HYPERLINK("http://x.vn","bấm")', "+84 Phường Hà Tu", "-Xã Hạ Long", "@Xã Cẩm Phả"]
    lines = ["code,name,level"] + [f'X{n},"{name.replace(chr(34), chr(34) * 2)}",xa' for n, name in enumerate(formulas)]
    path = tmp_path / "don-vi.csv"
    path.write_text("\n".join([*lines, "X9,UBND Xã\x00 Đồng Lâm,xa"]) + "\n", encoding="utf-8")
    err = import_(cqdt, campaign_id, path, expect=1)
    assert "dòng 6: cột name có ký tự điều khiển không in được (U+0000)" in err
    assert agencies(database_url, campaign_id) == {}
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_(cqdt, campaign_id, path)
    assert [agencies(database_url, campaign_id)[f"X{n}"][0] for n in range(4)] == formulas

    xlsx, text = tmp_path / "ket-qua.xlsx", tmp_path / "ket-qua.csv"
    cqdt("export", "--campaign", str(campaign_id), "--format", "xlsx", "-o", str(xlsx))
    cqdt("export", "--campaign", str(campaign_id), "--format", "csv", "-o", str(text))
    sheet = load_workbook(xlsx)["Cấp xã"]
    cells = {row[1].value: row[2] for row in sheet.iter_rows(min_row=2)}
    assert [(cells[f"X{n}"].value, cells[f"X{n}"].data_type) for n in range(4)] == [(f, "s") for f in formulas]
    with text.open(encoding="utf-8-sig") as handle:
        names = {r["Mã đơn vị"]: r["Tên đơn vị"] for r in csv.DictReader(handle)}
    assert [names[f"X{n}"] for n in range(4)] == ["'" + f for f in formulas]
