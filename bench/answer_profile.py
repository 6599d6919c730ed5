"""Where one answer's time goes, without wall-clock: statements per answer and CPU per answer.

Contacts answer the whole qn2018-xa rubric through :class:`ContactDialogue` (no Telegram), each
answer's replies rendered to text and buttons as the bot renders them. Per answer it counts the
SQL statements sent (SQLAlchemy's ``before_cursor_execute``) and the CPU time (``process_time``) of
the dialogue and of the rendering, and, on as many more contacts, the Python function calls per answer
(cProfile's count: exact where a time on a shared machine is not). The baseline, in the same run,
is a bare unit of work that only records its update (``unit.updates.seen``). ``--profile`` prints
cProfile's heaviest functions of those answers.

    python bench/answer_profile.py [--contacts 5] [--postgres URL] [--profile 25 [--sort cumulative]] [--sql]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from dialogue_helpers import START, Clock  # noqa: E402
from postgres import postgres_schema  # noqa: E402
from sqlalchemy import event  # noqa: E402

from bot.demo.contacts import typed  # noqa: E402
from bot.rendering import keyboard_of, notice_of, text_of  # noqa: E402
from conversations.contact_dialogue import ContactDialogue, Upload  # noqa: E402
from conversations.replies import Outcome  # noqa: E402
from conversations.situation import Person  # noqa: E402
from rubrics.answers import NA  # noqa: E402
from rubrics.bundled import bundled  # noqa: E402
from rubrics.sample_answers import sample_answers  # noqa: E402
from storage import campaigns  # noqa: E402
from storage.agency_import import import_csv  # noqa: E402
from storage.campaigns import CampaignSpec  # noqa: E402
from storage.db import Database, upgrade  # noqa: E402
from storage.invitations import agency_invitations  # noqa: E402

RUBRIC = bundled()["qn2018-xa"]
ZONE = "Asia/Ho_Chi_Minh"
EVIDENCE = Upload("document", "F-minh-chung", "U-minh-chung", "minh-chung.pdf", 2048, "application/pdf")


class Statements:
    """Counts the statements sent to the database, and keeps their text while ``keep`` is set."""

    def __init__(self, database: Database):
        self.count = 0
        self.keep = False
        self.kept: list[str] = []
        event.listen(database.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, _params, _context, _many) -> None:
        self.count += 1
        if self.keep:
            self.kept.append(" ".join(statement.split())[:160])


class Walker:
    """Contacts answering every question, one update at a time, each answer measured."""

    def __init__(self, database: Database, statements: Statements, profiler: cProfile.Profile | None = None):
        self.profiler = profiler  # counting the calls of each answer, if given
        self.clock = Clock(START)
        self.dialogue = ContactDialogue(database, self.clock, receipts=lambda: None, zone=ZONE)
        self.statements = statements
        self.update_id = 1000 if profiler is None else 1_000_000  # the second walker's updates are new ones
        self.answers = 0
        self.answer_statements: list[int] = []
        self.dialogue_cpu = 0.0
        self.render_cpu = 0.0
        self.by_kind: Counter[str] = Counter()

    def _update(self, call, *args) -> Outcome:
        self.update_id += 1
        self.clock.advance(seconds=7)
        return call(*args)

    def _measured(self, kind: str, call, *args) -> Outcome:
        before = self.statements.count
        if self.profiler:
            self.profiler.enable()
        started = time.process_time()
        outcome = self._update(call, *args)
        middle = time.process_time()
        render(outcome)
        self.render_cpu += time.process_time() - middle
        if self.profiler:
            self.profiler.disable()
        self.dialogue_cpu += middle - started
        self.answer_statements.append(self.statements.count - before)
        self.answers += 1
        self.by_kind[kind] += 1
        return outcome

    def who(self, user_id: int) -> Person:
        return Person(user_id, user_id, "Nguyễn Thu Hà", "vi", self.update_id + 1)

    def walk(self, user_id: int, token: str) -> None:
        outcome = self._update(self.dialogue.start, self.who(user_id), token)
        plan = sample_answers(RUBRIC, random.Random(user_id), na_rate=0.0)
        while (reply := next((r for r in outcome.replies if r.template == "question"), None)) is not None:
            step = reply.context["step"]
            question = step.question
            value = plan.get(question.id, True if question.type == "yes_no" else "1")
            if question.evidence == "required" and question.type != "file" and value not in (NA, None):
                outcome = self._update(self.dialogue.upload, self.who(user_id), EVIDENCE)
            data = _buttons(outcome)
            if question.type == "multi_choice" and value not in (NA, None):
                for option in (o for o in question.options if o.value in value):
                    toggled = self._update(
                        self.dialogue.button, self.who(user_id), data[("toggle", str(option.value))], 1
                    )
                    data = _buttons(toggled)
            who = self.who(user_id)
            if value is NA or value is None:
                key = ("not_applicable" if value is NA else "skip", "")
                outcome = self._measured("button", self.dialogue.button, who, data[key], 1)
            elif question.type == "yes_no":
                outcome = self._measured("button", self.dialogue.button, who, data[("yes" if value else "no", "")], 1)
            elif question.type == "single_choice":
                outcome = self._measured("button", self.dialogue.button, who, data[("option", str(value))], 1)
            elif question.type == "multi_choice":
                outcome = self._measured("button", self.dialogue.button, who, data[("done", "")], 1)
            elif question.type == "file":
                outcome = self._measured("upload", self.dialogue.upload, who, EVIDENCE)
            else:
                outcome = self._measured("text", self.dialogue.text, who, typed(question, value))
            following = next((r for r in outcome.replies if r.template == "question"), None)
            if following is not None and following.context["step"] == step:
                raise RuntimeError(f"question {step.number} asked again: {[r.template for r in outcome.replies]}")


def _buttons(outcome: Outcome) -> dict[tuple[str, str], str]:
    reply = next(r for r in outcome.replies if r.template == "question")
    return {
        (b.key, str(b.params["option"].value) if "option" in b.params else ""): b.data
        for row in reply.buttons
        for b in row
    }


def render(outcome: Outcome) -> None:
    """As the bot renders an outcome before sending it."""
    for reply in outcome.replies:
        text_of(reply, "vi", ZONE)
        keyboard_of(reply, "vi", ZONE)
    notice_of(outcome.notice, "vi", ZONE)


def prepare(database: Database, contacts: int) -> list[str]:
    upgrade(database.engine)
    lines = ["code,name,level,parent_code,contact_name,contact_phone,contact_email"]
    lines += [f"X{i:04d},UBND xã thử nghiệm {i},xa,,,," for i in range(contacts)]
    with database.session() as session:
        campaign = campaigns.create(session, CampaignSpec("Benchmark", {"xa": RUBRIC}, START + timedelta(days=14)))
        import_csv(session, campaign, "\n".join(lines) + "\n")
        return [inv.token for _, inv in agency_invitations(session, campaign, START)]


def bare_unit_cpu(database: Database, statements: Statements, times: int = 200) -> tuple[float, float]:
    """(CPU ms, statements) of a unit of work that only records its update: the floor of any answer."""
    before = statements.count
    started = time.process_time()
    for n in range(times):
        with database.unit() as unit:
            unit.updates.seen(10_000_000 + n, START)
    return (time.process_time() - started) * 1000 / times, (statements.count - before) / times


def calls_per_answer(database: Database, statements: Statements, tokens: list[str]) -> tuple[float, pstats.Stats]:
    """Python function calls per answer, dialogue and rendering (cProfile's count: exact, unlike a time)."""
    walker = Walker(database, statements, cProfile.Profile())
    for i, token in enumerate(tokens):
        walker.walk(6000 + i, token)
    stats = pstats.Stats(walker.profiler)
    return stats.total_calls / walker.answers, stats


def run(url: str, args: argparse.Namespace) -> None:
    database = Database(url, ensure=False)
    statements = Statements(database)
    tokens = prepare(database, 2 * args.contacts)
    walker = Walker(database, statements)
    for i, token in enumerate(tokens[: args.contacts]):
        statements.keep = args.sql and i == 0
        walker.walk(5000 + i, token)
    statements.keep = False
    calls, stats = calls_per_answer(database, statements, tokens[args.contacts :])
    floor_cpu, floor_statements = bare_unit_cpu(database, statements)
    per = walker.answer_statements
    dialogue_ms = walker.dialogue_cpu * 1000 / walker.answers
    render_ms = walker.render_cpu * 1000 / walker.answers
    print(
        f"{database.engine.dialect.name}: {walker.answers} answers ({dict(walker.by_kind)}) by {args.contacts} contacts"
    )
    print(
        f"  statements per answer   mean {statistics.mean(per):.2f}   median {statistics.median(per):g}"
        f"   min {min(per)}   max {max(per)}   (bare unit of work: {floor_statements:g})"
    )
    print(
        f"  CPU per answer          dialogue {dialogue_ms:.2f} ms + rendering {render_ms:.2f} ms"
        f" = {dialogue_ms + render_ms:.2f} ms   (bare unit of work: {floor_cpu:.2f} ms,"
        f" ratio {(dialogue_ms + render_ms) / floor_cpu:.1f} ×)"
    )
    print(f"  Python calls per answer {calls:.0f}   (cProfile, on {args.contacts} more contacts)")
    if args.sql:
        print("  statements of the first contact's walk:")
        for line, count in Counter(statements.kept).most_common():
            print(f"    {count:4d} × {line}")
    if args.profile:
        stats.sort_stats(args.sort).print_stats(args.profile)
    database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=5)
    parser.add_argument("--postgres", help="also on this PostgreSQL URL (a schema of its own, dropped after)")
    parser.add_argument("--profile", type=int, default=0, help="print this many of cProfile's heaviest functions")
    parser.add_argument("--sort", default="tottime", help="cProfile's order for --profile: tottime, cumulative…")
    parser.add_argument("--sql", action="store_true", help="print the statements of the first contact's walk")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run(f"sqlite:///{folder}/profile.db", args)
    if args.postgres:
        url, drop = postgres_schema(args.postgres, "cqdt_profile")
        try:
            run(url, args)
        finally:
            drop()


if __name__ == "__main__":
    main()
