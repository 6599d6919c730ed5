"""Tests of the fake Bot API (bot/demo/fake_telegram), driven by a real telegram.Bot and PTB Application."""

from __future__ import annotations

import asyncio
import datetime as dtm
import hashlib
import socket
import threading
import time
from contextlib import contextmanager

import httpx
import pytest
from aiohttp import web
from telegram import Bot, BotCommand, BotCommandScopeChat, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, EndPointNotFound, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.demo.fake_telegram import FakeTelegram, UploadedFile, run_application

PNG_1x1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002"
    "000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
def fake():
    with FakeTelegram() as server:
        yield server


def run(fake: FakeTelegram, action):
    """Run ``action(bot)`` with an initialized telegram.Bot pointed at the fake."""

    async def main():
        async with Bot(fake.token, base_url=fake.api_url, base_file_url=fake.file_url) as bot:
            return await action(bot)

    return asyncio.run(main())


def application(fake: FakeTelegram):
    return ApplicationBuilder().token(fake.token).base_url(fake.api_url).base_file_url(fake.file_url).build()


def retry_seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else value


# PTB 22 warns, inside RetryAfter itself, that retry_after will become a timedelta.
ptb_timedelta_warning = pytest.mark.filterwarnings("ignore:.*will be of type `datetime.timedelta`")


class Receiver:
    """A tiny aiohttp webhook receiver in its own thread; answers ``status`` and records each POST."""

    def __init__(self, status: int = 200):
        self.status = status
        self.received: list[tuple[dict, dict]] = []
        self._cond = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
        self._thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
        self._thread.start()
        assert self._ready.wait(10)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self._cond:
            self.received.append((dict(request.headers), body))
            self._cond.notify_all()
        return web.Response(status=self.status, text="ok")

    def _serve(self, sock) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.SockSite(self._runner, sock).start())
        self._ready.set()
        self._loop.run_forever()

    def wait_for(self, count: int, timeout: float = 10) -> list[tuple[dict, dict]]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.received) >= count, timeout), self.received
            return list(self.received)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@contextmanager
def receivers(*statuses: int):
    started = [Receiver(status) for status in statuses]
    try:
        yield started
    finally:
        for receiver in started:
            receiver.close()


# ------------------------------------------------------------------------------------------ basics


def test_get_me_and_base_urls(fake):
    me = run(fake, lambda bot: bot.get_me())
    assert me.username == "cqdt_test_bot"
    assert me.is_bot and me.id == 123456 and me.can_join_groups
    assert fake.api_url == f"http://127.0.0.1:{fake.port}/bot"
    assert fake.file_url == f"http://127.0.0.1:{fake.port}/file/bot"
    assert [c.method for c in fake.calls()] == ["getMe", "getMe"]  # Bot.initialize() asks too


def test_configurable_bot_username():
    with FakeTelegram(token="42:OTHER", bot_username="so_ttt_bot") as fake:
        me = run(fake, lambda bot: bot.get_me())
    assert (me.id, me.username) == (42, "so_ttt_bot")


def test_wrong_token_and_unknown_method(fake):
    async def wrong_token():
        bot = Bot("999:WRONG", base_url=fake.api_url)
        with pytest.raises(InvalidToken, match="rejected by the server"):
            await bot.initialize()

    asyncio.run(wrong_token())
    assert fake.calls("getMe")[-1].status == 401

    async def unknown(bot):
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("noSuchMethod", api_kwargs={"x": 1})

    run(fake, unknown)
    assert fake.calls("noSuchMethod")[0].status == 404


def test_what_ptb_sends_is_decoded(fake):
    lan = fake.user(1001)
    run(
        fake,
        lambda bot: bot.send_message(
            lan.id,
            "123",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Có", callback_data="yes:1")]]),
            disable_notification=True,
        ),
    )
    call = fake.calls("sendMessage")[0]
    assert call.content_type == "application/x-www-form-urlencoded"
    assert call.params["chat_id"] == 1001
    assert call.params["text"] == "123"  # a string field stays a string
    assert call.params["disable_notification"] is True
    assert call.params["reply_markup"] == {"inline_keyboard": [[{"text": "Có", "callback_data": "yes:1"}]]}
    sent = call.message
    assert sent.text == "123" and sent.buttons == [[("Có", "yes:1")]]


