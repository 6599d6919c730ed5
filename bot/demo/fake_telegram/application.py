"""Running a python-telegram-bot ``Application`` in a background thread while a test (or the demo) drives it."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from bot.demo.fake_telegram.records import DEFAULT_TIMEOUT


@contextlib.contextmanager
def run_application(
    app: Any,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    webhook: dict[str, Any] | None = None,
    **polling_kwargs: Any,
) -> Iterator[Any]:
    """Run a python-telegram-bot ``Application`` in a background thread while the block runs.

    It polls (``polling_kwargs`` go to ``updater.start_polling``), or with ``webhook=`` (keyword
    arguments of ``updater.start_webhook``) runs PTB's webhook server instead.
    """
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}
    polling_kwargs = {"poll_interval": 0.0, "timeout": 5, **polling_kwargs}

    async def main() -> None:
        holder["stop"] = asyncio.Event()
        async with app:
            if app.post_init is not None:  # as Application.run_polling/run_webhook do
                await app.post_init(app)
            await app.start()
            try:
                if webhook is not None:
                    await app.updater.start_webhook(**webhook)
                else:
                    await app.updater.start_polling(**polling_kwargs)
                try:
                    ready.set()
                    await holder["stop"].wait()
                finally:
                    await app.updater.stop()
            finally:
                await app.stop()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(main())
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            holder["error"] = exc
        finally:
            ready.set()

    thread = threading.Thread(target=run, name="ptb-application", daemon=True)
    thread.start()
    if not ready.wait(timeout):
        raise TimeoutError("the application did not start")
    if "error" in holder:
        thread.join(timeout)
        loop.close()
        raise holder["error"]
    try:
        yield app
    finally:
        loop.call_soon_threadsafe(holder["stop"].set)
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError("the application did not stop")
        loop.close()
        if "error" in holder:
            raise holder["error"]
