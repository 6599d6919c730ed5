"""`cqdt demo`: a whole campaign, offline, with the real bot against the fake Bot API.

Quảng Ninh's 2019 self-assessment, deadline 14h00 on Monday 28/10/2019, for four districts and 26
of their wards and communes. ``agencies.csv`` holds their official codes and names on the pre-2025
map (from vietnam-provinces 0.6, as ``tests/fixtures/quang_ninh_200.csv``), with no contact details.

Everything is real but Telegram: a SQLite database, the bundled rubrics, the agency importer, the
invitations, ``bot.app.build_application`` polling an in-process :class:`FakeTelegram` over HTTP on
127.0.0.1, simulated people pressing its buttons, and the reminder sender ticked at the moments it
would run while the clock is moved by hand. The invitations also go by e-mail, through a local SMTP
server (bot/demo/mail.py), and the agencies that never open theirs get their reminders by e-mail.

Each phase in :data:`PHASES` is a function of :class:`Demo` that returns the context of its
progress line (the ``<name>_done`` macro of ``bot/templates/cli/demo_phases.j2``). What a phase
leaves behind goes into ``Demo.outputs``; the coordinator acts through ``Demo.ask`` and what they see
is kept in ``Demo.coordinator.exchanges``. After the deadline the coordinator verifies one agency
(returns an indicator, which its contact corrects and resubmits, adjusts another, confirms) and
asks for the charts, before the export.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Bot

from bot.app import build_application
from bot.demo import office_questions
from bot.demo.contacts import Contact, label
from bot.demo.fake_telegram import BotMessage, FakeTelegram, run_application
from bot.demo.mail import WITHOUT_ADDRESS, DemoMail, save, send_invitations, start_mail
from bot.demo.second_year import second_year
from bot.demo.transcript import Chat, Said
from bot.reminders.sender import Sender
from common.settings import Settings
from conversations.reminders.outbox import Outbox
from conversations.targets import missed
from conversations.walk import relevant_steps
from rubrics.compiled import CompiledRubric
from rubrics.model import Item
from rubrics.sample_answers import sample_answers
from storage import campaigns
from storage.agency_import import import_csv
from storage.campaigns import CampaignSpec
from storage.db import Database
from storage.invitations import agency_invitations, coordinator_invitation
from storage.records import VERIFIED as VERIFIED_STATE
from storage.reports import AgencyReport, campaign_report
from storage.rubric_store import resolve

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2019, 10, 14, 8, 30, tzinfo=ZONE)  # Monday, two weeks before the deadline
DEADLINE = datetime(2019, 10, 28, 14, 0, tzinfo=ZONE)
DIGEST_SHOWN = datetime(2019, 10, 28, 8, 0, tzinfo=ZONE)  # the digest of the deadline's morning
NAME = "Đánh giá mức độ Chính quyền điện tử năm 2019"
RUBRICS = {"huyen": "qn2018-huyen", "xa": "qn2018-xa"}
PERIOD = (date(2018, 10, 15), date(2019, 10, 15))
TOKEN = "123456:DEMO-cqdt-offline-no-network"
BOT_USERNAME = "cqdt_demo_bot"
COORDINATOR = (9000, "Hoàng Minh")  # the province's coordinator at the Sở TT&TT
FIRST_CONTACT = 1001
NAMES = ("Thu Hà", "Minh Tuấn", "Thanh Hương", "Văn Long", "Thị Mai", "Quang Huy", "Ngọc Lan", "Đức Anh")

# What each agency's contact does; the other agencies never open their invitation.
SUBMITS = ("06652", "193", "207", "06649", "06655", "06658", "06970", "06973", "06994", "07192")
STOPS_MIDWAY = ("203", "06661", "06664", "06976", "06997", "07195")
OPENS_ONLY = ("202", "06667", "06979", "07000")
CLUMSY = "06652"  # makes typing mistakes; the transcript shows this contact's chat
VERIFIED = CLUMSY  # the agency the coordinator verifies, so the transcript shows the contact's side
# The coordinator's comment when returning a yes/no indicator, by the agency's answer (which it then turns);
# the bot quotes comments and reasons in «» and ends the sentence itself, hence no final full stop.
RETURN_COMMENTS = {
    False: "Theo hồ sơ lưu tại Sở, đơn vị đã đáp ứng chỉ tiêu này; đề nghị kiểm tra lại câu trả lời",
    True: "Chưa thấy minh chứng đáp ứng chỉ tiêu này; đề nghị kiểm tra lại câu trả lời",
}
ADJUST_REASON = "Minh chứng mới đáp ứng một phần yêu cầu của chỉ tiêu"
CHARTS = {"chart_totals": "/bieudo xa", "chart_bands": "/bieudo xeploai"}  # output key → command


class Clock:
    """The time the bot sees, moved by the scenario."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Demo:
    """Everything the phases share: where outputs go, the clock, the database, the fake and the chats."""

    out: Path
    seed: int
    stack: ExitStack
    clock: Clock = field(default_factory=lambda: Clock(START))
    db: Database | None = None
    campaign_id: int = 0
    levels: dict[str, str] = field(default_factory=dict)  # agency code → level
    names: dict[str, str] = field(default_factory=dict)  # agency code → name
    tokens: dict[str, str] = field(default_factory=dict)  # agency code → invitation token
    coordinator_token: str = ""
    fake: FakeTelegram | None = None
    coordinator: Chat | None = None
    featured: Chat | None = None
    people: dict[str, Contact] = field(default_factory=dict)  # agency code → its simulated contact
    outputs: dict[str, Path] = field(default_factory=dict)
    loop: asyncio.AbstractEventLoop | None = None
    bot: Bot | None = None
    sender: Sender | None = None
    mail: DemoMail | None = None
    second_year: Chat | None = None  # the featured contact's chat in next year's campaign

    def tick(self) -> int:
        """One run of the reminder job at the clock's time: plan, then send what is due (e-mail too)."""
        sent = self.loop.run_until_complete(self.sender.tick(self.bot))
        if self.mail is not None:
            sent += self.loop.run_until_complete(self.mail.sender.tick(self.campaign_id))
        return sent

    def sent(self) -> Counter:
        """Messages the outbox has sent, by kind."""
        with self.db.session() as session:
            return Counter(campaigns.sent_by_kind(session, self.campaign_id))

    def ask(self, command: str, until=None, tag: str = "command") -> BotMessage:
        """The coordinator sends ``command``; returns the reply that matches ``until``."""
        return self.coordinator.act(Said("command", command), lambda u: u.send_command(command), until, tag)

    def contact(self, number: int, code: str) -> Contact:
        user = self.fake.user(FIRST_CONTACT + number, NAMES[number % len(NAMES)])
        chat = Chat(self.fake, user, record=code == CLUMSY)
        if code == CLUMSY:
            self.featured = chat
        with self.db.session() as session:
            rubric = campaigns.rubrics_by_level(campaigns.get(session, self.campaign_id))[self.levels[code]]
        return Contact(chat, rubric, self.plan(rubric, code), clumsy=code == CLUMSY)

    def plan(self, rubric, code: str) -> dict[str, Any]:
        """Seeded plausible answers; the clumsy contact's include a date, to mistype it."""
        for variant in range(100):
            plan = sample_answers(rubric, random.Random(f"{self.seed}:{code}:{variant}"))
            if code != CLUMSY or any(rubric.question(q).type == "date" for q in plan):
                return plan
        raise RuntimeError("no sample answers with a date")

    def moments(self, until: datetime) -> list[datetime]:
        """When the reminder job has work before ``until``: the 08:00 digests and every planned message."""
        self.sender.outbox.prepare(self.campaign_id)
        day, moments = self.clock.now.date(), set()
        while (day := day + timedelta(days=1)) <= until.date():
            moments.add(datetime.combine(day, time(8, 0), ZONE))
        for row in self.sender.outbox.listing(self.campaign_id):
            if row["status"] == "pending" and self.clock.now < row["due_at"] < until:
                moments.add(row["due_at"].astimezone(ZONE))
        return sorted(m for m in moments if m < until)

    def report(self, code: str) -> AgencyReport:
        """The agency's scores and answers as the bot's scoreboard computes them now."""
        with self.db.session() as session:
            campaign = campaigns.get(session, self.campaign_id)
            reports = campaign_report(session, campaign, [self.levels[code]])[self.levels[code]]
            return next(entry for entry in reports.agencies if entry.agency.code == code)

    def state(self, code: str) -> str:
        with self.db.session() as session:
            return campaigns.submission_state(session, self.campaign_id, code)


