"""``cqdt audit``: verify every agency's hash-chained record, print one, check a receipt's hash."""

from __future__ import annotations

from dataclasses import asdict

import click

from bot.cli.context import CliContext, pass_cli
from common.errors import Refused
from storage import audit, campaigns


@click.group("audit")
def audit_group() -> None:
    """Sổ ghi nhận không sửa được: mỗi thay đổi của một đơn vị nối vào chuỗi băm SHA-256."""


@audit_group.command("verify")
@click.option("--campaign", "campaign_id", type=int, required=True, metavar="ID", help="Mã số đợt đánh giá.")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@pass_cli
def verify(cli: CliContext, campaign_id: int, as_json: bool) -> None:
    """Tính lại mọi chuỗi của đợt; nêu mục đầu tiên không khớp của từng đơn vị (mã thoát 1 nếu có)."""
    with cli.db.session() as session:
        campaigns.get(session, campaign_id)
        checked, faults = audit.verify(session, campaign_id)
    data = {"campaign": campaign_id, "agencies": checked, "faults": [asdict(f) for f in faults]}
    cli.emit("audit_verify", data, as_json, campaign_id=campaign_id, checked=checked, faults=faults)
    if faults:
        raise click.exceptions.Exit(1)


@audit_group.command("show")
@click.option("--agency", "code", required=True, metavar="MÃ_ĐV", help="Mã đơn vị.")
@click.option("--campaign", "campaign_id", type=int, metavar="ID", help="Mã số đợt (mặc định: đợt mới nhất có mã này).")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@pass_cli
def show(cli: CliContext, code: str, campaign_id: int | None, as_json: bool) -> None:
    """In chuỗi ghi nhận của một đơn vị theo thứ tự, giờ địa phương."""
    with cli.db.session() as session:
        agency = audit.find_agency(session, code.strip(), campaign_id)
        if agency is None:
            raise Refused("agency_not_found", code=code.strip()[:40])
        entries = audit.chain(session, agency.id)
        name, found_campaign = agency.name, agency.campaign_id
    data = {"campaign": found_campaign, "agency": code.strip(), "entries": [asdict(e) for e in entries]}
    cli.emit("audit_show", data, as_json, code=code.strip(), agency_name=name, entries=entries)


@audit_group.command("check")
@click.argument("receipt_hash", metavar="MÃ_BĂM")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@pass_cli
def check(cli: CliContext, receipt_hash: str, as_json: bool) -> None:
    """Mã băm trên biên nhận có khớp một lần nộp đã lưu không, của đơn vị nào, lúc nào (mã thoát 1 nếu không)."""
    with cli.db.session() as session:
        match = audit.find_receipt(session, receipt_hash)
    data = {"hash": receipt_hash.strip(), "match": asdict(match) if match is not None else None}
    cli.emit("audit_check", data, as_json, hash=receipt_hash.strip()[:80], match=match)
    if match is None:
        raise click.exceptions.Exit(1)


COMMANDS = [audit_group]
