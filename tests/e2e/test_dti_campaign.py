"""Today's campaigns through the real bot: a DTI campaign on the two-tier map (the bundled DTI samples, one of
them given as its xlsx table, a commune list from vietnam-provinces), and a Việt Trì-style city campaign whose
office coordinates its phòng/ban and phường/xã, with the city an organisational unit that is not assessed."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from cli_helpers import Cli, without_settings
from dialogue_helpers import Clock
from openpyxl import load_workbook

from bot.app import build_application
from bot.demo.fake_telegram import FakeTelegram, run_application
from common.settings import Settings
from rubrics.bundled import BUNDLED_DIR
from rubrics.formatting import vn_number
from storage import campaigns
from storage.agency_import import COLUMNS
from storage.db import Database
from storage.invitations import agency_invitations, coordinator_invitation

HEADER = re.compile(r"· Câu (\d+) · (?:trả lại )?(\d+)/(\d+)")
CENT = D("0.01")
QN_OFFICE = "Sở Khoa học và Công nghệ tỉnh Quảng Ninh"
QN_CONTACT = "Phòng Chuyển đổi số, 0203 3835 000"
QN_LETTER = "1234/SKHCN-CĐS ngày 02/12/2026"


def is_prompt(message) -> bool:
    return bool(HEADER.search(message.text or ""))


def claims(rubric, share: D) -> dict[str, D]:
    """The points a contact claims on each self-scored indicator: ``share`` of its max, to the hundredth."""
    return {
        step.question.id: (step.question.max * share).quantize(CENT)
        for step in rubric.steps
        if step.question.type == "decimal"
    }


def claim_all(user, prompt, rubric, points: dict[str, D]):
    """Answer every question shown, evidence first where the indicator asks for it; the bot's last reply."""
    while True:
        step = rubric.steps[int(HEADER.search(prompt.text).group(1)) - 1]
        question = step.question
        if question.evidence == "required":
            update = user.send_document(f"minh-chung-{question.id}.pdf", b"%PDF-1.4 minh chung", "application/pdf")
            prompt = user.wait_for_reply(after_update=update, match=is_prompt)
        if question.type == "yes_no":  # a 0-point indicator: collected, not scored
            update = user.press("Có", message_id=prompt.message_id)
        else:
            update = user.send_text(vn_number(points[question.id]))
        reply = user.wait_for_reply(after_update=update, match=lambda m: is_prompt(m) or "đã trả lời" in m.text)
        if not is_prompt(reply):
            return reply
        prompt = reply


def submit(user) -> str:
    user.wait_for_reply(after_update=user.send_command("/nop"), match="xác nhận nộp")
    return user.wait_for_reply(after_update=user.press("✅ Xác nhận nộp"), match="BIÊN NHẬN").text


def invitations(db, campaign_id: int, now: datetime, scope: str | None = None) -> tuple[dict[str, str], str]:
    with db.session() as session:
        campaign = campaigns.get(session, campaign_id)
        tokens = {agency.code: inv.token for agency, inv in agency_invitations(session, campaign, now)}
        return tokens, coordinator_invitation(session, campaign, now, scope).token


