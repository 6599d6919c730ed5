"""``cqdt rubric preview``: walk a rubric in the terminal as a contact would, then see its score.

The walk is the bot's own :class:`~conversations.contact_dialogue.ContactDialogue`
on a throw-away SQLite database holding a one-agency campaign with the rubric.
Each reply is rendered with the bot's templates and its buttons become a
numbered list; the author's lines are typed answers, button numbers or the
bot's commands. Files are named by a path on the author's machine, which is
read for its name, size and type but not copied.
"""

from __future__ import annotations

import csv
import io
import mimetypes
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

import click

from bot.rendering import label_of, notice_of, text_of
from bot.texts import render
from conversations.contact_dialogue import ContactDialogue, Upload
from conversations.exports import group_dict
from conversations.replies import Button, Outcome, Reply
from conversations.situation import Person
from conversations.walk import progress
from rubrics.compiled import CompiledRubric
from rubrics.model import Question
from rubrics.scoring import AgencyInput, Scorer
from storage import answers as answer_store
from storage import campaigns
from storage.agency_import import COLUMNS, import_csv
from storage.campaigns import CampaignSpec
from storage.db import Database
from storage.invitations import agency_invitations

AUTHOR = 1  # the Telegram user id of the author in the throw-away database
AGENCY_CODE, AGENCY_NAME = "xem-thu", "Cơ quan xem thử"
TYPED = frozenset({"integer", "decimal", "percentage", "date", "text", "document"})
BUTTON = re.compile(r"#(\d+)")
NUMBER = re.compile(r"\d+")
COMMAND = re.compile(r"/([A-Za-z0-9_]+)(?:@\S*)?(?:\s+(.*))?")  # not a path such as /tmp/a.pdf
FILE_COMMAND = "tep"


def setup(db: Database, rubric: CompiledRubric, now: datetime) -> tuple[int, str]:
    """A one-agency campaign with ``rubric``: the agency's id and its invitation token.

    The campaign holds the rubric's level alone, so a rule that reads child agencies
    (``children_share``) is not refused for want of their level; it finds none."""
    spec = CampaignSpec(f"Xem thử {rubric.id}", {rubric.level: rubric}, now + timedelta(days=30))
    with db.session() as session:
        campaign = campaigns.create(session, spec, check_children=False)
        import_csv(session, campaign, agency_csv(rubric.level))
        [(agency, invitation)] = agency_invitations(session, campaign, now)
        return agency.id, invitation.token


def agency_csv(level: str) -> str:
    """The preview's one agency, as ``cqdt agencies import`` reads it."""
    stream = io.StringIO()
    writer = csv.writer(stream)
    writer.writerow(COLUMNS)
    writer.writerow([AGENCY_CODE, AGENCY_NAME, level, "", "", "", ""])
    return stream.getvalue()


def final_score(db: Database, rubric: CompiledRubric, agency_id: int, zone: str) -> str:
    """The score the stored answers give, as ``cqdt rubric score`` prints it."""
    with db.session() as session:
        answers = answer_store.load_agency_answers(session, rubric, agency_id)
    score = Scorer(rubric).score_cohort([AgencyInput("preview", answers)])[0]
    done = progress(rubric, answers, set())
    return render(
        "preview_score",
        lang="cli",
        zone=zone,
        rubric=rubric,
        score=score,
        groups=[group_dict(score, g) for g in score.groups],
        answered=done.answered,
        relevant=done.relevant,
        missing=len(done.missing_required),
    )


@dataclass
class Screen:
    """What the author last saw: the buttons, numbered from 1, and what a typed line answers."""

    buttons: list[Button] = field(default_factory=list)
    question: Question | None = None  # the question in the last replies, if they ask one
    again: Reply | None = None  # the last question or menu, shown again after the preview's own refusals

    @property
    def expects(self) -> str | None:
        """ "file", "typed" or "buttons": what a line that is not a command or «#số» stands for."""
        kind = self.question.type if self.question else None
        if kind == "file":
            return "file"
        if kind in TYPED:
            return "typed"
        return "buttons" if self.buttons else None


def without_office(row: list[Button]) -> list[Button]:
    """A row of buttons without «❓ Hỏi cơ quan điều phối»: a preview has no office to ask."""
    return [b for b in row if b.key != "ask_office"]


