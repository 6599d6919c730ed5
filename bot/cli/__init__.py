"""The ``cqdt`` command line: set up a campaign, follow it and export its results.

Every command has ``--help``; errors are one clear line on stderr and a
non-zero exit status.
"""

from __future__ import annotations

import sys

import click

from bot.cli.context import CliContext
from bot.texts import refusal
from common.errors import Refused
from common.settings import DEFAULT_API_URL, DEFAULT_TIMEZONE, load
from rubrics.errors import RubricError
from storage.db import DatabaseUnavailable, SchemaOutdated


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--database-url",
    metavar="URL",
    help="Cơ sở dữ liệu (mặc định: sqlite:///cqdt.db). [env CQDT_DATABASE_URL]",
)
@click.option(
    "--timezone",
    metavar="MÚI_GIỜ",
    help=f"Múi giờ hiển thị (mặc định: {DEFAULT_TIMEZONE}). [env CQDT_TIMEZONE]",
)
@click.option(
    "--telegram-api-url",
    metavar="URL",
    help=f"Địa chỉ Bot API (mặc định: {DEFAULT_API_URL}). [env CQDT_TELEGRAM_API_URL]",
)
@click.option("--token", metavar="TOKEN", help="Token của bot. [env TELEGRAM_BOT_TOKEN]")
@click.version_option(package_name="cqdt")
@click.pass_context
def cli(ctx: click.Context, database_url, timezone, telegram_api_url, token) -> None:
    """cqdt: đánh giá mức độ Chính quyền điện tử qua Telegram."""
    settings = load(database_url=database_url, timezone=timezone, telegram_api_url=telegram_api_url, token=token)
    ctx.obj = CliContext(settings)
    ctx.call_on_close(ctx.obj.close)


def _register() -> None:
    from bot.cli import agencies, agency_map, campaign, db, demo, invites, remind, reports, rubric, run

    for module in (db, rubric, campaign, agencies, agency_map, invites, reports, remind, run, demo):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> int:
    try:
        code = cli.main(args=argv, prog_name="cqdt", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo("Đã huỷ.", err=True)
        return 1
    except click.ClickException as exc:
        click.echo(f"Lỗi: {exc.format_message()} (xem «cqdt … --help»)", err=True)
        return 2
    except Refused as exc:
        click.echo(f"Lỗi: {refusal(exc, lang='cli')}", err=True)
        return 1
    except RubricError as exc:
        click.echo(f"Lỗi: {exc.message}", err=True)
        return 1
    except SchemaOutdated as exc:
        click.echo(f"Lỗi: {refusal(Refused('schema_outdated', url=str(exc)), lang='cli')}", err=True)
        return 1
    except DatabaseUnavailable as exc:
        click.echo(f"Lỗi: {refusal(Refused('database_unreachable', reason=exc.reason), lang='cli')}", err=True)
        return 1
    return code if isinstance(code, int) else 0  # without standalone mode, click returns an Exit's code


if __name__ == "__main__":
    sys.exit(main())
