"""Conversation benchmark: K contacts answer their rubric at once, through the fake Bot API.

Each contact walks the whole qn2018-xa rubric (43 questions): it answers the
question on screen (typed or by button) and waits for the next one; a question
that requires evidence gets its document first, as a contact sends it (not timed,
but inside the run's elapsed time). Questions are recognised by the header the
bot's prompts carry (``bot.demo.contacts.HEADER``: "… · Câu 17 · 16/38"). Latency is
the time from sending an answer to receiving the next question; throughput is
answers per second over the whole run. The baseline, measured in the same run
against the same fake server, is a bare python-telegram-bot echo bot
(``bench/echo_bot.py``): the same number of users each send as many messages
and wait for each echo. Both bots run as separate processes.

    python bench/conversation_bench.py [--contacts 20] [--runs 3] [--postgres URL]

Targets (issue 10): throughput ≥ 0,7 × the echo bot's and p50 latency ≤ 1,5 × on SQLite;
≥ 0,6 × and ≤ 1,8 × on PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]


from postgres import postgres_schema  # noqa: E402

from bot.demo.contacts import HEADER, label, typed  # noqa: E402
from bot.demo.fake_telegram import FakeTelegram  # noqa: E402
from rubrics.answers import NA  # noqa: E402
from rubrics.bundled import bundled  # noqa: E402
from rubrics.sample_answers import sample_answers  # noqa: E402
from storage import campaigns  # noqa: E402
from storage.agency_import import import_csv  # noqa: E402
from storage.campaigns import CampaignSpec  # noqa: E402
from storage.db import Database, upgrade  # noqa: E402
from storage.invitations import agency_invitations  # noqa: E402

RUBRIC = bundled()["qn2018-xa"]
QUESTIONS = len(RUBRIC.steps)
SQLITE_TARGETS = (0.7, 1.5)  # throughput at least, p50 at most, as ratios to the echo bot
POSTGRES_TARGETS = (0.6, 1.8)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command, env={**os.environ, **env}, stdout=log.open("a"), stderr=subprocess.STDOUT, cwd=ROOT
    )


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def prepare_campaign(url: str, contacts: int) -> list[str]:
    database = Database(url, ensure=False)
    upgrade(database.engine)
    now = datetime.now(UTC)
    lines = ["code,name,level,parent_code,contact_name,contact_phone,contact_email"]
    lines += [f"X{i:04d},UBND xã thử nghiệm {i},xa,,,," for i in range(contacts)]
    with database.session() as session:
        campaign = campaigns.create(session, CampaignSpec("Benchmark", {"xa": RUBRIC}, now + timedelta(days=14)))
        import_csv(session, campaign, "\n".join(lines) + "\n")
        tokens = [inv.token for _, inv in agency_invitations(session, campaign, now)]
    database.dispose()
    return tokens


def walk(fake: FakeTelegram, user_id: int, token: str, latencies: list[float], lock: threading.Lock) -> int:
    """One contact answering every question; returns the number of answers."""
    user = fake.user(user_id)
    is_prompt = lambda m: bool(HEADER.search(m.text or ""))  # noqa: E731
    prompt = user.wait_for_reply(after_update=user.send_command(f"/start {token}"), match=is_prompt, timeout=60)
    plan = sample_answers(RUBRIC, random.Random(user_id), na_rate=0.0)
    answered = 0
    while prompt is not None:
        number = int(HEADER.search(prompt.text).group(1))
        question = RUBRIC.steps[number - 1].question
        value = plan.get(question.id, True if question.type == "yes_no" else "1")
        if question.evidence == "required" and question.type != "file" and value not in (NA, None):
            # as a contact does (bot/demo/contacts.py), the evidence first, so the answer moves on; not timed
            sent = user.send_document("minh-chung.pdf", b"%PDF-1.4", "application/pdf")
            prompt = user.wait_for_reply(after_update=sent, match=is_prompt, timeout=60)
        if question.type == "multi_choice" and value not in (NA, None):
            for option in (o for o in question.options if o.value in value):  # each choice ticked; not timed
                ticked = label("toggle", option=option, on=True)
                user.press(label("toggle", option=option, on=False), message_id=prompt.message_id)
                user.wait_for_reply(match=lambda m, t=ticked: t in m.button_texts, timeout=60)
        started = time.perf_counter()
        if value is NA or value is None:
            update = user.press(label("not_applicable" if value is NA else "skip"), message_id=prompt.message_id)
        elif question.type == "yes_no":
            update = user.press(label("yes" if value else "no"), message_id=prompt.message_id)
        elif question.type == "single_choice":
            option = next(o for o in question.options if o.value == value)
            update = user.press(label("option", option=option), message_id=prompt.message_id)
        elif question.type == "multi_choice":
            update = user.press(label("done"), message_id=prompt.message_id)
        elif question.type == "file":
            update = user.send_document("minh-chung.pdf", b"%PDF-1.4", "application/pdf")
        else:
            update = user.send_text(typed(question, value))
        reply = user.wait_for_reply(
            after_update=update, timeout=60, match=lambda m: is_prompt(m) or "đã trả lời" in (m.text or "")
        )
        with lock:
            latencies.append(time.perf_counter() - started)
        answered += 1
        prompt = reply if is_prompt(reply) else None
        if prompt is not None and int(HEADER.search(prompt.text).group(1)) == number:
            raise RuntimeError(f"the bot asked question {number} again instead of taking the answer: {reply.text}")
    return answered


def echo_user(fake: FakeTelegram, user_id: int, messages: int, latencies: list[float], lock: threading.Lock) -> int:
    user = fake.user(user_id)
    for n in range(messages):
        started = time.perf_counter()
        update = user.send_text(f"tin nhắn {n}")
        user.wait_for_reply(after_update=update, match=f"tin nhắn {n}", timeout=60)
        with lock:
            latencies.append(time.perf_counter() - started)
    return messages


def drive(target, users: list[tuple]) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    counts: list[int] = []
    threads = [threading.Thread(target=lambda a=args: counts.append(target(*a, latencies, lock))) for args in users]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return sum(counts) / elapsed, latencies


def run_echo(contacts: int, log: Path) -> tuple[float, list[float]]:
    with FakeTelegram() as fake:
        process = start(
            [sys.executable, str(ROOT / "bench" / "echo_bot.py")],
            {"TELEGRAM_BOT_TOKEN": fake.token, "CQDT_TELEGRAM_API_URL": fake.api_url},
            log,
        )
        try:
            fake.wait_for_long_poll(timeout=60)
            return drive(
                lambda uid, lat, lock: echo_user(fake, uid, QUESTIONS, lat, lock),
                [(1000 + i,) for i in range(contacts)],
            )
        finally:
            stop(process)


def run_cqdt(url: str, contacts: int, log: Path) -> tuple[float, list[float]]:
    tokens = prepare_campaign(url, contacts)
    with FakeTelegram() as fake:
        process = start(
            [str(Path(sys.executable).parent / "cqdt"), "run"],
            {"TELEGRAM_BOT_TOKEN": fake.token, "CQDT_TELEGRAM_API_URL": fake.api_url, "CQDT_DATABASE_URL": url},
            log,
        )
        try:
            fake.wait_for_long_poll(timeout=60)
            return drive(
                lambda uid, token, lat, lock: walk(fake, uid, token, lat, lock),
                [(2000 + i, token) for i, token in enumerate(tokens)],
            )
        finally:
            stop(process)


def report(
    name: str, runs: list[tuple[float, list[float]]], baseline: dict[str, float], targets: tuple[float, float] = (0, 0)
) -> dict[str, float]:
    """The medians of the runs, with their ratios to the baseline against ``targets`` (throughput, p50)."""
    throughput = statistics.median(r[0] for r in runs)
    p50 = statistics.median(percentile(r[1], 0.5) for r in runs)
    p99 = statistics.median(percentile(r[1], 0.99) for r in runs)
    line = f"{name:<22} throughput {throughput:7.1f} answers/s   p50 {p50 * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms"
    if baseline:
        line += (
            f"   ratio throughput {throughput / baseline['throughput']:.2f} (target ≥ {targets[0]:g})"
            f"   ratio p50 {p50 / baseline['p50']:.2f} (target ≤ {targets[1]:g})"
        )
    print(line, flush=True)
    return {"throughput": throughput, "p50": p50, "p99": p99}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("CQDT_TEST_DATABASE_URL"),
        help="PostgreSQL URL (default: CQDT_TEST_DATABASE_URL); omit to skip PostgreSQL",
    )
    args = parser.parse_args()
    print(f"{args.contacts} contacts × {QUESTIONS} questions, medians of {args.runs} runs", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "bots.log"
        echo_runs, sqlite_runs, pg_runs = [], [], []
        for run in range(args.runs):
            echo_runs.append(run_echo(args.contacts, log))
            sqlite_runs.append(run_cqdt(f"sqlite:///{folder}/bench-{run}.db", args.contacts, log))
            if args.postgres:
                url, drop = postgres_schema(args.postgres, "cqdt_bench")
                try:
                    pg_runs.append(run_cqdt(url, args.contacts, log))
                finally:
                    drop()
        baseline = report("echo bot (baseline)", echo_runs, {})
        report("cqdt on SQLite", sqlite_runs, baseline, SQLITE_TARGETS)
        if pg_runs:
            report("cqdt on PostgreSQL", pg_runs, baseline, POSTGRES_TARGETS)


if __name__ == "__main__":
    main()
