"""The agency list from the official map: every division vietnam-provinces lists for a province, with its
code, and the province found however a person writes its name."""

from __future__ import annotations

import csv
import importlib.util
import io
from collections import Counter

import pytest
import vietnam_provinces as vp
from openpyxl import load_workbook

from bot.texts import refusal
from common.errors import Refused
from conversations import official_map
from conversations.official_map import find_province, listing, normalise, provinces, write_csv, write_xlsx
from storage.agency_import import COLUMNS

HAS_LEGACY = importlib.util.find_spec("vietnam_provinces.legacy") is not None
needs_legacy = pytest.mark.skipif(not HAS_LEGACY, reason="this vietnam-provinces has no pre-2025 map (legacy)")
QUANG_NINH = vp.ProvinceCode.P_22


def library_wards(province_code) -> list:
    return list(vp.Ward.iter_by_province(province_code))


def test_quang_ninh_2025_is_exactly_what_the_library_lists():
    wards = library_wards(QUANG_NINH)
    found = listing("Quảng Ninh")
    assert found.map == "2025" and found.province.code == "22"
    assert len(found.divisions) == len(wards) > 0
    assert {d.code for d in found.divisions} == {f"{int(w.code):05d}" for w in wards}
    by_code = {int(w.code): w for w in wards}
    for division in found.divisions:
        ward = by_code[int(division.code)]
        assert division.name == ward.name
        assert division.level == "xa" and division.parent_code is None
    assert found.counts() == dict(Counter(w.division_type.value for w in wards))
    assert set(found.counts()) <= {"phường", "xã", "đặc khu"}


def test_rows_are_the_importers_columns_with_the_peoples_committee_as_the_agency():
    rows = listing("Quảng Ninh").rows()
    ward = min(library_wards(QUANG_NINH), key=lambda w: int(w.code))
    first = next(r for r in rows if r["code"] == f"{int(ward.code):05d}")
    assert list(first) == list(COLUMNS)
    assert first == {
        "code": f"{int(ward.code):05d}",
        "name": f"UBND {ward.name}",
        "level": "xa",
        "parent_code": "",
        "contact_name": "",
        "contact_phone": "",
        "contact_email": "",
    }


def test_the_2025_map_has_its_34_provinces():
    assert len(provinces("2025")) == len(list(vp.Province.iter_all())) == 34


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Quảng Ninh", "22"),
        ("quang ninh", "22"),
        ("QUẢNG NINH", "22"),
        ("Tỉnh Quảng Ninh", "22"),
        ("  tinh   quang-ninh ", "22"),
        ("22", "22"),
        ("022", "22"),
        ("TP Hồ Chí Minh", "79"),
        ("TP. Hồ Chí Minh", "79"),
        ("Thành phố Hồ Chí Minh", "79"),
        ("Hồ Chí Minh", "79"),
        ("ho chi minh", "79"),
        ("Hà Nội", "01"),
        ("da nang", "48"),
        ("Huế", "46"),
    ],
)
def test_a_province_is_found_however_its_name_is_written(typed, code):
    assert find_province(typed).code == code


def test_normalise_drops_case_diacritics_punctuation_and_prefix():
    assert normalise("Thành phố Đà Nẵng") == normalise("TP. da nang") == "da nang"
    assert normalise("Tỉnh Bà Rịa - Vũng Tàu") == "ba ria vung tau"


def test_an_unknown_province_is_one_sentence_naming_the_closest():
    with pytest.raises(Refused) as raised:
        find_province("Quảng Ninhh")
    assert raised.value.key == "province_unknown"
    closest = raised.value.params["closest"]
    assert normalise(closest[0]) == "quang ninh"  # the package writes "Quảng Ninh" or "Thành phố Quảng Ninh"
    sentence = refusal(raised.value, lang="cli")
    assert "«Quảng Ninhh»" in sentence and closest[0] in sentence and "\n" not in sentence


def test_a_province_merged_in_2025_is_unknown_on_the_2025_map():
    with pytest.raises(Refused) as raised:
        find_province("Bắc Giang")  # merged into Bắc Ninh in 2025
    assert raised.value.key == "province_unknown"
    assert "bac ninh" in {normalise(name) for name in raised.value.params["closest"]}