# -- the phases ---------------------------------------------------------------------------------


def setup(demo: Demo) -> dict[str, Any]:
    """A fresh SQLite database, the campaign with its two rubrics, the agencies and their invitations."""
    path = demo.out / "cqdt-demo.db"
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    demo.db = Database(f"sqlite:///{path}")
    demo.stack.callback(demo.db.dispose)
    demo.outputs["database"] = path
    rubrics = {level: resolve(ref) for level, ref in RUBRICS.items()}
    with demo.db.session() as session:
        campaign = campaigns.create(session, CampaignSpec(NAME, rubrics, DEADLINE, PERIOD))
        imported = import_csv(session, campaign, files("bot.demo").joinpath("agencies.csv").read_text("utf-8"))
        invitations = agency_invitations(session, campaign, demo.clock.now)
        demo.campaign_id = campaign.id
        demo.levels = {agency.code: agency.level for agency, _ in invitations}
        demo.names = {agency.code: agency.name for agency, _ in invitations}
        demo.tokens = {agency.code: invitation.token for agency, invitation in invitations}
        demo.coordinator_token = coordinator_invitation(session, campaign, demo.clock.now).token
    return {
        "database": path,
        "campaign": NAME,
        "rubrics": RUBRICS,
        "deadline": DEADLINE,
        "agencies": imported.created,
        "levels": Counter(demo.levels.values()),
    }


