"""The fake Bot API's HTTP side: an aiohttp server on 127.0.0.1 in a background thread.

It routes ``/bot<token>/<method>`` (urlencoded or multipart bodies, as python-telegram-bot sends them:
form fields whose non-string values are JSON text, files as multipart parts) to the methods and
answers ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, "description": ...}``;
holds ``getUpdates`` long polls open until an update arrives; posts updates to the webhook the bot set
(or the targets a test set), retrying failed deliveries; and serves files at
``/file/bot<token>/<file_path>``. The server's waits are asyncio events, woken by the state::

    with FakeTelegram() as fake:
        lan = fake.user(1001, first_name="Lan")
        ...start the bot with base_url=fake.api_url, base_file_url=fake.file_url...
        lan.send_command("/start abc123")
        assert "Chào" in lan.wait_for_reply().text
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import socket
import threading
import time
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

from bot.demo.fake_telegram.methods import METHODS
from bot.demo.fake_telegram.records import (
    DEFAULT_TIMEOUT,
    QueuedUpdate,
    TelegramAPIError,
    UploadedFile,
    WebhookDelivery,
    bad_request,
)
from bot.demo.fake_telegram.state import FakeState, Stored
from bot.demo.fake_telegram.users import FakeUser

DEFAULT_TOKEN = "123456:TEST-TOKEN"
# Form fields whose value is always a string, never JSON text.
_STRING_FIELDS = frozenset(
    {"text", "caption", "callback_query_id", "url", "secret_token", "file_id", "language_code", "document", "photo"}
)


def _form_value(key: str, value: str) -> Any:
    if key in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _json_response(status: int, body: dict[str, Any]) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(body, ensure_ascii=False).encode(), content_type="application/json"
    )


def _error_response(error: TelegramAPIError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": error.status, "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return _json_response(error.status, body)


class FakeTelegram(FakeState):
    """The fake Bot API server: start it (or use it as a context manager), then point the bot at ``api_url``."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "cqdt_test_bot",
        *,
        bot_first_name: str = "CQĐT Test Bot",
        host: str = "127.0.0.1",
    ):
        super().__init__(token, bot_username, bot_first_name)
        self.host = host
        self.port: int | None = None
        self._users: dict[int, FakeUser] = {}
        self._poll_generation = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._changed: asyncio.Event | None = None
        self._webhook_task: asyncio.Task | None = None
        self._closing = False

    # ---------------------------------------------------------------- lifecycle

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def start(self) -> FakeTelegram:
        if self._thread is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                loop.run_until_complete(self._serve(sock))
            except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._thread = threading.Thread(target=serve, name=f"fake-telegram:{self.port}", daemon=True)
        self._thread.start()
        if not ready.wait(DEFAULT_TIMEOUT):
            raise RuntimeError("the fake Telegram server did not start")
        if failure:
            self._thread = None
            raise failure[0]
        return self

    async def _serve(self, sock: socket.socket) -> None:
        self._changed = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=2.0, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        self._webhook_task = asyncio.get_running_loop().create_task(self._webhook_loop())

    def stop(self) -> None:
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        with self.lock:
            self._closing = True
            self.changed()
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(DEFAULT_TIMEOUT)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(DEFAULT_TIMEOUT)
            self._thread = None
            self._loop = None

    async def _shutdown(self) -> None:
        self._pulse()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("start() the fake first")
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The Bot API base without the token, e.g. ``http://127.0.0.1:PORT/bot`` (PTB appends the token)."""
        return f"{self.base_url}/bot"

    @property
    def file_url(self) -> str:
        return f"{self.base_url}/file/bot"

    def user(
        self,
        user_id: int,
        first_name: str = "Lan",
        language_code: str | None = "vi",
        last_name: str | None = None,
        username: str | None = None,
    ) -> FakeUser:
        """The user ``user_id`` in a private chat with the bot (made on first use)."""
        with self.lock:
            if user_id not in self._users:
                self._users[user_id] = FakeUser(self, user_id, first_name, language_code, last_name, username)
                self.open_chat(self._users[user_id].chat_dict())
            return self._users[user_id]

    # ---------------------------------------------------------------- signalling

    def _pulse(self) -> None:
        """On the server loop: wake every long poll and the webhook deliverer."""
        event, self._changed = self._changed, asyncio.Event()
        if event is not None:
            event.set()

    def wake_server(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._pulse)

    # ---------------------------------------------------------------- HTTP

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/file/bot"):
            return self._handle_file(path.removeprefix("/file/bot"))
        token, sep, method = path.removeprefix("/bot").partition("/")
        if not path.startswith("/bot") or not sep or not method or "/" in method:
            return _error_response(TelegramAPIError(404, "Not Found"))
        content_type = request.content_type if request.body_exists else None
        try:
            params = await self._read_params(request)
            if token != self.token:
                raise TelegramAPIError(401, "Unauthorized")
            if method != "getUpdates" and method not in METHODS:
                raise TelegramAPIError(404, "Not Found")
        except TelegramAPIError as error:
            self.record(method, {}, error.status, description=error.description, content_type=content_type)
            return _error_response(error)
        if method == "getUpdates":
            return await self._get_updates(params, content_type)
        with self.lock:
            try:
                self.check_failures(method, params)
                result = METHODS[method](self, params)
            except TelegramAPIError as error:
                self.record(method, params, error.status, description=error.description, content_type=content_type)
                return _error_response(error)
            stored = result if isinstance(result, Stored) else None
            if stored is not None:
                result = copy.deepcopy(stored.raw)
            self.record(method, params, 200, result=result, stored=stored, content_type=content_type)
        return _json_response(200, {"ok": True, "result": result})

    @staticmethod
    async def _read_params(request: web.Request) -> dict[str, Any]:
        if not request.body_exists:
            return {}
        if request.content_type not in ("multipart/form-data", "application/x-www-form-urlencoded"):
            raise bad_request("this fake reads urlencoded and multipart bodies only")
        params: dict[str, Any] = {}
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                params[key] = UploadedFile(value.filename, value.file.read(), value.content_type)
            else:
                params[key] = _form_value(key, value if isinstance(value, str) else bytes(value).decode())
        return params

    def _handle_file(self, rest: str) -> web.Response:
        token, _, file_path = rest.partition("/")
        if token != self.token:
            return _error_response(TelegramAPIError(401, "Unauthorized"))
        with self.lock:
            record = next((f for f in self.files.values() if f.file_path == file_path), None)
        if record is None:
            return _error_response(TelegramAPIError(404, "Not Found"))
        return web.Response(body=record.content, content_type=record.mime_type or "application/octet-stream")

    # ---------------------------------------------------------------- getUpdates

    async def _get_updates(self, params: dict[str, Any], content_type: str | None) -> web.Response:
        try:
            with self.lock:
                self.check_failures("getUpdates", params)
                self._ensure_polling_allowed()
                offset = params.get("offset")
                limit = max(1, min(100, int(params.get("limit") or 100)))
                if isinstance(offset, int) and offset > 0:  # confirms every update before it
                    self.pending = [u for u in self.pending if u.update_id >= offset]
                self._poll_generation += 1
                generation = self._poll_generation
            self._pulse()  # an older long poll is ended with 409, as Telegram does
            loop = asyncio.get_running_loop()
            deadline = loop.time() + max(0.0, float(params.get("timeout") or 0))
            while True:
                event = self._changed
                with self.lock:
                    if generation != self._poll_generation:
                        raise TelegramAPIError(
                            409,
                            "Conflict: terminated by other getUpdates request; "
                            "make sure that only one bot instance is running",
                        )
                    self._ensure_polling_allowed()
                    remaining = deadline - loop.time()
                    batch = self.pending[:limit]
                    if batch or remaining <= 0 or self._closing:
                        result = [copy.deepcopy(u.data) for u in batch]
                        self.consumed.update(u.update_id for u in batch)
                        self.record("getUpdates", params, 200, result=result, content_type=content_type)
                        return _json_response(200, {"ok": True, "result": result})
                    self.polls_waiting += 1
                    self.changed()
                try:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(event.wait(), remaining)
                finally:
                    with self.lock:
                        self.polls_waiting -= 1
        except TelegramAPIError as error:
            self.record("getUpdates", params, error.status, description=error.description, content_type=content_type)
            return _error_response(error)

    def _ensure_polling_allowed(self) -> None:
        if self.webhook_targets():
            raise TelegramAPIError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
                "webhook first",
            )

    # ---------------------------------------------------------------- webhook delivery

    async def _webhook_loop(self) -> None:
        """Post the oldest pending update to the next target; a refused delivery is retried with a backoff."""
        failures = 0
        async with ClientSession(timeout=ClientTimeout(total=10)) as session:
            while True:
                event = self._changed
                with self.lock:
                    if self._closing:
                        return
                    update = self.pending[0] if self.pending and self.webhook_targets() else None
                    if update is not None:
                        url, secret = self.next_webhook_target(), self.webhook.secret_token
                if update is None:
                    await event.wait()
                    continue
                status, error = await self._post(session, url, secret, update)
                delivered = status is not None and 200 <= status < 300
                with self.lock:
                    self.deliveries.append(
                        WebhookDelivery(url, update.update_id, status, error, secret, time.monotonic())
                    )
                    if delivered:
                        self.pending = [u for u in self.pending if u is not update]
                        self.consumed.add(update.update_id)
                    self.changed()
                if delivered:
                    failures = 0
                    continue
                failures += 1
                event = self._changed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), min(0.05 * 2 ** (failures - 1), 1.0))

    @staticmethod
    async def _post(
        session: ClientSession, url: str, secret: str | None, update: QueuedUpdate
    ) -> tuple[int | None, str | None]:
        """POST one update; the HTTP status, or None and what went wrong."""
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        try:
            async with session.post(url, data=json.dumps(update.data, ensure_ascii=False), headers=headers) as response:
                await response.read()
                return response.status, None
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure is a failed delivery
            return None, f"{type(exc).__name__}: {exc}"
