"""The coordinating office as campaign data, and agency rows that are not assessed, from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cli_helpers import Cli, without_settings
from sqlalchemy import select

from storage import campaigns
from storage.db import Database
from storage.invitations import agency_invitations
from storage.models import Agency, Submission

NOW = datetime(2019, 10, 14, 2, 0, tzinfo=UTC)
CREATE = ("campaign", "create", "--name", "Đánh giá năm 2019", "--rubric", "phong=vt2019-phong",
          "--rubric", "xa=vt2019-xa", "--deadline", "2019-10-28 14:00", "--yes")  # fmt: skip


@pytest.fixture
def cqdt(capsys, database_url, monkeypatch):
    without_settings(monkeypatch)
    cli = Cli(capsys, database_url)
    cli("db", "upgrade")
    return cli


@pytest.mark.parametrize(
    "letter",
    ["436/STTTT-CNTT ngày 07/10/2019", "Công văn số 436/STTTT-CNTT ngày 7 tháng 10 năm 2019", "số 436/STTTT-CNTT"],
)
def test_the_letter_is_taken_as_officials_write_it(cqdt, letter):
    created = json.loads(cqdt(*CREATE, "--office", "Phòng Văn hóa và Thông tin", "--letter", letter, "--json"))
    assert created["office"] == {"name": "Phòng Văn hóa và Thông tin", "contact": None, "letter": letter}


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (("--letter", "ngày 07/10/2019"), "Số hiệu văn bản «ngày 07/10/2019» không đúng dạng"),
        (("--letter", "436 STTTT"), "ví dụ «436/STTTT-CNTT ngày 07/10/2019»"),
        (("--office", "Phòng\x07 Văn hóa"), "ký tự điều khiển"),
        (("--contact", "   "), "«--contact» của cơ quan điều phối phải có nội dung"),
    ],
)
def test_a_wrong_office_is_refused_in_one_sentence_and_nothing_is_created(cqdt, options, said):
    error = cqdt(*CREATE, *options, expect=1)
    assert said in error and error.count("\n") == 1
    assert "[]" in cqdt("campaign", "list", "--json")


def test_without_an_office_the_messages_name_no_office(cqdt):
    campaign_id = cqdt(*CREATE).strip()
    shown = cqdt("campaign", "show", campaign_id)
    assert "Cơ quan điều phối" not in shown


def test_a_unit_with_an_empty_level_has_no_submission_and_no_invitation(cqdt, database_url, tmp_path):
    campaign_id = int(cqdt(*CREATE).strip())
    listing = tmp_path / "don-vi.csv"
    listing.write_text(
        "code,name,level,parent_code,contact_name,contact_phone,contact_email\n"
        "viettri,UBND thành phố Việt Trì,,,,,\n"
        "vt-pnv,Phòng Nội vụ,phong,viettri,,,\n"
        "vt-tiencat,Phường Tiên Cát,xa,viettri,,,\n",
        encoding="utf-8",
    )
    assert "3 mới" in cqdt("agencies", "import", "--campaign", str(campaign_id), str(listing))
    db = Database(database_url, ensure=False)
    with db.session() as session:
        levels = {code: level for code, level in session.execute(select(Agency.code, Agency.level))}
        assert levels == {"viettri": "", "vt-pnv": "phong", "vt-tiencat": "xa"}
        with_submission = set(session.scalars(select(Agency.code).join(Submission, Submission.agency_id == Agency.id)))
        assert with_submission == {"vt-pnv", "vt-tiencat"}
        invited = {a.code for a, _ in agency_invitations(session, campaigns.get(session, campaign_id), NOW)}
        assert invited == {"vt-pnv", "vt-tiencat"}
    db.dispose()
    scores = json.loads(cqdt("scores", "--campaign", str(campaign_id), "--json"))
    ranked = {a["code"] for level in scores["levels"] for a in level["agencies"]}
    assert ranked == {"vt-pnv", "vt-tiencat"}
