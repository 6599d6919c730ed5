"""Reading agency lists as offices keep them, without a database: headers, delimiters, encodings, cells,
phones, level names, control characters."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile

import pytest
import xlsxwriter
from openpyxl import Workbook

from common.errors import Refused
from common.phones import normalise_phone
from conversations import agency_lists
from conversations.agency_lists import decode, match_header, read, sniff_delimiter
from storage.agency_import import SourceRow, validate

LEVELS = {"huyen": "Cấp huyện", "xa": "Cấp xã", "so": "Cấp sở, ban, ngành"}
TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def windows_1258(text: str) -> bytes:
    """The text as Excel writes it on a Vietnamese Windows: base letters with their circumflex, breve or
    horn precomposed, the tone mark as a combining character after them."""
    out = []
    for ch in text:
        parts = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES))
        out.append(base + "".join(c for c in parts if c in TONES))
    return "".join(out).encode("cp1258")


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Mã đơn vị", "code"),
        ("MÃ  ĐƠN VỊ (bắt buộc)", "code"),
        ("ma don vi", "code"),
        ("Mã đơn vị cấp trên", "parent_code"),
        ("Tên đơn vị", "name"),
        ("Cấp", "level"),
        ("Họ tên đầu mối", "contact_name"),
        ("Người đầu mối", "contact_name"),
        ("Điện thoại", "contact_phone"),
        ("Số điện thoại", "contact_phone"),
        ("Điện thoại đầu mối", "contact_phone"),
        ("Thư điện tử", "contact_email"),
        ("Email", "contact_email"),
        ("E-mail", "contact_email"),
        ("code", "code"),
        ("parent_code", "parent_code"),
        ("contact_name", "contact_name"),
        ("contact_phone", "contact_phone"),
        ("contact_email", "contact_email"),
        ("STT", agency_lists.IGNORE),
        ("TT", agency_lists.IGNORE),
        ("Mã", "code"),
        ("Tên", "name"),
        ("Mã số thuế", None),
        ("Tên viết tắt", None),
        ("Ghi chú", None),
        ("", None),
    ],
)
def test_headers_are_matched_by_their_words_the_most_specific_first(header, column):
    assert match_header(header) == column


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("+84 912 345 679", "0912 345 679"),
        ("84912345679", "0912 345 679"),
        ("0912.345.679", "0912 345 679"),
        ("0912-345-679", "0912 345 679"),
        ("(+84) 912 345 679", "0912 345 679"),
        ("0084 912 345 679", "0912 345 679"),
        ("912345679", "0912 345 679"),  # a phone typed into a number cell loses its 0
        ("0326 123 456", "0326 123 456"),
        ("02033825123", "0203 3825 123"),
        ("0203.3825.123", "0203 3825 123"),
        ("+84 203 3825 123", "0203 3825 123"),
        ("024 3825 1234", "024 3825 1234"),
        ("02838251234", "028 3825 1234"),
    ],
)
def test_phones_take_the_vietnamese_form(typed, shown):
    assert normalise_phone(typed) == shown


@pytest.mark.parametrize(
    "typed", ["abc68416883", "12345", "0112345678", "091234567", "09123456789", "+1 202 555 0100", "0912+345678"]
)
def test_what_is_not_a_vietnamese_phone_is_not_normalised(typed):
    assert normalise_phone(typed) is None


def test_semicolons_are_found_as_the_delimiter():
    assert sniff_delimiter("Mã đơn vị;Tên đơn vị;Cấp\n193;UBND Thành phố Hạ Long, Quảng Ninh;huyen\n") == ";"
    assert sniff_delimiter("code,name,level\nX1,Xã A; thôn B,xa\n") == ","


def test_a_semicolon_csv_with_a_title_block_reads_by_its_header():
    data = (
        "DANH SÁCH ĐƠN VỊ THAM GIA ĐÁNH GIÁ;;;\n"
        ";;;\n"
        "STT;Mã đơn vị;Tên đơn vị;Cấp\n"
        "1;193;UBND Thành phố Hạ Long;huyen\n"
        ";;;\n"
        "2;06652;UBND Phường Hà Phong;xa\n"
    ).encode()
    listing = read(data, "don-vi.csv")
    assert [(r.line, r.values["code"], r.values["name"]) for r in listing.rows] == [
        (4, "193", "UBND Thành phố Hạ Long"),
        (6, "06652", "UBND Phường Hà Phong"),
    ]
    assert listing.headers == {"code": "Mã đơn vị", "name": "Tên đơn vị", "level": "Cấp"}
    assert listing.rows[0].cells == {}


def test_utf8_with_bom_and_utf16_are_read():
    text = "Mã đơn vị,Tên đơn vị,Cấp\n193,UBND Thành phố Hạ Long,huyen\n"
    assert decode(text.encode("utf-8-sig")) == text
    assert decode(text.encode("utf-16")) == text
    assert read(text.encode("utf-8-sig"), "a.csv").rows[0].values["code"] == "193"


def test_windows_1258_is_decoded_and_composed():
    data = windows_1258("Mã đơn vị,Tên đơn vị,Cấp\n193,UBND Thành phố Hạ Long,huyện\n")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert b"\xcc" in data  # a combining grave accent: the tone mark written apart
    text = decode(data)
    assert "UBND Thành phố Hạ Long" in text and unicodedata.is_normalized("NFC", text)


@pytest.mark.parametrize(
    "data",
    [
        b"code,name,level\nX1,H\xb5 N\xe9i,xa\n",  # TCVN3: "Hà Nội" read as Windows-1258 is "Hµ Néi"
        "code,name,level\nX1,Haø Noäi,xa\n".encode("cp1252"),  # VNI
        b"code,name,level\nX1,\x81\x8d,xa\n",  # bytes Windows-1258 does not define
    ],
)
def test_other_vietnamese_encodings_are_refused_with_the_saving_advice(data):
    with pytest.raises(Refused) as refused:
        read(data, "a.csv")
    assert refused.value.key == "import_encoding"


def test_an_empty_file_and_a_header_alone_have_their_own_refusals():
    for data in (b"", b"\n\n", "\ufeff".encode(), b";;;\n"):
        with pytest.raises(Refused) as refused:
            read(data, "a.csv")
        assert refused.value.key == "import_file_empty"
    with pytest.raises(Refused) as refused:
        read("Mã đơn vị;Tên đơn vị;Cấp\n;;\n".encode(), "a.csv")
    assert refused.value.key == "import_empty"


def test_unknown_and_missing_columns_are_reported_with_the_accepted_ones():
    with pytest.raises(Refused) as refused:
        read("Mã đơn vị,Tên đơn vị,Ghi chú,Điện thoại\n1,A,x,0912345678\n".encode(), "a.csv")
    assert refused.value.key == "import_header"
    params = refused.value.params
    assert params["missing"] == ["Cấp"] and params["unknown"] == ["Ghi chú"] and params["line"] == 1
    assert "Mã đơn vị cấp trên" in params["accepted"] and "Thư điện tử" in params["accepted"]
    with pytest.raises(Refused) as refused:
        read("Mã đơn vị,Tên đơn vị,Cấp,Tên đơn vị\n".encode(), "a.csv")
    assert refused.value.params["duplicate"] == ["Tên đơn vị"]


def xlsx(rows, title="Sheet1") -> bytes:
    stream = io.BytesIO()
    workbook = xlsxwriter.Workbook(stream, {"in_memory": True})
    sheet = workbook.add_worksheet(title)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    workbook.close()
    return stream.getvalue()


def test_a_sheet_with_a_title_block_gives_text_and_cells():
    data = xlsx(
        [
            ["DANH SÁCH ĐƠN VỊ THAM GIA ĐÁNH GIÁ CHÍNH QUYỀN ĐIỆN TỬ NĂM 2019"],
            [],
            ["STT", "Mã đơn vị", "Tên đơn vị", "Cấp", "Mã đơn vị cấp trên", "Số điện thoại"],
            [1, 22015, "UBND Xã Quảng Nghĩa", "Cấp xã", 193.0, 912345679],
            [],
            [2, "06652", "UBND Phường Hà Phong", "xã", "193", "0912.345.678"],
        ],
        title="Danh sách",
    )
    listing = read(data, "don-vi.xlsx")
    assert listing.sheet == "Danh sách"
    first, second = listing.rows
    assert first.values["code"] == "22015" and first.values["parent_code"] == "193"
    assert first.values["contact_phone"] == "912345679"
    assert (
        first.line == 4 and first.cells["code"] == "'Danh sách'!B4" and first.cells["contact_phone"] == "'Danh sách'!F4"
    )
    assert second.line == 6 and second.values["code"] == "06652"


def test_a_sheet_that_states_too_small_a_range_is_read_whole():
    data = xlsx([["Mã đơn vị", "Tên đơn vị", "Cấp"], ["193", "UBND Thành phố Hạ Long", "huyen"], ["X1", "Xã A", "xa"]])
    source = zipfile.ZipFile(io.BytesIO(data))
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:B2"/>', content)
                assert b'"A1:B2"' in content
            target.writestr(item, content)
    rows = read(stream.getvalue(), "a.xlsx").rows
    assert [(r.values["code"], r.values["level"]) for r in rows] == [("193", "huyen"), ("X1", "xa")]


def test_the_sheet_is_chosen_by_name():
    stream = io.BytesIO()
    workbook = Workbook()
    workbook.active.title = "Hướng dẫn"
    workbook.active.append(["Điền danh sách ở trang Đơn vị"])
    sheet = workbook.create_sheet("Đơn vị")
    sheet.append(["Mã đơn vị", "Tên đơn vị", "Cấp"])
    sheet.append(["193", "UBND Thành phố Hạ Long", "huyen"])
    workbook.save(stream)
    assert read(stream.getvalue(), "a.xlsx", sheet="Đơn vị").rows[0].values["code"] == "193"
    with pytest.raises(Refused) as refused:
        read(stream.getvalue(), "a.xlsx", sheet="Trang 3")
    assert refused.value.key == "import_sheet_missing" and refused.value.params["sheets"] == ["Hướng dẫn", "Đơn vị"]
    with pytest.raises(Refused) as refused:
        read(stream.getvalue(), "a.xlsx")  # the first sheet has no header row
    assert refused.value.key == "import_header"


def test_cell_text_drops_the_point_zero_of_whole_numbers():
    assert agency_lists.cell_text(22015.0) == "22015"
    assert agency_lists.cell_text(912345679) == "912345679"
    assert agency_lists.cell_text(1.5) == "1.5"
    assert agency_lists.cell_text(None) == ""
    assert agency_lists.cell_text("UBND_x0000_ xã") == "UBND\x00 xã"  # how a workbook stores a NUL
    assert agency_lists.cell_text("a_x005F_x0000_") == "a_x0000_"  # an escaped underscore


def row(line: int, **values) -> SourceRow:
    return SourceRow(line, {"code": "X1", "name": "Xã A", "level": "xa", **values})


@pytest.mark.parametrize(
    ("written", "level"),
    [("xa", "xa"), ("Cấp xã", "xa"), ("xã", "xa"), ("XÃ", "xa"), ("cap huyen", "huyen"), ("Sở", "so"),
     ("Cấp sở, ban, ngành", "so")],
)  # fmt: skip
def test_a_level_is_its_code_or_its_name(written, level):
    valid, faults = validate([row(2, level=written)], LEVELS)
    assert not faults and valid[0][1].level == level


def test_an_unknown_or_ambiguous_level_is_refused():
    _, faults = validate([row(2, level="phường")], LEVELS)
    assert [f.key for f in faults] == ["import_level"]
    _, faults = validate([row(2, level="xã")], {"a": "Cấp xã", "b": "Cấp xã"})
    assert [f.key for f in faults] == ["import_level"]


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f"])
def test_control_characters_are_refused_with_the_cell(char):
    source = SourceRow(7, {"code": "X1", "name": f"Xã{char}A", "level": "xa"}, {"code": "S!A7", "name": "S!B7"})
    _, faults = validate([source], LEVELS, {"name": "Tên đơn vị"})
    assert [(f.key, f.cell, f.params["field"]) for f in faults] == [("import_control", "S!B7", "Tên đơn vị")]


def test_tabs_and_line_breaks_are_not_control_characters():
    valid, faults = validate([row(2, name="UBND\txã A\nQuảng Ninh")], LEVELS)
    assert not faults and valid


def test_a_bad_phone_names_its_column_and_value():
    _, faults = validate([row(3, contact_phone="0912 34")], LEVELS, {"contact_phone": "Điện thoại"})
    assert [(f.key, f.line, f.params) for f in faults] == [
        ("import_phone", 3, {"field": "Điện thoại", "value": "0912 34"})
    ]