# ------------------------------------------------------------------------------------------ application


def test_echo_application(fake):
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(update.message.text)

    app = application(fake)
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    lan = fake.user(1001, first_name="Lan")
    with run_application(app):
        first = lan.send_text("Xin chào 👋")
        fake.wait_until_consumed(first)
        assert lan.wait_for_reply().text == "Xin chào 👋"
        lan.send_text("lần hai")
        reply = lan.wait_for_reply()
        assert reply.text == "lần hai"
        assert reply.method == "sendMessage" and reply.chat_id == 1001
    assert [m.text for m in lan.messages()] == ["Xin chào 👋", "lần hai"]
    assert fake.pending_updates() == []  # the final getUpdates confirmed everything


def test_inline_keyboard_press_is_answered_and_edits(fake):
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("Có", callback_data="ans:yes"),
                    InlineKeyboardButton("Không", callback_data="ans:no"),
                ]
            ]
        )
        await update.message.reply_text(f"Mã mời: {' '.join(context.args)}", reply_markup=keyboard)

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer(f"Đã chọn {query.data}", show_alert=query.data == "forged")
        if query.data.startswith("ans:"):
            await query.edit_message_text(f"Bạn chọn: {query.data[4:]}")

    app = application(fake)
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(answer))
    lan = fake.user(1001)
    with run_application(app):
        lan.send_command("/start abc123")
        question = lan.wait_for_reply()
        assert question.text == "Mã mời: abc123"
        assert question.buttons == [[("Có", "ans:yes"), ("Không", "ans:no")]]

        pressed = lan.press("Không")
        assert pressed.callback_data == "ans:no" and pressed.message_id == question.message_id
        edited = lan.wait_for_reply()
        assert edited.method == "editMessageText" and edited.message_id == question.message_id
        assert edited.text == "Bạn chọn: no" and edited.edited
        assert edited.buttons == []  # editing the text without reply_markup drops the keyboard, as Telegram does

        forged = lan.press(data="forged", message_id=question.message_id)
        fake.wait_for_calls("answerCallbackQuery", 2)
    answers = lan.answered_callbacks()
    assert [(a.data, a.text, a.show_alert) for a in answers] == [
        ("ans:no", "Đã chọn ans:no", False),
        ("forged", "Đã chọn forged", True),
    ]
    assert answers[1].callback_query_id == forged.callback_query_id
    assert [m.text for m in lan.messages()] == ["Bạn chọn: no"]
    with pytest.raises(LookupError):
        lan.press("Có")  # no message with a keyboard is left


def test_user_document_can_be_downloaded_by_the_bot(fake):
    async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        document = update.message.document
        data = await (await context.bot.get_file(document.file_id)).download_as_bytearray()
        await update.message.reply_text(f"{document.file_name} {len(data)} {hashlib.sha256(data).hexdigest()}")

    app = application(fake)
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    content = "mã,tên\n01,Sở Thông tin và Truyền thông\n".encode() * 50
    lan = fake.user(1001)
    with run_application(app):
        lan.send_document("đơn vị.csv", content, "text/csv")
        reply = lan.wait_for_reply()
    assert reply.text == f"đơn vị.csv {len(content)} {hashlib.sha256(content).hexdigest()}"
    get_file = fake.calls("getFile")[0]
    assert get_file.result["file_size"] == len(content)
    assert get_file.result["file_path"].endswith(".csv")


