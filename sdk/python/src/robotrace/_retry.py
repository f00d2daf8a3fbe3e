"""When to retry and how long to wait, and when a signed URL needs renewing: pure functions, so the policy
is testable without a clock."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable

MAX_ATTEMPTS = 4
# Retry-After is honoured, but a misconfigured server must not park a robot for an hour.
MAX_RETRY_AFTER_S = 30.0
# A signed URL this close to its expiry is renewed before sending (the server checks it when the PUT arrives).
URL_EXPIRY_MARGIN_S = 5.0


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = MAX_ATTEMPTS
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_retry_after_s: float = MAX_RETRY_AFTER_S

    def delay_s(
        self, failed_attempts: int, retry_after_s: float | None, rand: Callable[[], float] = random.random
    ) -> float:
        """Seconds to wait after ``failed_attempts`` (1-based) failures.

        A server-given Retry-After wins (capped); otherwise full jitter: uniform in [0, min(cap, base * 2^n)),
        which spreads a crowd of robots retrying at once better than a fixed schedule.
        """
        if retry_after_s is not None:
            return min(max(retry_after_s, 0.0), self.max_retry_after_s)
        ceiling = min(self.max_delay_s, self.base_delay_s * 2.0 ** (failed_attempts - 1))
        return rand() * ceiling


def is_retryable_status(status_code: int) -> bool:
    """Timeouts, rate limits and server errors are transient; every other status is an answer."""
    return status_code in (408, 429) or 500 <= status_code <= 599


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP-date (RFC 9110 §10.2.3); None when absent or bad."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
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
