"""``cqdt guidance``: the office's published guidance of a campaign, and carrying it into the next one."""

from __future__ import annotations

from dataclasses import asdict

import click

from bot.cli.context import CliContext, pass_cli
from storage import campaigns
from storage.office_questions import carry, guidance_of


@click.group("guidance")
def guidance_group() -> None:
    """Hướng dẫn của cơ quan điều phối: câu trả lời đã công bố, hiện ở câu hỏi cho mọi đơn vị."""


@guidance_group.command("list")
@click.option("--campaign", "campaign_id", type=int, required=True, metavar="ID", help="Mã số đợt đánh giá.")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@pass_cli
def guidance_list(cli: CliContext, campaign_id: int, as_json: bool) -> None:
    """Liệt kê các hướng dẫn đã công bố (hoặc chép từ đợt trước) của một đợt."""
    with cli.db.session() as session:
        campaigns.get(session, campaign_id)
        found = guidance_of(session, campaign_id)
    data = {"campaign": campaign_id, "guidance": [asdict(g) for g in found]}
    cli.emit("guidance", data, as_json, campaign_id=campaign_id, guidance=found, carried=False)


@guidance_group.command("carry")
@click.option("--from", "from_id", type=int, required=True, metavar="ID", help="Đợt đã công bố hướng dẫn (năm trước).")
@click.option("--to", "to_id", type=int, required=True, metavar="ID", help="Đợt nhận hướng dẫn (năm nay).")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@pass_cli
def guidance_carry(cli: CliContext, from_id: int, to_id: int, as_json: bool) -> None:
    """Chép hướng dẫn của đợt trước sang đợt mới, ở những câu hỏi bộ tiêu chí mới vẫn còn; in những gì đã chép.
    Chạy lại không chép trùng."""
    with cli.db.session() as session:
        copied = carry(session, from_id, to_id, cli.now())
    data = {"from": from_id, "to": to_id, "guidance": [asdict(g) for g in copied]}
    cli.emit("guidance", data, as_json, campaign_id=to_id, from_id=from_id, guidance=copied, carried=True)


COMMANDS = [guidance_group]
