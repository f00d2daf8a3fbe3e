"""When to retry and how long to wait, and when a signed URL needs renewing: pure functions, so the policy
is testable without a clock. Shared with the TypeScript SDK: spec/SDK_BEHAVIOUR.md, and every case of
spec/sdk-behaviour-vectors.json runs against these functions (3 retries by default; full-jitter backoff under
ceilings of 1, 2, 4, 8 s; Retry-After honoured up to 30 s)."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable

DEFAULT_MAX_RETRIES = 3
MAX_ATTEMPTS = DEFAULT_MAX_RETRIES + 1
# Retry-After is honoured, but a misconfigured server must not park a robot for an hour.
MAX_RETRY_AFTER_S = 30.0
# A signed URL this close to its expiry is renewed before sending (the server checks it when the PUT arrives).
URL_EXPIRY_MARGIN_S = 5.0


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = MAX_ATTEMPTS
    # The official SDK's 1/2/4 s schedule as the ceilings, randomised (full jitter); the same in both SDKs.
    base_delay_s: float = 1.0
    max_delay_s: float = 8.0
    max_retry_after_s: float = MAX_RETRY_AFTER_S

    @classmethod
    def with_retries(cls, max_retries: int | None) -> RetryPolicy:
        """The default policy with ``max_retries`` retries after the first attempt (None: the default 3)."""
        return cls() if max_retries is None else cls(max_attempts=max_retries + 1)

    def delay_s(
        self, failed_attempts: int, retry_after_s: float | None, rand: Callable[[], float] | None = None
    ) -> float:
        """Seconds to wait after ``failed_attempts`` (1-based) failures.

        A server-given Retry-After wins (capped); otherwise full jitter: uniform in [0, min(cap, base * 2^n)),
        which spreads a crowd of robots retrying at once better than a fixed schedule.
        """
        if retry_after_s is not None:
            return min(max(retry_after_s, 0.0), self.max_retry_after_s)
        ceiling = min(self.max_delay_s, self.base_delay_s * 2.0 ** (failed_attempts - 1))
        return (rand or random.random)() * ceiling


def is_retryable_status(status_code: int) -> bool:
    """Timeouts, rate limits and server errors are transient; every other status is an answer."""
    return status_code in (408, 429) or 500 <= status_code <= 599


# RFC 9110 §10.2.3: delta-seconds (ASCII digits only) or an IMF-fixdate; anything else is ignored.
_DELTA_SECONDS = re.compile(r"[0-9]+")
_IMF_FIXDATE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT"
)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds (>= 0): delta-seconds or an IMF-fixdate; None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if _DELTA_SECONDS.fullmatch(text):
        return float(text)
    if not _IMF_FIXDATE.fullmatch(text):
        return None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def url_expiring(expires_at: str, now: datetime | None = None, margin_s: float = URL_EXPIRY_MARGIN_S) -> bool:
    """Whether a signed URL's ``expires_at`` (ISO 8601) has passed, or passes within ``margin_s``, by our
    clock. False when it cannot be read: the server then decides, and a refusal is handled after sending."""
    text = expires_at.strip()
    if text[-1:] in ("Z", "z"):  # datetime.fromisoformat reads "Z" only from Python 3.11
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return (when - (now or utcnow())).total_seconds() < margin_s


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
