"""The coordinator's dialogue: campaign status, rankings and exports, limited to the coordinator's scope.

Anyone who is not a coordinator gets one refusal and no data. A coordinator
with a scope agency (a city's office) sees only that agency and everything
under it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from bot.exports import write_csv, write_xlsx
from conversations.replies import Button, Outcome, Reply
from conversations.situation import Person
from storage import campaigns
from storage.db import Database
from storage.models import OPEN_STATES, Agency, Coordinator, Submission
from storage.reports import campaign_report, restrict
from storage.scope import agencies_in_scope

SCORES_PER_PAGE = 15
PARENTS_SHOWN = 25


class CoordinatorDialogue:
    def __init__(self, db: Database, clock: Callable[[], datetime], zone: str):
        self.db = db
        self.clock = clock
        self.zone = zone

    def _coordinator(self, session, who: Person) -> Coordinator | None:
        return session.scalar(
            select(Coordinator)
            .where(Coordinator.telegram_user_id == who.user_id)
            .order_by(Coordinator.joined_at.desc(), Coordinator.id.desc())
        )

    def _scoped_report(self, who: Person):
        """(campaign, scored reports of the agencies in the coordinator's scope), or the refusal to send."""
        with self.db.session() as session:
            coordinator = self._coordinator(session, who)
            if coordinator is None:
                return None, None, Outcome([Reply("not_coordinator")])
            campaign = campaigns.get(session, coordinator.campaign_id)
            scope = agencies_in_scope(session, campaign.id, coordinator.scope_agency_id)
            reports = restrict(campaign_report(session, campaign), scope)
        if not reports:
            return campaign, None, Outcome([Reply("coordinator_no_agencies")])
        return campaign, reports, None

    def status(self, who: Person) -> Outcome:
        now = self.clock()
        with self.db.session() as session:
            coordinator = self._coordinator(session, who)
            if coordinator is None:
                return Outcome([Reply("not_coordinator")])
            campaign = campaigns.get(session, coordinator.campaign_id)
            scope = agencies_in_scope(session, campaign.id, coordinator.scope_agency_id)
            rows = session.execute(
                select(Agency.id, Agency.name, Agency.level, Agency.parent_id, Submission.state)
                .join(Submission, Submission.agency_id == Agency.id)
                .where(Agency.campaign_id == campaign.id)
            ).all()
            rows = [r for r in rows if r.id in scope]
            names = {r.id: r.name for r in rows}
            rubrics = campaigns.rubrics_by_level(campaign)
            overdue = now >= campaign.deadline
            by_level = _counts(rows, lambda r: rubrics[r.level].rubric.level_name, overdue)
            by_parent = _counts([r for r in rows if r.parent_id in names], lambda r: names[r.parent_id], overdue)
            return Outcome(
                [
                    Reply(
                        "coordinator_status",
                        {
                            "campaign": campaign,
                            "deadline": campaign.deadline,
                            "now": now,
                            "scope": coordinator.scope_agency,
                            "by_level": by_level,
                            "by_parent": dict(list(by_parent.items())[:PARENTS_SHOWN]),
                            "more_parents": max(0, len(by_parent) - PARENTS_SHOWN),
                            "overdue": overdue,
                        },
                    )
                ]
            )

    def scores(self, who: Person, level: str | None = None, page: int = 0, message_id: int | None = None) -> Outcome:
        campaign, reports, refused = self._scoped_report(who)
        if refused:
            return refused
        if level not in reports:
            level = next(iter(reports))
        ranked = reports[level].ranked()
        pages = max(1, -(-len(ranked) // SCORES_PER_PAGE))
        page = max(0, min(page, pages - 1))
        rows: list[list[Button]] = [
            [
                Button(f"k:s:{other}:0", label=reports[other].rubric.rubric.level_name)
                for other in reports
                if other != level
            ]
        ]
        nav = []
        if page > 0:
            nav.append(Button(f"k:s:{level}:{page - 1}", key="page_previous_short"))
        if page < pages - 1:
            nav.append(Button(f"k:s:{level}:{page + 1}", key="page_next_short"))
        rows = [r for r in rows + [nav] if r]
        shown = ranked[page * SCORES_PER_PAGE : (page + 1) * SCORES_PER_PAGE]
        return Outcome(
            [
                Reply(
                    "coordinator_scores",
                    {
                        "campaign": campaign,
                        "report": reports[level],
                        "entries": shown,
                        "page": page,
                        "pages": pages,
                        "count": len(ranked),
                    },
                    rows,
                    edit_message_id=message_id,
                )
            ]
        )

    def export(self, who: Person, lang: str) -> Outcome:
        campaign, reports, refused = self._scoped_report(who)
        if refused:
            return refused
        documents = _documents(reports, lang, self.zone, f"cqdt-dot-{campaign.id}")
        count = sum(len(r.agencies) for r in reports.values())
        return Outcome(
            [
                Reply(
                    "coordinator_export",
                    {"campaign": campaign, "count": count, "format": name[-4:]},
                    document=(name, content),
                )
                for name, content in documents
            ]
        )

    def button(self, who: Person, data: str, message_id: int | None) -> Outcome:
        parts = data.split(":")
        if len(parts) == 4 and parts[:2] == ["k", "s"] and parts[3].isdigit():
            return self.scores(who, parts[2], int(parts[3]), message_id)
        return Outcome(notice="invalid_button")


def _counts(rows, key, overdue: bool) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for r in rows:
        c = counts.setdefault(key(r), {"total": 0, "submitted": 0, "in_progress": 0, "not_started": 0, "overdue": 0})
        c["total"] += 1
        if r.state in ("submitted", "verified"):
            c["submitted"] += 1
        elif r.state == "not_started":
            c["not_started"] += 1
        else:
            c["in_progress"] += 1
        if overdue and r.state in OPEN_STATES:
            c["overdue"] += 1
    return counts


def _documents(reports, lang: str, zone: str, stem: str) -> list[tuple[str, bytes]]:
    with tempfile.TemporaryDirectory() as folder:
        xlsx, csv_path = Path(folder) / f"{stem}.xlsx", Path(folder) / f"{stem}.csv"
        write_xlsx(xlsx, reports, lang=lang, zone=zone)
        write_csv(csv_path, reports, lang=lang, zone=zone)
        return [(xlsx.name, xlsx.read_bytes()), (csv_path.name, csv_path.read_bytes())]
