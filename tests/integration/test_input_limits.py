"""Limits on an administrator's input (issue 15, defect 11): a list or a rubric too large is refused at
once, naming the limit, before it is parsed; the national scale (12 000 agencies) imports in seconds, on
SQLite and PostgreSQL."""

from __future__ import annotations

import time

import pytest

from conversations.agency_lists import MAX_LIST_BYTES
from integration import test_agency_lists
from integration.test_agency_lists import agencies, import_, new_campaign
from storage.agency_import import MAX_AGENCIES

cqdt = pytest.fixture(test_agency_lists.cqdt.__wrapped__)

NATIONAL = 12_000
IMPORT_SECONDS = 10.0  # measured: see the README's "Limits on input"


def agency_csv(count: int, *, districts: int = 700) -> str:
    """``districts`` district-level agencies and the rest communes under them, with contacts."""
    lines = ["code,name,level,parent_code,contact_name,contact_phone,contact_email"]
    for n in range(districts):
        lines.append(f"H{n:04d},UBND Huyện số {n},huyen,,Trần Văn Nam,0912{n:06d},huyen{n}@example.gov.vn")
    for n in range(count - districts):
        parent = f"H{n % districts:04d}"
        lines.append(f"X{n:05d},UBND Xã số {n},xa,{parent},Nguyễn Thu Hà,0913{n:06d},xa{n}@example.gov.vn")
    return "\n".join(lines) + "\n"


def test_the_national_scale_imports_in_seconds(cqdt, database_url, tmp_path, capsys):
    campaign_id = new_campaign(database_url)
    path = tmp_path / "don-vi.csv"
    path.write_text(agency_csv(NATIONAL), encoding="utf-8")
    started = time.perf_counter()
    out = import_(cqdt, campaign_id, path)
    first = time.perf_counter() - started
    assert f"{NATIONAL:,}".replace(",", ".") in out or str(NATIONAL) in out
    started = time.perf_counter()
    import_(cqdt, campaign_id, path)  # again: nothing changes
    again = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n{NATIONAL} agencies on {database_url.split(':')[0]}: import {first:.2f} s, again {again:.2f} s")
    assert first < IMPORT_SECONDS and again < IMPORT_SECONDS
    found = agencies(database_url, campaign_id)
    assert len(found) == NATIONAL and found["X00701"][2] == "H0001"


def test_a_list_over_the_byte_limit_is_refused_before_it_is_read(cqdt, database_url, tmp_path):
    campaign_id = new_campaign(database_url)
    path = tmp_path / "don-vi.csv"
    path.write_bytes(b"code,name,level\n" + b"x" * MAX_LIST_BYTES)
    started = time.perf_counter()
    err = import_(cqdt, campaign_id, path, expect=1)
    assert time.perf_counter() - started < 2
    assert f"{MAX_LIST_BYTES:,}".replace(",", ".") in err and "\n" not in err.strip()


def test_a_list_over_the_row_limit_is_refused_naming_it(cqdt, database_url, tmp_path):
    campaign_id = new_campaign(database_url)
    path = tmp_path / "don-vi.csv"
    path.write_text(agency_csv(MAX_AGENCIES + 1), encoding="utf-8")
    started = time.perf_counter()
    err = import_(cqdt, campaign_id, path, expect=1)
    assert time.perf_counter() - started < 5
    assert f"{MAX_AGENCIES:,}".replace(",", ".") in err and "\n" not in err.strip()
    assert agencies(database_url, campaign_id) == {}
