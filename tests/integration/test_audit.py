"""The hash-chained audit record: a campaign through return/resubmit and adjust/confirm verifies clean,
tampering with one stored answer row or one entry is named, and a receipt's hash is found again."""

from __future__ import annotations

import pytest
from cli_helpers import Cli
from dialogue_helpers import START, Clock, answer_all, make_campaign, yes_no_indicator
from sqlalchemy import select, update

from bot.cli import main
from bot.labels import by_language
from conversations.contact_dialogue import ContactDialogue
from conversations.coordinator_dialogue import CoordinatorDialogue
from conversations.situation import Person
from rubrics.bundled import bundled
from storage import audit
from storage.models import Agency, Answer, AuditEntry, Contact, Submission

ZONE = "Asia/Ho_Chi_Minh"
XA = bundled()["qn2018-xa"]
CONTACT, COORDINATOR = Person(300, 300, "Thu Hà", "vi"), Person(900, 900, "Sở")


def token_of(db, column) -> str:
    with db.session() as session:
        return session.scalar(select(column).where(Contact.telegram_user_id == CONTACT.user_id))


def submit(contacts) -> None:
    contacts.command(CONTACT, "nop")
    assert contacts.button(CONTACT, f"m:{token_of(contacts.db, Contact.menu_token)}:c:").notice == "submitted"


@pytest.fixture
def verified(db):
    """06652 answered, submitted, returned, corrected, resubmitted, adjusted and confirmed."""
    clock = Clock(START)
    campaign = make_campaign(db, START)
    answer_all(db, "06652", 1)
    contacts = ContactDialogue(db, clock)
    coordinators = CoordinatorDialogue(db, clock, ZONE, by_language(ZONE))
    contacts.start(CONTACT, campaign.tokens["06652"])
    contacts.start(COORDINATOR, campaign.coordinator_token)
    item, _ = yes_no_indicator(XA)
    submit(contacts)
    coordinators.return_indicators(COORDINATOR, f"06652 {item.code} Thiếu quyết định ban hành")
    contacts.command(CONTACT, "tieptuc")
    assert contacts.button(CONTACT, f"q:{token_of(db, Contact.prompt_token)}:a:1").notice == "saved"
    clock.advance(hours=1)
    submit(contacts)
    coordinators.adjust(COORDINATOR, f"06652 {item.code} 0 Quyết định hết hiệu lực")
    coordinators.confirm(COORDINATOR, "06652")
    return db, campaign


def agency_id(session, code="06652") -> int:
    return session.scalar(select(Agency.id).where(Agency.code == code))


def test_an_untouched_campaign_verifies_clean_and_the_receipt_is_the_chain_head(verified):
    db, campaign = verified
    with db.session() as session:
        checked, faults = audit.verify(session, campaign.id)
        entries = audit.chain(session, agency_id(session))
        receipt = session.scalar(select(Submission.receipt_hash).where(Submission.agency_id == agency_id(session)))
    assert faults == [] and checked > 1
    kinds = [e.kind for e in entries]
    assert kinds.count("submitted") == 2
    for kind in ("answer", "returned", "resubmitted", "adjusted", "confirmed"):
        assert kind in kinds
    last_submit = [e for e in entries if e.kind == "submitted"][-1]
    assert receipt == last_submit.hash
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))


def test_tampering_with_one_stored_answer_row_is_named(verified):
    db, campaign = verified
    with db.session() as session:
        aid = agency_id(session)
        row = session.scalars(select(Answer).where(Answer.agency_id == aid).order_by(Answer.question_id)).first()
        question = row.question_id
        session.execute(update(Answer).where(Answer.id == row.id).values(value=[12345], not_applicable=False))
        session.commit()
    with db.session() as session:
        _, faults = audit.verify(session, campaign.id)
        last = max(e.seq for e in audit.chain(session, aid) if e.kind == "answer" and e.question_id == question)
    assert [(f.agency_code, f.seq, f.question_id, f.what) for f in faults] == [
        ("06652", last, question, "answer_differs")
    ]


def test_tampering_with_one_entry_is_named_by_its_number(verified):
    db, campaign = verified
    with db.session() as session:
        aid = agency_id(session)
        session.execute(
            update(AuditEntry).where(AuditEntry.agency_id == aid, AuditEntry.seq == 3).values(data={"value": 0})
        )
        session.commit()
    with db.session() as session:
        _, faults = audit.verify(session, campaign.id)
    assert [(f.agency_code, f.seq, f.what) for f in faults] == [("06652", 3, "hash_mismatch")]


def failing(capsys, url: str, *args: str) -> str:
    """A command that reports on standard output and exits 1 (a fault found, no match): its output."""
    assert main(["--database-url", url, *args]) == 1
    return capsys.readouterr().out


def test_the_cli_verifies_shows_and_checks(verified, database_url, capsys):
    db, campaign = verified
    cli = Cli(capsys, database_url)
    assert "mọi chuỗi ghi nhận đều khớp" in cli("audit", "verify", "--campaign", str(campaign.id))
    shown = cli("audit", "show", "--agency", "06652")
    assert "Sổ ghi nhận của 06652" in shown and "nộp lại" in shown and "xác nhận" in shown
    with db.session() as session:
        receipt = session.scalar(select(Submission.receipt_hash).where(Submission.agency_id == agency_id(session)))
    assert "khớp lần nộp của 06652" in cli("audit", "check", receipt)
    assert failing(capsys, database_url, "audit", "check", "0" * 64).startswith("Mã băm «0000")
    with db.session() as session:
        session.execute(update(Answer).where(Answer.agency_id == agency_id(session)).values(value=[1]))
        session.commit()
    named = failing(capsys, database_url, "audit", "verify", "--campaign", str(campaign.id))
    assert "06652" in named and "mục số" in named


def test_an_answer_row_added_behind_the_chains_back_is_named(verified):
    db, campaign = verified
    with db.session() as session:
        aid = agency_id(session)
        answered = set(session.scalars(select(Answer.question_id).where(Answer.agency_id == aid)))
        question = next(s.question.id for s in XA.steps if s.question.id not in answered)
        later = max(e.at for e in audit.chain(session, aid))
        session.add(Answer(agency_id=aid, question_id=question, value=1, not_applicable=False, set_at=later))
        session.commit()
    with db.session() as session:
        _, faults = audit.verify(session, campaign.id)
    assert [(f.agency_code, f.question_id, f.what) for f in faults] == [("06652", question, "answer_unrecorded")]
