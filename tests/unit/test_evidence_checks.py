"""The checks on evidence that need neither a database nor Telegram: which files are taken, the name a file
is stored under, what counts as an https link, the province's allowlist setting, and a citation the rubric
takes as its own evidence."""

from __future__ import annotations

import pytest

from bot.handlers import evidence_type, stored_name
from common.errors import Refused
from common.settings import Settings, load
from conversations import evidence_step
from conversations.walk import progress
from rubrics.loader import load_text

DEFAULT = Settings().evidence_extensions


@pytest.mark.parametrize(
    ("name", "mime", "taken"),
    [
        ("Quyết định 1784.pdf", "application/pdf", True),
        ("bien-ban.DOCX", None, True),
        ("anh-chup.HEIC", "image/heic", True),
        ("ho-so.zip", "application/zip", True),
        ("cai-dat.exe", "application/octet-stream", False),
        ("bao-cao.pdf.exe", "application/pdf", False),  # the extension decides, not the claimed type
        ("chay.sh", "text/x-sh", False),
        (None, "application/pdf", True),  # a file without a name, by its type
        (None, "application/x-msdownload", False),
    ],
)
def test_the_default_allowlist(name, mime, taken):
    assert evidence_type(name, mime, DEFAULT) is taken


def test_a_province_narrows_the_allowlist(monkeypatch):
    monkeypatch.setenv("CQDT_EVIDENCE_TYPES", "pdf, .JPG;png")
    allowed = load().evidence_extensions
    assert allowed == {"pdf", "jpg", "png"}
    assert evidence_type("quy-che.pdf", None, allowed) and not evidence_type("quy-che.docx", None, allowed)


@pytest.mark.parametrize("value", ["", "pdf,*.exe", "pdf,ả"])
def test_a_bad_allowlist_is_refused_with_its_variable(monkeypatch, value):
    monkeypatch.setenv("CQDT_EVIDENCE_TYPES", value or ",")
    with pytest.raises(Refused) as refused:
        load()
    assert refused.value.params["variable"] == "CQDT_EVIDENCE_TYPES"


@pytest.mark.parametrize(
    ("original", "stored"),
    [
        ("Quyết định 1784.pdf", "Quyết định 1784.pdf"),  # the Vietnamese letters kept
        ("Quye\u0302\u0301t đi\u0323nh.pdf", "Quyết định.pdf"),  # decomposed (macOS) letters composed
        ("../../etc/passwd", "etc passwd"),
        ("C:\\Windows\\win.ini", "C Windows win.ini"),
        (".bashrc", "bashrc"),
        ("=HYPERLINK(x).xlsx", "HYPERLINK(x).xlsx"),  # nothing a spreadsheet would run
        ("CON.pdf", "CON_.pdf"),
        ("a\x00b<c>|d.pdf", "abcd.pdf"),
        ("", "minh-chung-7"),
        (None, "minh-chung-7"),
        ("...", "minh-chung-7"),
    ],
)
def test_the_stored_name_keeps_the_original_safely(original, stored):
    assert stored_name(original, 7) == stored


@pytest.mark.parametrize(
    ("text", "link"),
    [
        ("https://haphong.gov.vn/ke-hoach.pdf", "https://haphong.gov.vn/ke-hoach.pdf"),
        ("  https://drive.example.vn/thu-muc?id=1  ", "https://drive.example.vn/thu-muc?id=1"),
        ("http://haphong.gov.vn/ke-hoach.pdf", None),  # not https
        ("xem https://haphong.gov.vn", None),
        ("https://", None),
        ("12/KH-UBND; 15/01/2018; Kế hoạch", None),
        ("javascript:alert(1)", None),
    ],
)
def test_an_https_link(text, link):
    assert evidence_step.https_link(text) == link


RUBRIC = """
id: test-vb
version: 1
family: test-vb
title: Bộ tiêu chí văn bản
level: xa
level_name: Cấp xã
source: tests
max: 10
groups:
  - code: "1"
    title: Văn bản
    max: 10
    children:
      - code: "1.1"
        title: Kế hoạch
        max: 10
        questions:
          - {id: co_ke_hoach, type: yes_no, text: Có kế hoạch không?}
          - {id: ke_hoach, type: document, text: Kế hoạch năm, evidence: required, answer_is_evidence: true}
          - {id: quy_che, type: document, text: Quy chế, evidence: required}
        rule: {type: yes_no, question: co_ke_hoach}
"""


def test_a_citation_the_rubric_takes_as_evidence_needs_no_file():
    rubric = load_text(RUBRIC)
    citation = {"so_hieu": "12/KH-UBND", "ngay": None, "trich_yeu": "Kế hoạch"}
    answers = {"co_ke_hoach": True, "ke_hoach": citation, "quy_che": citation}
    plan, rules = rubric.question("ke_hoach"), rubric.question("quy_che")
    assert not evidence_step.wanted(plan, citation) and evidence_step.wanted(rules, citation)
    assert evidence_step.satisfied(plan, citation, []) and not evidence_step.satisfied(rules, citation, [])
    missing = progress(rubric, answers, set()).missing_evidence
    assert [s.question.id for s in missing] == ["quy_che"]
