"""The ``cqdt`` command line: set up a campaign, follow it and export its results.

Every command has ``--help``; errors are one clear line on stderr and a
non-zero exit status. Everything it prints is Vietnamese, click's own words
included (:mod:`bot.cli.vietnamese`).
"""

from __future__ import annotations

import sys

import click

from bot.cli import vietnamese
from bot.cli.context import CliContext
from bot.texts import phrase, refusal
from common.errors import Refused
from common.settings import DEFAULT_API_URL, DEFAULT_TIMEZONE, load
from rubrics.errors import RubricError
from storage.db import DatabaseUnavailable, SchemaOutdated

vietnamese.install()  # before the commands are declared: click reads some of its words then


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--database-url",
    metavar="URL",
    help="Cơ sở dữ liệu (mặc định: sqlite:///cqdt.db). [biến môi trường CQDT_DATABASE_URL]",
)
@click.option(
    "--timezone",
    metavar="MÚI_GIỜ",
    help=f"Múi giờ hiển thị (mặc định: {DEFAULT_TIMEZONE}). [biến môi trường CQDT_TIMEZONE]",
)
@click.option(
    "--telegram-api-url",
    metavar="URL",
    help=f"Địa chỉ Bot API (mặc định: {DEFAULT_API_URL}). [biến môi trường CQDT_TELEGRAM_API_URL]",
)
@click.option("--token", metavar="TOKEN", help="Token của bot. [biến môi trường TELEGRAM_BOT_TOKEN]")
@click.version_option(package_name="cqdt")
@click.pass_context
def cli(ctx: click.Context, database_url, timezone, telegram_api_url, token) -> None:
    """cqdt: đánh giá mức độ Chính quyền điện tử qua Telegram."""
    settings = load(database_url=database_url, timezone=timezone, telegram_api_url=telegram_api_url, token=token)
    ctx.obj = CliContext(settings)
    ctx.call_on_close(ctx.obj.close)


def _register() -> None:
    from bot.cli import agencies, agency_map, audit, campaign, db, demo, guidance, invites, remind, reports, rubric, run

    modules = (db, rubric, campaign, agencies, agency_map, invites, reports, remind, run, demo, audit, guidance)
    for module in modules:
        for command in module.COMMANDS:
            cli.add_command(command)


_register()
vietnamese.localize(cli)


def _error(message: str) -> None:
    click.echo(phrase("error", "error", message=message), err=True)


def _one_line(text: str) -> str:
    """click's message on one line (its list of choices has a line each)."""
    return " ".join(text.split())


def main(argv: list[str] | None = None) -> int:
    try:
        code = cli.main(args=argv, prog_name="cqdt", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo(phrase("error", "aborted"), err=True)
        return 1
    except click.exceptions.NoArgsIsHelpError as exc:  # a group without its command: its help
        click.echo(exc.format_message(), err=True)
        return exc.exit_code
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx is not None else "cqdt"
        click.echo(phrase("error", "usage", message=_one_line(exc.format_message()), command=command), err=True)
        return exc.exit_code
    except click.ClickException as exc:
        _error(_one_line(exc.format_message()))
        return exc.exit_code
    except Refused as exc:
        _error(refusal(exc, lang="cli"))
        return 1
    except RubricError as exc:
        _error(exc.message)
        return 1
    except SchemaOutdated as exc:
        _error(refusal(Refused("schema_outdated", url=str(exc)), lang="cli"))
        return 1
    except DatabaseUnavailable as exc:
        _error(refusal(Refused("database_unreachable", reason=exc.reason), lang="cli"))
        return 1
    return code if isinstance(code, int) else 0  # without standalone mode, click returns an Exit's code


if __name__ == "__main__":
    sys.exit(main())
