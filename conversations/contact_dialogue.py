"""The agency contact's dialogue: registration, the question walk, review, status and submission.

Each public method handles one update in one database transaction and returns
an :class:`~conversations.replies.Outcome`; the transaction commits before the
bot sends anything, so an acknowledged answer is always stored. The contact's
place in the walk lives in the ``contacts`` row, never in process memory.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from common.errors import Refused
from common.settings import DEFAULT_TIMEZONE
from conversations import carry, colleagues, doubts, evidence_step, office_questions, review
from conversations.citations import parse_citation
from conversations.parsing import parse_answer
from conversations.progress import scope_change
from conversations.prompts import UNANSWERED, parse_button, prompt
from conversations.replies import Button, Outcome, Reply
from conversations.situation import Person, Situation, situation
from conversations.walk import first_open, previous, progress, relevant_steps, step_by_reference
from rubrics import answers as values
from rubrics.answers import NA
from rubrics.compiled import WalkStep
from rubrics.model import MultiChoiceQuestion, SingleChoiceQuestion
from rubrics.scoring import AgencyScore
from storage import invitations
from storage.db import Database
from storage.notifications import Planned
from storage.records import InvitationRecord
from storage.unit import Unit

CONTINUE = "continue"  # the data of a reminder's button
COMMANDS = {
    "tieptuc": "continue",
    "continue": "continue",
    "xemlai": "review",
    "review": "review",
    "sua": "edit",
    "edit": "edit",
    "trangthai": "status",
    "status": "status",
    "trogiup": "help",
    "help": "help",
    "nop": "submit",
    "submit": "submit",
    "huy": "cancel",
    "cancel": "cancel",
    "kiemtra": "check",
    "check": "check",
    "hoidap": "questions",
    "questions": "questions",
}


@dataclass(frozen=True)
class Upload:
    kind: str  # document | photo
    file_id: str
    file_unique_id: str | None
    file_name: str | None
    size: int | None
    mime_type: str | None
    media_group_id: str | None = None  # the album the photo or file is a page of


def refusal(refused: Refused) -> Reply:
    return Reply("refusal", {"refused": refused})


def receipt_hash(rubric, answers: dict[str, Any]) -> str:
    """SHA-256 of the answers in a canonical JSON form (sorted keys, "na" for không áp dụng)."""
    canonical = {
        qid: "na" if v is NA else values.to_json(rubric.question(qid), v)
        for qid, v in sorted(answers.items())
        if qid in rubric.by_id
    }
    text = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ContactDialogue:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        *,
        receipts: Callable[[], None] | None = None,
        zone: str = DEFAULT_TIMEZONE,
    ):
        """With ``receipts`` (the bot), a submission's receipt is an outbox row queued in the submission's
        transaction, and ``receipts`` is called once it is committed to send it at once; without (the
        preview, which has no sender), the receipt is the reply itself. ``zone`` says which day is today."""
        self.db = db
        self.clock = clock
        self.receipts = receipts
        self.zone = zone

    # -- registration ---------------------------------------------------------

    def start(self, who: Person, token: str | None) -> Outcome:
        now = self.clock()
        with self.db.unit() as unit:
            if unit.updates.seen(who.update_id, now):
                return self._repeated(unit, who)
            if not token:
                place = situation(unit, who.user_id, now)
                if place is None:
                    coordinator = unit.contacts.coordinator(who.user_id)
                    return Outcome([Reply("coordinator_welcome" if coordinator else "start_without_invitation")])
                return self._welcome_back(place)
            invitation = unit.invitations.find(token)
            reused = invitation is not None and invitation.used_by == who.user_id
            if invitation is None or (invitation.used_at is not None and not reused) or invitation.expires_at <= now:
                return self._wrong_token(unit, who, now)
            if invitation.role == "coordinator":
                unit.contacts.join_as_coordinator(
                    invitation.campaign_id, invitation.scope_agency_id, who.user_id, who.name, who.language, now
                )
                unit.invitations.use(invitation.id, who.user_id, now)
                return Outcome([Reply("coordinator_welcome", {"scope": invitation.scope})], menu="coordinator")
            return self._join_as_contact(unit, invitation, who, now)

    def _wrong_token(self, unit: Unit, who: Person, now: datetime) -> Outcome:
        """A token that opens nothing. A user past their limit is told to wait, and a flood past the global
        limit is told the bot is busy; neither writes a row, so guessing stays slow and the table small."""
        if unit.invitations.throttled(who.user_id, now):
            return Outcome([Reply("start_throttled", {"minutes": invitations.WINDOW_MINUTES})])
        if not unit.invitations.count_failure(now):
            return Outcome([Reply("start_busy")])
        unit.invitations.failed(who.user_id, now)
        return Outcome([Reply("invitation_invalid")])

    def _join_as_contact(self, unit: Unit, invitation: InvitationRecord, who: Person, now: datetime) -> Outcome:
        elsewhere = unit.contacts.registered_elsewhere(invitation.campaign_id, who.user_id, invitation.agency_id)
        if elsewhere is not None:
            return Outcome([Reply("already_registered", {"agency": elsewhere.name})])
        unit.contacts.join(invitation.campaign_id, invitation.agency_id, who.user_id, who.name, who.language, now)
        unit.invitations.use(invitation.id, who.user_id, now)
        place = situation(unit, who.user_id, now)
        outcome = Outcome([Reply("welcome", self._overview(place))])
        return outcome.add(self._resume(place))

    def _welcome_back(self, place: Situation) -> Outcome:
        return Outcome([Reply("welcome_back", self._overview(place)), self._resume(place)])

    def _overview(self, place: Situation) -> dict[str, Any]:
        done = progress(place.rubric, place.answers, place.evidence_questions())
        return {
            "agency": place.agency,
            "campaign": place.campaign,
            "rubric": place.rubric.rubric,
            "closes_at": place.closes_at,
            "deadline": place.campaign.deadline,
            "now": place.now,
            "answered": done.answered,
            "relevant": done.relevant,
            "state": place.submission.state,
            "past_deadline": place.past_deadline,
            "returned": [
                {"step": step, "comment": place.returned[step.question.id]}
                for step in relevant_steps(place.rubric, place.answers)
                if step.question.id in place.returned
            ],
            "returned_indicators": (
                place.unit.verification.returned_indicators(place.agency.id) if place.correcting else []
            ),
        }

    # -- moving through the walk ------------------------------------------------

    def _resume(self, place: Situation, after: int = 0) -> Reply:
        """The next open question, or the summary when every question has an answer. While indicators
        are returned for correction, the walk goes through the returned questions only."""
        if place.correcting:
            return self._next_returned(place, after)
        if place.locked or place.past_deadline:
            return Reply("status", self._overview(place))
        step = first_open(place.rubric, place.answers, after)
        if step is None:
            place.contact.current_question = None
            return Reply("all_answered", self._overview(place))
        return prompt(place, step)

    def _next_returned(self, place: Situation, after: int) -> Reply:
        steps = [s for s in relevant_steps(place.rubric, place.answers) if s.question.id in place.returned]
        later = [s for s in steps if s.number > after]
        if not later:
            place.contact.current_question = None
            return Reply("corrections_done", self._overview(place))
        return prompt(place, later[0])

    def _repeated(self, unit: Unit, who: Person) -> Outcome:
        """An update Telegram delivered again after its first delivery was applied (the process stopped
        before confirming it): nothing is applied twice; the contact gets their place as it stands, since
        the first reply may never have gone out."""
        place = self._load(unit, who)
        return Outcome([self._resume(place)]) if place is not None else Outcome()

    def _load(self, unit: Unit, who: Person, *, lock: bool = False) -> Situation | None:
        place = situation(unit, who.user_id, self.clock(), lock=lock)
        if place is not None and who.language and place.contact.language_code != who.language:
            place.contact.language_code = who.language
        return place

    def _told(self, place: Situation | None, outcome: Outcome) -> Outcome:
        """The outcome, after a word on what colleagues changed of the contact's answers since last told."""
        news = colleagues.news(place) if place is not None else None
        if news is not None:
            outcome.replies.insert(0, news)
        return outcome

    def command(self, who: Person, name: str, argument: str = "") -> Outcome:
        action = COMMANDS.get(name)
        with self.db.unit() as unit:
            if unit.updates.seen(who.update_id, self.clock()):
                return self._repeated(unit, who)
            place = self._load(unit, who, lock=action in ("submit", "cancel"))
            if action == "check":
                return self._check(unit, who, place, argument.strip())
            return self._told(place, self._command(unit, place, who, action, argument))

    def _command(self, unit: Unit, place: Situation | None, who: Person, action: str | None, argument: str) -> Outcome:
        if place is None:
            coordinator = unit.contacts.coordinator(who.user_id)
            if coordinator is not None and action == "help":
                return Outcome([Reply("coordinator_welcome", {"scope": coordinator.scope})])
            if coordinator is not None and action == "cancel":
                return Outcome([Reply("cancelled", {"anything": office_questions.cancel_answer(unit, coordinator)})])
            if coordinator is not None and action == "questions":
                return office_questions.coordinator_listing(unit, coordinator)
            return Outcome([Reply("not_registered")])
        if action == "continue":
            if place.locked:
                return self._already_submitted(place)
            blocked = place.edit_refusal()
            if blocked:
                return Outcome([refusal(blocked), Reply("status", self._overview(place))])
            offer = carry.offer(place)
            return Outcome([offer if offer is not None else self._resume(place)])
        if action == "review":
            return Outcome([review.page(place, 0)])
        if action == "edit":
            return self._edit(place, argument)
        if action == "status":
            return Outcome([Reply("status", self._overview(place))])
        if action == "submit":
            return self._submit(place)
        if action == "cancel":
            return self._cancel(place)
        if action == "questions":
            return office_questions.contact_listing(place)
        return Outcome([Reply("help", self._overview(place))])

    def _cancel(self, place: Situation) -> Outcome:
        """/huy: leave what is pending (a document reference awaited, the evidence asked for, a colleague's
        answer to confirm, the submission to confirm) and show where the contact is."""
        draft = place.contact.draft
        waiting = [k for k in ("mode", "confirm", "pending") if k in draft]
        place.contact.draft = {k: v for k, v in draft.items() if k not in ("mode", "confirm", "pending")}
        place.new_menu_token()  # a submission or review menu shown before is stale now
        reply = Reply("cancelled", {"anything": bool(waiting)})
        step = place.step
        if step is not None and place.edit_refusal(step.question.id) is None:
            return Outcome([reply, prompt(place, step)])
        return Outcome([reply, Reply("status", self._overview(place))])

    def _check(self, unit: Unit, who: Person, place: Situation | None, receipt_hash: str) -> Outcome:
        """/kiemtra HASH: whether it is a stored submission of the contact's own agency, or in the
        coordinator's scope; another agency's hash is only "not one of yours"."""
        coordinator = unit.contacts.coordinator(who.user_id) if place is None else None
        if place is None and coordinator is None:
            return Outcome([Reply("not_registered")])
        if not receipt_hash:
            return Outcome([Reply("hash_check", {"usage": True, "match": None, "hash": ""})])
        if place is not None:
            match = unit.audit.check_for_agency(receipt_hash, place.agency.id)
        else:
            scope = coordinator.scope.id if coordinator.scope is not None else None
            match = unit.audit.check_for_scope(receipt_hash, coordinator.campaign_id, scope)
        return Outcome([Reply("hash_check", {"usage": False, "match": match, "hash": receipt_hash[:80]})])

    def _edit(self, place: Situation, reference: str) -> Outcome:
        if not reference.strip():
            return Outcome([Reply("edit_usage", {"total": len(place.rubric.steps)})])
        blocked = place.edit_refusal()
        if blocked:
            return Outcome([refusal(blocked)])
        step = step_by_reference(place.rubric, reference)
        if step is None:
            return Outcome([refusal(Refused("edit_unknown", reference=reference[:40], total=len(place.rubric.steps)))])
        blocked = place.edit_refusal(step.question.id)
        if blocked:
            return Outcome([refusal(blocked)])
        if step.question.when is not None and step not in relevant_steps(place.rubric, place.answers):
            return Outcome([refusal(Refused("edit_not_relevant", number=step.number))])
        return Outcome([prompt(place, step)])

    # -- answers ----------------------------------------------------------------

    def _answer(
        self,
        place: Situation,
        step: WalkStep,
        value: Any,
        outcome: Outcome,
        message_id: int | None = None,
        source: str = "telegram",
    ) -> Outcome:
        """Store the answer and move on; on a refusal, say why and ask the same question again.

        An answer given by a button turns that very message into the next question (one message
        per question, and no stale buttons left behind); a typed answer gets a new message.

        An answer that would replace a colleague's answer this contact has not seen waits for the contact's
        confirmation; an answer that needs evidence stays at its question and asks for the evidence."""
        found = colleagues.conflict(place, step)
        if found is not None:
            return outcome.add(colleagues.confirm(place, step, value, found, message_id, source))
        before = dict(place.answers)
        try:
            place.unit.answers.set(
                place.rubric,
                place.agency,
                step.question.id,
                value,
                by=place.contact.telegram_user_id,
                source=source,
                now=place.now,
                current=place.answers,
                submission=place.submission,
            )
        except Refused as refused:
            return outcome.add(refusal(refused)).add(prompt(place, step))
        place.answers[step.question.id] = value
        place.contact.draft = {}
        colleagues.shown(place, step.question.id, place.now)
        wanted = evidence_step.wanted(step.question, value)
        if wanted and not evidence_step.items(place, step.question.id):
            evidence_step.ask(place)
            following = prompt(place, step)
        else:
            following = self._resume(place, after=step.number)
        following.edit_message_id = message_id
        following.context["just_answered"] = {"step": step, "question": step.question, "value": value}
        following.context["scope_change"] = scope_change(place.rubric, before, place.answers)
        return outcome.add(following)

    def _open_question(self, unit: Unit, who: Person) -> tuple[Situation | None, WalkStep | None, Outcome | None]:
        """The contact and the question they are answering, or the reply that says why there is none."""
        place = self._load(unit, who, lock=True)
        if place is None:
            return None, None, Outcome([Reply("not_registered")])
        if place.step is None:
            return place, None, Outcome([Reply("no_question_open", self._overview(place))])
        blocked = place.edit_refusal(place.step.question.id)
        if blocked:
            return place, None, Outcome([refusal(blocked)])
        return place, place.step, None

    def text(self, who: Person, text: str) -> Outcome:
        with self.db.unit() as unit:
            if unit.updates.seen(who.update_id, self.clock()):
                return self._repeated(unit, who)
            place, step, refused = self._open_question(unit, who)
            if place is None:  # a coordinator's answer after the reply button, or not registered
                return office_questions.typed(unit, who, text, self.clock()) or refused
            if refused:
                return self._told(place, refused)
            return self._told(place, self._text(place, step, text))

    def _text(self, place: Situation, step: WalkStep, text: str) -> Outcome:
        mode = place.contact.draft.get("mode")
        if mode == office_questions.ASK:
            return office_questions.asked(place, step, text)
        link = evidence_step.https_link(text) if step.question.evidence != "none" else None
        if link is not None and (mode is not None or step.question.type not in ("text", "file")):
            return self._link(place, step, link)
        if mode == "reference":
            return self._reference(place, step, text)
        try:
            value = parse_answer(step.question, text)
        except Refused as refused:
            return Outcome([refusal(refused), prompt(place, step)])
        asked = doubts.doubt(place, step, value, self.zone)
        if asked is not None:
            return Outcome([asked])
        return self._answer(place, step, value, Outcome())

    def _link(self, place: Situation, step: WalkStep, url: str) -> Outcome:
        """An https link given as evidence, stored as such."""
        place.unit.evidence.add_link(
            place.agency.id, step.question.id, url, by=place.contact.telegram_user_id, at=place.now
        )
        place.contact.draft = {k: v for k, v in place.contact.draft.items() if k != "mode"}
        return Outcome([Reply("evidence_received", {"step": step, "link": url}), prompt(place, step)])

    def _reference(self, place: Situation, step: WalkStep, text: str) -> Outcome:
        try:
            reference = parse_citation(text)
        except Refused as refused:
            return Outcome([refusal(refused), prompt(place, step)])
        place.unit.evidence.add_reference(
            place.agency.id, step.question.id, reference, by=place.contact.telegram_user_id, at=place.now
        )
        place.contact.draft = {k: v for k, v in place.contact.draft.items() if k != "mode"}
        return Outcome([Reply("evidence_received", {"step": step, "reference": reference}), prompt(place, step)])

    def upload(self, who: Person, upload: Upload, evidence_dir: bool = False) -> Outcome:
        with self.db.unit() as unit:
            if unit.updates.seen(who.update_id, self.clock()):
                return self._repeated(unit, who)
            place, step, refused = self._open_question(unit, who)
            album = evidence_step.album_question(place, upload.media_group_id) if place is not None else None
            if album is not None:
                blocked = place.edit_refusal(album.question.id)
                step, refused = (None, Outcome([refusal(blocked)])) if blocked else (album, None)
            if refused:
                return self._told(place, refused)
            return self._told(place, self._upload(place, step, upload, evidence_dir, page=album is not None))

    def _upload(self, place: Situation, step: WalkStep, upload: Upload, evidence_dir: bool, *, page: bool) -> Outcome:
        """A file or photo for the question ``step``: a file question's answer (if it has none yet) and
        evidence either way; a later ``page`` of an album goes to the question its first page went to."""
        unit, who = place.unit, place.contact
        question = step.question
        if question.type != "file" and question.evidence == "none":
            return Outcome([refusal(Refused("upload_not_expected")), prompt(place, step)])
        evidence_id = unit.evidence.add_file(
            place.agency.id,
            question.id,
            kind=upload.kind,
            file_id=upload.file_id,
            file_unique_id=upload.file_unique_id,
            file_name=upload.file_name,
            size=upload.size,
            mime_type=upload.mime_type,
            by=who.telegram_user_id,
            at=place.now,
        )
        download = (evidence_id, upload.file_id, upload.file_name) if evidence_dir else None
        received = Reply("evidence_received", {"step": step, "file_name": upload.file_name})
        if question.type == "file" and question.id not in place.answers:
            value = {
                "file_id": upload.file_id,
                "file_name": upload.file_name,
                "size": upload.size,
                "mime_type": upload.mime_type,
            }
            outcome = self._answer(place, step, value, Outcome())
        elif page and step != place.step:
            outcome = Outcome([received])  # the contact has moved on; the page joins its question
        elif question.type == "file":
            received.buttons = [[Button(f"q:{place.new_prompt_token()}:f:{evidence_id}", key="use_file")]]
            received.prompt_token = place.contact.prompt_token
            outcome = Outcome([received])
        else:
            place.contact.draft = {k: v for k, v in place.contact.draft.items() if k != "mode"}
            outcome = Outcome([received, prompt(place, step)])
        evidence_step.remember_album(place, upload.media_group_id, question.id)
        if download:
            outcome.replies[0].download = download
        return outcome

    def unsupported(self, who: Person, kind: str) -> Outcome:
        with self.db.unit() as unit:
            place = self._load(unit, who)
            if place is None:
                return Outcome([Reply("not_registered")])
            step = place.step
            if step is None:
                return Outcome([refusal(Refused("unsupported_message", kind=kind))])
            expected = "expect_file" if step.question.type == "file" else "unsupported_message"
            return Outcome([refusal(Refused(expected, kind=kind)), prompt(place, step)])

    # -- buttons ----------------------------------------------------------------

    def button(self, who: Person, data: str, message_id: int | None = None) -> Outcome:
        outcome = self._button(who, data, message_id)
        if outcome.notice == "submitted" and self.receipts is not None:
            self.receipts()  # the submission and its receipt's outbox row are committed
        return outcome

    def _button(self, who: Person, data: str, message_id: int | None = None) -> Outcome:
        if data == CONTINUE:  # the button of a reminder
            return self.command(who, "tieptuc")
        parsed = parse_button(data)
        if parsed is None:
            return Outcome(notice="invalid_button")
        kind, token, action, argument = parsed
        with self.db.unit() as unit:
            if unit.updates.seen(who.update_id, self.clock()):
                return self._repeated(unit, who)
            place = self._load(unit, who, lock=True)
            if place is None:
                return Outcome(notice="invalid_button")
            return self._told(place, self._pressed(place, kind, token, action, argument, message_id))

    def _pressed(
        self, place: Situation, kind: str, token: str, action: str, argument: str, message_id: int | None
    ) -> Outcome:
        if kind == "m":
            if action == "c" and place.locked:  # pressed again (or late) after the submission went through
                return self._already_submitted(place, notice="already_submitted")
            if token != place.contact.menu_token:
                return Outcome(notice="stale_button")
            if action == "c":
                return self.confirm_submit(place)
            if action in (carry.KEEP_ALL, carry.ONE_BY_ONE):
                return self._keep_all(place, action == carry.KEEP_ALL, message_id)
            return review.menu(place, action, argument, message_id)
        if token != place.contact.prompt_token or place.step is None:
            return Outcome(notice="stale_button")
        step = place.step
        if action == "b":
            back = previous(place.rubric, place.answers, step.number)
            return Outcome([prompt(place, back)]) if back else Outcome(notice="stale_button")
        if action == "h":  # ask the office about this question
            return office_questions.start(place, step)
        if action in ("k", "l"):  # keep the answer (a colleague's too) and go on; evidence later
            place.contact.draft = {k: v for k, v in place.contact.draft.items() if k not in ("mode", "confirm")}
            following = self._resume(place, after=step.number)
            following.edit_message_id = message_id
            return Outcome([following], notice="kept")
        blocked = place.edit_refusal(step.question.id)
        if blocked:
            return Outcome([refusal(blocked)], notice="refused")
        if action == "e":
            return self._remove_evidence(place, step, argument, message_id)
        if action == "p":
            kept = carry.shown(place, step, place.answers.get(step.question.id, UNANSWERED))
            if kept is None or not kept.offered:
                return Outcome(notice="stale_button")
            return self._answer(place, step, kept.value, Outcome(notice="saved"), message_id, source=carry.SOURCE)
        if action == "y":
            waiting, value = colleagues.pending(place, step)
            if not waiting:
                return Outcome(notice="stale_button")
            source = colleagues.pending_source(place)
            return self._answer(place, step, value, Outcome(notice="saved"), message_id, source=source)
        if action == "f" and argument.isdigit():
            found = place.unit.evidence.file(place.agency.id, int(argument))
            if found is None or found[0] != step.question.id:
                return Outcome(notice="stale_button")
            return self._answer(place, step, found[1], Outcome(notice="saved"), message_id)
        return self._button_answer(place, step, action, argument, message_id)

    def _keep_all(self, place: Situation, keep: bool, message_id: int | None) -> Outcome:
        """The answer to /tieptuc's keep-all offer: every offered value of last year kept in one step (each
        stored as carried forward, by this contact, now), or none; then the walk goes on."""
        place.new_menu_token()  # the offer's buttons are spent
        blocked = place.edit_refusal()
        if blocked:
            return Outcome([refusal(blocked)], notice="refused")
        kept = carry.keep_all(place) if keep else []
        done = Reply("carry_done", {"kept": [{"step": s, "value": place.answers[s.question.id]} for s in kept]})
        done.edit_message_id = message_id
        return Outcome([done, self._resume(place)], notice="saved" if kept else None)

    def _remove_evidence(self, place: Situation, step: WalkStep, argument: str, message_id: int | None) -> Outcome:
        """✖ under a question: that piece of its evidence is removed, and the question shown again."""
        listed = {str(item.id): item for item in evidence_step.items(place, step.question.id)}
        item = listed.get(argument)
        if item is None or not place.unit.evidence.remove(
            place.agency.id, item.id, by=place.contact.telegram_user_id, at=place.now
        ):
            return Outcome(notice="stale_button")
        removed = Reply("evidence_removed", {"step": step, "removed": evidence_step.name_of(item)})
        return Outcome([removed, prompt(place, step)], notice="removed")

    def _button_answer(
        self, place: Situation, step: WalkStep, action: str, argument: str, message_id: int | None
    ) -> Outcome:
        question = step.question
        if action in (doubts.CONFIRM, doubts.RETYPE):
            value = doubts.pending(place, step)
            doubts.drop(place)
            if action == doubts.CONFIRM and value is not None:
                return self._answer(place, step, value, Outcome(notice="saved"), message_id)
            return Outcome([prompt(place, step, edit_message_id=message_id)])
        if action == "r" and question.evidence != "none":
            place.contact.draft = {**place.contact.draft, "mode": "reference"}
            return Outcome([Reply("reference_help", {"step": step})], notice="reference")
        if action == "n" and question.allow_na:
            return self._answer(place, step, NA, Outcome(notice="saved"), message_id)
        if action == "s" and not question.required:
            return self._answer(place, step, None, Outcome(notice="saved"), message_id)
        options = getattr(question, "options", [])
        index = int(argument) if argument.isdigit() else -1
        if action == "a" and question.type == "yes_no" and argument in ("0", "1"):
            return self._answer(place, step, argument == "1", Outcome(notice="saved"), message_id)
        if action == "a" and isinstance(question, SingleChoiceQuestion) and 0 <= index < len(options):
            return self._answer(place, step, options[index].value, Outcome(notice="saved"), message_id)
        if action == "t" and isinstance(question, MultiChoiceQuestion) and 0 <= index < len(options):
            chosen = list(place.contact.draft.get("toggles", []))
            value = options[index].value
            chosen = [v for v in chosen if v != value] if value in chosen else chosen + [value]
            place.contact.draft = {**place.contact.draft, "toggles": chosen}
            return Outcome([prompt(place, step, edit_message_id=message_id)])
        if action == "d" and isinstance(question, MultiChoiceQuestion):
            chosen = place.contact.draft.get("toggles", [])
            if not chosen:
                return Outcome([refusal(Refused("choose_at_least_one")), prompt(place, step)], notice="refused")
            order = [o.value for o in options]
            return self._answer(place, step, sorted(chosen, key=order.index), Outcome(notice="saved"), message_id)
        return Outcome(notice="invalid_button")

    def evidence_saved(self, evidence_id: int, path: str) -> None:
        with self.db.unit() as unit:
            unit.evidence.saved(evidence_id, path)

    # -- submission -------------------------------------------------------------

    def _already_submitted(self, place: Situation, notice: str | None = None) -> Outcome:
        """The submission as it stands: when, its SHA-256, and that its receipt is on its way or sent."""
        context = {"agency": place.agency, "submission": place.submission, "state": place.submission.state}
        return Outcome([Reply("already_submitted", context)], notice=notice)

    @staticmethod
    def _missing(done) -> dict[str, Any]:
        return {
            "missing": done.missing_required,
            "evidence": done.missing_evidence,
            "answered": done.answered,
            "relevant": done.relevant,
        }

    def _submit(self, place: Situation) -> Outcome:
        if place.locked:
            return self._already_submitted(place)
        blocked = place.edit_refusal()
        if blocked:
            return Outcome([refusal(blocked), Reply("status", self._overview(place))])
        done = progress(place.rubric, place.answers, place.evidence_questions())
        if not done.complete:
            return Outcome([Reply("submit_missing", self._missing(done))])
        token = place.new_menu_token()
        return Outcome([review.confirm_submit(place, token, place.provisional_score())])

    def confirm_submit(self, place: Situation) -> Outcome:
        blocked = place.edit_refusal()
        if blocked:
            return Outcome([refusal(blocked)], notice="refused")
        done = progress(place.rubric, place.answers, place.evidence_questions())
        if not done.complete:
            return Outcome([Reply("submit_missing", self._missing(done))], notice="refused")
        submission = place.submission
        again = place.correcting
        earlier = place.earlier_score() if again else None
        if again:
            place.unit.verification.resubmit(place.agency.id, by=place.contact.telegram_user_id, now=place.now)
        place.unit.submissions.submit(
            submission, receipt_hash(place.rubric, place.answers), place.now, by=place.contact.telegram_user_id
        )
        score = place.provisional_score()
        notify_coordinators(place, score, again=again)
        place.contact.current_question = None
        place.new_menu_token()
        place.new_prompt_token()
        if self.receipts is not None:
            queue_receipt(place, earlier)  # sent by the outbox once this transaction commits, after a crash too
            return Outcome(notice="submitted")
        return Outcome(
            [
                Reply(
                    "receipt",
                    {
                        "agency": place.agency,
                        "at": place.now,
                        "score": score,
                        "hash": submission.receipt_hash,
                        "rubric": place.rubric.rubric,
                        "office": place.campaign.office,
                        "earlier_total": earlier.total if earlier is not None else None,
                    },
                )
            ],
            notice="submitted",
        )


