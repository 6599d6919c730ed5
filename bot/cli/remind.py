"""``cqdt remind`` and ``cqdt campaign set-reminders / set-deadline``: the reminder plan and its policy."""

from __future__ import annotations

import asyncio
import re
from datetime import time

import click

from bot.app import file_url
from bot.cli.campaign import campaign_group, confirm_deadline, parse_deadline, yes_option
from bot.cli.context import CliContext, pass_cli
from bot.cli.invites import resolve_bot_username
from bot.cli.outboxes import outbox_for
from bot.mail.wiring import mail_sender
from bot.reminders.sender import Sender, sender_bot
from bot.texts import render
from common.errors import Refused
from conversations.reminders.outbox import Outbox

DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def parse_offsets(text: str) -> list[int]:
    """ "7d,3d,1d,2h,30m" → minutes."""
    minutes = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*([dhm])\s*", part)
        if not match or int(match.group(1)) == 0:
            raise Refused("bad_offsets", value=text)
        minutes.append(int(match.group(1)) * {"d": 1440, "h": 60, "m": 1}[match.group(2)])
    return sorted(set(minutes), reverse=True)


def parse_hours(text: str) -> tuple[time, time]:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    try:
        start, end = time(int(match[1]), int(match[2])), time(int(match[3]), int(match[4]))
    except (TypeError, ValueError):
        raise Refused("bad_hours", value=text) from None
    if start >= end:
        raise Refused("bad_hours", value=text)
    return start, end


def parse_days(text: str) -> list[int]:
    days: set[int] = set()
    for part in text.lower().split(","):
        first, _, last = part.strip().partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise Refused("bad_days", value=text)
        days |= set(range(DAYS[first], DAYS[last or first] + 1))
    if not days:
        raise Refused("bad_days", value=text)
    return sorted(days)


@campaign_group.command("set-reminders")
@click.argument("campaign_id", type=int, metavar="ID")
@click.option("--offsets", metavar="7d,3d,1d,2h", help="Nhắc trước hạn chót bao lâu (d = ngày, h = giờ, m = phút).")
@click.option("--hours", metavar="07:30-17:30", help="Giờ làm việc (giờ địa phương).")
@click.option("--days", metavar="mon-fri", help="Ngày làm việc, ví dụ mon-fri hoặc mon-sat.")
@click.option("--holidays/--no-holidays", default=None, help="Bỏ qua ngày lễ Việt Nam (mặc định: có).")
@click.option(
    "--email-to",
    type=click.Choice(["unreached", "all"]),
    help="Nhắc qua thư điện tử: unreached = đơn vị chưa có đầu mối Telegram (mặc định), all = mọi đơn vị có địa chỉ.",
)
@click.option(
    "--catch-up",
    type=click.IntRange(min=0),
    metavar="GIỜ",
    help="Lời nhắc bị lỡ (bot tạm dừng) vẫn được gửi trong khoảng này.",
)
@pass_cli
def set_reminders(cli: CliContext, campaign_id: int, offsets, hours, days, holidays, email_to, catch_up) -> None:
    """Đổi chính sách nhắc hạn của đợt đánh giá và lập lại lịch nhắc chưa gửi."""
    changes = {}
    if offsets is not None:
        changes["offsets_minutes"] = parse_offsets(offsets)
    if hours is not None:
        changes["working_start"], changes["working_end"] = parse_hours(hours)
    if days is not None:
        changes["working_days"] = parse_days(days)
    if holidays is not None:
        changes["skip_holidays"] = holidays
    if catch_up is not None:
        changes["catch_up_hours"] = catch_up
    if email_to is not None:
        changes["email_to"] = email_to
    planned = outbox_for(cli).set_policy(campaign_id, changes)
    click.echo(render_line(cli, "reminders_replanned", planned=planned))


@campaign_group.command("set-deadline")
@click.argument("campaign_id", type=int, metavar="ID")
@click.argument("deadline", metavar='"YYYY-MM-DD HH:MM"')
@click.option("--grace", type=click.IntRange(min=0), help="Số giờ gia hạn mới.")
@yes_option
@pass_cli
def set_deadline(cli: CliContext, campaign_id: int, deadline: str, grace: int | None, yes: bool) -> None:
    """Dời hạn chót (giờ địa phương); lịch nhắc chưa gửi được lập lại theo hạn mới."""
    outbox = outbox_for(cli)
    moment = parse_deadline(deadline, cli)
    outbox.campaign(campaign_id)  # refuses a campaign that does not exist before asking about the deadline
    confirm_deadline(cli, moment, yes)
    campaign, planned = outbox.move_deadline(campaign_id, moment, grace)
    click.echo(render_line(cli, "deadline_moved", deadline=campaign.deadline, planned=planned, zone_name=cli.timezone))


@click.command("remind")
@click.option("--campaign", "campaign_id", type=int, required=True, metavar="ID", help="Mã số đợt đánh giá.")
@click.option(
    "--send-due",
    is_flag=True,
    help="Gửi ngay những lời nhắc đã đến hạn: qua Telegram (cần TELEGRAM_BOT_TOKEN), thư điện tử (cần CQDT_SMTP_URL).",
)
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON (thời điểm ISO 8601, UTC).")
@pass_cli
def remind(cli: CliContext, campaign_id: int, send_due: bool, as_json: bool) -> None:
    """Lịch nhắc hạn: gửi gì, cho ai, khi nào (giờ địa phương); --send-due gửi những gì đã đến hạn."""
    outbox = outbox_for(cli)
    outbox.prepare(campaign_id)  # refuses a campaign that does not exist
    sent = None
    if send_due:
        if not cli.token and not cli.settings.mail_enabled:
            raise Refused("token_missing")
        username = resolve_bot_username(cli, None) if cli.settings.mail_enabled else ""
        sent = asyncio.run(send(cli, outbox, campaign_id, username))
    rows = outbox.listing(campaign_id)
    cli.emit("remind", {"sent": sent, "notifications": rows}, as_json, rows=rows, sent=sent)


async def send(cli: CliContext, outbox: Outbox, campaign_id: int, bot_username: str) -> int:
    """What is due for this campaign only, with the same bot and retry path as the running bot's sender,
    and its e-mails when the e-mail channel is on."""
    sent = 0
    if cli.token:
        async with sender_bot(cli.token, cli.telegram_api_url, file_url(cli.telegram_api_url)) as bot:
            sent += await Sender(outbox, cli.timezone).tick(bot, campaign_id)
    if cli.settings.mail_enabled:
        sender = mail_sender(cli.settings, outbox, lambda: bot_username)
        sent += await sender.tick(campaign_id, plan=not cli.token)
    return sent


def render_line(cli: CliContext, name: str, **context) -> str:
    return render(name, lang="cli", zone=cli.timezone, **context)


COMMANDS = [remind]
