"""``cqdt run`` (long polling) and ``cqdt serve`` (webhook): the bot itself."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from bot import logs
from bot.app import ALLOWED_UPDATES, build_application
from bot.cli.context import CliContext, pass_cli
from bot.settings import Settings
from storage.db import Database
from storage.errors import Refused

evidence_option = click.option(
    "--evidence-dir",
    envvar="CQDT_EVIDENCE_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Tải tệp minh chứng về thư mục này (bỏ trống: chỉ lưu mã tệp của Telegram). [env CQDT_EVIDENCE_DIR]",
)


def prepare(cli: CliContext, evidence_dir: Path | None):
    if not cli.token:
        raise Refused("token_missing")
    logs.configure(cli.token)
    settings = Settings(
        database_url=cli.database_url, timezone=cli.timezone, telegram_api_url=cli.telegram_api_url, token=cli.token
    )
    database = Database(cli.database_url)
    if evidence_dir is not None:
        evidence_dir.mkdir(parents=True, exist_ok=True)
    return build_application(settings, database, evidence_dir=evidence_dir), database


@click.command("run")
@evidence_option
@pass_cli
def run(cli: CliContext, evidence_dir: Path | None) -> None:
    """Chạy bot bằng long polling (không cần địa chỉ công khai)."""
    application, database = prepare(cli, evidence_dir)
    logging.getLogger(__name__).info("cqdt bot starting (long polling)")
    try:
        application.run_polling(allowed_updates=ALLOWED_UPDATES, close_loop=False)
    finally:
        database.dispose()


@click.command("serve")
@evidence_option
@click.option("--listen", default="127.0.0.1", show_default=True, help="Địa chỉ lắng nghe.")
@click.option("--port", type=int, default=8443, show_default=True, help="Cổng lắng nghe.")
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
    cli: CliContext, evidence_dir: Path | None, listen: str, port: int, webhook_url: str, secret: str, url_path: str
) -> None:
    """Chạy bot bằng webhook; yêu cầu nào thiếu mã bí mật đúng đều bị từ chối."""
    application, database = prepare(cli, evidence_dir)
    logging.getLogger(__name__).info("cqdt bot starting (webhook on %s:%s/%s)", listen, port, url_path)
    try:
        application.run_webhook(
            listen=listen,
            port=port,
            url_path=url_path,
            webhook_url=webhook_url,
            secret_token=secret,
            allowed_updates=ALLOWED_UPDATES,
            close_loop=False,
        )
    finally:
        database.dispose()


COMMANDS = [run, serve]
