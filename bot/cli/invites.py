"""``cqdt invites`` and ``cqdt coordinator invite``: deep links (and QR codes) for the official letter, and
the invitation letters by e-mail (``--send-email``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
import segno
from email_validator import EmailNotValidError, validate_email

from bot.cli.context import CliContext, pass_cli
from bot.cli.outboxes import outbox_for
from bot.mail.wiring import mail_sender
from common.errors import Refused
from conversations.reminders.mail import EMAIL, INVITATION
from storage import campaigns
from storage.invitations import agency_invitations, coordinator_invitation, deep_link

bot_username_option = click.option(
    "--bot-username",
    metavar="TÊN",
    help="Tên bot (không có @). Bỏ trống thì hỏi Telegram bằng token. [biến môi trường CQDT_BOT_USERNAME]",
)


def resolve_bot_username(cli: CliContext, given: str | None) -> str:
    """The flag's name, else CQDT_BOT_USERNAME, else the name Telegram gives for the token."""
    given = given or cli.settings.bot_username
    if given:
        return given.lstrip("@")
    if not cli.token:
        raise Refused("bot_username_missing")
    from telegram import Bot
    from telegram.error import TelegramError

    async def ask() -> str:
        async with Bot(cli.token, base_url=cli.telegram_api_url) as bot:
            return bot.username

    try:
        return asyncio.run(ask())
    except (TelegramError, OSError) as exc:
        raise Refused("bot_unreachable", reason=type(exc).__name__) from None


def checked_email(text: str) -> str:
    """An e-mail address as typed, checked (not its domain's mail server) and normalized."""
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise Refused("email_invalid", value=text) from None


def safe_filename(code: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in code)


language_option = click.option(
    "--language",
    type=click.Choice(["vi", "en"]),
    default="vi",
    show_default=True,
    help="Ngôn ngữ của thư điện tử.",
)


def send_invitations(
    cli: CliContext, campaign_id: int, addressed: list[tuple[int, str, str]], language: str, resend: bool, username: str
) -> dict:
    """Queue the invitation letters not sent yet (all with ``resend``) and send what is due of them: how
    many were queued and sent, and each letter's state."""
    outbox = outbox_for(cli)
    queued = outbox.queue_invitations(campaign_id, addressed, language, resend)
    sender = mail_sender(cli.settings, outbox, lambda: username)
    sent = asyncio.run(sender.tick(campaign_id, kinds=(INVITATION,), plan=False))
    letters = [
        {k: r[k] for k in ("agency_code", "agency", "email", "status", "sent_at", "last_error")}
        for r in outbox.listing(campaign_id)
        if r["kind"] == INVITATION and r["channel"] == EMAIL
    ]
    return {"queued": queued, "sent": sent, "letters": letters}


@click.command("invites")
@click.option("--campaign", "campaign_id", type=int, required=True, metavar="ID", help="Mã số đợt đánh giá.")
@click.option("--agency", "agency_code", metavar="MÃ", help="Chỉ một đơn vị.")
@click.option(
    "--qr",
    "qr_dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="THƯ_MỤC",
    help="Ghi mã QR (PNG) của từng đơn vị vào thư mục này, để in vào công văn.",
)
@click.option(
    "--send-email",
    is_flag=True,
    help="Gửi thư mời (kèm đường dẫn và mã QR) tới thư điện tử của từng đơn vị; cần CQDT_SMTP_URL, CQDT_MAIL_FROM.",
)
@click.option("--resend", is_flag=True, help="Cùng --send-email: gửi lại cả cho đơn vị đã được gửi thư mời.")
@language_option
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@bot_username_option
@pass_cli
def invites(
    cli: CliContext,
    campaign_id: int,
    agency_code: str | None,
    qr_dir: Path | None,
    send_email: bool,
    resend: bool,
    language: str,
    as_json: bool,
    bot_username: str | None,
) -> None:
    """Đường dẫn mời đầu mối của mỗi đơn vị (dùng một lần; chạy lại để cấp đường dẫn mới khi đã dùng)."""
    if resend and not send_email:
        raise Refused("resend_without_send_email")
    if send_email and not cli.settings.mail_enabled:
        raise Refused("mail_off")
    username = resolve_bot_username(cli, bot_username)
    with cli.db.session() as session:
        campaign = campaigns.get(session, campaign_id)
        pairs = agency_invitations(session, campaign, cli.now(), agency_code)
        rows = [
            {
                "code": a.code,
                "name": a.name,
                "level": a.level,
                "link": deep_link(username, inv.token),
                "expires_at": inv.expires_at,
            }
            for a, inv in pairs
        ]
        addressed = [(a.id, a.contact_email, inv.token) for a, inv in pairs if a.contact_email]
        without_email = [a.code for a, _ in pairs if not a.contact_email]
    if not rows:
        raise Refused("no_agencies")
    if send_email:
        mailed = send_invitations(cli, campaign_id, addressed, language, resend, username)
        mailed["without_email"] = without_email
        cli.emit("invites_emailed", mailed, as_json, mailed=mailed)
        return
    if qr_dir is not None:
        try:
            qr_dir.mkdir(parents=True, exist_ok=True)
            for row in rows:
                path = qr_dir / f"{safe_filename(row['code'])}.png"
                segno.make(row["link"], error="m").save(path, scale=8, border=4)
                row["qr"] = str(path)
        except OSError as exc:
            raise Refused("output_unwritable", path=str(qr_dir), reason=exc.strerror or exc) from None
    cli.emit("invites", rows, as_json, rows=rows, qr_dir=qr_dir)


@click.group("coordinator")
def coordinator_group() -> None:
    """Cán bộ điều phối."""


@coordinator_group.command("invite")
@click.option("--campaign", "campaign_id", type=int, required=True, metavar="ID", help="Mã số đợt đánh giá.")
@click.option(
    "--scope",
    "scope_code",
    metavar="MÃ_ĐƠN_VỊ",
    help="Chỉ xem các đơn vị trực thuộc đơn vị này (ví dụ một thành phố); bỏ trống = toàn bộ.",
)
@click.option(
    "--email",
    metavar="ĐỊA_CHỈ",
    help="Gửi thêm bản tin hằng ngày và danh sách đơn vị quá hạn tới địa chỉ thư điện tử này.",
)
@language_option
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@bot_username_option
@pass_cli
def coordinator_invite(
    cli: CliContext,
    campaign_id: int,
    scope_code: str | None,
    email: str | None,
    language: str,
    as_json: bool,
    bot_username: str | None,
) -> None:
    """Đường dẫn mời một cán bộ điều phối (dùng một lần, hiệu lực 14 ngày)."""
    if email is not None:
        email = checked_email(email)
    username = resolve_bot_username(cli, bot_username)
    with cli.db.session() as session:
        campaign = campaigns.get(session, campaign_id)
        invitation = coordinator_invitation(session, campaign, cli.now(), scope_code, email, language)
        data = {
            "campaign": campaign.id,
            "scope": scope_code,
            "link": deep_link(username, invitation.token),
            "expires_at": invitation.expires_at,
            "email": email,
            "mail_enabled": cli.settings.mail_enabled,
        }
    cli.emit("coordinator_invite", data, as_json, invite=data)


COMMANDS = [invites, coordinator_group]
