"""The README's walkthrough, command by command, as a new coordinator types it, on SQLite and PostgreSQL.

Every command runs in its plain form, with ``--json`` where it has one, with ``--help``, and with a bad
argument. Each run fails the test on a traceback, on exit code 0 for an error (or non-zero for a success),
on an error that is not one line, and on English in what a Vietnamese reader sees (the plain output and
stderr; JSON keys are English by design).
"""

from __future__ import annotations

import io
import json
import re
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
from dialogue_helpers import Clock

from bot.cli import main
from conversations.contact_dialogue import ContactDialogue
from conversations.situation import Person
from storage.db import Database

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
# Words of click's and Python's English messages; none of them is Vietnamese.
ENGLISH = re.compile(
    r"\b(Error|Invalid|Usage|Traceback|Missing|No such|expected|option|Options|Commands|Arguments|required|"
    r"default|Show this|Try|Aborted|Got unexpected|is not|does not|must be|not found|denied)\b"
)
AGENCIES = (
    "code,name,level,parent_code,contact_name,contact_phone,contact_email\n"
    "S01,Sở Nội vụ,so,,Phạm Văn Bình,0916807901,vanthu.noivu@quangninh.gov.vn\n"
    "S02,Sở Tài chính,so,,,,\n"
    "193,UBND Thành phố Hạ Long,huyen,,Nguyễn Thị Lan,0203 3825 123,\n"
    "06652,UBND Phường Hà Phong,xa,193,Trần Văn Minh,0912 345 678,haphong@halong.gov.vn\n"
    "06655,UBND Phường Hà Khẩu,xa,193,,,hakhau@halong.gov.vn\n"
    "194,UBND Thành phố Cẩm Phả,huyen,,,,\n"
    "06700,UBND Phường Quang Hanh,xa,194,,0987654321,\n"
)
ANSWERS = "cbcc_tong: 1234\nmay_tinh: 1200\nco_ttdl: na\ndvc_tyle: 88.5\ncong_ttdt: mot_phan\n"
FIXTURES = Path(__file__).parents[1] / "fixtures"
READINESS = FIXTURES / "rubrics" / "tth_readiness.yaml"
BOT = ("--bot-username", "cqdt_qn_bot")


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


class Walkthrough:
    def __init__(self, capsys, url: str):
        self.capsys, self.url = capsys, url
        self.ran: list[tuple[str, ...]] = []

    def _run(self, args: tuple[str, ...]) -> Run:
        self.ran.append(args)
        code = main(["--database-url", self.url, *args])
        captured = self.capsys.readouterr()
        run = Run(code, captured.out, captured.err)
        for text in (run.out, run.err):
            assert "Traceback" not in text and "Error:" not in text, (args, text)
        if "--json" not in args:
            assert not ENGLISH.search(run.out), (args, ENGLISH.search(run.out), run.out)
        assert not ENGLISH.search(run.err), (args, ENGLISH.search(run.err), run.err)
        return run

    def ok(self, *args: str) -> Run:
        run = self._run(args)
        assert run.code == 0, (args, run.err)
        if "--json" in args:
            run.json()  # stdout is JSON, nothing else
        return run

    def bad(self, *args: str, says: str | None = None) -> Run:
        """A wrong command: a non-zero exit and one Vietnamese line on stderr, saying ``says``."""
        run = self._run(args)
        assert run.code != 0, (args, run.out)
        assert run.err.startswith("Lỗi: ") and run.err.count("\n") == 1, (args, run.err)
        assert says is None or says in run.err, (args, run.err)
        return run

    def help(self, *command: str) -> Run:
        run = self.ok(*command, "--help")
        assert run.out.startswith(f"Cách dùng: cqdt {' '.join(command)}".rstrip()), run.out
        assert "Tùy chọn:" in run.out and "Xem hướng dẫn này." in run.out
        return run


