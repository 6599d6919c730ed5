"""One log line per interval for a failure that may come in floods (bad webhook requests, failing
updates): the first of each interval is written, the rest are counted and the next line says how many."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class FailureLog:
    def __init__(
        self,
        logger: logging.Logger | None = None,
        *,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.logger = logger
        self.interval = interval
        self.clock = clock
        self.last: float | None = None
        self.suppressed = 0

    def admit(self) -> str | None:
        """Whether this failure may be written now: the suffix to write with it, or None (counted)."""
        now = self.clock()
        if self.last is not None and now - self.last < self.interval:
            self.suppressed += 1
            return None
        left_out, self.last, self.suppressed = self.suppressed, now, 0
        return f" ({left_out} more since the last line)" if left_out else ""

    def log(self, level: int, message: str, *args, **kwargs) -> bool:
        """Write ``message`` if the interval allows (True), else count it (False)."""
        suffix = self.admit()
        if suffix is None:
            return False
        (self.logger or logging.getLogger(__name__)).log(level, message + "%s", *args, suffix, **kwargs)
        return True

    def warning(self, message: str, *args, **kwargs) -> bool:
        return self.log(logging.WARNING, message, *args, **kwargs)
