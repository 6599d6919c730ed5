"""``cqdt campaign``: create, list and show campaigns."""

from __future__ import annotations

import sys
from dataclasses import asdict
from datetime import date, datetime

import click

from bot.cli.context import CliContext, dump_json, pass_cli
from bot.texts import phrase
from common.errors import Refused
from conversations.deadlines import DeadlineCheck, check_deadline
from storage import campaigns, cohort
from storage.campaigns import CampaignSpec, CampaignSummary, check_spec
from storage.office_questions import carry_offers
from storage.reach import reach_counts
from storage.records import Office
from storage.rubric_store import resolve


def parse_rubric_options(options: tuple[str, ...]) -> dict:
    rubrics = {}
    for option in options:
        level, sep, ref = option.partition("=")
        if not sep or not level.strip() or not ref.strip():
            raise Refused("bad_rubric_option", value=option)
        if level.strip() in rubrics:
            raise Refused("duplicate_level", level=level.strip())
        rubrics[level.strip()] = resolve(ref.strip(), level.strip())
    return rubrics


def parse_day(text: str) -> date:
    for parse in (date.fromisoformat, lambda t: datetime.strptime(t, "%d/%m/%Y").date()):
        try:
            return parse(text.strip())
        except ValueError:
            continue
    raise ValueError(text)


def parse_period(text: str | None) -> tuple[date, date] | None:
    if text is None:
        return None
    start, sep, end = text.partition(":")
    try:
        if not sep:
            raise ValueError(text)
        return parse_day(start), parse_day(end)
    except ValueError:
        raise Refused("bad_period", value=text) from None


def parse_deadline(text: str, cli: CliContext) -> datetime:
    try:
        local = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise Refused("bad_deadline", value=text) from None
    return local.replace(tzinfo=cli.zone)


yes_option = click.option(
    "--yes",
    "-y",
    "yes",
    is_flag=True,
    help="Không hỏi lại khi hạn chót đã qua, rơi vào ngày nghỉ cuối tuần hay ngày lễ.",
)


def interactive() -> bool:
    """Whether someone can answer a question: stdin is a terminal."""
    isatty = getattr(sys.stdin, "isatty", None)
    return bool(isatty and isatty())


def confirm_deadline(cli: CliContext, deadline: datetime, yes: bool) -> DeadlineCheck:
    """Warn when the deadline is past, on a weekend or on a public holiday, and ask to go on; without a
    terminal to ask on, refuse unless ``--yes`` was given."""
    check = check_deadline(deadline, cli.now(), cli.zone)
    if not check.doubtful:
        return check
    if not yes and not interactive():
        raise Refused(
            "deadline_needs_yes",
            local=check.local,
            zone=cli.timezone,
            past=check.past,
            weekend=check.weekend,
            holiday=check.holiday,
        )
    click.echo(phrase("deadline", "warning", zone=cli.timezone, check=check, zone_name=cli.timezone), err=True)
    if not yes:
        click.confirm(phrase("deadline", "confirm", zone=cli.timezone), abort=True, err=True)
    return check


def campaign_data(summary: CampaignSummary) -> dict:
    """The campaign as ``--json`` prints it; the counts of agencies only in a listing."""
    data = asdict(summary)
    if summary.agencies is None:
        del data["agencies"], data["submitted"]
    return data


@click.group("campaign")
def campaign_group() -> None:
    """Đợt đánh giá."""


