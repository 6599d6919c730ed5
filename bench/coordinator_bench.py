"""Coordinator benchmark: what a province's coordinator asks for in a campaign of 12 000 agencies.

The campaign is bench/score_bench.py's (its builder is reused), with a coordinator of the
whole province registered through a coordinator invitation and one commune returned for
correction. Each figure is measured in a fresh child process, so a cold figure pays for
reading and scoring the campaign, and the peak memory is the child's own:

- status: ``CoordinatorDialogue.status`` and its reply rendered to text (/tinhhinh);
- status, all open: the same with every agency still answering (their submissions set back to in progress
  in the child, and restored after), so the at-risk list reads every agency's progress; cold, then warm
  after one agency changed an answer;
- scores, cold: ``CoordinatorDialogue.scores`` and its reply rendered, first call of the process (/diem);
- scores, warm: the same again in that process, after the returned commune changed one answer;
- export: the coordinator's scored report, then ``write_xlsx`` of it (/xuat's workbook);
- charts: ``totals_chart`` of each level and ``bands_chart``, from a report already scored. A full
  collection of the cyclic garbage collector is run and timed apart before the charts: the scoreboard
  freezes a large report out of the collector's generations, so it should no longer scan it.

The baseline, measured in the same run, is a bare read of every answer row, as in score_bench; every
figure is printed with its ratio to it.

    python bench/coordinator_bench.py [--agencies 12000] [--runs 5]

Targets (issue 10) at 12 000 agencies: status under 0,5 s, the ranking under 1,5 s cold and 0,2 s warm,
the whole xlsx export under 6 s, and at most 400 MB of memory in any child.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from score_bench import LEVELS, build  # noqa: E402

from bot.charts import bands_chart, totals_chart  # noqa: E402
from bot.labels import by_language, labels  # noqa: E402
from bot.rendering import text_of  # noqa: E402
from conversations.contact_dialogue import ContactDialogue  # noqa: E402
from conversations.coordinator_dialogue import CoordinatorDialogue  # noqa: E402
from conversations.exports import write_xlsx  # noqa: E402
from conversations.situation import Person  # noqa: E402
from rubrics.bundled import bundled  # noqa: E402
from storage import campaigns  # noqa: E402
from storage.answers import load_agency_answers, set_answer  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.invitations import coordinator_invitation  # noqa: E402
from storage.models import Agency, Answer, Submission  # noqa: E402
from storage.reports import campaign_report, restrict  # noqa: E402
from storage.scope import agencies_in_scope  # noqa: E402

ZONE = "Asia/Ho_Chi_Minh"
NOW = datetime(2019, 10, 21, 2, tzinfo=UTC)  # a week before the benchmark campaign's deadline
COORDINATOR = Person(user_id=7_000_001, chat_id=7_000_001, name="Sở Thông tin và Truyền thông")
RETURNED = "xa00000"  # the commune whose answer changes before the warm scores call
TARGETS = {"status": 0.5, "scores, cold": 1.5, "scores, warm": 0.2, "export, total": 6.0}
PEAK_MB = 400


def prepare(url: str, agencies: int) -> int:
    """The benchmark campaign, its province-wide coordinator, and one commune returned for correction."""
    campaign_id = build(url, agencies)
    database = Database(url)
    with database.session() as session:
        token = coordinator_invitation(session, campaigns.get(session, campaign_id), NOW).token
    ContactDialogue(database, lambda: NOW).start(COORDINATOR, token)
    with database.session() as session:
        returned = select(Agency.id).where(Agency.code == RETURNED).scalar_subquery()
        session.execute(update(Submission).where(Submission.agency_id == returned).values(state="returned"))
    database.dispose()
    return campaign_id


def rendered(outcome) -> int:
    """The replies rendered as the bot sends them; their length in characters."""
    return sum(len(text_of(reply, "vi", ZONE)) for reply in outcome.replies)


def timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def change_one_answer(database: Database) -> None:
    """The returned commune flips one of its yes/no answers."""
    rubric = bundled()[LEVELS["xa"]]
    with database.session() as session:
        agency = session.scalar(select(Agency).where(Agency.code == RETURNED))
        current = load_agency_answers(session, rubric, agency.id)
        qid = next(q.id for q in rubric.questions if q.type == "yes_no" and isinstance(current.get(q.id), bool))
        set_answer(session, rubric, agency, qid, not current[qid], by=None, source="bench", now=NOW, current=current)


def scoped_reports(database: Database, campaign_id: int):
    """The whole province's scored reports, as the coordinator's /xuat reads them."""
    with database.session() as session:
        scope = agencies_in_scope(session, campaign_id, None)
        return restrict(campaign_report(session, campaigns.get(session, campaign_id)), scope)


def measure_baseline(database: Database, _campaign_id: int) -> dict[str, float]:
    def read() -> None:
        with database.session() as session:
            session.execute(select(Answer.agency_id, Answer.question_id, Answer.value, Answer.not_applicable)).all()

    return {"baseline": timed(read)}


def measure_status(database: Database, _campaign_id: int) -> dict[str, float]:
    dialogue = CoordinatorDialogue(database, lambda: NOW, ZONE, by_language(ZONE))
    return {"status": timed(lambda: rendered(dialogue.status(COORDINATOR)))}


def measure_status_open(database: Database, _campaign_id: int) -> dict[str, float]:
    with database.session() as session:
        saved = [{"id": i, "state": state} for i, state in session.execute(select(Submission.id, Submission.state))]
        session.execute(update(Submission).values(state="in_progress"))
    try:
        dialogue = CoordinatorDialogue(database, lambda: NOW, ZONE, by_language(ZONE))
        cold = timed(lambda: rendered(dialogue.status(COORDINATOR)))
        change_one_answer(database)
        warm = timed(lambda: rendered(dialogue.status(COORDINATOR)))
    finally:
        with database.session() as session:
            session.execute(update(Submission), saved)
    return {"status, all open, cold": cold, "status, all open, warm": warm}


def measure_scores(database: Database, _campaign_id: int) -> dict[str, float]:
    dialogue = CoordinatorDialogue(database, lambda: NOW, ZONE, by_language(ZONE))
    cold = timed(lambda: rendered(dialogue.scores(COORDINATOR)))
    change_one_answer(database)
    return {"scores, cold": cold, "scores, warm": timed(lambda: rendered(dialogue.scores(COORDINATOR)))}


def measure_export(database: Database, campaign_id: int) -> dict[str, float]:
    started = time.perf_counter()
    reports = scoped_reports(database, campaign_id)
    scored = time.perf_counter() - started
    written = timed(lambda: write_xlsx(io.BytesIO(), reports, labels("vi", ZONE), zone=ZONE))
    return {"export, scored report": scored, "export, write_xlsx": written, "export, total": scored + written}


def measure_charts(database: Database, campaign_id: int) -> dict[str, float]:
    reports = scoped_reports(database, campaign_id)
    figures = {"charts: gc pass over the report": timed(gc.collect)}
    figures |= {
        f"chart, totals {level}": timed(lambda r=report: totals_chart(r, lang="vi"))
        for level, report in reports.items()
    }
    figures["chart, bands"] = timed(lambda: bands_chart(reports, lang="vi"))
    return figures


MEASURES = {
    "baseline": measure_baseline,
    "status": measure_status,
    "status_open": measure_status_open,
    "scores": measure_scores,
    "export": measure_export,
    "charts": measure_charts,
}


def measure(url: str, campaign_id: int, what: str) -> dict:
    """Run in a child: the named figures of ``what``, and the child's own peak memory."""
    database = Database(url)
    seconds = MEASURES[what](database, campaign_id)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak_mb}


