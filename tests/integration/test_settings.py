"""The one settings object: read from the environment once per command, flags over it, secrets never shown,
a bad value refused in one Vietnamese line."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.cli.context import CliContext, dump_json
from bot.texts import refusal
from common import settings as settings_module
from common.errors import Refused
from common.settings import Settings, load

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:SECRET-TOKEN-abcdef"
WEBHOOK_SECRET = "webhook-s3cret-value"
VARIABLES = {
    "TELEGRAM_BOT_TOKEN": TOKEN,
    "CQDT_DATABASE_URL": "sqlite:////srv/cqdt/cqdt.db",
    "CQDT_TIMEZONE": "Asia/Bangkok",
    "CQDT_TELEGRAM_API_URL": "http://127.0.0.1:8081/bot",
    "CQDT_BOT_USERNAME": "cqdt_qn_bot",
    "CQDT_EVIDENCE_DIR": "/srv/cqdt/minh-chung",
    "CQDT_LOG_FORMAT": "json",
    "CQDT_WEBHOOK_URL": "https://cqdt.example.gov.vn/telegram",
    "CQDT_WEBHOOK_SECRET": WEBHOOK_SECRET,
}


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def environment(monkeypatch):
    for name, value in VARIABLES.items():
        monkeypatch.setenv(name, value)


def test_every_variable_is_read_from_the_environment(environment):
    settings = load()
    assert settings.token_value() == TOKEN and settings.webhook_secret.get_secret_value() == WEBHOOK_SECRET
    assert (settings.database_url, settings.timezone, settings.telegram_api_url) == (
        "sqlite:////srv/cqdt/cqdt.db",
        "Asia/Bangkok",
        "http://127.0.0.1:8081/bot",
    )
    assert (settings.bot_username, settings.evidence_dir, settings.log_format, settings.webhook_url) == (
        "cqdt_qn_bot",
        Path("/srv/cqdt/minh-chung"),
        "json",
        "https://cqdt.example.gov.vn/telegram",
    )
    assert settings.zone.key == "Asia/Bangkok"


def test_unset_or_empty_variables_give_the_defaults(monkeypatch):
    monkeypatch.setenv("CQDT_TIMEZONE", "")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    assert load() == Settings()
    assert (Settings().database_url, Settings().timezone, Settings().telegram_api_url, Settings().token) == (
        "sqlite:///cqdt.db",
        "Asia/Ho_Chi_Minh",
        "https://api.telegram.org/bot",
        None,
    )


def test_settings_made_in_code_read_no_environment(environment):
    assert Settings(token="1:x") == Settings(token="1:x", timezone="Asia/Ho_Chi_Minh")
    assert Settings(token="1:x").database_url == "sqlite:///cqdt.db"


def test_flags_override_the_environment_and_absent_flags_do_not(environment):
    settings = load(database_url="sqlite:///other.db", timezone="UTC", token=None, telegram_api_url=None)
    assert (settings.database_url, settings.timezone) == ("sqlite:///other.db", "UTC")
    assert settings.token_value() == TOKEN and settings.telegram_api_url == "http://127.0.0.1:8081/bot"
    served = settings.override(log_format="text", webhook_url=None, webhook_secret="from-the-flag")
    assert served.log_format == "text" and served.webhook_url == "https://cqdt.example.gov.vn/telegram"
    assert served.webhook_secret.get_secret_value() == "from-the-flag"
    assert settings.override(evidence_dir=None) is settings


def test_the_command_line_flag_wins_over_the_variable(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("CQDT_DATABASE_URL", f"sqlite:///{tmp_path / 'from-env.db'}")
    assert main(["--database-url", f"sqlite:///{tmp_path / 'from-flag.db'}", "campaign", "list"]) == 0
    assert (tmp_path / "from-flag.db").exists() and not (tmp_path / "from-env.db").exists()
    assert main(["campaign", "list"]) == 0
    assert (tmp_path / "from-env.db").exists()
    capsys.readouterr()


def test_a_command_reads_the_environment_once(monkeypatch, tmp_path, capsys):
    reads = []

    class Counted(settings_module._Environment):
        def __init__(self, **flags):
            reads.append(flags)
            super().__init__(**flags)

    monkeypatch.setattr(settings_module, "_Environment", Counted)
    monkeypatch.setenv("CQDT_DATABASE_URL", f"sqlite:///{tmp_path / 'cqdt.db'}")
    for command in (["db", "upgrade"], ["campaign", "list"], ["--timezone", "UTC", "campaign", "list", "--json"]):
        reads.clear()
        assert main(command) == 0, capsys.readouterr().err
        assert len(reads) == 1, command
    assert reads == [{"timezone": "UTC"}]
    capsys.readouterr()


def test_only_common_settings_reads_the_environment():
    readers = re.compile(r"os\.environ|os\.getenv|getenv\(|envvar\s*=")
    found = [
        str(path.relative_to(ROOT))
        for package in ("bot", "conversations", "storage", "rubrics", "common")
        for path in (ROOT / package).rglob("*.py")
        if readers.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []  # common/settings.py reads it through pydantic-settings


def test_the_token_and_the_webhook_secret_never_print(environment, caplog):
    settings = load()
    context = CliContext(settings)
    shown = [
        repr(settings),
        str(settings),
        f"{settings}",
        repr(context),
        settings.model_dump_json(),
        json.dumps(settings.model_dump(mode="json")),
        dump_json(settings.model_dump(mode="json")),
        repr(settings.override(timezone="UTC")),
    ]
    with caplog.at_level(logging.INFO):
        logging.getLogger("cqdt.test").info("settings: %s %r", settings, settings)
    shown.append(caplog.text)
    for text in shown:
        assert TOKEN not in text and WEBHOOK_SECRET not in text, text
        assert "**********" in text
    assert context.token == TOKEN  # what the Bot API client is given


def test_a_bad_value_is_refused_without_showing_the_secrets(environment, monkeypatch):
    monkeypatch.setenv("CQDT_LOG_FORMAT", "xml")
    with pytest.raises(Refused) as refused:
        load()
    message = refusal(refused.value, lang="cli")
    assert message == "Giá trị của CQDT_LOG_FORMAT không hợp lệ; chỉ dùng được text hoặc json."
    assert TOKEN not in repr(refused.value) + str(refused.value.params)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Asia/Ha_Noi", "../etc/passwd", ""])
def test_an_unknown_time_zone_is_refused(zone):
    for build in (lambda: load(timezone=zone), lambda: Settings().override(timezone=zone)):
        with pytest.raises(Refused) as refused:
            build()
        assert refused.value.key == "timezone_unknown" and refused.value.params["timezone"] == zone


@pytest.mark.parametrize("where", ["env", "flag"])
def test_an_unknown_time_zone_is_one_vietnamese_line(where, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    args = ["--database-url", f"sqlite:///{tmp_path / 'cqdt.db'}", "campaign", "list"]
    if where == "env":
        monkeypatch.setenv("CQDT_TIMEZONE", "Asia/Ha_Noi")
    else:
        args = ["--timezone", "Asia/Ha_Noi", *args]
    assert main(args) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "Lỗi: Múi giờ «Asia/Ha_Noi» không tồn tại; hãy đặt CQDT_TIMEZONE (hoặc --timezone) "
        "bằng tên múi giờ IANA, ví dụ Asia/Ho_Chi_Minh.\n"
    )
    assert not (tmp_path / "cqdt.db").exists()


def test_serve_names_the_missing_webhook_setting(monkeypatch, capsys):
    assert main(["serve"]) == 1
    assert capsys.readouterr().err == "Lỗi: Thiếu --webhook-url; hãy ghi --webhook-url hoặc đặt CQDT_WEBHOOK_URL.\n"
    monkeypatch.setenv("CQDT_WEBHOOK_URL", "https://cqdt.example.gov.vn/telegram")
    assert main(["serve"]) == 1
    assert capsys.readouterr().err == "Lỗi: Thiếu --secret; hãy ghi --secret hoặc đặt CQDT_WEBHOOK_SECRET.\n"