@campaign_group.command("create")
@click.option("--name", required=True, help="Tên đợt đánh giá.")
@click.option(
    "--rubric",
    "rubric_options",
    multiple=True,
    required=True,
    metavar="CẤP=MÃ_HOẶC_TỆP",
    help="Bộ tiêu chí cho một cấp, ví dụ huyen=qn2018-huyen; lặp lại cho mỗi cấp.",
)
@click.option("--deadline", required=True, metavar='"YYYY-MM-DD HH:MM"', help="Hạn chót, giờ địa phương.")
@click.option("--period", metavar="TỪ:ĐẾN", help="Kỳ số liệu, ví dụ 2018-10-15:2019-10-15.")
@click.option("--grace", type=click.IntRange(min=0), default=0, show_default=True, help="Số giờ gia hạn sau hạn chót.")
@click.option("--office", metavar="TÊN", help='Cơ quan điều phối, ví dụ "Sở Khoa học và Công nghệ tỉnh Quảng Ninh".')
@click.option("--contact", metavar="LIÊN_HỆ", help='Đầu mối giải đáp, ví dụ "Đồng chí Nguyễn Văn A, 0203 3826 000".')
@click.option("--letter", metavar="SỐ_HIỆU", help='Văn bản phát động, ví dụ "436/STTTT-CNTT ngày 07/10/2019".')
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@yes_option
@pass_cli
def campaign_create(
    cli: CliContext, name, rubric_options, deadline, period, grace, office, contact, letter, as_json, yes
) -> None:
    """Tạo đợt đánh giá; in mã số của đợt mới."""
    spec = CampaignSpec(
        name=name,
        rubrics=parse_rubric_options(rubric_options),
        deadline=parse_deadline(deadline, cli),
        period=parse_period(period),
        grace_hours=grace,
        office=Office(office, contact, letter),
    )
    check_spec(spec)  # a wrong rubric is said before the deadline is asked about
    check = confirm_deadline(cli, spec.deadline, yes)
    with cli.db.session() as session:
        created = campaigns.create_summary(session, spec)
        offers = carry_offers(session, created.id)
    click.echo(phrase("deadline", "shown", zone=cli.timezone, check=check, zone_name=cli.timezone), err=True)
    for offer in offers:
        click.echo(phrase("guidance_offer", "offer", offer=offer, campaign_id=created.id), err=True)
    if as_json:
        click.echo(dump_json(campaign_data(created)))
    else:
        click.echo(created.id)


@campaign_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@pass_cli
def campaign_list(cli: CliContext, as_json: bool) -> None:
    """Liệt kê các đợt đánh giá."""
    with cli.db.session() as session:
        data = [campaign_data(summary) for summary in campaigns.summaries(session)]
    cli.emit("campaign_list", data, as_json, campaigns=data)


@campaign_group.command("show")
@click.argument("campaign_id", type=int, metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@pass_cli
def campaign_show(cli: CliContext, campaign_id: int, as_json: bool) -> None:
    """Chi tiết một đợt đánh giá: các cấp, bộ tiêu chí, hạn chót, tiến độ."""
    with cli.db.session() as session:
        data = campaign_data(campaigns.summary(session, campaign_id))
        data["progress"] = campaigns.state_counts(session, campaign_id)
        data["contacts"] = campaigns.contact_counts(session, campaign_id)
        data["cohort_frozen_at"] = campaigns.get(session, campaign_id).cohort_frozen_at
        data["reach"] = reach_counts(session, campaign_id)
    cli.emit("campaign_show", data, as_json, campaign=data)


@campaign_group.command("freeze")
@click.argument("campaign_id", type=int, metavar="ID")
@click.option("--undo", is_flag=True, help="Bỏ chốt: nhóm so sánh lại theo các đơn vị đã nộp.")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@pass_cli
def campaign_freeze(cli: CliContext, campaign_id: int, undo: bool, as_json: bool) -> None:
    """Chốt nhóm so sánh (thường lúc hết hạn): bài nộp muộn không còn làm đổi điểm đơn vị khác."""
    with cli.db.session() as session:
        campaign = campaigns.get(session, campaign_id)
        if undo:
            cohort.unfreeze(session, campaign)
            data = {"campaign": campaign_id, "frozen_at": None, "cohort": None}
        else:
            data = {
                "campaign": campaign_id,
                "frozen_at": cli.now(),
                "cohort": cohort.freeze(session, campaign, cli.now()),
            }
    cli.emit("campaign_freeze", data, as_json, **data)


COMMANDS = [campaign_group]