RECEIPT_CATCH_UP = timedelta(days=7)  # a receipt is sent late rather than never


def queue_receipt(place: Situation, earlier: AgencyScore | None = None) -> None:
    """Queue the receipt of this submission to the contact who confirmed it: one row per submission
    (revision), so pressing twice, or two processes, queue it once. A resubmission's receipt carries the
    total of the earlier submission (``earlier``), to say what changed."""
    contact, submission = place.contact, place.submission
    row = Planned(
        f"c{place.campaign.id}:receipt:a{place.agency.id}:r{submission.revision}",
        "receipt",
        contact.telegram_user_id,
        place.agency.id,
        place.now,
        place.now + RECEIPT_CATCH_UP,
        {
            "at": place.now.isoformat(),
            "hash": submission.receipt_hash,
            **({"earlier_total": str(earlier.total)} if earlier is not None else {}),
        },
    )
    place.unit.queue(place.campaign.id, [row])


def notify_coordinators(place: Situation, score, *, again: bool = False) -> None:
    """Queue a notice of this submission for every coordinator whose scope includes the agency."""
    unit, campaign, agency = place.unit, place.campaign, place.agency
    revision = place.submission.revision  # one notice per submission, however close in time
    payload = {
        "agency_name": agency.name,
        "at": place.now.isoformat(),
        "total": str(score.total),
        "max": str(score.max),
        "again": again,
    }
    rows = [
        Planned(
            f"c{campaign.id}:submitted:a{agency.id}:r{revision}:u{c.telegram_user_id}",
            "submitted",
            c.telegram_user_id,
            agency.id,
            place.now,
            place.now + timedelta(days=1),
            payload,
        )
        for c in unit.contacts.coordinators_of(campaign.id)
        if agency.id in unit.agencies.in_scope(campaign.id, c.scope_agency_id)
    ]
    unit.queue(campaign.id, rows)
