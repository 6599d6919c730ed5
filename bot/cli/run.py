"""``cqdt run`` (long polling) and ``cqdt serve`` (webhook): the bot itself, with ``/health``."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click

from bot import logs, webhook_server
from bot.app import ALLOWED_UPDATES, build_application
from bot.cli.context import CliContext, pass_cli
from bot.health import Health
from bot.settings import Settings
from bot.texts import render
from common.errors import Refused
from storage.db import Database

log = logging.getLogger(__name__)

evidence_option = click.option(
    "--evidence-dir",
    envvar="CQDT_EVIDENCE_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Tải tệp minh chứng về thư mục này (bỏ trống: chỉ lưu mã tệp của Telegram). [env CQDT_EVIDENCE_DIR]",
)
log_format_option = click.option(
    "--log-format",
    envvar="CQDT_LOG_FORMAT",
    type=click.Choice(logs.FORMATS),
    default="text",
    show_default=True,
    help="Định dạng nhật ký: text (dòng chữ) hoặc json (mỗi dòng một đối tượng JSON). [env CQDT_LOG_FORMAT]",
)


def prepare(cli: CliContext, evidence_dir: Path | None, log_format: str):
    if not cli.token:
        raise Refused("token_missing")
    logs.configure(cli.token, fmt=log_format)
    settings = Settings(
        database_url=cli.database_url, timezone=cli.timezone, telegram_api_url=cli.telegram_api_url, token=cli.token
    )
    database = Database(cli.database_url)
    if evidence_dir is not None:
        evidence_dir.mkdir(parents=True, exist_ok=True)
    application = build_application(settings, database, evidence_dir=evidence_dir)
    return application, database, Health(application, database.engine)


def listen_failed(exc: webhook_server.ListenFailed) -> click.ClickException:
    return click.ClickException(
        render("listen_failed", lang="cli", listen=exc.listen, port=exc.port, reason=exc.reason)
    )


@click.command("run")
@evidence_option
@log_format_option
@click.option(
    "--health-port",
    type=int,
    metavar="CỔNG",
    help="Phục vụ GET /health ở cổng này (bỏ trống: không phục vụ).",
)
@click.option("--health-listen", default="127.0.0.1", show_default=True, help="Địa chỉ lắng nghe của /health.")
@pass_cli
def run(
    cli: CliContext, evidence_dir: Path | None, log_format: str, health_port: int | None, health_listen: str
) -> None:
    """Chạy bot bằng long polling (không cần địa chỉ công khai)."""
    application, database, health = prepare(cli, evidence_dir, log_format)
    if health_port is not None:
        webhook_server.attach_health_server(application, health, health_listen, health_port)
    log.info("cqdt bot starting (long polling)")
    try:
        application.run_polling(allowed_updates=ALLOWED_UPDATES, close_loop=False)
    except webhook_server.ListenFailed as exc:
        raise listen_failed(exc) from None
    finally:
        database.dispose()


@click.command("serve")
@evidence_option
@log_format_option
@click.option("--listen", default="127.0.0.1", show_default=True, help="Địa chỉ lắng nghe.")
@click.option("--port", type=int, default=8443, show_default=True, help="Cổng lắng nghe (webhook và /health).")
@click.option(
    "--webhook-url",
    envvar="CQDT_WEBHOOK_URL",
    required=True,
    metavar="URL",
    help="Địa chỉ HTTPS công khai mà Telegram gọi tới. [env CQDT_WEBHOOK_URL]",
)
@click.option(
    "--secret",
    envvar="CQDT_WEBHOOK_SECRET",
    required=True,
    metavar="CHUỖI",
    help="Mã bí mật Telegram gửi kèm trong header X-Telegram-Bot-Api-Secret-Token. [env CQDT_WEBHOOK_SECRET]",
)
@click.option("--path", "url_path", default="telegram", show_default=True, help="Đường dẫn nhận webhook.")
@pass_cli
def serve(
    cli: CliContext,
    evidence_dir: Path | None,
    log_format: str,
    listen: str,
    port: int,
    webhook_url: str,
    secret: str,
    url_path: str,
) -> None:
    """Chạy bot bằng webhook, kèm GET /health; yêu cầu nào thiếu mã bí mật đúng đều bị từ chối."""
    application, database, health = prepare(cli, evidence_dir, log_format)
    log.info("cqdt bot starting (webhook on %s:%s/%s)", listen, port, url_path)
    try:
        asyncio.run(
            webhook_server.serve(
                application,
                health,
                listen=listen,
                port=port,
                url_path=url_path,
                webhook_url=webhook_url,
                secret=secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        )
    except webhook_server.ListenFailed as exc:
        raise listen_failed(exc) from None
    finally:
        database.dispose()


COMMANDS = [run, serve]