def child(url: str, campaign_id: int, what: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", what, "--url", url, "--campaign", str(campaign_id)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def report(seconds: dict[str, list[float]], peaks: dict[str, float], runs: int) -> None:
    base = statistics.median(seconds["baseline"])
    print(f"{'figure':<36}{'median s':>10}{'min s':>9}{'max s':>9}{'÷ baseline':>12}")
    for name, values in seconds.items():
        median = statistics.median(values)
        print(f"{name:<36}{median:>10.3f}{min(values):>9.3f}{max(values):>9.3f}{median / base:>12.2f}")
    print(f"(medians over {runs} runs, each in a fresh process)")
    print("peak memory of each child: " + ", ".join(f"{what} {mb:.0f} MB" for what, mb in peaks.items()))
    for name, limit in TARGETS.items():
        median = statistics.median(seconds[name])
        verdict = "met" if median < limit else "NOT met"
        print(f"target {name} < {limit:g} s: {median:.3f} s ({median / base:.2f} × baseline) -> {verdict}")
    peak = max(peaks.values())
    print(f"target peak memory < {PEAK_MB} MB: {peak:.0f} MB -> {'met' if peak < PEAK_MB else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agencies", type=int, default=12000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--measure", choices=list(MEASURES))
    parser.add_argument("--url")
    parser.add_argument("--campaign", type=int)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.url, args.campaign, args.measure)))
        return
    seconds: dict[str, list[float]] = defaultdict(list)
    peaks: dict[str, float] = defaultdict(float)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        started = time.perf_counter()
        campaign_id = prepare(url, args.agencies)
        print(f"built {args.agencies} agencies with answers in {time.perf_counter() - started:.1f} s")
        for _ in range(args.runs):
            for what in MEASURES:
                result = child(url, campaign_id, what)
                for name, value in result["seconds"].items():
                    seconds[name].append(value)
                peaks[what] = max(peaks[what], result["peak_mb"])
    report(seconds, peaks, args.runs)


if __name__ == "__main__":
    main()