def test_other_user_updates_parse_in_ptb(fake):
    lan = fake.user(1001, last_name="Nguyễn", username="lan_ng")
    updates = [
        lan.send_photo(PNG_1x1, caption="ảnh"),
        lan.send_sticker(),
        lan.send_voice(),
    ]
    assert [u.update_id for u in updates] == sorted({u.update_id for u in updates})
    parsed = [Update.de_json(u.data, None) for u in updates]
    assert parsed[0].message.photo[-1].width == 1 and parsed[0].message.caption == "ảnh"
    assert parsed[1].message.sticker.emoji == "👍"
    assert parsed[2].message.voice.mime_type == "audio/ogg" and updates[2].data["message"]["voice"]["duration"] == 2
    assert all(p.effective_user.last_name == "Nguyễn" and p.effective_chat.type == "private" for p in parsed)
    assert len({u.message_id for u in updates}) == 3


# ------------------------------------------------------------------------------------------ uploads and edits


def test_send_document_and_photo_uploads_are_recorded(fake):
    lan = fake.user(1001)
    content = b"PK\x03\x04 fake xlsx \x00\xff" * 100

    async def action(bot):
        document = await bot.send_document(lan.id, content, filename="Kết quả.xlsx", caption=" Bảng điểm ")
        photo = await bot.send_photo(lan.id, PNG_1x1, caption="QR")
        downloaded = await (await bot.get_file(document.document.file_id)).download_as_bytearray()
        again = await bot.send_document(lan.id, document.document.file_id)  # re-send by file_id
        return document, photo, bytes(downloaded), again

    document, photo, downloaded, again = run(fake, action)
    call = fake.calls("sendDocument")[0]
    assert call.content_type == "multipart/form-data"
    upload = call.params["document"]
    assert isinstance(upload, UploadedFile)
    assert (upload.filename, upload.content) == ("Kết quả.xlsx", content)
    assert call.params["caption"] == " Bảng điểm "
    assert document.document.file_name == "Kết quả.xlsx" and document.document.file_size == len(content)
    assert document.caption == "Bảng điểm"  # stripped, as Telegram does
    assert downloaded == content
    assert again.document.file_id == document.document.file_id
    assert fake.calls("sendDocument")[1].params["document"] == document.document.file_id

    assert photo.photo[-1].width == 1
    assert fake.calls("sendPhoto")[0].params["photo"].content == PNG_1x1
    stored = lan.messages()
    assert stored[0].document.content == content and stored[0].text == "Bảng điểm"
    assert stored[1].photo.content == PNG_1x1 and stored[1].caption == "QR"


def test_edit_message_text_and_not_modified(fake):
    lan = fake.user(1001)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Tiếp", callback_data="next")]])

    async def action(bot):
        sent = await bot.send_message(lan.id, "Câu 1", reply_markup=keyboard)
        await bot.edit_message_text("Câu 1 ✓", chat_id=lan.id, message_id=sent.message_id, reply_markup=keyboard)
        with pytest.raises(BadRequest, match="(?i)message is not modified"):
            await bot.edit_message_text("Câu 1 ✓", chat_id=lan.id, message_id=sent.message_id, reply_markup=keyboard)
        with pytest.raises(BadRequest, match="(?i)message is not modified"):
            await bot.edit_message_reply_markup(chat_id=lan.id, message_id=sent.message_id, reply_markup=keyboard)
        await bot.edit_message_reply_markup(chat_id=lan.id, message_id=sent.message_id)  # drops the keyboard
        with pytest.raises(BadRequest, match="(?i)message is not modified"):
            await bot.edit_message_reply_markup(chat_id=lan.id, message_id=sent.message_id)
        with pytest.raises(BadRequest, match="(?i)message to edit not found"):
            await bot.edit_message_text("x", chat_id=lan.id, message_id=999)
        return sent

    sent = run(fake, action)
    [message] = lan.messages()
    assert (message.message_id, message.text, message.buttons, message.edited) == (sent.message_id, "Câu 1 ✓", [], True)
    assert [c.ok for c in fake.calls("editMessageText")] == [True, False, False]
    assert fake.calls("editMessageText")[1].description.startswith("Bad Request: message is not modified")


def test_message_ids_are_per_chat(fake):
    lan, minh = fake.user(1001), fake.user(1002, first_name="Minh")
    lan.send_text("một")

    async def action(bot):
        return [(await bot.send_message(chat, "hi")).message_id for chat in (lan.id, minh.id, lan.id)]

    assert run(fake, action) == [2, 1, 3]