def write_agencies(path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows({c: row.get(c, "") for c in COLUMNS} for row in rows)


@pytest.fixture
def cli(capsys, database_url, monkeypatch):
    without_settings(monkeypatch)
    command = Cli(capsys, database_url)
    command("db", "upgrade")
    return command


@pytest.fixture
def fake():
    with FakeTelegram() as server:
        yield server


def run_bot(fake, database_url, now):
    """The bot on the database the command line set up, against the fake Bot API, at ``now``."""
    db = Database(database_url, ensure=False)
    application = build_application(Settings(token=fake.token, telegram_api_url=fake.api_url), db, clock=Clock(now))
    return db, run_application(application)


NOW_2026 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 9h00 on a Monday in Hạ Long


def test_a_dti_campaign_on_the_two_tier_map_runs_through_the_bot(cli, fake, database_url, tmp_path):
    communes = tmp_path / "xa.csv"
    cli("agencies", "from-map", "--province", "Quảng Ninh", "-o", str(communes))
    with communes.open(encoding="utf-8-sig") as stream:
        xa_rows = list(csv.DictReader(stream))
    assert len(xa_rows) > 20 and {r["level"] for r in xa_rows} == {"xa"}
    so_rows = [
        {"code": "so-tc", "name": "Sở Tài chính", "level": "so"},
        {"code": "so-yt", "name": "Sở Y tế", "level": "so"},
    ]
    agencies = tmp_path / "don-vi.csv"
    write_agencies(agencies, so_rows + xa_rows)
    table = BUNDLED_DIR / "tables" / "dti-xa.xlsx"  # the commune set given as the province's own table
    created = cli(
        "campaign", "create", "--name", "Đánh giá DTI năm 2026", "--rubric", "so=dti-so", "--rubric", f"xa={table}",
        "--deadline", "2026-12-21 17:00", "--office", QN_OFFICE, "--contact", QN_CONTACT, "--letter", QN_LETTER,
        "--yes", "--json",
    )  # fmt: skip
    campaign = json.loads(created)
    assert campaign["office"] == {"name": QN_OFFICE, "contact": QN_CONTACT, "letter": QN_LETTER}
    assert {level: info["rubric"] for level, info in campaign["levels"].items()} == {"so": "dti-so", "xa": "dti-xa"}
    cli("agencies", "import", "--campaign", str(campaign["id"]), str(agencies))
    shown = cli("campaign", "show", str(campaign["id"]))
    assert f"Cơ quan điều phối: {QN_OFFICE}" in shown and f"Văn bản: {QN_LETTER}" in shown

    db, running = run_bot(fake, database_url, NOW_2026)
    tokens, coordinator = invitations(db, campaign["id"], NOW_2026)
    with db.session() as session:
        rubrics = campaigns.facts(session, campaign["id"]).rubrics
    commune = xa_rows[0]["code"]
    with running:
        fake.wait_for_long_poll()
        so = fake.user(501, "Minh")
        so.send_command(f"/start {tokens['so-tc']}")
        welcome = so.wait_for_reply(match="Kính chào").text
        assert f"Cơ quan điều phối: {QN_OFFICE}, theo văn bản số {QN_LETTER}." in welcome
        assert f"Thắc mắc xin liên hệ: {QN_CONTACT}." in welcome
        first = so.wait_for_reply(match=is_prompt)
        assert first.text.startswith("Nhóm I › 1 Nhận thức số · Câu 1 · 1/31")
        assert "b) Phó Giám đốc Sở là Trưởng Ban chỉ đạo: 15 điểm" in first.text  # "1/2 điểm tối đa" of 30
        assert "Đơn vị thẩm định: Sở Khoa học và Công nghệ" in first.text and "Nguồn số liệu:" in first.text
        so_claims = claims(rubrics["so"], D("0.75"))
        assert "31/31" in claim_all(so, first, rubrics["so"], so_claims).text
        receipt = submit(so)
        so_total = sum(so_claims.values())
        assert f"Điểm tạm tính: {vn_number(so_total, 2)}/1.000" in receipt
        assert f"Điểm chính thức do {QN_OFFICE} thẩm định." in receipt

        xa = fake.user(502, "Lan")
        xa.send_command(f"/start {tokens[commune]}")
        xa_claims = claims(rubrics["xa"], D("0.5"))
        claim_all(xa, xa.wait_for_reply(match=is_prompt), rubrics["xa"], xa_claims)
        assert f"{vn_number(sum(xa_claims.values()), 2)}/1.000" in submit(xa)

        office = fake.user(900, "Điều phối")
        office.wait_for_reply(after_update=office.send_command(f"/start {coordinator}"), match="cán bộ điều phối")
        adjusted = office.wait_for_reply(
            after_update=office.send_command("/dieuchinh so-tc 1.1 15 Phó Giám đốc Sở là Trưởng Ban chỉ đạo"),
            match="điều chỉnh",
        )
        assert "được điều chỉnh thành 15,00" in adjusted.text
        assert "Đã xác nhận" in office.wait_for_reply(after_update=office.send_command("/xacnhan so-tc")).text
        verified_total = so_total - so_claims["diem_1.1"] + D(15)
        ranking = office.wait_for_reply(after_update=office.send_command("/diem so")).text
        assert "tối đa 1.000 điểm" in ranking
        assert f"1. Sở Tài chính [so-tc] — {vn_number(verified_total, 2)} ✓ thẩm định" in ranking
        detail = office.wait_for_reply(after_update=office.send_command("/donvi so-tc")).text
        claimed = vn_number(so_claims["diem_1.1"], 2)
        assert f"1.1 Người đứng đầu làm Trưởng Ban chỉ đạo chuyển đổi số: {claimed}/30 → 15,00" in detail
        assert "Tự đánh giá: 750,00/1.000" in detail and f"Thẩm định: {vn_number(verified_total, 2)}/1.000" in detail

        update = office.send_command("/xuat")
        fake.wait_for_calls("sendDocument", 2, chat_id=900, after=update)
        xlsx = next(c.params["document"].content for c in fake.calls("sendDocument") if c.chat_id == 900)
    workbook = load_workbook(io.BytesIO(xlsx), read_only=True)
    indicators = list(workbook["Chỉ số"].iter_rows(values_only=True))
    assert indicators[0][-4:] == ("Cách tính điểm", "Tài liệu kiểm chứng", "Nguồn số liệu", "Đơn vị thẩm định")
    assert indicators[1][:4] == ("so", "1.1", "Người đứng đầu làm Trưởng Ban chỉ đạo chuyển đổi số", 30)
    about = dict(workbook["Đợt đánh giá"].iter_rows(values_only=True))
    assert about["Cơ quan điều phối"] == QN_OFFICE and about["Văn bản"] == QN_LETTER
    scores = json.loads(cli("scores", "--campaign", str(campaign["id"]), "--json"))
    so_level = next(level for level in scores["levels"] if level["level"] == "so")
    assert D(str(so_level["rubric"]["max"])) == D(1000)
    db.dispose()


VT_OFFICE = "Phòng Văn hóa và Thông tin thành phố Việt Trì"
VT_LETTER = "436/STTTT-CNTT ngày 07/10/2019"
NOW_2019 = datetime(2019, 10, 14, 2, 0, tzinfo=UTC)
VT_AGENCIES = [
    {"code": "phutho", "name": "UBND tỉnh Phú Thọ", "level": ""},
    {"code": "viettri", "name": "UBND thành phố Việt Trì", "level": "", "parent_code": "phutho"},
    {"code": "txphutho", "name": "UBND thị xã Phú Thọ", "level": "", "parent_code": "phutho"},
    {"code": "vt-pnv", "name": "Phòng Nội vụ", "level": "phong", "parent_code": "viettri"},
    {"code": "vt-ptckh", "name": "Phòng Tài chính – Kế hoạch", "level": "phong", "parent_code": "viettri"},
    {"code": "vt-tiencat", "name": "Phường Tiên Cát", "level": "xa", "parent_code": "viettri"},
    {"code": "vt-thuyvan", "name": "Xã Thụy Vân", "level": "xa", "parent_code": "viettri"},
    {"code": "tx-hunglong", "name": "Phường Hùng Vương", "level": "xa", "parent_code": "txphutho"},
]


def test_a_city_office_coordinates_its_phong_and_xa_with_the_city_unassessed(cli, fake, database_url, tmp_path):
    agencies = tmp_path / "viet-tri.csv"
    write_agencies(agencies, VT_AGENCIES)
    campaign_id = cli(
        "campaign", "create", "--name", "Đánh giá ứng dụng CNTT năm 2019", "--rubric", "phong=vt2019-phong",
        "--rubric", "xa=vt2019-xa", "--deadline", "2019-10-28 14:00", "--period", "2018-10-15:2019-10-15",
        "--office", VT_OFFICE, "--contact", "Đồng chí Hà, 0210 3846 000", "--letter", VT_LETTER, "--yes",
    ).strip()  # fmt: skip
    assert "8 mới" in cli("agencies", "import", "--campaign", campaign_id, str(agencies))
    assert "0 mới, 0 cập nhật, 8 không đổi" in cli("agencies", "import", "--campaign", campaign_id, str(agencies))
    shown = cli("campaign", "show", campaign_id)
    assert "Đầu mối: 0/5 đơn vị có số điện thoại" in shown  # the three units that are not assessed are not counted
    db, running = run_bot(fake, database_url, NOW_2019)
    tokens, city = invitations(db, int(campaign_id), NOW_2019, scope="viettri")
    assert sorted(tokens) == ["tx-hunglong", "vt-pnv", "vt-ptckh", "vt-thuyvan", "vt-tiencat"]  # units not invited
    with db.session() as session:
        rubrics = campaigns.facts(session, int(campaign_id)).rubrics
    with running:
        fake.wait_for_long_poll()
        pnv = fake.user(601, "Nội vụ")
        pnv.send_command(f"/start {tokens['vt-pnv']}")
        welcome = pnv.wait_for_reply(match="Kính chào").text
        assert "Hạn nộp: 14h00 ngày 28/10/2019" in welcome and VT_OFFICE in welcome and VT_LETTER in welcome
        points = claims(rubrics["phong"], D("0.8"))
        claim_all(pnv, pnv.wait_for_reply(match=is_prompt), rubrics["phong"], points)
        assert f"Điểm chính thức do {VT_OFFICE} thẩm định." in submit(pnv)

        other = fake.user(602, "Hùng Vương")
        other.send_command(f"/start {tokens['tx-hunglong']}")
        claim_all(other, other.wait_for_reply(match=is_prompt), rubrics["xa"], claims(rubrics["xa"], D("0.9")))
        submit(other)

        office = fake.user(900, "Phòng VH&TT")
        welcome = office.wait_for_reply(after_update=office.send_command(f"/start {city}"), match="cán bộ điều phối")
        assert "cho UBND thành phố Việt Trì và các đơn vị trực thuộc" in welcome.text
        status = office.wait_for_reply(after_update=office.send_command("/tinhhinh")).text
        assert "Hùng Vương" not in status and "thị xã Phú Thọ" not in status
        phong = office.wait_for_reply(after_update=office.send_command("/diem phong")).text
        assert f"1. Phòng Nội vụ [vt-pnv] — {vn_number(sum(points.values()), 2)}" in phong
        assert "tối đa 100 điểm" in phong
        xa = office.wait_for_reply(after_update=office.send_command("/diem xa")).text
        assert "Hùng Vương" not in xa and "Việt Trì [viettri]" not in xa
        refused = office.wait_for_reply(after_update=office.send_command("/donvi tx-hunglong")).text
        assert "Hùng Vương" not in refused
    db.dispose()
