"""Evidence (minh chứng) at the question it belongs to: asking for it right after the answer, listing and
removing what a question has, https links, and which album an uploaded page belongs to.

A question's evidence is *satisfied* when it has a file, photo, link or reference, or when its answer is a
citation the rubric takes as evidence (``answer_is_evidence``). While the contact is asked for evidence the
contact's draft holds ``mode: evidence``; an album's pages (one ``media_group_id``) all go to the question
its first page went to, remembered in the draft as well.
"""

from __future__ import annotations

from typing import Any

from pydantic import HttpUrl, TypeAdapter, ValidationError

from conversations.situation import Situation
from rubrics.answers import NA
from rubrics.compiled import WalkStep
from rubrics.model import Question
from storage.evidence import EvidenceItem

EVIDENCE = "evidence"  # the draft's mode while the contact is asked for evidence
_URL = TypeAdapter(HttpUrl)


def wanted(question: Question, value: Any) -> bool:
    """Whether an answer to ``question`` asks for evidence at once: it requires evidence, the answer is
    not "Không áp dụng" or skipped, and the answer is not evidence itself."""
    return (
        question.evidence == "required"
        and question.type != "file"
        and value is not None
        and value is not NA
        and not getattr(question, "answer_is_evidence", False)
    )


def items(place: Situation, question_id: str) -> list[EvidenceItem]:
    return place.unit.evidence.of_question(place.agency.id, question_id)


def satisfied(question: Question, value: Any, found: list[EvidenceItem]) -> bool:
    """Whether the question needs no more evidence."""
    if question.evidence == "none" or found:
        return True
    return getattr(question, "answer_is_evidence", False) and value is not None and value is not NA


def name_of(item: EvidenceItem) -> str:
    """How a piece of evidence is named in a list: its file name, its link, or its document number."""
    if item.kind == "link":
        return item.url or ""
    if item.kind == "reference":
        return (item.reference or {}).get("so_hieu") or ""
    return item.file_name or ""


def https_link(text: str) -> str | None:
    """The text as an https link, if it is one (and nothing else)."""
    text = text.strip()
    if not text.lower().startswith("https://") or any(c.isspace() for c in text):
        return None
    try:
        return str(_URL.validate_python(text))
    except ValidationError:
        return None


def album_question(place: Situation, media_group_id: str | None) -> WalkStep | None:
    """The question an earlier page of this album went to."""
    album = place.contact.draft.get("album") or {}
    if media_group_id is None or album.get("id") != media_group_id:
        return None
    return place.rubric.by_id.get(album.get("question") or "")


def remember_album(place: Situation, media_group_id: str | None, question_id: str) -> None:
    if media_group_id is not None:
        place.contact.draft = {**place.contact.draft, "album": {"id": media_group_id, "question": question_id}}


def ask(place: Situation) -> None:
    """The contact is asked for evidence at the question now shown."""
    place.contact.draft = {**place.contact.draft, "mode": EVIDENCE}