class Preview:
    """The author's side of the conversation: lines in, rendered replies out."""

    def __init__(self, dialogue: ContactDialogue, who: Person, zone: str, echo: Callable[[str], None]):
        self.dialogue = dialogue
        self.who = who
        self.lang = who.language or "vi"
        self.zone = zone
        self.echo = echo
        self.screen = Screen()
        self.finished = False
        self.uploads = 0

    # -- output -------------------------------------------------------------------

    def show(self, outcome: Outcome) -> None:
        if outcome.notice:
            self.echo(render("preview_notice", lang="cli", notice=notice_of(outcome.notice, self.lang, self.zone)))
        if not outcome.replies:
            return
        self.screen.buttons, self.screen.question = [], None
        for reply in outcome.replies:
            reply.buttons = [row for row in (without_office(row) for row in reply.buttons) if row]
            self.echo(self.rendered(reply, len(self.screen.buttons)))
            self.screen.buttons += [b for row in reply.buttons for b in row]
            if reply.template == "question":
                self.screen.question = reply.context["question"]
            if reply.buttons or reply.prompt_token:
                self.screen.again = reply
            self.finished |= reply.template == "receipt"
        question = self.screen.question
        hint = render(
            "preview_hint",
            lang="cli",
            expects=self.screen.expects,
            buttons=bool(self.screen.buttons),
            evidence=question is not None and question.evidence != "none",
        )
        if hint:
            self.echo(hint + "\n")

    def rendered(self, reply: Reply, first: int) -> str:
        rows, number = [], first
        for row in reply.buttons:
            rows.append([(number := number + 1, label_of(b, self.lang, self.zone)) for b in row])
        return render("preview_reply", lang="cli", text=text_of(reply, self.lang, self.zone), rows=rows) + "\n"

    def refuse(self, key: str, **params) -> None:
        """A refusal of the preview's own (no such button, no such file), then the last message again."""
        self.echo(render("preview_refusal", lang="cli", key=key, **params) + "\n")
        again = self.screen.again
        if again is not None:
            context = {k: v for k, v in again.context.items() if k != "just_answered"}
            self.show(Outcome([Reply(again.template, context, again.buttons, prompt_token=again.prompt_token)]))

    # -- input --------------------------------------------------------------------

    def start(self, token: str) -> None:
        self.show(self.dialogue.start(self.who, token))

    def handle(self, line: str) -> None:
        """One line the author typed: a command, a button number, a file path or a typed answer."""
        command = COMMAND.fullmatch(line)
        if command:
            self.command(command[1].lower(), (command[2] or "").strip())
        elif BUTTON.fullmatch(line) or (NUMBER.fullmatch(line) and self.screen.expects == "buttons"):
            self.press(int(line.lstrip("#")))
        elif self.screen.expects == "file":
            self.upload(line)
        else:
            self.show(self.dialogue.text(self.who, line))

    def command(self, name: str, argument: str) -> None:
        if name == FILE_COMMAND:
            if argument:
                self.upload(argument)
            else:
                self.refuse("file_usage")
        elif name == "start":
            self.show(self.dialogue.start(self.who, None))
        else:
            self.show(self.dialogue.command(self.who, name, argument))

    def press(self, number: int) -> None:
        buttons = self.screen.buttons
        if not buttons:
            self.refuse("no_buttons")
        elif not 1 <= number <= len(buttons):
            self.refuse("no_button", number=number, count=len(buttons))
        else:
            self.show(self.dialogue.button(self.who, buttons[number - 1].data))

    def upload(self, text: str) -> None:
        path = Path(text.strip().strip("\"'")).expanduser()
        if not path.is_file():
            self.refuse("file_missing", path=text.strip())
            return
        self.uploads += 1
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        kind = "photo" if mime.startswith("image/") else "document"
        upload = Upload(kind, f"xem-thu-{self.uploads}", None, path.name, path.stat().st_size, mime)
        self.show(self.dialogue.upload(self.who, upload))


def read_lines(stream: TextIO):
    """The author's lines until an empty line or the end of input; piped lines are echoed after «›»."""
    interactive = stream.isatty()
    while True:
        if interactive:
            click.echo("› ", nl=False)
        try:
            line = stream.readline()
        except KeyboardInterrupt:
            click.echo()
            return
        if not interactive and line:
            click.echo(f"› {line.rstrip()}")
        if not line.strip():
            return
        yield line.strip()


def run_preview(rubric: CompiledRubric, *, lang: str, zone: str, clock: Callable[[], datetime]) -> None:
    with tempfile.TemporaryDirectory(prefix="cqdt-xem-thu-") as folder:
        db = Database(f"sqlite:///{Path(folder) / 'xem-thu.db'}")
        try:
            agency_id, token = setup(db, rubric, clock())
            preview = Preview(
                ContactDialogue(db, clock, zone=zone), Person(AUTHOR, AUTHOR, "Người xem thử", lang), zone, click.echo
            )
            click.echo(render("preview_start", lang="cli", zone=zone, rubric=rubric) + "\n")
            preview.start(token)
            for line in read_lines(sys.stdin):
                preview.handle(line)
                if preview.finished:
                    break
            click.echo(final_score(db, rubric, agency_id, zone))
        finally:
            db.dispose()
