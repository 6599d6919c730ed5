"""The coordinator's dialogue: status, rankings, one agency in full, charts, exports, reminders now and
verification, all limited to the coordinator's scope.

Anyone who is not a coordinator gets one refusal and no data. A coordinator
with a scope agency (a city's office) sees only that agency and everything
under it: every command, button and export checks the scope again, so forged
button data names nothing outside it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from common.errors import Refused
from common.text import fold, refuse_control
from conversations import agency_detail, office_questions
from conversations.annex import Heading, write_annex_docx, write_annex_xlsx
from conversations.exports import ExportLabels, write_csv, write_xlsx
from conversations.progress import AnswerCounts
from conversations.reminders.slots import WorkingTime
from conversations.replies import Button, Outcome, Reply
from conversations.risk import Risk, estimate
from conversations.situation import Person
from conversations.targets import EvidenceOf, agency_targets, commonly_missed
from storage import confirmations
from storage.agencies import AgencyState
from storage.db import Database
from storage.notifications import Planned
from storage.records import (
    NOT_STARTED,
    OPEN_STATES,
    SUBMITTED,
    SUBMITTED_STATES,
    AgencyRecord,
    CampaignFacts,
    CoordinatorRecord,
    SubmissionRecord,
)
from storage.reports import Scoreboard, restrict
from storage.unit import Unit
from storage.verification import parse_points

SCORES_PER_PAGE = 15
TARGETS_SHOWN = 10  # indicators per level in /muctieu without an agency
PARENTS_SHOWN = 25
BANDS = "bands"


def refusal(refused: Refused) -> Outcome:
    return Outcome([Reply("refusal", {"refused": refused})], notice="refused")


class CoordinatorDialogue:
    def __init__(self, db: Database, clock: Callable[[], datetime], zone: str, labels: Callable[[str], ExportLabels]):
        """``labels``: the exports' words in a language ("vi", "en")."""
        self.db = db
        self.clock = clock
        self.zone = zone
        self.labels = labels
        self.scoreboard = Scoreboard()
        self.counts = AnswerCounts()  # the unsubmitted agencies' progress, for the at-risk list of /tinhhinh

    def _scoped_report(self, who: Person):
        """(campaign, scored reports of the agencies in the coordinator's scope), or the refusal to send."""
        with self.db.unit(write=False) as unit:
            coordinator = unit.contacts.coordinator(who.user_id)
            if coordinator is None:
                return None, None, Outcome([Reply("not_coordinator")])
            campaign = unit.campaign(coordinator.campaign_id)
            scope = unit.agencies.in_scope(campaign.id, coordinator.scope_agency_id)
            reports = restrict(unit.report(self.scoreboard, campaign.id), scope)
        if not reports:
            return campaign, None, Outcome([Reply("coordinator_no_agencies")])
        return campaign, reports, None

    def warm(self) -> None:
        """Read every open campaign's scores into the scoreboard, and its unsubmitted agencies' progress into the
        counts (the first ranking and the first /tinhhinh are then quick)."""
        with self.db.unit(write=False) as unit:
            for campaign in unit.open_campaigns():
                unit.report(self.scoreboard, campaign.id)
                self._progress(unit, campaign, unit.agencies.states(campaign.id))

    # -- status and rankings ----------------------------------------------------

    def status(self, who: Person) -> Outcome:
        now = self.clock()
        with self.db.unit(write=False) as unit:
            coordinator = unit.contacts.coordinator(who.user_id)
            if coordinator is None:
                return Outcome([Reply("not_coordinator")])
            campaign = unit.campaign(coordinator.campaign_id)
            scope = unit.agencies.in_scope(campaign.id, coordinator.scope_agency_id)
            rows = [r for r in unit.agencies.states(campaign.id) if r.id in scope]
            unreached = unit.unreachable(campaign.id, scope)
            at_risk = self._at_risk(unit, campaign, rows, now)
        names = {r.id: r.name for r in rows}
        overdue = campaign.closed(now)
        by_level = _counts(rows, lambda r: campaign.rubrics[r.level].rubric.level_name, campaign, now)
        by_parent = _counts([r for r in rows if r.parent_id in names], lambda r: names[r.parent_id], campaign, now)
        return Outcome(
            [
                Reply(
                    "coordinator_status",
                    {
                        "campaign": campaign,
                        "deadline": campaign.deadline,
                        "closes_at": campaign.closes_at,
                        "now": now,
                        "scope": coordinator.scope,
                        "by_level": by_level,
                        "by_parent": dict(list(by_parent.items())[:PARENTS_SHOWN]),
                        "more_parents": max(0, len(by_parent) - PARENTS_SHOWN),
                        "overdue": overdue,
                        "unreachable": unreached,
                        "at_risk": at_risk,
                    },
                )
            ]
        )

    def _at_risk(self, unit: Unit, campaign: CampaignFacts, rows: list[AgencyState], now: datetime) -> list[Risk]:
        """The unsubmitted agencies among ``rows`` at risk of missing the deadline (none once the campaign closed)."""
        unsubmitted = [r for r in rows if r.state in OPEN_STATES]
        if campaign.closed(now) or not unsubmitted:
            return []
        zone = ZoneInfo(self.zone)
        done = self._progress(unit, campaign, unsubmitted)
        active = unit.activity([r.id for r in unsubmitted], zone)
        return estimate(unsubmitted, done, active, now, campaign.deadline, WorkingTime(campaign.policy, zone))

    def _progress(self, unit: Unit, campaign: CampaignFacts, rows: list[AgencyState]) -> dict[int, tuple[int, int]]:
        """(answered, relevant) of the unsubmitted agencies among ``rows``, from the process's counts."""
        unsubmitted = [r for r in rows if r.state in OPEN_STATES]
        rubric_of = {r.id: campaign.rubrics[r.level] for r in unsubmitted}
        return self.counts.of(unsubmitted, rubric_of, unit.answers.many)

    def scores(self, who: Person, level: str | None = None, page: int = 0, message_id: int | None = None) -> Outcome:
        campaign, reports, refused = self._scoped_report(who)
        if refused:
            return refused
        if level is not None and _level(reports, level) is None:
            return refusal(Refused("level_not_in_campaign", level=level.strip()[:20], levels=list(reports)))
        level = next(iter(reports)) if level is None else _level(reports, level)
        ranked = reports[level].ranked()
        pages = max(1, -(-len(ranked) // SCORES_PER_PAGE))
        page = max(0, min(page, pages - 1))
        rows: list[list[Button]] = [
            [
                Button(f"k:s:{other}:0", key="level", params={"rubric": reports[other].rubric.rubric})
                for other in reports
                if other != level
            ],
            _pager(f"k:s:{level}", page, pages),
        ]
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
                        "ranked_count": len(reports[level].standing()),
                    },
                    [r for r in rows if r],
                    edit_message_id=message_id,
                )
            ]
        )

    # -- one agency -------------------------------------------------------------

    def _usage(self, who: Person, template: str, refused: Refused | None = None) -> Outcome:
        """How to use a command (or ``refused``, what is missing from it), for a coordinator; the refusal
        for anyone else."""
        with self.db.unit(write=False) as unit:
            found = unit.contacts.coordinator(who.user_id) is not None
        if not found:
            return Outcome([Reply("not_coordinator")])
        return Outcome([Reply(template, {"refused": refused} if refused else {})])

    def agency(self, who: Person, reference: str, page: int = 0, message_id: int | None = None) -> Outcome:
        """One agency in full, found by its code (or, from a button, its id), within the scope."""
        reference = reference.strip()
        if not reference:
            return self._usage(who, "agency_usage")
        with self.db.unit(write=False) as unit:
            found = self._entry(unit, who, reference)
            if isinstance(found, Outcome):
                return found
            coordinator, campaign, agency, submission, report, entry = found
            rubric = report.rubric
            sections = agency_detail.sections(rubric)
            pages = len(sections) + 2
            page = max(0, min(page, pages - 1))
            context = {
                "campaign": campaign,
                "agency": agency,
                "entry": entry,
                "report": report,
                "rubric": rubric,
                "page": page,
                "pages": pages,
                "kind": "summary" if page == 0 else "history" if page == pages - 1 else "answers",
                "state": submission.state,
                "submitted_at": submission.submitted_at,
                "sections": sections,
            }
            if page == 0:
                context |= agency_detail.summary(unit.detail, agency, submission, entry)
                context["scope_rank"] = None
                if coordinator.scope is not None:  # a city's office: its rank among what it sees, then campaign-wide
                    scope = unit.agencies.in_scope(campaign.id, coordinator.scope_agency_id)
                    context["scope_rank"], context["scope_count"] = agency_detail.scope_rank(
                        entry, report.agencies, scope
                    )
            elif page == pages - 1:
                context |= agency_detail.history(unit.detail, agency, rubric)
            else:
                context |= agency_detail.answers_page(unit.detail, agency, entry, sections[page - 1])
        buttons = [_pager(f"k:a:{agency.id}", page, pages)]
        if page == 0 and submission.state == SUBMITTED:
            buttons.insert(0, [Button(f"k:v:{agency.id}", key="verify_confirm")])
        return Outcome([Reply("agency_detail", context, [b for b in buttons if b], edit_message_id=message_id)])

    def _entry(self, unit: Unit, who: Person, reference: str) -> tuple | Outcome:
        """(coordinator, campaign, agency, submission, its level's report, its entry there) for the agency
        ``reference`` names within the coordinator's scope; or the Outcome that refuses."""
        coordinator = unit.contacts.coordinator(who.user_id)
        if coordinator is None:
            return Outcome([Reply("not_coordinator")])
        campaign = unit.campaign(coordinator.campaign_id)
        found = self._agency(unit, coordinator, reference)
        if found is None:
            return refusal(Refused("agency_not_in_scope", code=reference[:20]))
        agency, submission = found
        report = unit.report(self.scoreboard, campaign.id, [agency.level])[agency.level]
        entry = next(e for e in report.agencies if e.agency.id == agency.id)
        return coordinator, campaign, agency, submission, report, entry

    def _agency(
        self, unit: Unit, coordinator: CoordinatorRecord, reference: str
    ) -> tuple[AgencyRecord, SubmissionRecord] | None:
        """The agency named by code (any case) or by ``#id``, if it lies within the coordinator's scope."""
        found = unit.agencies.find(coordinator.campaign_id, reference)
        if found is None:
            return None
        scope = unit.agencies.in_scope(coordinator.campaign_id, coordinator.scope_agency_id)
        return found if found[0].id in scope else None

    # -- verification -----------------------------------------------------------

    def _verification(self, who: Person, reference: str, act) -> Outcome:
        """``act(unit, agency, rubric)`` on an agency within the coordinator's scope, in one transaction;
        a refusal becomes its one sentence. A Telegram update delivered again (the process stopped before
        confirming it) is not applied twice: an adjustment is not added, nor indicators returned, a second time."""
        try:
            with self.db.unit() as unit:
                coordinator = unit.contacts.coordinator(who.user_id)
                if coordinator is None:
                    return Outcome([Reply("not_coordinator")])
                if unit.updates.seen(who.update_id, self.clock()):
                    raise Refused("command_already_applied", code=reference[:20])
                found = self._agency(unit, coordinator, reference)
                if found is None:
                    raise Refused("agency_not_in_scope", code=reference[:20])
                agency = found[0]
                rubric = unit.campaign(coordinator.campaign_id).rubrics[agency.level]
                return act(unit, agency, rubric)
        except Refused as refused:
            return refusal(refused)

    def verify(self, who: Person, reference: str) -> Outcome:
        """``/thamdinh CODE``: the agency's summary with the verification actions; without a code, how to verify."""
        return self.agency(who, reference) if reference.strip() else self._usage(who, "verify_usage")

    def confirm(self, who: Person, reference: str) -> Outcome:
        if not reference.strip():
            return self._usage(who, "verify_usage")

        def act(unit: Unit, agency: AgencyRecord, rubric) -> Outcome:
            unit.verification.confirm(agency.id, by=who.user_id, now=self.clock())
            return Outcome([Reply("verified", {"agency_name": agency.name})], notice="saved")

        return self._verification(who, reference.strip(), act)

    def adjust(self, who: Person, argument: str) -> Outcome:
        """``CODE INDICATOR POINTS REASON…``: the verified points of one indicator."""
        parts = argument.split(maxsplit=3)
        if len(parts) == 3:
            return self._usage(who, "refusal", Refused("reason_missing"))
        if len(parts) < 4:
            return self._usage(who, "verify_usage")
        reference, code, points, reason = parts

        def act(unit: Unit, agency: AgencyRecord, rubric) -> Outcome:
            refuse_control(reason, "comment_control")
            value = parse_points(points)
            item = unit.verification.adjust(agency.id, rubric, code, value, reason, by=who.user_id, now=self.clock())
            context = {"agency_name": agency.name, "item": item, "points": value, "reason": reason}
            return Outcome([Reply("adjusted", context)])

        return self._verification(who, reference, act)

    def return_indicators(self, who: Person, argument: str) -> Outcome:
        """``CODE INDICATOR[,INDICATOR…] COMMENT…``: send indicators back to the agency for correction."""
        parts = argument.split(maxsplit=2)
        if len(parts) in (1, 2):
            missing = "comment_missing" if len(parts) == 2 else "indicators_missing"
            return self._usage(who, "refusal", Refused(missing))
        if len(parts) < 3:
            return self._usage(who, "verify_usage")
        reference, codes, comment = parts

        def act(unit: Unit, agency: AgencyRecord, rubric) -> Outcome:
            refuse_control(comment, "comment_control")
            items = unit.verification.return_indicators(
                agency.id, rubric, codes.split(","), comment, by=who.user_id, now=self.clock()
            )
            contacts = unit.contacts.count_of_agency(agency.id)
            context = {"agency_name": agency.name, "items": items, "comment": comment, "contacts": contacts}
            return Outcome([Reply("returned_sent", context)])

        return self._verification(who, reference, act)

    # -- what leaders aim at ------------------------------------------------------

    def targets(self, who: Person, reference: str = "") -> Outcome:
        """``/muctieu``: per level, the indicators most agencies miss; ``/muctieu MÃ_ĐV``: one agency's
        indicators below full points, most points lost first, with its answers and evidence."""
        reference = reference.strip()
        if not reference:
            campaign, reports, refused = self._scoped_report(who)
            if refused:
                return refused
            levels = [(report, commonly_missed(report)[:TARGETS_SHOWN]) for report in reports.values()]
            return Outcome([Reply("coordinator_targets", {"campaign": campaign, "levels": levels})])
        with self.db.unit(write=False) as unit:
            found = self._entry(unit, who, reference)
            if isinstance(found, Outcome):
                return found
            _, campaign, agency, _, report, entry = found
            missed = agency_targets(entry, report.rubric, unit.detail.evidence)
        context = {"campaign": campaign, "agency": agency, "entry": entry, "report": report, "missed": missed}
        return Outcome([Reply("agency_targets", context)])

    # -- documents and pictures -------------------------------------------------

    def export(self, who: Person, lang: str) -> Outcome:
        campaign, reports, refused = self._scoped_report(who)
        if refused:
            return refused
        with self.db.unit(write=False) as unit:
            documents = _documents(
                campaign,
                reports,
                self.labels(lang),
                self.zone,
                f"cqdt-dot-{campaign.id}",
                unit.detail.evidence,
                unit.last_year.carried(campaign.id),
            )
        count = sum(len(r.agencies) for r in reports.values())
        return Outcome(
            [
                Reply(
                    "coordinator_export",
                    {
                        "campaign": campaign,
                        "count": count,
                        "format": name.rsplit(".", 1)[-1],
                        "annex": "phu-luc" in name,
                    },
                    document=(name, content),
                )
                for name, content in documents
            ]
        )

    def chart(self, who: Person, argument: str = "") -> Outcome:
        """Totals by agency within a level (``/bieudo [level]``), or the band distribution (``/bieudo xeploai``)."""
        campaign, reports, refused = self._scoped_report(who)
        if refused:
            return refused
        wanted = argument.strip().lower()
        if wanted in ("xeploai", "xếp loại", "xeploại", BANDS):
            return Outcome([Reply("coordinator_chart", {"campaign": campaign, "kind": BANDS}, chart=(BANDS, reports))])
        if wanted and _level(reports, wanted) is None:
            return refusal(Refused("level_not_in_campaign", level=argument.strip()[:20], levels=list(reports)))
        report = reports[_level(reports, wanted) if wanted else next(iter(reports))]
        context = {"campaign": campaign, "kind": "totals", "report": report, "count": len(report.agencies)}
        return Outcome([Reply("coordinator_chart", context, chart=("totals", report))])

    # -- reminders now ----------------------------------------------------------

    def remind(self, who: Person) -> Outcome:
        """How many reminders would go now, and buttons to send or cancel. The send button carries a token
        stored in the database for this coordinator and scope, so only that press, once, queues them."""
        with self.db.unit() as unit:
            coordinator = unit.contacts.coordinator(who.user_id)
            if coordinator is None:
                return Outcome([Reply("not_coordinator")])
            targets = self._remind_targets(unit, coordinator)
            if not targets:
                return Outcome([Reply("remind_nothing")])
            token = unit.remind_confirmations.issue(coordinator, self.clock())
        agencies = len({agency_id for agency_id, _ in targets})
        send = Button(f"k:r:{token}", key="remind_send", params={"count": len(targets)})
        buttons = [[send, Button("k:x", key="cancel")]]
        return Outcome([Reply("remind_confirm", {"messages": len(targets), "agencies": agencies}, buttons)])

    def _remind_targets(self, unit: Unit, coordinator: CoordinatorRecord) -> list[tuple[int, int]]:
        """(agency id, contact's Telegram id) of every contact of an unsubmitted agency in scope."""
        scope = unit.agencies.in_scope(coordinator.campaign_id, coordinator.scope_agency_id)
        return [t for t in unit.agencies.unsubmitted_contacts(coordinator.campaign_id) if t[0] in scope]

    def remind_confirmed(self, who: Person, token: str, message_id: int | None) -> Outcome:
        """Queue the reminders in the outbox, if the token is one /nhacnho issued to this coordinator for this
        scope, unused and not expired; a forged, reused, expired or someone else's token queues nothing."""
        now = self.clock()
        with self.db.unit() as unit:
            coordinator = unit.contacts.coordinator(who.user_id)
            if coordinator is None:
                return Outcome([Reply("not_coordinator")], notice="refused")
            found = unit.remind_confirmations.redeem(coordinator, token, now)
            if found != confirmations.REDEEMED:
                minutes = int(confirmations.REMIND_CONFIRMATION_VALIDITY.total_seconds() // 60)
                return refusal(Refused(f"remind_token_{found}", minutes=minutes))
            campaign_id = coordinator.campaign_id
            rows = [
                Planned(
                    f"c{campaign_id}:now:{token}:a{agency_id}:u{user_id}",
                    "reminder",
                    user_id,
                    agency_id,
                    now,
                    now + timedelta(hours=2),
                    {"by": who.user_id},
                )
                for agency_id, user_id in self._remind_targets(unit, coordinator)
            ]
            queued = unit.queue(campaign_id, rows)
        return Outcome([Reply("remind_queued", {"messages": queued}, edit_message_id=message_id)], notice="saved")

    # -- questions to the office ---------------------------------------------------

    def _office(self, who: Person, act) -> Outcome:
        """``act(unit, coordinator)`` in one transaction, for a coordinator; the refusal for anyone else."""
        try:
            with self.db.unit() as unit:
                coordinator = unit.contacts.coordinator(who.user_id)
                if coordinator is None:
                    return Outcome([Reply("not_coordinator")], notice="refused")
                return act(unit, coordinator)
        except Refused as refused:
            return refusal(refused)

    def reply(self, who: Person, argument: str) -> Outcome:
        """``/traloi N <answer>`` (or ``/traloi N``, then the answer as the next message)."""
        return self._office(who, lambda unit, c: office_questions.reply(unit, c, argument, self.clock()))

    def publish(self, who: Person, reference: str) -> Outcome:
        """``/congbo N``: the answer to question N becomes guidance at its question."""
        return self._office(who, lambda unit, c: office_questions.publish(unit, c, reference, self.clock()))

    def await_answer(self, who: Person, reference: str) -> Outcome:
        """The reply button under a question's notice."""
        number = office_questions.question_number
        return self._office(who, lambda unit, c: office_questions.await_answer(unit, c, number(reference)))

    # -- buttons ----------------------------------------------------------------

    def button(self, who: Person, data: str, message_id: int | None) -> Outcome:
        parts = data.split(":")
        kind = parts[1] if len(parts) > 1 else ""
        if kind == "s" and len(parts) == 4 and parts[3].isdigit():
            return self.scores(who, parts[2], int(parts[3]), message_id)
        if kind == "a" and len(parts) == 4 and parts[2].isdigit() and parts[3].isdigit():
            return self.agency(who, f"#{parts[2]}", int(parts[3]), message_id)
        if kind == "v" and len(parts) == 3 and parts[2].isdigit():
            return self.confirm(who, f"#{parts[2]}")
        if kind == "r" and len(parts) == 3 and parts[2]:
            return self.remind_confirmed(who, parts[2], message_id)
        if kind == "h" and len(parts) == 3 and parts[2].isdigit():
            return self.await_answer(who, parts[2])
        if kind == "p" and len(parts) == 3 and parts[2].isdigit():
            return self.publish(who, parts[2])
        if kind == "x" and len(parts) == 2:
            return Outcome([Reply("remind_cancelled", edit_message_id=message_id)], notice="cancelled")
        return Outcome(notice="invalid_button")


def _level(reports, typed: str) -> str | None:
    """The level of ``reports`` a coordinator typed ("huyen", "Huyện"), or None."""
    return next((level for level in reports if typed.strip().lower() == level or fold(typed) == fold(level)), None)


def _pager(prefix: str, page: int, pages: int) -> list[Button]:
    nav = []
    if page > 0:
        nav.append(Button(f"{prefix}:{page - 1}", key="page_previous_short"))
    if page < pages - 1:
        nav.append(Button(f"{prefix}:{page + 1}", key="page_next_short"))
    return nav


def _counts(rows: list[AgencyState], key, campaign: CampaignFacts, now: datetime) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for r in rows:
        c = counts.setdefault(key(r), {"total": 0, "submitted": 0, "in_progress": 0, "not_started": 0, "overdue": 0})
        c["total"] += 1
        if r.state in SUBMITTED_STATES:
            c["submitted"] += 1
        elif r.state == NOT_STARTED:
            c["not_started"] += 1
        else:
            c["in_progress"] += 1
        if campaign.overdue(r.state, now):
            c["overdue"] += 1
    return counts


def _documents(
    campaign, reports, labels: ExportLabels, zone: str, stem: str, evidence_of: EvidenceOf, carried
) -> list[tuple[str, bytes]]:
    """The workbook, the table and the annex (xlsx and docx, the decision's number and date left blank),
    as (file name, content); ``carried`` names the answers kept from last year."""
    workbook, table, annex, word = io.BytesIO(), io.BytesIO(), io.BytesIO(), io.BytesIO()
    write_xlsx(workbook, reports, labels, zone=zone, campaign=campaign, carried=carried)
    write_csv(table, reports, labels, zone=zone, carried=carried)
    heading = Heading(office=campaign.office.name if campaign.office else None)
    campaign_name = campaign.name
    write_annex_xlsx(annex, reports, labels, campaign_name=campaign_name, heading=heading, evidence_of=evidence_of)
    write_annex_docx(word, reports, labels, campaign_name=campaign_name, heading=heading)
    return [
        (f"{stem}.xlsx", workbook.getvalue()),
        (f"{stem}.csv", table.getvalue()),
        (f"{stem}-phu-luc.xlsx", annex.getvalue()),
        (f"{stem}-phu-luc.docx", word.getvalue()),
    ]
