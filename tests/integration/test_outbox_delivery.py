"""The outbox's delivery policy across a crash, on SQLite and PostgreSQL (issue 15, defects 2, 3 and 4).

A sender's death is simulated by dropping its state at each point: after the claim (nothing
attempted), after the attempt was recorded (the request may have reached Telegram). The clock is
the test's; nothing sleeps.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from dialogue_helpers import START, Clock, answer_all, make_campaign
from sqlalchemy import select

from conversations.contact_dialogue import ContactDialogue
from conversations.reminders.outbox import CLAIM_RELEASED_AFTER, MAX_ATTEMPTS, UNANSWERED_AFTER, Outbox
from conversations.situation import Person, situation
from storage.models import Agency, Notification, Submission

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
SATURDAY = START + timedelta(days=5)  # no digest is due: every row a test sees is its own
HA_PHONG = Person(101, 101, "Hà Phong", "vi")


def add_row(db, campaign_id: int, key: str, kind: str, user_id: int, now, agency_id=None, payload=None) -> None:
    with db.session() as session:
        session.add(
            Notification(
                campaign_id=campaign_id,
                key=key,
                kind=kind,
                telegram_user_id=user_id,
                agency_id=agency_id,
                payload=payload or {},
                due_at=now,
                catch_up_until=now + timedelta(hours=12),
            )
        )


def row(db, key: str) -> Notification:
    with db.session() as session:
        found = session.scalar(select(Notification).where(Notification.key == key))
        session.expunge(found)
        return found


def coordinator_notice(db, clock, campaign, key="n1") -> None:
    ContactDialogue(db, clock).start(Person(900, 900, "Sở", "vi"), campaign.coordinator_token)
    payload = {"agency_name": "Đơn vị", "at": clock.now.isoformat(), "total": "50", "max": "100"}
    add_row(db, campaign.id, key, "submitted", 900, clock.now, payload=payload)


def test_claim_and_finish_keep_to_one_campaign(db):
    """`cqdt remind --campaign N --send-due` claims the rows of campaign N only (defect 2)."""
    clock = Clock(SATURDAY)
    first, second = make_campaign(db, SATURDAY), make_campaign(db, SATURDAY)
    for campaign in (first, second):
        ContactDialogue(db, clock).start(
            Person(900 + campaign.id, 900 + campaign.id, "Sở", "vi"), campaign.coordinator_token
        )
        payload = {"agency_name": "Đơn vị", "at": clock.now.isoformat(), "total": "50", "max": "100"}
        for n in range(2):
            add_row(db, campaign.id, f"c{campaign.id}-{n}", "submitted", 900 + campaign.id, clock.now, payload=payload)
    outbox = Outbox(db, clock, ZONE, "cli")
    outbox.prepare(second.id)
    claimed = outbox.claim(second.id)
    assert claimed is not None and row(db, f"c{second.id}-0").status == "claimed"
    following = outbox.finish(claimed.id, "sent", claim_next=True, campaign_id=second.id)
    assert following is not None and following.id == row(db, f"c{second.id}-1").id
    assert outbox.finish(following.id, "sent", claim_next=True, campaign_id=second.id) is None
    assert {row(db, f"c{first.id}-{n}").status for n in range(2)} == {"pending"}


def test_a_claim_never_attempted_is_given_back_and_sent(db):
    """The sender died after its claim, before the request: the row is certainly unsent (defect 3)."""
    clock = Clock(SATURDAY)
    campaign = make_campaign(db, SATURDAY)
    coordinator_notice(db, clock, campaign)
    Outbox(db, clock, ZONE, "dead").claim()  # ... and the process dies
    assert row(db, "n1").status == "claimed"
    restarted = Outbox(db, clock, ZONE, "restarted")
    clock.advance(seconds=CLAIM_RELEASED_AFTER.total_seconds() - 1)
    restarted.prepare()
    assert restarted.claim() is None  # a live sender may still hold it
    clock.advance(seconds=2)
    restarted.prepare()
    claimed = restarted.claim()
    assert claimed is not None and claimed.kind == "submitted"
    assert restarted.attempt(claimed.id)
    restarted.finish(claimed.id, "sent")
    sent = row(db, "n1")
    assert (sent.status, sent.attempts, sent.claimed_by) == ("sent", 1, "restarted")


def test_the_dead_senders_late_attempt_is_refused(db):
    """A sender that only looked dead (its claim was given back and taken) does not send it too."""
    clock = Clock(SATURDAY)
    campaign = make_campaign(db, SATURDAY)
    coordinator_notice(db, clock, campaign)
    slow = Outbox(db, clock, ZONE, "slow")
    claimed = slow.claim()
    clock.advance(minutes=3)
    other = Outbox(db, clock, ZONE, "other")
    other.prepare()
    assert other.claim() is not None
    assert not slow.attempt(claimed.id)


def test_an_attempt_without_an_answer_is_uncertain_and_not_sent_again(db):
    """The request went and no answer was recorded: a coordinator's notice is never sent twice."""
    clock = Clock(SATURDAY)
    campaign = make_campaign(db, SATURDAY)
    coordinator_notice(db, clock, campaign)
    dead = Outbox(db, clock, ZONE, "dead")
    assert dead.attempt(dead.claim().id)  # ... the request is on its way and the process dies
    restarted = Outbox(db, clock, ZONE, "restarted")
    clock.advance(seconds=UNANSWERED_AFTER.total_seconds() - 1)
    restarted.prepare()
    assert row(db, "n1").status == "sending"
    clock.advance(seconds=2)
    restarted.prepare()
    assert row(db, "n1").status == "uncertain" and restarted.claim() is None