def test_what_telegram_refuses(fake):
    lan = fake.user(1001)

    async def action(bot):
        with pytest.raises(BadRequest, match="(?i)message text is empty"):
            await bot.send_message(lan.id, "  \n ")
        with pytest.raises(BadRequest, match="(?i)message is too long"):
            await bot.send_message(lan.id, "x" * 4097)
        with pytest.raises(BadRequest, match="(?i)message caption is too long"):
            await bot.send_photo(lan.id, PNG_1x1, caption="x" * 1025)
        with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
            await bot.send_message(
                lan.id, "x", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="y" * 65)]])
            )
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await bot.send_message(777, "x")
        with pytest.raises(BadRequest, match="(?i)query ID is invalid"):
            await bot.answer_callback_query("no-such-query")
        with pytest.raises(BadRequest, match="(?i)plain text only"):  # the bot sends none; the fake won't guess
            await bot.send_message(lan.id, "<b>x</b>", parse_mode="HTML")
        return await bot.send_message(lan.id, "  Điểm: 150,77  \n")

    assert run(fake, action).text == "Điểm: 150,77"  # stripped, as Telegram does
    assert [c.status for c in fake.calls("sendMessage")] == [400] * 5 + [200]


def test_commands_per_scope_and_language(fake):
    async def action(bot):
        await bot.set_my_commands([BotCommand("start", "Bắt đầu"), BotCommand("help", "Trợ giúp")])
        await bot.set_my_commands([BotCommand("start", "Start")], language_code="en")
        await bot.set_my_commands([BotCommand("status", "Tiến độ")], scope=BotCommandScopeChat(1001))
        with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
            await bot.set_my_commands([BotCommand("Tình-hình", "x")])

    run(fake, action)
    assert [c["command"] for c in fake.commands()] == ["start", "help"]
    assert fake.commands(language_code="en") == [{"command": "start", "description": "Start"}]
    assert fake.commands(scope={"type": "chat", "chat_id": 1001}) == [{"command": "status", "description": "Tiến độ"}]
    assert fake.commands(scope={"type": "chat", "chat_id": 1002}) == []


# ------------------------------------------------------------------------------------------ failures


@ptb_timedelta_warning
def test_fail_next_429_is_retry_after(fake):
    lan = fake.user(1001)
    fake.fail_next("sendMessage", 1, 429, retry_after=7)

    async def action(bot):
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(lan.id, "một")
        await bot.send_message(lan.id, "hai")
        return caught.value

    error = run(fake, action)
    assert retry_seconds(error) == 7
    first, second = fake.calls("sendMessage")
    assert (first.status, first.description, second.status) == (429, "Too Many Requests: retry after 7", 200)
    assert [m.text for m in lan.messages()] == ["hai"]


def test_block_chat_and_server_errors(fake):
    lan, minh = fake.user(1001), fake.user(1002)
    fake.block_chat(lan.id)
    fake.fail_next("sendMessage", 2, 500)

    async def action(bot):
        for _ in range(2):
            with pytest.raises(NetworkError, match="Internal Server Error"):
                await bot.send_message(minh.id, "x")
        await bot.send_message(minh.id, "ok")
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(lan.id, "x")
        with pytest.raises(Forbidden):
            await bot.edit_message_text("x", chat_id=lan.id, message_id=1)

    run(fake, action)
    assert [c.status for c in fake.calls("sendMessage")] == [500, 500, 200, 403]


@ptb_timedelta_warning
def test_flood_limit(fake):
    lan = fake.user(1001)
    fake.flood_limit(per_second=3)

    async def action(bot):
        for i in range(3):
            await bot.send_message(lan.id, str(i))
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(lan.id, "quá nhanh")
        await bot.set_my_commands([BotCommand("start", "Bắt đầu")])  # not a send: not counted
        return caught.value

    assert retry_seconds(run(fake, action)) >= 1
    fake.flood_limit(None)
    run(fake, lambda bot: bot.send_message(lan.id, "ok"))
    assert [c.status for c in fake.calls("sendMessage")] == [200, 200, 200, 429, 200]


