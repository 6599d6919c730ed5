"""``cqdt scores`` and ``cqdt export``: rankings and the files for the report."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.context import CliContext, dump_json, pass_cli
from bot.labels import labels
from common.errors import Refused
from conversations.exports import report_dict, write_csv, write_xlsx
from storage import campaigns
from storage.reports import campaign_report


def load_report(cli: CliContext, campaign_id: int, level: str | None):
    """(the campaign's facts, its scored reports by level), of one level when ``level`` is given."""
    with cli.db.session() as session:
        campaign = campaigns.get(session, campaign_id)
        known = [cl.level for cl in campaign.levels]
        if level is not None and level not in known:
            raise Refused("level_not_in_campaign", level=level, levels=known)
        reports = campaign_report(session, campaign, [level] if level else None)
        return campaigns.facts_of(campaign), reports


@click.command("scores")
@click.option("--campaign", "campaign_id", type=int, required=True, metavar="ID", help="Mã số đợt đánh giá.")
@click.option("--level", metavar="CẤP", help="Chỉ một cấp.")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON (số thập phân ghi dạng chuỗi chính xác).")
@pass_cli
def scores(cli: CliContext, campaign_id: int, level: str | None, as_json: bool) -> None:
    """Điểm và xếp hạng theo từng cấp, cao nhất trước; bằng điểm thì đồng hạng."""
    campaign, reports = load_report(cli, campaign_id, level)
    cli.emit("scores", report_dict(campaign, reports, detail=False), as_json, campaign=campaign, reports=reports)


@click.command("export")
@click.option("--campaign", "campaign_id", type=int, required=True, metavar="ID", help="Mã số đợt đánh giá.")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "json"]), required=True, help="Định dạng tệp.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, metavar="TỆP", help="Tệp kết quả."
)
@pass_cli
def export(cli: CliContext, campaign_id: int, fmt: str, output: Path) -> None:
    """Xuất kết quả: xlsx (mỗi cấp một trang), csv (mỗi đơn vị một dòng) hoặc json (đầy đủ)."""
    campaign, reports = load_report(cli, campaign_id, None)
    try:
        with output.open("wb") as stream:
            if fmt == "xlsx":
                write_xlsx(stream, reports, labels("vi", cli.timezone), zone=cli.timezone, campaign=campaign)
            elif fmt == "csv":
                write_csv(stream, reports, labels("vi", cli.timezone), zone=cli.timezone)
            else:
                stream.write((dump_json(report_dict(campaign, reports, detail=True)) + "\n").encode("utf-8"))
    except OSError as exc:
        raise Refused("output_unwritable", path=str(output), reason=exc.strerror or exc) from None
    count = sum(len(r.agencies) for r in reports.values())
    click.echo(cli_line(cli, output, fmt, count))


def cli_line(cli: CliContext, output: Path, fmt: str, count: int) -> str:
    from bot.texts import render

    return render("export_done", lang="cli", path=output, format=fmt, count=count)


COMMANDS = [scores, export]
