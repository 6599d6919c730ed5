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
from bot.texts import render
from common.errors import Refused
from common.settings import Settings, variable
from storage.db import Database

log = logging.getLogger(__name__)

evidence_option = click.option(
    "--evidence-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Tải tệp minh chứng về thư mục này (bỏ trống: chỉ lưu mã tệp của Telegram)."
    " [biến môi trường CQDT_EVIDENCE_DIR]",
)
log_format_option = click.option(
    "--log-format",
    type=click.Choice(logs.FORMATS),
    help="Định dạng nhật ký: text (dòng chữ, mặc định) hoặc json (mỗi dòng một đối tượng JSON)."
    " [biến môi trường CQDT_LOG_FORMAT]",
)


def prepare(settings: Settings):
    """The application, its database and its health report, from the settings with the command's flags."""
    token = settings.token_value()
    if not token:
        raise Refused("token_missing")
    logs.configure(token, fmt=settings.log_format, secrets=settings.secret_values())
    database = Database(settings.database_url)
    if settings.evidence_dir is not None:
        settings.evidence_dir.mkdir(parents=True, exist_ok=True)
    application = build_application(settings, database, evidence_dir=settings.evidence_dir)
    return application, database, Health(application, database)


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
    cli: CliContext, evidence_dir: Path | None, log_format: str | None, health_port: int | None, health_listen: str
) -> None:
    """Chạy bot bằng long polling (không cần địa chỉ công khai)."""
    application, database, health = prepare(cli.settings.override(evidence_dir=evidence_dir, log_format=log_format))
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
    metavar="URL",
    help="Địa chỉ HTTPS công khai mà Telegram gọi tới (bắt buộc). [biến môi trường CQDT_WEBHOOK_URL]",
)
@click.option(
    "--secret",
    metavar="CHUỖI",
    help="Mã bí mật Telegram gửi kèm trong header X-Telegram-Bot-Api-Secret-Token."
    " [biến môi trường CQDT_WEBHOOK_SECRET]",
)
@click.option("--path", "url_path", default="telegram", show_default=True, help="Đường dẫn nhận webhook.")
@pass_cli
def serve(
    cli: CliContext,
    evidence_dir: Path | None,
    log_format: str | None,
    listen: str,
    port: int,
    webhook_url: str | None,
    secret: str | None,
    url_path: str,
) -> None:
    """Chạy bot bằng webhook, kèm GET /health; yêu cầu nào thiếu mã bí mật đúng đều bị từ chối."""
    settings = cli.settings.override(
        evidence_dir=evidence_dir, log_format=log_format, webhook_url=webhook_url, webhook_secret=secret
    )
    if settings.webhook_url is None:
        raise Refused("setting_missing", variable=variable("webhook_url"), flag="--webhook-url")
    if settings.webhook_secret is None:
        raise Refused("setting_missing", variable=variable("webhook_secret"), flag="--secret")
    application, database, health = prepare(settings)
    log.info("cqdt bot starting (webhook on %s:%s/%s)", listen, port, url_path)
    try:
        asyncio.run(
            webhook_server.serve(
                application,
                health,
                listen=listen,
                port=port,
                url_path=url_path,
                webhook_url=settings.webhook_url,
                secret=settings.webhook_secret.get_secret_value(),
                allowed_updates=ALLOWED_UPDATES,
            )
        )
    except webhook_server.ListenFailed as exc:
        raise listen_failed(exc) from None
    finally:
        database.dispose()


COMMANDS = [run, serve]