def start_bot(demo: Demo) -> dict[str, Any]:
    """The real application polling the fake Bot API; the province's coordinator registers."""
    fake = demo.stack.enter_context(FakeTelegram(TOKEN, BOT_USERNAME, bot_first_name="CQĐT Quảng Ninh"))
    demo.fake = fake
    settings = Settings(token=fake.token, telegram_api_url=fake.api_url, timezone=ZONE.key)
    application = build_application(settings, demo.db, clock=demo.clock, reminders=False)
    demo.stack.enter_context(run_application(application))
    fake.wait_for_long_poll()
    start_sender(demo)
    demo.coordinator = Chat(fake, fake.user(*COORDINATOR), record=True)
    token = demo.coordinator_token
    demo.coordinator.act(Said("start", token), lambda u: u.send_command(f"/start {token}"), None, "start")
    return {"host": fake.host, "commands": len(fake.commands())}


def start_sender(demo: Demo) -> None:
    """The reminder sender, on its own event loop, ticked by the scenario instead of every 30 s."""
    demo.loop = asyncio.new_event_loop()
    demo.stack.callback(demo.loop.close)
    demo.bot = Bot(demo.fake.token, base_url=demo.fake.api_url)
    demo.loop.run_until_complete(demo.bot.initialize())
    demo.stack.callback(lambda: demo.loop.run_until_complete(demo.bot.shutdown()))
    demo.sender = Sender(Outbox(demo.db, demo.clock, ZONE, "demo"), ZONE.key)


def invitations_by_email(demo: Demo) -> dict[str, Any]:
    """A local SMTP server; the invitation letters by e-mail to every agency with an address (bot/demo/mail.py)."""
    never = [code for code in demo.tokens if code not in SUBMITS + STOPS_MIDWAY + OPENS_ONLY]
    demo.mail = start_mail(demo, never, BOT_USERNAME)
    return {"port": demo.mail.port, "sent": send_invitations(demo, demo.mail), "without": WITHOUT_ADDRESS}


def emails(demo: Demo) -> dict[str, Any]:
    """What the SMTP server received, saved as named .eml files."""
    saved = save(demo.mail, demo.out)
    demo.outputs["eml"] = saved["folder"]
    return saved


def contacts(demo: Demo) -> dict[str, Any]:
    """The first day: contacts open their invitations one after another and answer."""
    rng = random.Random(demo.seed)
    before = demo.sent()
    for number, code in enumerate(SUBMITS + STOPS_MIDWAY + OPENS_ONLY):
        demo.clock.now = START + timedelta(minutes=12 * (number + 1))
        contact = demo.people[code] = demo.contact(number, code)
        prompt = contact.open(demo.tokens[code])
        if code in SUBMITS:
            contact.walk(prompt)
            contact.submit()
        elif code in STOPS_MIDWAY:
            contact.walk(prompt, rng.randint(5, 25))
        demo.tick()
    return {
        "submitted": len(SUBMITS),
        "midway": len(STOPS_MIDWAY),
        "opened": len(OPENS_ONLY),
        "never": len(demo.tokens) - len(SUBMITS) - len(STOPS_MIDWAY) - len(OPENS_ONLY),
        "mistakes": sum(e.tag == "mistake" for e in demo.featured.exchanges),
        "notices": demo.sent()["submitted"] - before["submitted"],
    }


