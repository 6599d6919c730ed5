"""Scoring benchmark: score and rank 12 000 agencies read from SQLite.

The old national map: about 700 districts and 10 600 communes, plus 700
departments, each with generated answers to its rubric. Each run happens in a
fresh child process, so its peak memory is its own. The baseline, measured in
the same run, is a bare read of every answer row with SQLAlchemy Core; the
ratio says how much scoring costs over just fetching the data.

    python bench/score_bench.py [--agencies 12000] [--runs 5]

Target (issue 10, the coordinator's cold ranking, which this is without the dialogue): under 1,5 s
and under 400 MB.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rubrics import answers as values  # noqa: E402
from rubrics.bundled import bundled  # noqa: E402
from rubrics.sample_answers import sample_answers  # noqa: E402
from storage import campaigns  # noqa: E402
from storage.campaigns import CampaignSpec  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Agency, Answer, Submission  # noqa: E402
from storage.reports import campaign_report  # noqa: E402

LEVELS = {"so": "qn2018-so", "huyen": "qn2018-huyen", "xa": "qn2018-xa"}


def build(url: str, total: int) -> int:
    """A campaign of ``total`` agencies (6 % departments, 6 % districts, the rest communes) with answers."""
    rng = random.Random(2017)
    rubrics = {level: bundled()[rid] for level, rid in LEVELS.items()}
    database = Database(url)
    now = datetime(2019, 10, 20, tzinfo=UTC)
    with database.session() as session:
        campaign = campaigns.create(session, CampaignSpec("Benchmark", rubrics, datetime(2019, 10, 28, 7, tzinfo=UTC)))
        campaign_id = campaign.id
    departments = districts = round(total * 0.0583)
    communes = total - departments - districts
    pools = {level: [sample_answers(rubrics[level], rng) for _ in range(50)] for level in rubrics}
    with database.session() as session:
        rows, next_id = [], 1
        for level, count in (("so", departments), ("huyen", districts), ("xa", communes)):
            for i in range(count):
                parent = 1 + departments + (i % districts) if level == "xa" else None
                rows.append(
                    {
                        "id": next_id,
                        "campaign_id": campaign_id,
                        "code": f"{level}{i:05d}",
                        "name": f"Đơn vị {level} {i}",
                        "level": level,
                        "parent_id": parent,
                    }
                )
                next_id += 1
        session.execute(insert(Agency), rows)
        session.execute(
            insert(Submission),
            [
                {"campaign_id": campaign_id, "agency_id": r["id"], "state": "submitted", "submitted_at": now}
                for r in rows
            ],
        )
        batch = []
        for row in rows:
            rubric = rubrics[row["level"]]
            for qid, value in rng.choice(pools[row["level"]]).items():
                na = value is values.NA
                batch.append(
                    {
                        "agency_id": row["id"],
                        "question_id": qid,
                        "not_applicable": na,
                        "value": None if na else values.to_json(rubric.question(qid), value),
                        "source": "bench",
                        "set_at": now,
                    }
                )
            if len(batch) > 20000:
                session.execute(insert(Answer), batch)
                batch = []
        if batch:
            session.execute(insert(Answer), batch)
    database.dispose()
    return campaign_id


def measure(url: str, campaign_id: int, what: str) -> dict:
    """Run in a child: time one pass of ``what`` and report the child's own peak memory."""
    database = Database(url)
    started = time.perf_counter()
    with database.session() as session:
        if what == "baseline":
            count = len(
                session.execute(select(Answer.agency_id, Answer.question_id, Answer.value, Answer.not_applicable)).all()
            )
        else:
            reports = campaign_report(session, campaigns.get(session, campaign_id))
            count = sum(len(r.agencies) for r in reports.values())
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak_mb, "count": count}


def child(url: str, campaign_id: int, what: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", what, "--url", url, "--campaign", str(campaign_id)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agencies", type=int, default=12000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--measure", choices=["baseline", "score"])
    parser.add_argument("--url")
    parser.add_argument("--campaign", type=int)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.url, args.campaign, args.measure)))
        return
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        started = time.perf_counter()
        campaign_id = build(url, args.agencies)
        print(f"built {args.agencies} agencies with answers in {time.perf_counter() - started:.1f} s")
        runs = {"baseline": [], "score": []}
        for _ in range(args.runs):
            for what in runs:
                runs[what].append(child(url, campaign_id, what))
    base = statistics.median(r["seconds"] for r in runs["baseline"])
    score = statistics.median(r["seconds"] for r in runs["score"])
    peak = max(r["peak_mb"] for r in runs["score"])
    answers = runs["baseline"][0]["count"]
    print(f"agencies scored and ranked: {runs['score'][0]['count']}  (answer rows: {answers})")
    print(f"baseline (read every answer row): median {base:.3f} s over {args.runs} runs")
    print(
        f"score + rank from the database:    median {score:.3f} s over {args.runs} runs "
        f"(min {min(r['seconds'] for r in runs['score']):.3f}, max {max(r['seconds'] for r in runs['score']):.3f})"
    )
    print(f"ratio score / baseline:            {score / base:.2f}")
    print(f"peak memory of the scoring process: {peak:.0f} MB")
    print(f"target: < 1.5 s and < 400 MB -> {'met' if score < 1.5 and peak < 400 else 'NOT met'}")


if __name__ == "__main__":
    main()