def test_a_receipt_without_an_answer_is_sent_again_up_to_the_limit(db):
    """A receipt whose request may have reached Telegram is sent again: at least once, MAX_ATTEMPTS tries."""
    clock = Clock(SATURDAY)
    campaign = make_campaign(db, SATURDAY)
    dialogue = ContactDialogue(db, clock, receipts=lambda: None)
    dialogue.start(HA_PHONG, campaign.tokens["06652"])
    answer_all(db, "06652", seed=3)
    confirm = dialogue.command(HA_PHONG, "nop").replies[0]
    assert dialogue.button(HA_PHONG, confirm.buttons[0][0].data).notice == "submitted"
    key = f"c{campaign.id}:receipt:a{agency_id(db, '06652')}:r{revision(db, '06652')}"
    for attempt in range(1, MAX_ATTEMPTS + 1):
        outbox = Outbox(db, clock, ZONE, f"sender-{attempt}")
        outbox.prepare()
        claimed = outbox.claim()
        assert claimed is not None and claimed.kind == "receipt", attempt
        assert outbox.attempt(claimed.id)  # ... and the process dies waiting for the answer
        clock.advance(seconds=UNANSWERED_AFTER.total_seconds() + 1)
    Outbox(db, clock, ZONE, "last").prepare()
    assert (row(db, key).status, row(db, key).attempts) == ("uncertain", MAX_ATTEMPTS)


def agency_id(db, code: str) -> int:
    with db.session() as session:
        return session.scalar(select(Agency.id).where(Agency.code == code))


def revision(db, code: str) -> int:
    with db.session() as session:
        return session.scalar(select(Submission.revision).join(Agency).where(Agency.code == code))


def receipts(db) -> list[Notification]:
    with db.session() as session:
        found = list(session.scalars(select(Notification).where(Notification.kind == "receipt")))
        session.expunge_all()
        return found


def test_the_receipt_is_queued_with_the_submission_and_a_second_press_answers_with_the_state(db):
    """The receipt is an outbox row committed with the submission (defect 4): pressing again, or /nop,
    answers with the submission's state, never an error, and queues nothing more."""
    clock = Clock(SATURDAY)
    campaign = make_campaign(db, SATURDAY)
    woken = []
    dialogue = ContactDialogue(db, clock, receipts=lambda: woken.append(receipts(db)))
    dialogue.start(HA_PHONG, campaign.tokens["06652"])
    answer_all(db, "06652", seed=3)
    confirm = dialogue.command(HA_PHONG, "nop").replies[0]
    assert confirm.template == "submit_confirm"
    first = dialogue.button(HA_PHONG, confirm.buttons[0][0].data)
    assert first.notice == "submitted" and first.replies == []  # the receipt is the outbox's to send
    assert len(woken) == 1 and [r.status for r in woken[0]] == ["pending"]  # committed when woken
    [queued] = receipts(db)
    with db.session() as session:
        submission = session.scalar(select(Submission).join(Agency).where(Agency.code == "06652"))
        assert queued.payload["hash"] == submission.receipt_hash and submission.state == "submitted"
    assert (queued.telegram_user_id, queued.due_at, queued.catch_up_until - queued.due_at) == (
        101,
        SATURDAY,
        timedelta(days=7),
    )
    again = dialogue.button(HA_PHONG, confirm.buttons[0][0].data)
    assert again.notice == "already_submitted" and again.replies[0].template == "already_submitted"
    by_command = dialogue.command(HA_PHONG, "nop")
    assert by_command.replies[0].template == "already_submitted"
    assert len(receipts(db)) == 1 and len(woken) == 1
    claimed = Outbox(db, clock, ZONE, "sender").claim()
    assert claimed.kind == "receipt" and claimed.context["hash"] == submission.receipt_hash
    assert claimed.context["score"].total == provisional_total(db, clock)


def provisional_total(db, clock):
    """The score the dialogue computes for Hà Phong's answers."""
    with db.unit() as unit:
        return situation(unit, HA_PHONG.user_id, clock()).provisional_score().total


def test_a_row_whose_message_cannot_be_written_is_failed_and_the_next_is_claimed(db):
    """A payload the notice cannot read (here without its total) fails that row once, with the reason,
    instead of raising at every tick and holding back every row behind it."""
    clock = Clock(SATURDAY)
    campaign = make_campaign(db, SATURDAY)
    ContactDialogue(db, clock).start(Person(900, 900, "Sở", "vi"), campaign.coordinator_token)
    add_row(db, campaign.id, "broken", "submitted", 900, clock.now, payload={"agency_name": "Đơn vị"})
    coordinator_notice(db, clock, campaign, key="fine")
    outbox = Outbox(db, clock, ZONE, "cli")
    claimed = outbox.claim(campaign.id)
    assert claimed is not None and claimed.id == row(db, "fine").id
    broken = row(db, "broken")
    assert broken.status == "failed" and broken.last_error.startswith("not written: KeyError")
