"""``cqdt scores`` and ``cqdt export``: rankings and the files for the report."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path

import click

from bot.cli.context import CliContext, dump_json, pass_cli
from bot.labels import labels
from common.errors import Refused
from conversations.annex import Heading, write_annex_docx, write_annex_xlsx
from conversations.exports import report_dict, write_csv, write_xlsx
from conversations.targets import agency_targets, commonly_missed
from storage import campaigns
from storage.agency_detail import AgencyDetail
from storage.last_year import carried_answers
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


def decision_day(text: str | None) -> date | None:
    """The decision's date as officials type it: 05/11/2019, 5/11/2019 or 2019-11-05."""
    if text is None:
        return None
    for parse in (lambda t: datetime.strptime(t, "%d/%m/%Y").date(), date.fromisoformat):
        try:
            return parse(text.strip())
        except ValueError:
            continue
    raise Refused("bad_decision_date", value=text)


@click.command("export")
@click.option("--campaign", "campaign_id", type=int, required=True, metavar="ID", help="Mã số đợt đánh giá.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["xlsx", "csv", "json", "annex", "docx"]),
    required=True,
    help="Định dạng tệp; annex (xlsx) và docx: phụ lục kèm quyết định công bố xếp hạng.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, metavar="TỆP", help="Tệp kết quả."
)
@click.option("--office", metavar="TÊN", help="Phụ lục: tên cơ quan điều phối ở đầu trang.")
@click.option("--decision-number", metavar="SỐ", help="Phụ lục: số quyết định (để trống nếu chưa có).")
@click.option("--decision-date", metavar="NGÀY", help="Phụ lục: ngày quyết định, dd/mm/yyyy.")
@pass_cli
def export(
    cli: CliContext,
    campaign_id: int,
    fmt: str,
    output: Path,
    office: str | None,
    decision_number: str | None,
    decision_date: str | None,
) -> None:
    """Xuất kết quả: xlsx (mỗi cấp một trang), csv (mỗi đơn vị một dòng), json (đầy đủ), hoặc phụ lục
    công bố xếp hạng: annex (xlsx, kèm trang mục tiêu) và docx (Word)."""
    campaign, reports = load_report(cli, campaign_id, None)
    with cli.db.session() as session:
        carried = carried_answers(session, campaign_id)
    heading = Heading(office or campaign.office.name, decision_number, decision_day(decision_date))
    try:
        with output.open("wb") as stream:
            if fmt in ("annex", "docx"):
                write_annex(cli, stream, fmt, campaign.name, reports, heading)
            elif fmt == "xlsx":
                words = labels("vi", cli.timezone)
                write_xlsx(stream, reports, words, zone=cli.timezone, campaign=campaign, carried=carried)
            elif fmt == "csv":
                write_csv(stream, reports, labels("vi", cli.timezone), zone=cli.timezone, carried=carried)
            else:
                stream.write((dump_json(report_dict(campaign, reports, detail=True)) + "\n").encode("utf-8"))
    except OSError as exc:
        raise Refused("output_unwritable", path=str(output), reason=exc.strerror or exc) from None
    count = sum(len(r.agencies) for r in reports.values())
    click.echo(cli_line(cli, output, fmt, count))


def write_annex(cli: CliContext, stream, fmt: str, name: str, reports, heading: Heading) -> None:
    words = labels("vi", cli.timezone)
    if fmt == "docx":
        write_annex_docx(stream, reports, words, campaign_name=name, heading=heading)
        return
    with cli.db.session() as session:
        detail = AgencyDetail(session)
        write_annex_xlsx(stream, reports, words, campaign_name=name, heading=heading, evidence_of=detail.evidence)


def cli_line(cli: CliContext, output: Path, fmt: str, count: int) -> str:
    from bot.texts import render

    return render("export_done", lang="cli", path=output, format=fmt, count=count)


@click.command("targets")
@click.option("--campaign", "campaign_id", type=int, required=True, metavar="ID", help="Mã số đợt đánh giá.")
@click.option("--agency", "code", metavar="MÃ_ĐV", help="Một đơn vị: các chỉ tiêu chưa đạt tối đa, kèm trả lời.")
@click.option("--level", metavar="CẤP", help="Chỉ một cấp.")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON (số thập phân ghi dạng chuỗi chính xác).")
@pass_cli
def targets(cli: CliContext, campaign_id: int, code: str | None, level: str | None, as_json: bool) -> None:
    """Mục tiêu: các chỉ tiêu chưa đạt điểm tối đa, theo cấp (bao nhiêu đơn vị, mất bình quân) hoặc của một đơn vị."""
    campaign, reports = load_report(cli, campaign_id, level)
    if code is None:
        levels = [(report, commonly_missed(report)) for report in reports.values()]
        data = {
            "campaign": campaign.id,
            "levels": [{"level": r.level, "indicators": [asdict(c) for c in common]} for r, common in levels],
        }
        cli.emit("targets", data, as_json, campaign=campaign, levels=levels, agency=None)
        return
    entry, report = next(
        ((e, r) for r in reports.values() for e in r.agencies if e.agency.code.casefold() == code.strip().casefold()),
        (None, None),
    )
    if entry is None:
        raise Refused("agency_not_found", code=code)
    with cli.db.session() as session:
        found = agency_targets(entry, report.rubric, AgencyDetail(session).evidence)
    data = {
        "campaign": campaign.id,
        "agency": entry.agency.code,
        "total": entry.effective.total,
        "rank": entry.effective.rank,
        "indicators": [
            {
                "code": m.code,
                "title": m.title,
                "max": m.max,
                "achieved": m.achieved,
                "lost": m.lost,
                "answers": {q.id: labels("vi", cli.timezone).answer(q, v) for q, v in m.answers},
                "evidence": len(m.evidence),
            }
            for m in found
        ],
    }
    cli.emit("targets", data, as_json, campaign=campaign, agency=entry, missed=found, levels=None)


COMMANDS = [scores, export, targets]
