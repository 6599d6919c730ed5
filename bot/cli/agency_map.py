"""``cqdt agencies from-map``: a province's agency list from the official administrative map."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.agencies import agencies_group
from bot.cli.context import CliContext, pass_cli
from common.errors import Refused
from conversations.official_map import MAPS, listing, write_csv, write_xlsx


def _levels(value: str | None) -> list[str] | None:
    return None if value is None else [part for part in value.replace(";", ",").split(",")]


@agencies_group.command("from-map")
@click.option(
    "--province", required=True, metavar="TỈNH", help='Tên hoặc mã tỉnh, thành phố, ví dụ "Quảng Ninh" hay 22.'
)
@click.option(
    "--map",
    "map_",
    type=click.Choice(MAPS),
    default="2025",
    show_default=True,
    help="Bản đồ hành chính: 2025 (hai cấp, từ 01/7/2025) hoặc 2024 (trước đó, có cấp huyện).",
)
@click.option("--levels", metavar="CẤP,…", help="Chỉ ghi các cấp này, ví dụ xa (mặc định: mọi cấp của bản đồ).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="TỆP",
    help="Tệp danh sách: .csv (UTF-8 có BOM) hoặc .xlsx.",
)
@click.option("--json", "as_json", is_flag=True, help="In các dòng dạng JSON.")
@pass_cli
def agencies_from_map(
    cli: CliContext, province: str, map_: str, levels: str | None, output: Path | None, as_json: bool
) -> None:
    """Ghi danh sách xã, phường (và, trên bản đồ 2024, các huyện) của một tỉnh với mã và tên chính thức.

    Các cột như «cqdt agencies import» cần; đầu mối để trống cho cơ quan điều phối điền.
    """
    if output is None and not as_json:
        raise Refused("map_output_missing")
    found = listing(province, map_, _levels(levels))
    if output is not None:
        try:
            with output.open("wb") as stream:
                if output.suffix.lower() == ".xlsx":
                    write_xlsx(stream, found.rows())
                else:
                    write_csv(stream, found.rows())
        except OSError as exc:
            raise Refused("output_unwritable", path=str(output), reason=exc.strerror or exc) from None
    cli.emit("agency_map", found.as_dict(), as_json, listing=found, output=output)


COMMANDS: list[click.Command] = []  # from-map joins the agencies group, which bot.cli.agencies registers