# ------------------------------------------------------------------------------------------ getUpdates


def test_long_poll_returns_as_soon_as_an_update_arrives(fake):
    lan = fake.user(1001)

    async def action(bot):
        assert await bot.get_updates(timeout=0) == ()
        poll = asyncio.create_task(bot.get_updates(timeout=20))
        await asyncio.to_thread(fake.wait_for_calls, "getUpdates", 1)  # the empty one
        started = time.monotonic()
        update = await asyncio.to_thread(lan.send_text, "có ai không")
        got = await poll
        elapsed = time.monotonic() - started
        again = await bot.get_updates(timeout=0)  # not confirmed yet: returned again
        confirmed = await bot.get_updates(offset=got[-1].update_id + 1, timeout=0)
        return update, got, elapsed, again, confirmed

    update, got, elapsed, again, confirmed = run(fake, action)
    assert [u.update_id for u in got] == [update.update_id] == [u.update_id for u in again]
    assert got[0].message.text == "có ai không"
    assert elapsed < 5
    assert confirmed == () and fake.pending_updates() == []
    fake.wait_until_consumed(update, timeout=0)


def test_limit_and_offset(fake):
    lan = fake.user(1001)
    sent = [lan.send_text(str(i)) for i in range(5)]

    async def action(bot):
        two = await bot.get_updates(limit=2, timeout=0)
        rest = await bot.get_updates(offset=two[-1].update_id + 1, timeout=0)
        return two, rest

    two, rest = run(fake, action)
    assert [u.message.text for u in two] == ["0", "1"]
    assert [u.update_id for u in rest] == [u.update_id for u in sent[2:]]
    assert fake.pending_updates() == sent[2:]


def test_a_newer_get_updates_terminates_the_older_one(fake):
    """Two bot instances polling at once: the older long poll gets 409, as on Telegram."""

    async def action(first):
        async with Bot(fake.token, base_url=fake.api_url) as second:
            older = asyncio.create_task(first.get_updates(timeout=20))
            await asyncio.to_thread(fake.wait_for_long_poll)
            newer = await second.get_updates(timeout=0)
            with pytest.raises(Conflict, match="(?i)terminated by other getUpdates request"):
                await older
            return newer

    assert run(fake, action) == ()


def test_wait_for_calls_times_out_with_a_summary(fake):
    with pytest.raises(TimeoutError, match="sendMessage"):
        fake.wait_for_calls("sendMessage", 1, timeout=0.05)


# ------------------------------------------------------------------------------------------ webhooks


def test_webhook_with_secret_gets_updates_posted(fake):
    lan = fake.user(1001)
    with receivers(200) as [receiver]:
        run(fake, lambda bot: bot.set_webhook(receiver.url, secret_token="bi-mat_123"))
        assert fake.webhook_info()["url"] == receiver.url
        update = lan.send_text("qua webhook")
        fake.wait_until_consumed(update)
        [(headers, body)] = receiver.wait_for(1)
        assert headers["X-Telegram-Bot-Api-Secret-Token"] == "bi-mat_123"
        assert body == update.data
        assert fake.pending_updates() == []

        async def poll(bot):
            with pytest.raises(Conflict, match="webhook is active"):
                await bot.get_updates()
            await bot.delete_webhook()
            return await bot.get_updates(timeout=0)

        assert run(fake, poll) == ()
        assert [d.ok for d in fake.webhook_deliveries()] == [True]


def test_webhook_secret_is_checked(fake):
    with pytest.raises(BadRequest, match="(?i)secret token contains unallowed characters"):
        run(fake, lambda bot: bot.set_webhook("http://127.0.0.1:9/hook", secret_token="bí mật"))