def test_an_unknown_code_and_nonsense_are_refused():
    for typed in ("99", "xyz"):
        with pytest.raises(Refused) as raised:
            find_province(typed)
        assert raised.value.key == "province_unknown"
        assert "ví dụ «Quảng Ninh»" in refusal(raised.value, lang="cli") or raised.value.params["closest"]


def test_an_ambiguous_name_lists_the_provinces_it_fits():
    with pytest.raises(Refused) as raised:
        find_province("Quảng")
    assert raised.value.key == "province_ambiguous"
    names = raised.value.params["names"]
    assert {"quang ninh", "quang ngai", "quang tri"} <= {normalise(name) for name in names}
    assert all(name in refusal(raised.value, lang="cli") for name in names)


def test_a_level_the_map_does_not_have_is_refused():
    with pytest.raises(Refused) as raised:
        listing("Quảng Ninh", "2025", ["huyen"])
    assert raised.value.key == "map_level_unknown"
    assert listing("Quảng Ninh", "2025", ["xa"]).divisions == listing("Quảng Ninh").divisions


def test_csv_has_a_bom_and_the_importers_header():
    stream = io.BytesIO()
    rows = listing("Quảng Ninh").rows()
    write_csv(stream, rows)
    data = stream.getvalue()
    assert data.startswith("\ufeff".encode())
    parsed = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert parsed == rows
    assert data.decode("utf-8-sig").splitlines()[0] == ",".join(COLUMNS)


def test_xlsx_holds_the_same_table_as_text_cells():
    stream = io.BytesIO()
    rows = listing("Quảng Ninh").rows()
    rows[0] = {**rows[0], "contact_name": "=1+1"}  # a formula typed into a name stays text
    write_xlsx(stream, rows)
    sheet = load_workbook(io.BytesIO(stream.getvalue())).worksheets[0]
    table = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert tuple(table[0]) == COLUMNS
    assert [[v or "" for v in row] for row in table[1:]] == [list(r.values()) for r in rows]
    assert sheet.cell(2, 1).data_type == "s" and sheet.cell(2, 1).value.startswith("0")
    assert sheet.cell(2, 5).data_type == "s" and sheet.cell(2, 5).value == "=1+1"


@pytest.mark.skipif(HAS_LEGACY, reason="this vietnam-provinces has the pre-2025 map")
def test_without_the_legacy_module_the_2024_map_is_one_refusal():
    assert official_map.available_maps() == ["2025"]
    with pytest.raises(Refused) as raised:
        listing("Quảng Ninh", "2024")
    assert raised.value.key == "map_unavailable"
    assert "Python 3.12" in refusal(raised.value, lang="cli")


@needs_legacy
def test_quang_ninh_2024_has_its_districts_and_their_communes():
    from vietnam_provinces import legacy

    districts = list(legacy.District.iter_by_province(legacy.ProvinceCode.P_22))
    wards = [w for d in districts for w in legacy.Ward.iter_by_district(d.code)]
    found = listing("Tỉnh Quảng Ninh", "2024")
    assert found.province.code == "22"
    huyen = [d for d in found.divisions if d.level == "huyen"]
    xa = [d for d in found.divisions if d.level == "xa"]
    assert {d.code for d in huyen} == {f"{int(d.code):03d}" for d in districts}
    assert {d.code for d in xa} == {f"{int(w.code):05d}" for w in wards}
    parents = {f"{int(w.code):05d}": f"{int(w.district_code):03d}" for w in wards}
    assert all(d.parent_code == parents[d.code] for d in xa)
    assert all(d.parent_code is None for d in huyen)
    assert {d.division_type for d in huyen} <= {"quận", "huyện", "thị xã", "thành phố"}
    assert {d.division_type for d in xa} <= {"xã", "phường", "thị trấn"}
    assert found.divisions.index(huyen[-1]) < found.divisions.index(xa[0])  # a parent comes before its children


@needs_legacy
def test_the_2024_map_has_63_provinces_and_its_own_names():
    from vietnam_provinces import legacy

    assert len(provinces("2024")) == len(list(legacy.Province.iter_all())) == 63
    assert find_province("Bắc Giang", "2024").code == "24"
    assert find_province("Vũng Tàu", "2024").code == "77"  # the words of one name only


@needs_legacy
def test_communes_alone_on_the_2024_map_have_no_parent():
    found = listing("Quảng Ninh", "2024", ["xa"])
    assert found.divisions and {d.level for d in found.divisions} == {"xa"}
    assert all(d.parent_code is None for d in found.divisions)
