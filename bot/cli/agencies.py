"""``cqdt agencies``: import a campaign's agencies from CSV."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from bot.cli.context import CliContext, pass_cli
from common.errors import Refused
from storage import campaigns
from storage.agency_import import import_csv


@click.group("agencies")
def agencies_group() -> None:
    """Đơn vị tham gia đánh giá."""


@agencies_group.command("import")
@click.option("--campaign", "campaign_id", type=int, required=True, metavar="ID", help="Mã số đợt đánh giá.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), metavar="TỆP.csv")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@pass_cli
def agencies_import(cli: CliContext, campaign_id: int, file: Path, as_json: bool) -> None:
    """Nhập danh sách đơn vị (code,name,level,parent_code,contact_name,contact_phone,contact_email).

    Tất cả hoặc không: một dòng sai thì không nhập gì và báo số dòng. Nhập lại cùng tệp không thay đổi gì.
    """
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise Refused("input_unreadable", path=str(file), reason=getattr(exc, "strerror", None) or exc) from None
    with cli.db.session() as session:
        campaign = campaigns.get(session, campaign_id)
        result = import_csv(session, campaign, text)
    data = {k: v for k, v in asdict(result).items() if k != "codes"}
    cli.emit("agencies_import", data, as_json, result=result, campaign_id=campaign_id)


COMMANDS = [agencies_group]