@pytest.fixture
def cqdt(capsys, database_url, monkeypatch):
    for name in ("CQDT_BOT_USERNAME", "TELEGRAM_BOT_TOKEN", "CQDT_DATABASE_URL", "CQDT_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    return Walkthrough(capsys, database_url)


def working_day(after: date) -> date:
    """The first Tuesday after ``after`` that is not a Vietnamese public holiday."""
    day = after + timedelta(days=(1 - after.weekday()) % 7 or 7)
    while day in holidays.country_holidays("VN", years=[day.year]):
        day += timedelta(days=7)
    return day


def test_the_walkthrough_on_the_command_line(cqdt, database_url, tmp_path, monkeypatch):
    # 0. the database
    assert "Đã nâng cấp cơ sở dữ liệu" in cqdt.ok("db", "upgrade").out
    assert "đã ở phiên bản mới nhất" in cqdt.ok("db", "upgrade").out
    cqdt.help("db", "upgrade")
    cqdt.bad("db", "upgrade", "thừa", says="Thừa tham số: thừa")
    cqdt.bad("db", "nâng-cấp", says="Không có lệnh «nâng-cấp»")
    cqdt.bad("khong-co-lenh", says="Không có lệnh «khong-co-lenh». Xem hướng dẫn bằng «cqdt --help».")
    cqdt.bad(says="Lỗi: Thiếu tên lệnh. Xem hướng dẫn bằng «cqdt --help».")  # `cqdt --database-url …` alone
    cqdt.help()

    # 1. the rubrics
    listed = cqdt.ok("rubric", "list").out
    assert "qn2018-huyen" in listed
    assert "qn2018-huyen" in {r["id"] for r in cqdt.ok("rubric", "list", "--json").json()}
    cqdt.help("rubric", "list")
    cqdt.bad("rubric", "list", "--jsn", says="Không có tùy chọn «--jsn». Có phải ý là '--json'?")
    shown = cqdt.ok("rubric", "show", "qn2018-huyen").out
    assert "cấp huyen (Cấp huyện)" in shown
    assert cqdt.ok("rubric", "show", "qn2018-huyen", "--json").json()["id"] == "qn2018-huyen"
    cqdt.help("rubric", "show")
    cqdt.bad("rubric", "show", "khong-co", says="khong-co")
    cqdt.bad("rubric", "show", says="Thiếu tham số")
    assert "Hợp lệ:" in cqdt.ok("rubric", "validate", str(READINESS)).out
    cqdt.help("rubric", "validate")
    cqdt.bad("rubric", "validate", str(tmp_path), says="là một thư mục, không phải tệp")
    cqdt.bad("rubric", "validate", str(tmp_path / "khong-co.yaml"))
    answers = tmp_path / "tra-loi.yaml"
    answers.write_text(ANSWERS, encoding="utf-8")
    assert "Tổng điểm:" in cqdt.ok("rubric", "score", str(READINESS), str(answers)).out
    assert "total" in cqdt.ok("rubric", "score", str(READINESS), str(answers), "--json").json()
    cqdt.help("rubric", "score")
    cqdt.bad("rubric", "score", str(READINESS), str(tmp_path / "khong-co.yaml"), says="không có tệp hay thư mục này")

    # 2. the campaign, as the README writes it: its 2019 deadline is past, so it asks first
    create = (
        "campaign",
        "create",
        "--name",
        "Đánh giá CQĐT năm 2019",
        *("--rubric", "so=qn2018-so", "--rubric", "huyen=qn2018-huyen", "--rubric", "xa=qn2018-xa"),
        *("--deadline", "2019-10-28 14:00", "--period", "2018-10-15:2019-10-15", "--grace", "2"),
    )
    refused = cqdt.bad(*create, says="Hạn chót 14h00 thứ Hai, ngày 28/10/2019 (giờ Asia/Ho_Chi_Minh) đã qua")
    assert "--yes" in refused.err
    assert cqdt.ok("campaign", "list", "--json").json() == []  # nothing was created
    created = cqdt.ok(*create, "--yes")
    campaign = created.out.strip()
    assert campaign.isdigit()
    assert "Lưu ý: hạn chót 14h00 thứ Hai, ngày 28/10/2019 (giờ Asia/Ho_Chi_Minh) đã qua." in created.err
    other = cqdt.ok(*create, "--yes", "--json").json()
    assert other["levels"]["huyen"]["level_name"] == "Cấp huyện"
    cqdt.help("campaign", "create")
    bad_create = [a for a in create if a not in ("--grace", "2")]
    cqdt.bad(*bad_create, "--grace", "-1", says="Giá trị của '--grace' không hợp lệ: -1 nằm ngoài khoảng cho phép")
    cqdt.bad("campaign", "create", "--name", "X", "--rubric", "xa=qn2018-xa", says="Thiếu tùy chọn '--deadline'")
    cqdt.bad("campaign", "create", "--name", "X", "--rubric", "xa=qn2018-xa", "--deadline", "28/10/2019")
    cqdt.bad("campaign", "create", "--name", "X", "--rubric", "huyen=qn2018-xa", "--deadline", "2019-10-28 14:00")

    # the campaign list and one campaign: level names, not codes
    listing = cqdt.ok("campaign", "list").out
    assert "Cấp sở, ban, ngành, Cấp huyện, Cấp xã" in listing
    assert len(cqdt.ok("campaign", "list", "--json").json()) == 2
    cqdt.help("campaign", "list")
    cqdt.bad("campaign", "list", "1", says="Thừa tham số: 1")
    show = cqdt.ok("campaign", "show", campaign).out
    assert "Cấp huyện (huyen): bộ tiêu chí qn2018-huyen" in show and "Cấp huyen" not in show
    assert cqdt.ok("campaign", "show", campaign, "--json").json()["contacts"]["agencies"] == 0
    cqdt.help("campaign", "show")
    cqdt.bad("campaign", "show", "99", says="Không có đợt đánh giá số 99")
    cqdt.bad("campaign", "show", "abc", says="«abc» không phải là một số hợp lệ")

    # 3. the agencies, from a CSV the office wrote
    csv_path = tmp_path / "don-vi.csv"
    csv_path.write_text(AGENCIES, encoding="utf-8")
    assert "7 mới" in cqdt.ok("agencies", "import", "--campaign", campaign, str(csv_path)).out
    again = cqdt.ok("agencies", "import", "--campaign", campaign, str(csv_path), "--json").json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 7)
    cqdt.help("agencies", "import")
    cqdt.bad("agencies", "import", "--campaign", campaign, str(tmp_path / "khong-co.csv"))
    cqdt.bad("agencies", "import", "--campaign", "99", str(csv_path), says="99")
    cqdt.bad("agencies", "import", str(csv_path), says="Thiếu tùy chọn '--campaign'")
    contacts = cqdt.ok("campaign", "show", campaign, "--json").json()["contacts"]
    assert contacts == {"agencies": 7, "with_phone": 4, "with_email": 3}
    assert "Đầu mối: 4/7 đơn vị có số điện thoại, 3/7 có thư điện tử." in cqdt.ok("campaign", "show", campaign).out

    # 4. the invitations: the plain table, JSON, QR codes
    table = cqdt.ok("invites", "--campaign", campaign, *BOT).out.splitlines()
    assert len(table) == 7
    by_code = {line.split("\t")[0]: line.split("\t")[1:] for line in table}
    name, link = by_code["06652"]
    assert name == "UBND Phường Hà Phong" and len(by_code) == 7
    assert re.fullmatch(r"https://t\.me/cqdt_qn_bot\?start=[A-Za-z0-9_-]{32}", link)
    rows = cqdt.ok("invites", "--campaign", campaign, "--json", *BOT).json()
    assert [(r["code"], r["link"]) for r in rows] == [tuple(line.split("\t")[::2]) for line in table]
    qr = cqdt.ok("invites", "--campaign", campaign, "--qr", str(tmp_path / "qr"), *BOT).out
    assert "Đã ghi 7 mã QR vào" in qr and len(list((tmp_path / "qr").glob("*.png"))) == 7
    assert cqdt.ok("invites", "--campaign", campaign, "--agency", "S01", *BOT).out.startswith("S01\tSở Nội vụ\t")
    cqdt.help("invites")
    nope = cqdt.bad("invites", "--campaign", campaign, "--agency", "NOPE", *BOT, says="«NOPE» trong đợt đánh giá này")
    assert "/diem" not in nope.err
    cqdt.bad("invites", "--campaign", campaign, says="CQDT_BOT_USERNAME")
    cqdt.bad("invites", "--campaign", says="Tùy chọn «--campaign» cần một giá trị.")
    cqdt.bad("invites", "--campaign", campaign, "--qr", str(csv_path), *BOT, says="là một tệp, không phải thư mục")
    province = cqdt.ok("coordinator", "invite", "--campaign", campaign, *BOT).out
    assert "phạm vi: toàn bộ đợt đánh giá" in province
    city = cqdt.ok("coordinator", "invite", "--campaign", campaign, "--scope", "193", "--json", *BOT).json()
    assert city["scope"] == "193" and "start=" in city["link"]
    cqdt.help("coordinator", "invite")
    cqdt.bad("coordinator", "invite", "--campaign", campaign, "--scope", "NOPE", *BOT, says="«NOPE»")

    # 5. the results
    scores = cqdt.ok("scores", "--campaign", campaign).out
    assert "Cấp huyện — " in scores and "Cấp xã — " in scores and "Cấp huyen" not in scores
    scored = cqdt.ok("scores", "--campaign", campaign, "--json").json()
    assert {a["code"] for level in scored["levels"] for a in level["agencies"]} == {
        "S01",
        "S02",
        "193",
        "194",
        "06652",
        "06655",
        "06700",
    }
    assert "Cấp xã — " not in cqdt.ok("scores", "--campaign", campaign, "--level", "huyen").out
    cqdt.help("scores")
    cqdt.bad("scores", "--campaign", campaign, "--level", "phuong", says="«phuong»")
    cqdt.bad("scores", "--campaign", "abc", says="«abc» không phải là một số hợp lệ")
    cqdt.bad("scores", "--campagn", campaign, says="Không có tùy chọn «--campagn»")
    for fmt in ("xlsx", "csv", "json"):
        out = tmp_path / f"ket-qua.{fmt}"
        assert "Đã xuất 7 đơn vị" in cqdt.ok("export", "--campaign", campaign, "--format", fmt, "-o", str(out)).out
        assert out.stat().st_size > 0
    assert {a["code"] for lv in json.loads((tmp_path / "ket-qua.json").read_text())["levels"] for a in lv["agencies"]}
    cqdt.help("export")
    cqdt.bad("export", "--campaign", campaign, "--format", "pdf", "-o", "x.pdf", says="«pdf» không hợp lệ")
    cqdt.bad("export", "--campaign", campaign, "-o", "x.csv", says="Chọn một trong: xlsx, csv, json, annex, docx.")
    unwritable = str(tmp_path / "khong-co" / "ket-qua.csv")
    cqdt.bad("export", "--campaign", campaign, "--format", "csv", "-o", unwritable, says="không có tệp hay thư mục")

    # reminders: the deadline moves to a working day ahead, a contact registers, the plan names the agency
    ahead = working_day(datetime.now(ZONE).date() + timedelta(days=20))
    moved = cqdt.ok("campaign", "set-deadline", campaign, f"{ahead.isoformat()} 14:00").out
    assert f"Hạn chót mới: 14h00 thứ Ba, ngày {ahead:%d/%m/%Y} (giờ Asia/Ho_Chi_Minh)" in moved
    cqdt.help("campaign", "set-deadline")
    cqdt.bad("campaign", "set-deadline", campaign, "04/11/2019 14:00", says="YYYY-MM-DD HH:MM")
    cqdt.bad("campaign", "set-deadline", "99", f"{ahead.isoformat()} 14:00", says="Không có đợt đánh giá số 99")
    saturday = ahead + timedelta(days=4)
    cqdt.bad("campaign", "set-deadline", campaign, f"{saturday.isoformat()} 14:00", says="ngày nghỉ cuối tuần")
    # at a terminal it asks: "n" leaves the deadline, "y" moves it
    monkeypatch.setattr("bot.cli.campaign.interactive", lambda: True)
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    declined = cqdt._run(("campaign", "set-deadline", campaign, f"{saturday.isoformat()} 14:00"))
    assert declined.code == 1 and declined.err.endswith("Vẫn đặt hạn chót này? [y/N]: Đã huỷ.\n"), declined
    assert "ngày nghỉ cuối tuần" in declined.err
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    asked = cqdt.ok("campaign", "set-deadline", campaign, f"{saturday.isoformat()} 14:00")
    assert "Vẫn đặt hạn chót này? [y/N]" in asked.err and "thứ Bảy" in asked.out
    monkeypatch.setattr("bot.cli.campaign.interactive", lambda: False)
    cqdt.ok("campaign", "set-deadline", campaign, f"{ahead.isoformat()} 14:00")
    assert (
        "Đã đổi chính sách nhắc hạn"
        in cqdt.ok(
            "campaign",
            "set-reminders",
            campaign,
            *("--offsets", "7d,3d,1d,2h", "--hours", "07:30-17:30", "--days", "mon-fri"),
        ).out
    )
    cqdt.help("campaign", "set-reminders")
    cqdt.bad("campaign", "set-reminders", campaign, "--offsets", "soon", says="7d,3d,1d,2h")
    cqdt.bad("campaign", "set-reminders", campaign, "--catch-up", "-3", says="nằm ngoài khoảng cho phép")

    token = next(r["link"] for r in rows if r["code"] == "06652").rsplit("=", 1)[1]
    database = Database(database_url)
    ContactDialogue(database, Clock(datetime.now(UTC))).start(Person(4242, 4242, "Trần Văn Minh"), token)
    database.dispose()
    plan = cqdt.ok("remind", "--campaign", campaign, "--json").json()["notifications"]
    named = [row for row in plan if row["agency"]]
    assert named and all(row["agency_code"] == "06652" for row in named)
    shown = cqdt.ok("remind", "--campaign", campaign).out
    assert "nhắc hạn          chờ gửi   06652 UBND Phường Hà Phong (Telegram 4242)" in shown, shown
    assert "reminder" not in shown and "pending" not in shown
    cqdt.help("remind")
    cqdt.bad("remind", "--campaign", "99", says="Không có đợt đánh giá số 99")
    cqdt.bad("remind", "--campaign", campaign, "--send-due", says="TELEGRAM_BOT_TOKEN")

    # every command of the walkthrough ran
    ran = {
        args[:2] if args and args[0] in ("db", "rubric", "campaign", "agencies", "coordinator") else args[:1]
        for args in cqdt.ran
    }
    assert ran >= {
        ("db", "upgrade"),
        *(("rubric", c) for c in ("list", "show", "validate", "score")),
        *(("campaign", c) for c in ("create", "list", "show", "set-deadline", "set-reminders")),
        ("agencies", "import"),
        ("invites",),
        ("coordinator", "invite"),
        ("scores",),
        ("export",),
        ("remind",),
    }
