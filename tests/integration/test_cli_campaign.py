"""A whole campaign scripted from the command line, on SQLite and PostgreSQL.

Three levels (sở, huyện, xã) of the Quảng Ninh 2018 rubrics; 200 real Quảng
Ninh agencies (the 13 district-level units and 171 communes of the pre-2025
map, from vietnam-provinces 0.6, plus 16 departments); invitations with QR
codes; answers loaded through the storage layer; scores and the three exports.
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from cli_helpers import Cli, without_settings
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.cli import main
from rubrics.sample_answers import sample_answers
from storage import campaigns
from storage.answers import set_answer
from storage.db import Database
from storage.models import Agency, Answer, AnswerChange, Invitation, Submission

FIXTURES = Path(__file__).parents[1] / "fixtures"
AGENCIES_CSV = FIXTURES / "quang_ninh_200.csv"


@pytest.fixture
def cqdt(capsys, database_url, monkeypatch):
    without_settings(monkeypatch)
    return Cli(capsys, database_url)


def create_campaign(cqdt) -> int:
    assert "Đã nâng cấp" in cqdt("db", "upgrade")
    out = cqdt(
        "campaign",
        "create",
        "--name",
        "Đánh giá CQĐT năm 2019",
        "--rubric",
        "so=qn2018-so",
        "--rubric",
        "huyen=qn2018-huyen",
        "--rubric",
        "xa=qn2018-xa",
        "--deadline",
        "2019-10-28 14:00",
        "--period",
        "2018-10-15:2019-10-15",
        "--grace",
        "2",
        "--yes",  # the 2019 deadline is past
    )
    return int(out.strip())


def load_answers(url: str, campaign_id: int, seed: int = 7) -> dict[str, str]:
    """Answer the whole rubric for most agencies, part of it for some; submit a few. Returns code → state."""
    rng = random.Random(seed)
    now = datetime(2019, 10, 20, 3, 0, tzinfo=UTC)
    database = Database(url)
    states = {}
    with database.session() as session:
        campaign = campaigns.get(session, campaign_id)
        rubrics = campaigns.rubrics_by_level(campaign)
        agencies = session.scalars(select(Agency).where(Agency.campaign_id == campaign_id).order_by(Agency.code)).all()
        for index, agency in enumerate(agencies):
            if index % 10 == 9:
                states[agency.code] = "not_started"
                continue
            rubric = rubrics[agency.level]
            completeness = 0.5 if index % 10 == 8 else 1.0
            answers = sample_answers(rubric, rng, completeness=completeness)
            current = {}
            for qid, value in answers.items():
                set_answer(session, rubric, agency, qid, value, by=None, source="fixture", now=now, current=current)
                current[qid] = value
            states[agency.code] = "in_progress"
            if index % 3 == 0 and completeness == 1.0:
                submission = session.scalar(select(Submission).where(Submission.agency_id == agency.id))
                submission.state, submission.submitted_at = "submitted", now
                states[agency.code] = "submitted"
    database.dispose()
    return states


def test_campaign_end_to_end_from_the_command_line(cqdt, database_url, tmp_path):
    campaign_id = create_campaign(cqdt)
    shown = json.loads(cqdt("campaign", "show", str(campaign_id), "--json"))
    assert shown["levels"].keys() == {"so", "huyen", "xa"}
    assert shown["deadline"] == "2019-10-28T07:00:00+00:00"  # 14h00 in Hà Nội is 07:00 UTC
    assert "14h00 ngày 28/10/2019" in cqdt("campaign", "show", str(campaign_id))
    assert "Cấp huyện (huyen): bộ tiêu chí qn2018-huyen" in cqdt("campaign", "show", str(campaign_id))

    # import: all 200 agencies; the same file again changes nothing
    assert "200 mới" in cqdt("agencies", "import", "--campaign", str(campaign_id), str(AGENCIES_CSV))
    again = json.loads(cqdt("agencies", "import", "--campaign", str(campaign_id), str(AGENCIES_CSV), "--json"))
    assert again == {"created": 0, "updated": 0, "unchanged": 200}
    contacts = json.loads(cqdt("campaign", "show", str(campaign_id), "--json"))["contacts"]
    with AGENCIES_CSV.open(encoding="utf-8") as handle:
        listed = list(csv.DictReader(handle))
    assert contacts == {
        "agencies": 200,
        "with_phone": sum(1 for r in listed if r["contact_phone"]),
        "with_email": sum(1 for r in listed if r["contact_email"]),
    }
    assert f"{contacts['with_phone']}/200 đơn vị có số điện thoại" in cqdt("campaign", "show", str(campaign_id))

    # invitations: one deep link per agency, a QR code each, stable until used
    qr_dir = tmp_path / "qr"
    rows = json.loads(
        cqdt("invites", "--campaign", str(campaign_id), "--json", "--qr", str(qr_dir), "--bot-username", "cqdt_qn_bot")
    )
    assert len(rows) == 200
    assert all(re.fullmatch(r"https://t\.me/cqdt_qn_bot\?start=[A-Za-z0-9_-]{32}", r["link"]) for r in rows)
    assert len({r["link"] for r in rows}) == 200
    pngs = sorted(qr_dir.glob("*.png"))
    assert len(pngs) == 200 and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    rerun = json.loads(cqdt("invites", "--campaign", str(campaign_id), "--json", "--bot-username", "cqdt_qn_bot"))
    assert [r["link"] for r in rerun] == [r["link"] for r in rows]
    one = json.loads(
        cqdt("invites", "--campaign", str(campaign_id), "--agency", "193", "--json", "--bot-username", "cqdt_qn_bot")
    )
    assert [r["name"] for r in one] == ["UBND Thành phố Hạ Long"]
    coordinator = json.loads(
        cqdt(
            "coordinator",
            "invite",
            "--campaign",
            str(campaign_id),
            "--scope",
            "193",
            "--json",
            "--bot-username",
            "cqdt_qn_bot",
        )
    )
    assert coordinator["scope"] == "193" and "start=" in coordinator["link"]

    states = load_answers(database_url, campaign_id)

    # scores: every agency; the submitted ones ranked within their level, highest first, ties sharing a rank;
    # then the others, with no rank and no band
    scored = json.loads(cqdt("scores", "--campaign", str(campaign_id), "--json"))
    levels = {level["level"]: level["agencies"] for level in scored["levels"]}
    assert {k: len(v) for k, v in levels.items()} == {"so": 16, "huyen": 13, "xa": 171}
    for agencies in levels.values():
        ranked = [a for a in agencies if a["state"] == "submitted"]
        assert agencies[: len(ranked)] == ranked and ranked
        assert all(a["rank"] is None and a["band"] is None for a in agencies[len(ranked) :])
        totals = [Decimal(a["total"]) for a in ranked]
        assert totals == sorted(totals, reverse=True)
        for position, agency in enumerate(ranked):
            first_equal = next(i for i, a in enumerate(ranked) if Decimal(a["total"]) == totals[position])
            assert agency["rank"] == first_equal + 1
        for agency in agencies:
            assert Decimal(agency["total"]) == sum(Decimal(g["converted"]) for g in agency["groups"])
    assert {a["code"]: a["state"] for v in levels.values() for a in v} == states
    assert Decimal(levels["huyen"][0]["max"]) == 170 and Decimal(levels["xa"][0]["max"]) == 100
    # an agency that has not started scores nothing of its own (a district may still earn
    # the indicator computed from its communes' answers)
    not_started = [a for level in ("so", "xa") for a in levels[level] if a["state"] == "not_started"]
    assert not_started and all(Decimal(a["total"]) == 0 for a in not_started)
    only_xa = json.loads(cqdt("scores", "--campaign", str(campaign_id), "--level", "xa", "--json"))
    assert [lv["level"] for lv in only_xa["levels"]] == ["xa"]
    plain = cqdt("scores", "--campaign", str(campaign_id))
    assert "Cấp huyện — " in plain and "Cấp sở, ban, ngành — " in plain and "Cấp huyen" not in plain

    # exports: the xlsx totals equal `scores --json`
    expected = {a["code"]: a for v in levels.values() for a in v}
    xlsx = tmp_path / "ket-qua.xlsx"
    assert "200 đơn vị" in cqdt("export", "--campaign", str(campaign_id), "--format", "xlsx", "-o", str(xlsx))
    workbook = load_workbook(xlsx, read_only=True)
    seen = {}
    for sheet in workbook.worksheets[:3]:
        rows = list(sheet.iter_rows(values_only=True))
        header = rows[0]
        assert header[:3] == ("Hạng", "Mã đơn vị", "Tên đơn vị")
        assert any(h.startswith("Nhóm 1 – quy đổi") for h in header)
        assert any(h.startswith("Câu 1 (") for h in header) and any(h.startswith("Điểm 1.1") for h in header)
        for row in rows[1:]:
            record = dict(zip(header, row))
            seen[record["Mã đơn vị"]] = record
    assert workbook.worksheets[3].title == "Câu hỏi"
    assert seen.keys() == expected.keys()
    for code, record in seen.items():
        assert Decimal(str(record["Tổng điểm"])) == Decimal(expected[code]["total"]), code
        assert record["Hạng"] == expected[code]["rank"]
        assert record["Xếp loại"] == expected[code]["band"]
    assert load_workbook(xlsx).worksheets[0].freeze_panes == "A2"

    csv_path = tmp_path / "ket-qua.csv"
    cqdt("export", "--campaign", str(campaign_id), "--format", "csv", "-o", str(csv_path))
    with csv_path.open(encoding="utf-8-sig") as handle:
        records = list(csv.DictReader(handle))
    assert len(records) == 200
    assert {r["Mã đơn vị"]: Decimal(r["Tổng điểm"]) for r in records} == {
        code: Decimal(a["total"]) for code, a in expected.items()
    }

    json_path = tmp_path / "ket-qua.json"
    cqdt("export", "--campaign", str(campaign_id), "--format", "json", "-o", str(json_path))
    exported = json.loads(json_path.read_text(encoding="utf-8"))
    full = {a["code"]: a for lv in exported["levels"] for a in lv["agencies"]}
    assert {c: a["total"] for c, a in full.items()} == {c: a["total"] for c, a in expected.items()}
    answered = next(a for a in full.values() if a["state"] == "submitted")
    assert answered["answers"] and answered["indicators"]

    listed = json.loads(cqdt("campaign", "list", "--json"))
    assert listed[0]["agencies"] == 200
    assert listed[0]["submitted"] == Counter(states.values())["submitted"]


def test_a_bad_row_imports_nothing_and_names_its_line(cqdt, database_url, tmp_path):
    campaign_id = create_campaign(cqdt)
    lines = AGENCIES_CSV.read_text(encoding="utf-8").splitlines()
    lines[57] = lines[57].replace(",xa,", ",phuong,")  # line 58 of the file: a level the campaign lacks
    lines[120] = lines[120].replace("09", "abc", 1)  # line 121: a phone that is not a phone
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = cqdt("agencies", "import", "--campaign", str(campaign_id), str(bad), expect=1)
    assert "dòng 58:" in err and "phuong" in err and "dòng 121:" in err and "contact_phone" in err
    database = Database(database_url)
    with database.session() as session:
        assert session.scalar(select(func.count(Agency.id))) == 0
    database.dispose()


def test_reimport_with_a_correction_updates_only_that_agency(cqdt, tmp_path):
    campaign_id = create_campaign(cqdt)
    cqdt("agencies", "import", "--campaign", str(campaign_id), str(AGENCIES_CSV))
    changed = AGENCIES_CSV.read_text(encoding="utf-8").replace("UBND Phường Hà Phong", "UBND phường Hà Phong (mới)")
    path = tmp_path / "changed.csv"
    path.write_text(changed, encoding="utf-8")
    result = json.loads(cqdt("agencies", "import", "--campaign", str(campaign_id), str(path), "--json"))
    assert result == {"created": 0, "updated": 1, "unchanged": 199}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["campaign", "create", "--name", "X", "--rubric", "xa=qn2018-xa", "--deadline", "28/10/2019"],
            "YYYY-MM-DD HH:MM",
        ),
        (
            ["campaign", "create", "--name", "X", "--rubric", "huyen=qn2018-xa", "--deadline", "2019-10-28 14:00"],
            "xa=qn2018-xa",
        ),
        (
            ["campaign", "create", "--name", "X", "--rubric", "huyen=qn2018-huyen", "--deadline", "2019-10-28 14:00"],
            "--rubric xa=",
        ),
        (
            ["campaign", "create", "--name", "X", "--rubric", "xa=khong-co", "--deadline", "2019-10-28 14:00"],
            "khong-co",
        ),
        (["campaign", "show", "99"], "cqdt campaign list"),
        (["scores", "--campaign", "99"], "99"),
        (["rubric", "show", "nope"], "qn2018-xa"),
    ],
)
def test_errors_are_one_clear_line(cqdt, args, message):
    cqdt("db", "upgrade")
    err = cqdt(*args, expect=1)
    assert err.count("\n") == 1 and err.startswith("Lỗi: ") and message in err, err
    assert "Traceback" not in err


def test_a_database_that_cannot_be_opened_is_one_line_naming_the_variable(capsys, tmp_path):
    code = main(["--database-url", f"sqlite:///{tmp_path / 'no-such-folder' / 'cqdt.db'}", "campaign", "list"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1, err
    assert err.startswith("Lỗi: Không làm việc được với cơ sở dữ liệu (unable to open database file)")
    assert "CQDT_DATABASE_URL" in err and "Traceback" not in err


def test_usage_errors_are_one_line_too(cqdt):
    err = cqdt("campaign", "create", "--name", "X", expect=2)
    assert err.count("\n") == 1 and ("--rubric" in err or "--deadline" in err), err


def test_server_database_behind_the_code_is_refused_with_the_fix(cqdt, database_url):
    if database_url.startswith("sqlite"):
        assert cqdt("campaign", "list").startswith("Chưa có đợt")  # SQLite is created on first use
    else:
        assert "cqdt db upgrade" in cqdt("campaign", "list", expect=1)


def test_invitations_are_single_use_and_reissued(cqdt, database_url):
    campaign_id = create_campaign(cqdt)
    cqdt("agencies", "import", "--campaign", str(campaign_id), str(AGENCIES_CSV))
    first = json.loads(
        cqdt("invites", "--campaign", str(campaign_id), "--agency", "S01", "--json", "--bot-username", "b")
    )[0]["link"]
    database = Database(database_url)
    with database.session() as session:
        invitation = session.scalar(select(Invitation).where(Invitation.token == first.rsplit("=", 1)[1]))
        invitation.used_by, invitation.used_at = 42, datetime.now(UTC)
    database.dispose()
    second = json.loads(
        cqdt("invites", "--campaign", str(campaign_id), "--agency", "S01", "--json", "--bot-username", "b")
    )[0]["link"]
    assert second != first


def test_invites_without_a_bot_name_explain_what_to_set(cqdt):
    campaign_id = create_campaign(cqdt)
    assert "CQDT_BOT_USERNAME" in cqdt("invites", "--campaign", str(campaign_id), expect=1)


def test_the_bot_name_comes_from_the_environment_and_the_flag_wins(cqdt, monkeypatch):
    campaign_id = create_campaign(cqdt)
    cqdt("agencies", "import", "--campaign", str(campaign_id), str(AGENCIES_CSV))
    monkeypatch.setenv("CQDT_BOT_USERNAME", "@tu_moi_truong_bot")
    args = ("invites", "--campaign", str(campaign_id), "--agency", "S01", "--json")
    assert json.loads(cqdt(*args))[0]["link"].startswith("https://t.me/tu_moi_truong_bot?start=")
    assert json.loads(cqdt(*args, "--bot-username", "co_co_bot"))[0]["link"].startswith("https://t.me/co_co_bot?")


def test_answers_and_their_history_are_kept(cqdt, database_url):
    campaign_id = create_campaign(cqdt)
    cqdt("agencies", "import", "--campaign", str(campaign_id), str(AGENCIES_CSV))
    load_answers(database_url, campaign_id)
    database = Database(database_url)
    with database.session() as session:
        assert session.scalar(select(func.count(AnswerChange.id))) == session.scalar(select(func.count(Answer.id)))
    database.dispose()
