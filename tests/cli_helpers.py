"""The command line driven in-process, as a test reads it: its output, or its error when it is expected to fail."""

from __future__ import annotations

from bot.cli import main

ENVIRONMENT = ("CQDT_BOT_USERNAME", "TELEGRAM_BOT_TOKEN", "CQDT_DATABASE_URL")


class Cli:
    """``cqdt`` on one database: ``cli("scores", "--campaign", "1")`` is its standard output; with
    ``expect=`` another exit status, its standard error."""

    def __init__(self, capsys, url: str):
        self.capsys, self.url = capsys, url

    def __call__(self, *args: str, expect: int = 0) -> str:
        code = main(["--database-url", self.url, *args])
        captured = self.capsys.readouterr()
        assert code == expect, f"exit {code}: {captured.err}{captured.out}"
        return captured.out if expect == 0 else captured.err


def without_settings(monkeypatch) -> None:
    """The environment without the settings a developer's shell may carry."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
