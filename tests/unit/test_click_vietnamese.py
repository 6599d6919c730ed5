"""click's own words in Vietnamese (bot/cli/vietnamese.py, bot/templates/cli/click.j2)."""

from __future__ import annotations

import ast
from pathlib import Path

import click
import pytest

from bot.cli import main, vietnamese


def click_message_ids() -> set[str]:
    """Every string click passes to gettext's _() or ngettext() (the singular of a plural)."""
    ids = set()
    for path in Path(click.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "ngettext"):
                if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                    ids.add(node.args[0].value)
    core = (Path(click.__file__).parent / "core.py").read_text(encoding="utf-8")
    if 'extra["required"] = "required"' in core and '_(extra["required"])' in core:
        ids.add("required")  # --help's "[required]", translated from a variable
    return ids


def test_every_id_of_the_catalogue_is_one_click_uses():
    """A click upgrade that rewords a message fails here rather than turning a message back to English."""
    assert set(vietnamese.catalogue().messages) - click_message_ids() == set()


def test_the_messages_a_user_can_meet_are_all_in_the_catalogue():
    needed = {
        "Usage:",
        "Options",
        "Commands",
        "Show this message and exit.",
        "Missing option",
        "Missing argument",
        "No such option {name!r}.",
        "No such command {name!r}.",
        "Invalid value for {param_hint}: {message}",
        "Got unexpected extra argument ({args})",
        "Option {name!r} requires an argument.",
        "{value} is not in the range {range}.",
        "{value!r} is not a valid {number_type}.",
        "{value!r} is not {choice}.",
        "Error: invalid input",
    }
    assert needed - set(vietnamese.catalogue().messages) == set()


def test_plurals_follow_the_count():
    catalogue = vietnamese.catalogue()
    one = catalogue.ngettext("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)", 1)
    many = catalogue.ngettext("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)", 2)
    assert one.startswith("Có phải") and many.startswith("(Có phải") and one != many
    assert catalogue.gettext("not an id of click") == "not an id of click"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            [
                "campaign",
                "create",
                "--name",
                "X",
                "--rubric",
                "xa=qn2018-xa",
                "--deadline",
                "2030-10-28 14:00",
                "--grace",
                "-1",
            ],
            "Lỗi: Giá trị của '--grace' không hợp lệ: -1 nằm ngoài khoảng cho phép (x>=0)."
            " Xem hướng dẫn bằng «cqdt campaign create --help».",
        ),
        (["invites"], "Lỗi: Thiếu tùy chọn '--campaign'. Xem hướng dẫn bằng «cqdt invites --help»."),
        (["nope"], "Lỗi: Không có lệnh «nope». Xem hướng dẫn bằng «cqdt --help»."),
        (["scores", "--campaign", "1", "extra"], "Lỗi: Thừa tham số: extra. Xem hướng dẫn bằng «cqdt scores --help»."),
        (["scores", "--campagn", "1"], "Lỗi: Không có tùy chọn «--campagn». Có phải ý là '--campaign'?"),
        (
            ["export", "--campaign", "1", "-o", "x.csv"],
            "Lỗi: Thiếu tùy chọn '--format'. Chọn một trong: xlsx, csv, json, annex, docx.",
        ),
    ],
)
def test_usage_errors_are_one_vietnamese_line(capsys, args, expected):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(expected) and err.count("\n") == 1, err


def test_help_is_vietnamese(capsys):
    assert main(["campaign", "create", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Cách dùng: cqdt campaign create [TÙY_CHỌN]")
    assert "Tùy chọn:" in out and "[bắt buộc]" in out and "mặc định: 0" in out and "Xem hướng dẫn này." in out
    for english in ("Usage", "Options", "required", "default", "Show this", "TEXT", "INTEGER"):
        assert english not in out
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "Lệnh:" in out and "LỆNH [THAM_SỐ]..." in out and "Commands" not in out
