"""A city's coordinator never sees, exports or changes anything outside its scope, whatever it sends.

The campaign has a province's departments (level ``so``), two cities (``huyen``) and three wards under
each (``xa``); some agencies in and out of the scope have submitted, others have contacts and have not.
The coordinator of one city sends random sequences of commands (status, scores by level, agency by
code in and out of scope or garbage, verify, confirm, adjust, return, chart, export, remind) and ``k:``
button data: its own buttons, the province coordinator's buttons (which name agencies outside the
scope), and forged data. After every step, each reply rendered as the bot renders it, its buttons,
its chart's data and its exported xlsx and csv (read back) name no agency outside the scope; at the
end of every example nothing stored about an agency outside the scope has changed, and no notice
about one was queued for the city's coordinator. The examples share one database (what they change
inside the scope stays); each is checked against the rows outside the scope as they were before it.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from dialogue_helpers import START, Clock, answer_all
from docx import Document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select

from bot.labels import by_language
from bot.rendering import keyboard_of, text_of
from conversations.contact_dialogue import ContactDialogue
from conversations.coordinator_dialogue import CoordinatorDialogue
from conversations.situation import Person
from rubrics.bundled import bundled
from storage import campaigns
from storage.agency_import import import_csv
from storage.campaigns import CampaignSpec
from storage.invitations import agency_invitations, coordinator_invitation
from storage.models import (
    Adjustment,
    Agency,
    Answer,
    AnswerChange,
    Contact,
    Evidence,
    Notification,
    ReturnedIndicator,
    Submission,
    VerificationEvent,
)

ZONE = "Asia/Ho_Chi_Minh"
AGENCIES = """code,name,level,parent_code,contact_name,contact_phone,contact_email
SOTTTT,Sở Khoa học Thử nghiệm,so,,,,
SONOIVU,Sở Lưu trữ Thử nghiệm,so,,,,
HALONG,UBND Thành phố Hạ Long,huyen,,,,
CAMPHA,UBND Thành phố Cẩm Phả,huyen,,,,
HALONG01,UBND Phường Hà Phong,xa,HALONG,,,
HALONG02,UBND Phường Hà Khẩu,xa,HALONG,,,
HALONG03,UBND Phường Giếng Đáy,xa,HALONG,,,
CAMPHA01,UBND Phường Quang Hanh,xa,CAMPHA,,,
CAMPHA02,UBND Phường Cẩm Thạch,xa,CAMPHA,,,
CAMPHA03,UBND Phường Cẩm Thủy,xa,CAMPHA,,,
"""
IN_SCOPE = {"HALONG", "HALONG01", "HALONG02", "HALONG03"}
OUTSIDE = {"SOTTTT", "SONOIVU", "CAMPHA", "CAMPHA01", "CAMPHA02", "CAMPHA03"}
RUBRIC_OF = {"so": "qn2018-so", "huyen": "qn2018-huyen", "xa": "qn2018-xa"}
SUBMITTED = {"HALONG": "huyen", "HALONG01": "xa", "SOTTTT": "so", "CAMPHA": "huyen", "CAMPHA01": "xa"}
WITH_CONTACT_ONLY = {"HALONG02", "CAMPHA02"}  # unsubmitted, with a contact: targets of /nhacnho
CITY, PROVINCE = Person(901, 901, "Phòng VH-TT Hạ Long", "vi"), Person(900, 900, "Sở", "vi")
TABLES = (Submission, Adjustment, ReturnedIndicator, VerificationEvent, Answer, AnswerChange, Evidence, Notification)


@pytest.fixture
def world(db):
    clock = Clock(START)
    rubrics = {level: bundled()[rid] for level, rid in RUBRIC_OF.items()}
    with db.session() as session:
        campaign = campaigns.create(session, CampaignSpec("Đánh giá CQĐT năm 2019", rubrics, START.replace(month=11)))
        import_csv(session, campaign, AGENCIES)
        tokens = {a.code: inv.token for a, inv in agency_invitations(session, campaign, START)}
        province = coordinator_invitation(session, campaign, START).token
        halong = session.scalar(select(Agency.id).where(Agency.code == "HALONG"))
        city = coordinator_invitation(session, campaign, START, "HALONG").token
        ids = dict(session.execute(select(Agency.code, Agency.id)).all())
    assert halong == ids["HALONG"]
    contacts = ContactDialogue(db, clock)
    assert contacts.start(PROVINCE, province).replies and contacts.start(CITY, city).replies
    for number, code in enumerate(sorted(SUBMITTED) + sorted(WITH_CONTACT_ONLY)):
        contact = Person(100 + number, 100 + number, f"Đầu mối {code}", "vi")
        contacts.start(contact, tokens[code])
        if code in SUBMITTED:
            answer_all(db, code, number, RUBRIC_OF[SUBMITTED[code]])
            contacts.command(contact, "nop")
            with db.session() as session:
                menu = session.scalar(select(Contact.menu_token).where(Contact.telegram_user_id == contact.user_id))
            assert contacts.button(contact, f"m:{menu}:c:").notice == "submitted", code
    coordinators = CoordinatorDialogue(db, clock, ZONE, by_language(ZONE))
    names = {code: name for code, name, *_ in csv.reader(io.StringIO(AGENCIES)) if code != "code"}
    return db, clock, coordinators, ids, names


def outside_rows(db, ids) -> dict[str, list[tuple]]:
    """Every stored row about an agency outside the scope, table by table."""
    outside_ids = [ids[c] for c in OUTSIDE]
    found = {}
    with db.session() as session:
        for table in TABLES:
            columns = [c for c in table.__table__.columns]
            rows = session.execute(select(*columns).where(table.agency_id.in_(outside_ids))).all()
            found[table.__tablename__] = sorted(tuple(map(repr, r)) for r in rows)
    return found


def names_outside(text: str, names: dict[str, str], typed: str) -> list[str]:
    """The agencies outside the scope that ``text`` names by name or code (what the coordinator typed aside:
    a refusal may quote the code it was given)."""
    for word in sorted(set(re.split(r"[\s:]+", typed)), key=len, reverse=True):
        if word:
            text = text.replace(word, " ").replace(word[:20], " ")
    return [
        code
        for code in OUTSIDE
        if names[code] in text or re.search(rf"(?<![A-Za-z0-9]){code}(?![A-Za-z0-9])", text, re.IGNORECASE)
    ]


REFERENCES = st.one_of(
    st.sampled_from(sorted(IN_SCOPE | OUTSIDE)),
    st.sampled_from(["halong01", "campha01", "Campha", " HALONG02 ", "#1", "#3", "#999", "#", "##4", "*", "%", "_"]),
    st.builds(lambda n: f"#{n}", st.integers(0, 15)),
    st.text(max_size=12),
)
INDICATORS = st.sampled_from(["1.1", "1.2", "2.1", "3.1", "1.1,2.1", "9.9", "", "1.1,,"])
POINTS = st.sampled_from(["0", "2,5", "1.5", "-1", "abc", "100"])
LEVELS = st.sampled_from(["", "xa", "huyen", "so", "tinh", "xeploai", "XA", "?"])
FORGED = st.one_of(
    st.builds(lambda k, n, p: f"k:{k}:{n}:{p}", st.sampled_from("savrx"), st.integers(0, 15), st.integers(0, 40)),
    st.builds(lambda k, n: f"k:{k}:{n}", st.sampled_from("savrx"), st.integers(0, 15)),
    st.builds(lambda level, p: f"k:s:{level}:{p}", LEVELS, st.integers(-2, 5)),
    st.builds(lambda s: f"k:{s}", st.text(max_size=30)),
    st.sampled_from(["k:", "k:x", "k:r:", "k:a:3", "k:a::", "k:v:", "k:s:so:0"]),
)
ACTION = st.one_of(
    st.tuples(st.just("status"), st.none()),
    st.tuples(st.just("scores"), LEVELS),
    st.tuples(st.just("agency"), st.tuples(REFERENCES, st.integers(0, 12))),
    st.tuples(st.just("verify"), REFERENCES),
    st.tuples(st.just("confirm"), REFERENCES),
    st.tuples(st.just("adjust"), st.tuples(REFERENCES, INDICATORS, POINTS)),
    st.tuples(st.just("return"), st.tuples(REFERENCES, INDICATORS)),
    st.tuples(st.just("chart"), LEVELS),
    st.tuples(st.just("export"), st.sampled_from(["vi", "en"])),
    st.tuples(st.just("remind"), st.none()),
    st.tuples(st.just("own_button"), st.integers(0, 100)),
    st.tuples(st.just("province_button"), st.integers(0, 100)),
    st.tuples(st.just("forged"), st.tuples(FORGED, st.one_of(st.none(), st.integers(1, 10**6)))),
)


def check_export(name: str, content: bytes, names, ids) -> None:
    if name.endswith(".xlsx"):
        workbook = load_workbook(io.BytesIO(content), read_only=True)
        cells = [str(v) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for v in row]
        workbook.close()
    elif name.endswith(".docx"):
        document = Document(io.BytesIO(content))
        cells = [p.text for p in document.paragraphs]
        cells += [c.text for table in document.tables for row in table.rows for c in row.cells]
    else:
        cells = [v for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for v in row]
    assert cells, name
    joined = "\n".join(cells)
    assert not names_outside(joined, names, ""), (name, names_outside(joined, names, ""))


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=st.lists(ACTION, min_size=1, max_size=20))
def test_a_city_coordinator_never_sees_or_changes_what_lies_outside_its_scope(world, actions):
    db, clock, coordinators, ids, names = world
    before = outside_rows(db, ids)
    assert before["submissions"] and before["answers"]
    outside_ids = {ids[c] for c in OUTSIDE}
    own_buttons: list[str] = []
    province_buttons: list[str] = []
    seen_by_province = coordinators.scores(PROVINCE, "xa").replies[0]
    assert names_outside(text_of(seen_by_province, "vi", ZONE), names, "")  # the check does see a leak
    for source in (
        coordinators.scores(PROVINCE, "xa"),
        coordinators.scores(PROVINCE, "so"),
        coordinators.agency(PROVINCE, "CAMPHA01"),
        coordinators.agency(PROVINCE, "SOTTTT", 1),
        coordinators.remind(PROVINCE),
    ):
        province_buttons += [b.data for reply in source.replies for row in reply.buttons for b in row]
    assert any(b.startswith("k:v:") for b in province_buttons) and any(b.startswith("k:r:") for b in province_buttons)
    for kind, arg in actions:
        typed = ""
        if kind == "status":
            outcome = coordinators.status(CITY)
        elif kind == "scores":
            outcome = coordinators.scores(CITY, arg or None)
        elif kind == "agency":
            typed, page = arg
            outcome = coordinators.agency(CITY, typed, page)
        elif kind == "verify":
            typed = arg
            outcome = coordinators.verify(CITY, arg)
        elif kind == "confirm":
            typed = arg
            outcome = coordinators.confirm(CITY, arg)
        elif kind == "adjust":
            typed = " ".join(arg) + " Thiếu minh chứng"
            outcome = coordinators.adjust(CITY, typed)
        elif kind == "return":
            typed = " ".join(arg) + " Bổ sung quyết định"
            outcome = coordinators.return_indicators(CITY, typed)
        elif kind == "chart":
            outcome = coordinators.chart(CITY, arg)
        elif kind == "export":
            outcome = coordinators.export(CITY, arg)
        elif kind == "remind":
            outcome = coordinators.remind(CITY)
        elif kind in ("own_button", "province_button"):
            pool = own_buttons if kind == "own_button" else province_buttons
            if not pool:
                continue
            outcome = coordinators.button(CITY, pool[arg % len(pool)], 7)
        else:
            data, message_id = arg
            typed = data
            outcome = coordinators.button(CITY, data, message_id)
        typed = typed.strip()
        for reply in outcome.replies:
            for lang in ("vi", "en"):
                text = text_of(reply, lang, ZONE)
                assert not names_outside(text, names, typed), (kind, arg, reply.template, text)
            keyboard_of(reply, "vi", ZONE)
            for row in reply.buttons:
                for button in row:
                    own_buttons.append(button.data)
                    named = re.fullmatch(r"k:[av]:(\d+)(?::\d+)?", button.data)
                    assert not (named and int(named.group(1)) in outside_ids), (kind, arg, button.data)
            if reply.chart is not None:
                chart_kind, data = reply.chart
                reports = data.values() if chart_kind == "bands" else [data]
                charted = {e.agency.id for report in reports for e in report.agencies}
                assert charted and not charted & outside_ids, (kind, arg)
            if reply.document is not None:
                check_export(*reply.document, names, ids)
    assert outside_rows(db, ids) == before
    with db.session() as session:
        told = session.scalars(select(Notification.agency_id).where(Notification.telegram_user_id == CITY.user_id))
        assert not set(told) & outside_ids