def follow(demo: Demo) -> dict[str, Any]:
    """The coordinator looks at the status and the ranking of both levels."""
    demo.clock.now = START.replace(hour=16, minute=0)
    demo.ask("/tinhhinh", tag="status")
    scores = demo.ask("/diem", tag="scores")
    other = scores.buttons[0][0][0]
    demo.coordinator.act(
        Said("press", other),
        lambda u: u.press(other, message_id=scores.message_id),
        lambda m: m.text != scores.text,
        "scores",
    )
    return {"commands": ["/tinhhinh", "/diem"]}


def reminders(demo: Demo) -> dict[str, Any]:
    """Two weeks pass: the reminder job runs at every moment it has work, up to the deadline."""
    before = demo.sent()
    moments = demo.moments(DEADLINE)
    for moment in moments:
        demo.clock.now = moment
        mark = demo.coordinator.mark()
        demo.tick()
        if moment == DIGEST_SHOWN:
            demo.coordinator.pushed(mark, moment, "digest")
    sent = demo.sent() - before
    return {
        "reminders": sent["reminder"],
        "contacts": len(STOPS_MIDWAY) + len(OPENS_ONLY),
        "digests": sent["digest"],
        "escalations": sent["escalation"],
        "first": moments[0],
        "last": moments[-1],
    }


def deadline(demo: Demo) -> dict[str, Any]:
    """14h00 on the deadline: overdue notices to the late contacts, the overdue list to the coordinator."""
    before = demo.sent()
    demo.clock.now = DEADLINE
    mark = demo.coordinator.mark()
    demo.tick()
    demo.coordinator.pushed(mark, DEADLINE, "overdue")
    sent = demo.sent() - before
    return {"deadline": DEADLINE, "overdue": sent["overdue"], "lists": sent["overdue_list"]}


def returnable(rubric: CompiledRubric, answers: dict[str, Any]) -> tuple[Item, str]:
    """(indicator, question) of an indicator whose rule reads one yes/no question, answered yes or no,
    with no other question under it, so that a correction is one press."""
    asked = {step.question.id for step in relevant_steps(rubric, answers)}
    for item in rubric.indicators:
        read = rubric.indicator_questions(item)
        if len(read) != 1 or rubric.question(read[0]).type != "yes_no" or read[0] not in asked:
            continue
        inside = {s.question.id for s in rubric.steps if any(section.code == item.code for section in s.section.path)}
        if answers.get(read[0]) in (True, False) and inside <= {read[0]}:
            return item, read[0]
    raise RuntimeError(f"{rubric.id}: no yes/no indicator to return")


def vn_points(points: Decimal) -> str:
    """Points as a coordinator types them: 2,5 · 3."""
    return format(points.normalize(), "f").replace(".", ",")


def verify(demo: Demo) -> dict[str, Any]:
    """The coordinator verifies one submitted agency: returns an indicator, which the contact corrects and
    resubmits, adjusts another, confirms, and sees the verified score in the ranking."""
    code, contact = VERIFIED, demo.people[VERIFIED]
    chat, rubric = contact.chat, contact.rubric
    demo.clock.now = DEADLINE + timedelta(minutes=30)
    before = demo.report(code)
    item, question = returnable(rubric, before.answers)
    was = bool(before.answers[question])
    demo.ask(f"/donvi {code}", "Tự đánh giá", "verify")
    demo.ask(f"/tralai {code} {item.code} {RETURN_COMMENTS[was]}", "Đã trả lại", "verify")
    mark = chat.mark()
    demo.tick()
    chat.pushed(mark, demo.clock.now, "returned")
    notice = next(c.message for c in chat.calls(mark) if label("continue_walk") in c.message.button_texts)

    demo.clock.now += timedelta(minutes=20)
    done = contact.correct(contact.resume(notice), {question: not was})
    if "/nop" not in (done.text or ""):
        raise RuntimeError(f"the corrections did not end: {done.text}")
    contact.submit()
    mark = demo.coordinator.mark()
    demo.tick()
    if not any("nộp lại" in s.text for s in demo.coordinator.pushed(mark, demo.clock.now, "resubmitted")):
        raise RuntimeError("the coordinator was not told of the resubmission")

    demo.clock.now += timedelta(minutes=20)
    corrected = demo.report(code).score.indicators
    adjusted = max(
        (i for i in corrected.values() if i.code != item.code and not i.not_applicable and i.achieved > 0),
        key=lambda i: (i.achieved, i.code),
    )
    points = Decimal(int(adjusted.achieved)) / 2  # about half, as a person would type it: 2,5
    demo.ask(f"/dieuchinh {code} {adjusted.code} {vn_points(points)} {ADJUST_REASON}", "điều chỉnh", "verify")
    demo.ask(f"/xacnhan {code}", "Đã xác nhận", "verify")
    demo.ask(f"/diem {demo.levels[code]}", "thẩm định", "scores")
    after = demo.report(code)
    if demo.state(code) != VERIFIED_STATE or after.verified is None:
        raise RuntimeError(f"{code} is not verified: {demo.state(code)}")
    return {
        "agency": demo.names[code],
        "returned": item.code,
        "answer": label("yes" if not was else "no"),
        "adjusted": adjusted.code,
        "before": adjusted.achieved,
        "after": points,
        "assessed": after.score.total,
        "verified": after.verified.total,
        "max": after.score.max,
    }


