"""Over-long texts and over-large uploads are refused in the handler, before any database work (issue 15,
defect 12): the dialogue is never called, and the person gets one sentence saying what to do instead.
Telegram never sends a text over 4 096 characters, but a forged webhook request can; the Bot API cannot
hand the bot a file over 20 MB, so the bot refuses one before it is recorded."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from telegram import Update

from bot.handlers import MAX_TEXT_CHARS, MAX_UPLOAD_BYTES, Handlers

CHAT = {"id": 77, "type": "private"}
USER = {"id": 77, "is_bot": False, "first_name": "Hà", "language_code": "vi"}


class NoDatabase:
    """A dialogue that fails the test if any step reaches it."""

    def __getattr__(self, name):
        raise AssertionError(f"the dialogue's {name} was called: work was done before the size check")


class Bot:
    def __init__(self):
        self.sent: list[str] = []

    async def send_message(self, chat_id, text, reply_markup=None):
        self.sent.append(text)


def handle(method: str, message: dict, args: list[str] | None = None) -> list[str]:
    bot = Bot()
    update = Update.de_json({"update_id": 1, "message": {"message_id": 5, "date": 0, "chat": CHAT,
                                                          "from": USER, **message}}, None)  # fmt: skip
    update.set_bot(bot)
    handlers = Handlers(NoDatabase(), NoDatabase(), "Asia/Ho_Chi_Minh")
    asyncio.run(getattr(handlers, method)(update, SimpleNamespace(args=args or [])))
    return bot.sent


@pytest.mark.parametrize(
    ("method", "text"),
    [
        ("text", "x" * (MAX_TEXT_CHARS + 1)),
        ("command", "/sua " + "1" * MAX_TEXT_CHARS),
        ("coordinator_command", "/tralai 06652 1.1 " + "a" * MAX_TEXT_CHARS),
        ("start", "/start " + "t" * MAX_TEXT_CHARS),
    ],
)
def test_a_text_over_telegrams_limit_is_refused_before_any_work(method, text):
    sent = handle(method, {"text": text}, text.split()[1:])
    assert len(sent) == 1 and "4.096 ký tự" in sent[0] and "\n" not in sent[0]


def test_a_document_over_the_upload_limit_is_refused_before_any_work():
    document = {"file_id": "F1", "file_unique_id": "U1", "file_name": "bien-ban.pdf",
                "mime_type": "application/pdf", "file_size": MAX_UPLOAD_BYTES + 1}  # fmt: skip
    sent = handle("upload", {"document": document})
    assert len(sent) == 1 and "bien-ban.pdf" in sent[0] and "20.971.520 byte" in sent[0]


def test_a_photo_over_the_upload_limit_is_refused_before_any_work():
    photo = [{"file_id": "P1", "file_unique_id": "PU1", "width": 90, "height": 90, "file_size": MAX_UPLOAD_BYTES + 1}]
    sent = handle("upload", {"photo": photo})
    assert len(sent) == 1 and "byte" in sent[0]


@pytest.mark.parametrize(
    ("name", "mime"),
    [("setup.exe", "application/x-msdownload"), ("chay.bat", None), ("macro.js", "text/javascript"), ("x", None)],
)
def test_a_file_no_evidence_can_be_is_refused_before_any_work(name, mime):
    document = {"file_id": "F1", "file_unique_id": "U1", "file_name": name, "file_size": 10, "mime_type": mime}
    sent = handle("upload", {"document": document})
    assert len(sent) == 1 and "PDF" in sent[0] and "\n" not in sent[0]


@pytest.mark.parametrize(
    ("name", "mime"),
    [("QĐ 12.PDF", "application/pdf"), ("bao-cao.docx", None), ("so-lieu.xlsx", None), ("anh", "image/heic")],
)
def test_evidence_files_reach_the_dialogue(name, mime):
    with pytest.raises(AssertionError, match="upload was called"):
        handle("upload", {"document": {"file_id": "F", "file_unique_id": "U", "file_name": name, "mime_type": mime}})
