"""Reminder fan-out benchmark: 2 000 reminders through the fake Bot API, which answers 429 past 30 messages/s.

cqdt's sender claims each row from the outbox, paces itself under 25/s and waits
out any 429. The baseline, in the same run and against the same flood-limited
server, is a naive loop that sends the same 2 000 messages with a bare
``telegram.Bot`` as fast as it can and retries each 429 after its retry_after.
Both count the 429s they received; the fake server's log says whether any
message was lost or sent twice.

    python bench/reminder_bench.py [--messages 2000] [--runs 3]

Target (issue 4): at least 25 messages/s sustained, zero lost and zero duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from dialogue_helpers import campaign_due_now  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402
from telegram import Bot  # noqa: E402
from telegram.error import RetryAfter  # noqa: E402

from bot.demo.fake_telegram import FakeTelegram  # noqa: E402
from bot.reminders.sender import Sender  # noqa: E402
from conversations.reminders.outbox import Outbox  # noqa: E402
from storage.db import Database, upgrade  # noqa: E402
from storage.models import Agency, Contact  # noqa: E402

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST_USER = 10_000


def prepare(url: str, messages: int) -> Database:
    """A campaign whose reminder is due now for ``messages`` contacts."""
    database = Database(url, ensure=False)
    upgrade(database.engine)
    now = datetime.now(UTC)
    campaign = campaign_due_now(database, now)
    with database.session() as session:
        agency = session.scalar(select(Agency).where(Agency.code == "06655"))
        session.execute(
            insert(Contact),
            [
                {
                    "campaign_id": campaign.id,
                    "agency_id": agency.id,
                    "telegram_user_id": FIRST_USER + i,
                    "full_name": f"Đầu mối {i}",
                    "language_code": "vi",
                    "joined_at": now,
                    "draft": {},
                }
                for i in range(messages)
            ],
        )
    return database


def outcome(fake: FakeTelegram, messages: int, seconds: float, rate_limited: int) -> dict:
    delivered = Counter(call.chat_id for call in fake.calls("sendMessage") if call.ok)
    return {
        "rate": len([c for c in fake.calls("sendMessage") if c.ok]) / seconds,
        "seconds": seconds,
        "429": sum(1 for c in fake.calls("sendMessage") if c.status == 429),
        "retried": rate_limited,
        "lost": messages - len(delivered),
        "duplicated": sum(n - 1 for n in delivered.values()),
    }


def run_cqdt(messages: int, folder: str, run: int) -> dict:
    database = prepare(f"sqlite:///{folder}/reminders-{run}.db", messages)
    with FakeTelegram() as fake:
        fake.flood_limit(per_second=30)
        for i in range(messages):
            fake.user(FIRST_USER + i)
        sender = Sender(Outbox(database, lambda: datetime.now(UTC), ZONE, "bench"), "Asia/Ho_Chi_Minh")

        async def main() -> float:
            async with Bot(fake.token, base_url=fake.api_url) as bot:
                started = time.perf_counter()
                while await sender.tick(bot):
                    pass
                return time.perf_counter() - started

        seconds = asyncio.run(main())
        result = outcome(fake, messages, seconds, sender.rate_limited)
    database.dispose()
    return result


def run_naive(messages: int) -> dict:
    with FakeTelegram() as fake:
        fake.flood_limit(per_second=30)
        for i in range(messages):
            fake.user(FIRST_USER + i)
        retried = 0

        async def main() -> float:
            nonlocal retried
            async with Bot(fake.token, base_url=fake.api_url) as bot:
                started = time.perf_counter()
                for i in range(messages):
                    while True:
                        try:
                            await bot.send_message(FIRST_USER + i, "Nhắc hạn nộp bản tự đánh giá")
                            break
                        except RetryAfter as exc:
                            retried += 1
                            await asyncio.sleep(float(exc._retry_after.total_seconds()))
                return time.perf_counter() - started

        seconds = asyncio.run(main())
        return outcome(fake, messages, seconds, retried)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.messages} reminders, flood limit 30/s, medians of {args.runs} runs", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        naive = [run_naive(args.messages) for _ in range(args.runs)]
        cqdt = [run_cqdt(args.messages, folder, run) for run in range(args.runs)]
    for name, runs in (("naive loop (baseline)", naive), ("cqdt outbox sender", cqdt)):
        rate = statistics.median(r["rate"] for r in runs)
        print(
            f"{name:<22} {rate:6.1f} msg/s   429s received {statistics.median(r['429'] for r in runs):5.0f}"
            f"   lost {max(r['lost'] for r in runs)}   duplicated {max(r['duplicated'] for r in runs)}"
            f"   ({statistics.median(r['seconds'] for r in runs):.1f} s)",
            flush=True,
        )
    ratio = statistics.median(r["rate"] for r in cqdt) / statistics.median(r["rate"] for r in naive)
    print(f"ratio cqdt / baseline messages per second: {ratio:.2f}")


if __name__ == "__main__":
    main()
