"""What ``GET /health`` reports: the database, its schema, and whether the reminder scheduler still ticks.

The reminder job marks each tick on the application's :class:`Heartbeat`. The report is healthy
(HTTP 200) while ``SELECT 1`` answers within ``DB_TIMEOUT`` seconds and the scheduler stirred (a tick
started or ended; start-up before the first tick) less than ``STALE_TICKS`` intervals ago, or a tick
is still sending (a long fan-out makes the scheduler skip its next runs). A schema behind or ahead
of the code's head is reported as ``degraded``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from telegram.ext import Application

from storage.db import Database, first_line
from storage.health import Probe

DB_TIMEOUT = 2.0
STALE_TICKS = 3
REMINDER_JOB = "reminders"


class Heartbeat:
    """When the reminder scheduler last started a tick, whether one is running, and when it last stirred."""

    def __init__(self) -> None:
        self.last_seen = time.monotonic()  # start-up, then each tick's start and end
        self.last_tick: datetime | None = None
        self.last_tick_at: float | None = None  # monotonic
        self.running = False

    @contextmanager
    def ticking(self) -> Iterator[None]:
        self.last_tick, self.last_tick_at, self.running = datetime.now(UTC), time.monotonic(), True
        self.last_seen = self.last_tick_at
        try:
            yield
        finally:
            self.running, self.last_seen = False, time.monotonic()


def heartbeat(application: Application) -> Heartbeat:
    """The application's heartbeat, kept in its ``bot_data``."""
    return application.bot_data.setdefault("cqdt.heartbeat", Heartbeat())


class Health:
    def __init__(self, application: Application, db: Database):
        self.application = application
        self.database = Probe(db)
        self.heartbeat = heartbeat(application)  # created now: the start-up allowance counts from here
        self._probe: asyncio.Future | None = None

    async def _database(self) -> dict[str, Any]:
        # One probe at a time: a database that does not answer never piles up waiting threads.
        if self._probe is None or self._probe.done():
            self._probe = asyncio.ensure_future(asyncio.to_thread(self.database.schema))
        try:
            schema = await asyncio.wait_for(asyncio.shield(self._probe), DB_TIMEOUT)
        except TimeoutError:
            return {"reachable": False, "error": f"no answer within {DB_TIMEOUT:g} s"}
        except Exception as exc:  # whatever the driver raises, the database is not usable
            return {"reachable": False, "error": first_line(exc)}
        return {"reachable": True, "schema_revision": schema.revision, "schema_head": schema.head}

    def _scheduler(self) -> tuple[dict[str, Any] | None, str | None]:
        """The scheduler's state, and what is wrong with it if it has stopped ticking."""
        queue = self.application.job_queue
        jobs = queue.get_jobs_by_name(REMINDER_JOB) if queue else ()
        if not jobs:
            return None, None
        interval = jobs[0].job.trigger.interval.total_seconds()
        beat, now = self.heartbeat, time.monotonic()
        quiet = now - beat.last_seen
        state = {
            "interval_seconds": interval,
            "last_tick": beat.last_tick.isoformat(timespec="milliseconds") if beat.last_tick else None,
            "last_tick_age_seconds": round(now - beat.last_tick_at, 1) if beat.last_tick_at is not None else None,
            "ticking": beat.running,
        }
        stale = not beat.running and quiet > STALE_TICKS * interval
        return state, f"no reminder tick for {quiet:.0f} s" if stale else None

    async def report(self) -> tuple[int, dict[str, Any]]:
        """The HTTP status and the JSON body of ``GET /health``."""
        database = await self._database()
        scheduler, stalled = self._scheduler()
        failing, degraded = [], []
        if not database["reachable"]:
            failing.append(f"database unreachable: {database['error']}")
        elif database["schema_revision"] != database["schema_head"]:
            degraded.append(f"schema at {database['schema_revision']}, the code expects {database['schema_head']}")
        if stalled:
            failing.append(stalled)
        body = {
            "status": "failing" if failing else "degraded" if degraded else "ok",
            "problems": failing + degraded,
            "database": database,
            "scheduler": scheduler,
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        return (503 if failing else 200), body