def test_webhook_targets_round_robin_and_retry(fake):
    lan = fake.user(1001)
    with receivers(200, 200, 503) as [one, two, broken]:
        run(fake, lambda bot: bot.set_webhook(one.url, secret_token="s"))
        fake.set_webhook_targets([one.url, two.url])
        updates = [lan.send_text(str(i)) for i in range(4)]
        fake.wait_until_consumed(updates[-1])
        assert [body["message"]["text"] for _, body in one.wait_for(2)] == ["0", "2"]
        assert [body["message"]["text"] for _, body in two.wait_for(2)] == ["1", "3"]
        assert all(headers["X-Telegram-Bot-Api-Secret-Token"] == "s" for headers, _ in one.received + two.received)

        fake.set_webhook_targets([broken.url, two.url])
        update = lan.send_text("thử lại")
        fake.wait_until_consumed(update)
        assert broken.wait_for(1)[0][1] == update.data  # refused with 503 ...
        assert two.wait_for(3)[2][1] == update.data  # ... then delivered to the next target
        assert [(d.update_id, d.status) for d in fake.webhook_deliveries()[-2:]] == [
            (update.update_id, 503),
            (update.update_id, 200),
        ]


def test_ptb_webhook_application(fake):
    """PTB's own webhook server (start_webhook) receives the fake's deliveries and checks the secret."""

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(f"webhook: {update.message.text}")

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hook"
    app = application(fake)
    app.add_handler(MessageHandler(filters.TEXT, echo))
    lan = fake.user(1001)
    hook = {"listen": "127.0.0.1", "port": port, "url_path": "hook", "webhook_url": url, "secret_token": "ptb-secret"}
    with run_application(app, webhook=hook):
        set_webhook = fake.wait_for_calls("setWebhook", 1)[0]
        assert set_webhook.params["secret_token"] == "ptb-secret"
        lan.send_text("xin chào")
        assert lan.wait_for_reply().text == "webhook: xin chào"
        fake.set_webhook_targets([url + "-sai"])  # a path PTB does not serve: refused with 404
        refused = lan.send_text("không tới")
        deliveries = fake.wait_for_webhook_deliveries(2)
        assert (deliveries[1].update_id, deliveries[1].status) == (refused.update_id, 404)
        fake.set_webhook_targets(None)
        fake.wait_until_consumed(refused)
        assert lan.wait_for_reply().text == "webhook: không tới"
    assert fake.webhook_info()["url"] == url


# ------------------------------------------------------------------------------------------ raw HTTP


def test_error_shapes(fake):
    base = f"{fake.api_url}{fake.token}"
    with httpx.Client() as client:
        unauthorized = client.post(f"{fake.api_url}1:BAD/getMe")
        unknown = client.post(f"{base}/fooBar", data={"x": "1"})
        json_body = client.post(f"{base}/sendMessage", json={"chat_id": 1001, "text": "x"})
        no_file = client.get(f"{fake.file_url}{fake.token}/documents/nothing.pdf")
        wrong_token_file = client.get(f"{fake.file_url}1:BAD/documents/nothing.pdf")
    assert unauthorized.status_code == 401
    assert unauthorized.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert unknown.status_code == 404 and unknown.json()["description"] == "Not Found"
    assert json_body.status_code == 400 and not json_body.json()["ok"]  # PTB never sends JSON bodies
    assert (no_file.status_code, wrong_token_file.status_code) == (404, 401)


def test_wait_for_reply_match_and_after(fake):
    lan = fake.user(1001)

    async def action(bot):
        for text in ("Đang xử lý…", "Xong: 3 đơn vị", "Nhắc hạn"):
            await bot.send_message(lan.id, text)

    update = lan.send_text("bắt đầu")
    run(fake, action)
    assert lan.wait_for_reply(match="Xong").text == "Xong: 3 đơn vị"
    assert lan.wait_for_reply().text == "Nhắc hạn"  # continues after the last reply returned
    assert lan.wait_for_reply(after_update=update).text == "Đang xử lý…"
    assert lan.wait_for_reply(after_update=update, match=lambda m: m.text.startswith("Nhắc")).text == "Nhắc hạn"
    with pytest.raises(TimeoutError):
        lan.wait_for_reply(timeout=0.05)
