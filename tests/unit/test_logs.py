"""Logs in text and JSON: the bot token never appears, not even in an exception's traceback."""

from __future__ import annotations

import json
import logging
import warnings
from datetime import UTC, datetime

import pytest

from bot import logs

TOKEN = "7012345678:AAH-secret_Token_value-0123456789"
OTHER_TOKEN = "5550001112:ZZZ-another_token_nobody_set_0000"


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)


def log_everything() -> None:
    log = logging.getLogger("cqdt.test")
    log.info("calling https://api.telegram.org/bot%s/getMe", TOKEN)
    log.warning("a token in the message itself: %s", OTHER_TOKEN)
    try:
        raise RuntimeError(f"request to /bot{TOKEN}/sendMessage failed")
    except RuntimeError:
        log.exception("sending failed")
    warnings.warn(f"deprecated call with {TOKEN}", UserWarning, stacklevel=1)


@pytest.mark.parametrize("fmt", logs.FORMATS)
def test_no_token_in_either_format(fmt, capsys, restore_logging):
    logs.configure(TOKEN, fmt=fmt)
    log_everything()
    written = capsys.readouterr().err
    assert TOKEN not in written and OTHER_TOKEN not in written
    assert "AAH-secret" not in written and written.count("<token>") >= 4
    assert "Traceback" in written and "RuntimeError: request to /bot<token>/sendMessage failed" in written


def test_json_is_one_object_a_line(capsys, restore_logging):
    logs.configure(TOKEN, fmt="json")
    log_everything()
    entries = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(e["level"], e["logger"]) for e in entries] == [
        ("INFO", "cqdt.test"),
        ("WARNING", "cqdt.test"),
        ("ERROR", "cqdt.test"),
        ("WARNING", "py.warnings"),
    ]
    first, _, failure, _ = entries
    assert first["message"] == "calling https://api.telegram.org/bot<token>/getMe"
    assert datetime.fromisoformat(first["time"]).utcoffset().total_seconds() == 0
    assert abs((datetime.now(UTC) - datetime.fromisoformat(first["time"])).total_seconds()) < 60
    assert "exception" not in first
    assert failure["message"] == "sending failed"
    assert failure["exception"].startswith("Traceback") and failure["exception"].endswith(
        "RuntimeError: request to /bot<token>/sendMessage failed"
    )


def test_text_is_one_readable_line(capsys, restore_logging):
    logs.configure(TOKEN)
    logging.getLogger("cqdt.test").info("ready")
    assert capsys.readouterr().err.rstrip().endswith("INFO cqdt.test: ready")


def test_the_webhook_secret_is_scrubbed_too(capsys, restore_logging):
    secret = "webhook-secret-value-that-must-not-print"
    logs.configure(TOKEN, secrets=[secret])
    logging.getLogger("cqdt.test").warning("webhook request with X-Telegram-Bot-Api-Secret-Token: %s", secret)
    written = capsys.readouterr().err
    assert secret not in written and written.rstrip().endswith("Secret-Token: <secret>")
