"""``cqdt demo``: a whole campaign offline, with no token and no network (see bot/demo/scenario.py)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import click

from bot.demo import scenario, second_year
from bot.demo.transcript import highlights
from bot.texts import environment, render
from common.errors import Refused

ZONE = scenario.ZONE.key


def phase_line(number: int, total: int, name: str, result: dict[str, Any] | None) -> None:
    """The start of a phase's progress line, then its outcome on the same line."""
    macros = environment(ZONE).get_template("cli/demo_phases.j2").module
    if result is None:
        click.echo(str(macros.step(number, total, getattr(macros, f"{name}_title")())), nl=False)
    else:
        click.echo(f" {getattr(macros, f'{name}_done')(**result)}")


def report(demo: scenario.Demo, seconds: float) -> str:
    user = demo.featured.user
    return render(
        "demo_report",
        lang="cli",
        zone=ZONE,
        agency=demo.names[scenario.CLUMSY],
        contact=highlights(demo.featured.exchanges),
        contact_name=user.first_name,
        second_year=second_year.transcript(demo.second_year) if demo.second_year else [],
        coordinator=demo.coordinator.exchanges,
        coordinator_name=demo.coordinator.user.first_name,
        outputs=demo.outputs,
        emails=demo.mail.shown() if demo.mail else [],
        seconds=round(seconds),
    )


@click.command("demo")
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="THƯ_MỤC",
    help="Nơi để lại cơ sở dữ liệu, tệp kết quả và nhật ký (mặc định: một thư mục tạm mới).",
)
@click.option("--seed", type=int, default=2019, show_default=True, help="Hạt giống ngẫu nhiên của các câu trả lời.")
def demo(output_dir: Path | None, seed: int) -> None:
    """Chạy thử trọn một đợt đánh giá (khoảng nửa phút), không cần token hay mạng.

    Bot thật, cơ sở dữ liệu SQLite, bộ tiêu chí Quảng Ninh 2018 cấp huyện và cấp xã, 30 đơn vị;
    Telegram là một Bot API giả chạy trong máy.
    """
    out = output_dir or Path(tempfile.mkdtemp(prefix="cqdt-demo-"))
    began = time.monotonic()
    try:
        result = scenario.run(out, seed, phase_line)
    except OSError as exc:
        raise Refused("output_unwritable", path=str(out), reason=exc.strerror or exc) from None
    click.echo(report(result, time.monotonic() - began))


COMMANDS = [demo]