def chart(demo: Demo) -> dict[str, Any]:
    """The coordinator asks for the charts: totals of the communes with their bands, and bands per level."""
    demo.clock.now = DEADLINE + timedelta(hours=1, minutes=30)
    saved = []
    for key, command in CHARTS.items():
        mark = demo.coordinator.mark()
        demo.ask(command, lambda m: m.photo is not None, "chart")
        call = next(c for c in demo.fake.calls("sendPhoto", chat_id=COORDINATOR[0]) if c.seq > mark)
        path = demo.out / f"cqdt-{command.strip('/').replace(' ', '-')}.png"
        path.write_bytes(call.params["photo"].content)
        demo.outputs[key] = path
        saved.append(path.name)
    return {"commands": list(CHARTS.values()), "files": saved}


def export(demo: Demo) -> dict[str, Any]:
    """The coordinator asks for the results; the documents the bot sent are saved: the workbook, the table
    and the published annex (xlsx with its targets sheet, and docx)."""
    demo.clock.now = DEADLINE + timedelta(hours=2)
    mark = demo.coordinator.mark()
    demo.ask("/xuat", lambda m: (m.document and m.document.filename or "").endswith(".docx"), "export")
    saved = []
    for call in demo.fake.calls("sendDocument", chat_id=COORDINATOR[0]):
        if call.seq > mark:
            document = call.message.document
            path = demo.out / document.filename
            path.write_bytes(document.content)
            kind = path.suffix.lstrip(".")
            demo.outputs[f"annex_{kind}" if path.stem.endswith("phu-luc") else kind] = path
            saved.append(path.name)
    return {"files": saved}


def targets(demo: Demo) -> dict[str, Any]:
    """The coordinator asks what the verified ward should aim at next year (/muctieu)."""
    demo.ask(f"/muctieu {VERIFIED}", lambda m: (m.text or "").startswith("🎯"), "targets")
    entry = demo.report(VERIFIED)
    with demo.db.session() as session:
        rubric = campaigns.rubrics_by_level(campaigns.get(session, demo.campaign_id))[demo.levels[VERIFIED]]
    return {"command": f"/muctieu {VERIFIED}", "count": len(missed(entry, rubric))}


PHASES: tuple[Callable[[Demo], dict[str, Any]], ...] = (
    setup,
    start_bot,
    invitations_by_email,
    contacts,
    follow,
    office_questions.questions,
    reminders,
    deadline,
    emails,
    verify,
    chart,
    export,
    targets,
    second_year,
)


@contextmanager
def quiet_logs(path: Path) -> Iterator[None]:
    """Every log record of the run goes to ``path``, none to the terminal."""
    root = logging.getLogger()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    saved = root.handlers[:], root.level, logging.getLogger("httpx").level
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.handlers[:], level, httpx_level = saved
        root.setLevel(level)
        logging.getLogger("httpx").setLevel(httpx_level)
        handler.close()


def run(out: Path, seed: int, progress: Callable[[int, int, str, dict[str, Any] | None], None]) -> Demo:
    """Run every phase; ``progress(number, total, name, result)`` is called before (result None) and after each."""
    out.mkdir(parents=True, exist_ok=True)
    with quiet_logs(out / "cqdt-demo.log"), ExitStack() as stack:
        demo = Demo(out, seed, stack)
        for number, phase in enumerate(PHASES, 1):
            progress(number, len(PHASES), phase.__name__, None)
            progress(number, len(PHASES), phase.__name__, phase(demo))
    demo.outputs["log"] = out / "cqdt-demo.log"
    return demo
