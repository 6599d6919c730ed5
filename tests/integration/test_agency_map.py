"""``cqdt agencies from-map`` then ``cqdt agencies import``: the official map's list imports cleanly into a
campaign, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import pytest
import vietnam_provinces as vp
from cli_helpers import Cli, without_settings
from sqlalchemy import select

from storage.db import Database
from storage.models import Agency

HAS_LEGACY = importlib.util.find_spec("vietnam_provinces.legacy") is not None
needs_legacy = pytest.mark.skipif(not HAS_LEGACY, reason="this vietnam-provinces has no pre-2025 map (legacy)")


@pytest.fixture
def cqdt(capsys, database_url, monkeypatch):
    without_settings(monkeypatch)
    cli = Cli(capsys, database_url)
    cli("db", "upgrade")
    return cli


def create_campaign(cqdt, *rubrics: str) -> int:
    options = [part for rubric in rubrics for part in ("--rubric", rubric)]
    out = cqdt(
        "campaign",
        "create",
        "--name",
        "Đánh giá chuyển đổi số năm 2026",
        *options,
        "--deadline",
        "2027-10-28 14:00",  # a Thursday in the future: no question about the deadline
        "--period",
        "2026-10-15:2027-10-15",
    )
    return int(out.strip())


def stored(url: str, campaign_id: int) -> dict[str, tuple[str, str, str | None]]:
    """code → (name, level, parent's code) of the campaign's agencies."""
    database = Database(url)
    try:
        with database.session() as session:
            agencies = session.scalars(select(Agency).where(Agency.campaign_id == campaign_id)).all()
            return {a.code: (a.name, a.level, a.parent.code if a.parent else None) for a in agencies}
    finally:
        database.dispose()


def test_quang_ninh_2025_from_the_map_imports_into_a_commune_campaign(cqdt, tmp_path: Path):
    wards = list(vp.Ward.iter_by_province(vp.ProvinceCode.P_22))
    path = tmp_path / "don-vi.csv"
    out = cqdt("agencies", "from-map", "--province", "Quảng Ninh", "-o", str(path))
    assert f"Đã ghi {len(wards)} đơn vị" in out and str(path) in out
    assert "phường" in out and "xã" in out

    campaign_id = create_campaign(cqdt, "xa=qn2018-xa")
    result = json.loads(cqdt("agencies", "import", "--campaign", str(campaign_id), str(path), "--json"))
    assert (result["created"], result["updated"], result["unchanged"]) == (len(wards), 0, 0)

    agencies = stored(cqdt.url, campaign_id)
    assert agencies == {f"{int(w.code):05d}": (f"UBND {w.name}", "xa", None) for w in wards}

    again = json.loads(cqdt("agencies", "import", "--campaign", str(campaign_id), str(path), "--json"))
    assert (again["created"], again["unchanged"]) == (0, len(wards))


def test_from_map_json_prints_the_rows_it_would_write(cqdt, tmp_path: Path):
    path = tmp_path / "don-vi.csv"
    data = json.loads(cqdt("agencies", "from-map", "--province", "quang ninh", "--json", "-o", str(path)))
    with path.open(encoding="utf-8-sig", newline="") as stream:
        assert list(csv.DictReader(stream)) == data["rows"]
    assert data["map"] == "2025" and data["province"]["code"] == "22" and data["levels"] == ["xa"]
    assert sum(data["counts"].values()) == len(data["rows"])


def test_from_map_refuses_an_unknown_province_without_writing(cqdt, tmp_path: Path):
    path = tmp_path / "don-vi.csv"
    err = cqdt("agencies", "from-map", "--province", "Quảng Ninhh", "-o", str(path), expect=1)
    assert "Không có tỉnh, thành phố «Quảng Ninhh» trên bản đồ 2025; tên gần nhất:" in err
    assert "Traceback" not in err and not path.exists()
    err = cqdt("agencies", "from-map", "--province", "Quảng Ninh", expect=1)
    assert "-o don-vi.csv" in err


@pytest.mark.skipif(HAS_LEGACY, reason="this vietnam-provinces has the pre-2025 map")
def test_the_2024_map_without_the_legacy_module_is_refused(cqdt, tmp_path: Path):
    path = tmp_path / "don-vi.csv"
    err = cqdt("agencies", "from-map", "--province", "Quảng Ninh", "--map", "2024", "-o", str(path), expect=1)
    assert "bản đồ hành chính 2024" in err and not path.exists()


@needs_legacy
def test_quang_ninh_2024_imports_with_each_commune_under_its_district(cqdt, tmp_path: Path):
    from vietnam_provinces import legacy

    districts = list(legacy.District.iter_by_province(legacy.ProvinceCode.P_22))
    wards = [w for d in districts for w in legacy.Ward.iter_by_district(d.code)]
    path = tmp_path / "don-vi.csv"
    out = cqdt("agencies", "from-map", "--province", "Tỉnh Quảng Ninh", "--map", "2024", "-o", str(path))
    assert f"Đã ghi {len(districts) + len(wards)} đơn vị" in out and "huyện" in out and "thị trấn" in out

    campaign_id = create_campaign(cqdt, "huyen=qn2018-huyen", "xa=qn2018-xa")
    result = json.loads(cqdt("agencies", "import", "--campaign", str(campaign_id), str(path), "--json"))
    assert result["created"] == len(districts) + len(wards)

    agencies = stored(cqdt.url, campaign_id)
    assert {code for code, (_, level, _) in agencies.items() if level == "huyen"} == {
        f"{int(d.code):03d}" for d in districts
    }
    for ward in wards:
        name, level, parent = agencies[f"{int(ward.code):05d}"]
        assert (name, level, parent) == (f"UBND {ward.name}", "xa", f"{int(ward.district_code):03d}")
    assert agencies["193"][0] == "UBND Thành phố Hạ Long"  # the demo's name for it


@needs_legacy
def test_communes_alone_on_the_2024_map_import_into_a_commune_campaign(cqdt, tmp_path: Path):
    path = tmp_path / "don-vi.csv"
    cqdt("agencies", "from-map", "--province", "22", "--map", "2024", "--levels", "xa", "-o", str(path))
    campaign_id = create_campaign(cqdt, "xa=qn2018-xa")
    result = json.loads(cqdt("agencies", "import", "--campaign", str(campaign_id), str(path), "--json"))
    agencies = stored(cqdt.url, campaign_id)
    assert result["created"] == len(agencies) > 0
    assert {level for _, level, _ in agencies.values()} == {"xa"}
    assert all(parent is None for _, _, parent in agencies.values())
