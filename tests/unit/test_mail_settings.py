"""CQDT_SMTP_URL and CQDT_MAIL_FROM: the e-mail channel on when both are set; the password never shown."""

from __future__ import annotations

import logging

import pytest

from bot.logs import RedactToken
from bot.texts import refusal
from common.errors import Refused
from common.mail_server import parse_smtp_url
from common.settings import Settings, load

PASSWORD = "Mk@2019/so KHCN"
URL = "smtp://cqdt%40sokhcn.quangninh.gov.vn:Mk%402019%2Fso%20KHCN@mail.quangninh.gov.vn:587?starttls=true"
FROM = "Sở Khoa học và Công nghệ tỉnh Quảng Ninh <cqdt@sokhcn.quangninh.gov.vn>"


@pytest.fixture(autouse=True)
def _no_mail_environment(monkeypatch):
    for name in ("CQDT_SMTP_URL", "CQDT_MAIL_FROM"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("url", "host", "port", "use_tls", "start_tls", "username"),
    [
        (URL, "mail.quangninh.gov.vn", 587, False, True, "cqdt@sokhcn.quangninh.gov.vn"),
        ("smtps://cqdt:pw@mail.hanoi.gov.vn", "mail.hanoi.gov.vn", 465, True, False, "cqdt"),
        ("smtp://127.0.0.1:1025", "127.0.0.1", 1025, False, None, None),
        ("smtp://relay.local?starttls=false", "relay.local", 25, False, False, None),
    ],
)
def test_the_smtp_url_gives_the_server(url, host, port, use_tls, start_tls, username):
    server = parse_smtp_url(url)
    assert (server.host, server.port, server.use_tls, server.start_tls, server.username) == (
        host,
        port,
        use_tls,
        start_tls,
        username,
    )


def test_the_password_is_decoded_and_never_shown(monkeypatch, caplog):
    monkeypatch.setenv("CQDT_SMTP_URL", URL)
    monkeypatch.setenv("CQDT_MAIL_FROM", FROM)
    settings = load()
    assert settings.mail_enabled and settings.mail_server().password.get_secret_value() == PASSWORD
    assert settings.sender().display_name == "Sở Khoa học và Công nghệ tỉnh Quảng Ninh"
    for shown in (repr(settings), str(settings), settings.model_dump_json(), repr(settings.mail_server())):
        assert PASSWORD not in shown and "Mk%402019" not in shown
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "login to %s with %s", (URL, PASSWORD), None)
    assert RedactToken(None, settings.secret_values()).filter(record)
    assert PASSWORD not in record.getMessage() and "Mk%402019" not in record.getMessage()


def test_off_unless_both_are_set():
    assert not Settings().mail_enabled and Settings().mail_server() is None
    assert not Settings(smtp_url=URL).mail_enabled and not Settings(mail_from=FROM).mail_enabled


@pytest.mark.parametrize(
    "url", ["http://cqdt:Mk2019@mail.example.gov.vn", "smtp://cqdt:Mk2019@:25", "smtp://cqdt:Mk2019@h?starttls=maybe"]
)
def test_a_bad_url_is_refused_without_showing_it(monkeypatch, url):
    monkeypatch.setenv("CQDT_SMTP_URL", url)
    with pytest.raises(Refused) as refused:
        load()
    sentence = refusal(refused.value)
    assert "CQDT_SMTP_URL" in sentence and "Mk2019" not in sentence and "Mk2019" not in repr(refused.value)


def test_a_bad_sender_is_refused(monkeypatch):
    monkeypatch.setenv("CQDT_MAIL_FROM", "Sở KH&CN")
    with pytest.raises(Refused) as refused:
        load()
    assert "CQDT_MAIL_FROM" in refusal(refused.value)
