"""How each source fared, and when a source that keeps failing is due again (backoff)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mentions.dates import within_range

# 2**40 times any delay is beyond any `max`; the cap only keeps the arithmetic finite.
_MAX_DOUBLINGS = 40


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """One row of the `sources` table: the recent history of one source."""

    name: str
    last_attempt: str | None
    last_success: str | None
    status: str | None  # ok, unchanged or failed
    items: int | None
    failures: int  # in a row, since the last success
    last_error: str | None
    http_status: int | None = None
    failing_since: str | None = None
    definition_digest: str | None = None  # what the source was when it last failed

    @property
    def is_failing(self) -> bool:
        return self.failures > 0

    def is_changed(self, definition_digest: str | None) -> bool:
        """Whether the source is no longer what it was when it last failed (the user edited
        its entry or a token). A state from before schema 6 knows nothing of it: unchanged."""
        known = self.definition_digest
        return known is not None and definition_digest is not None and known != definition_digest


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """After `after` failures in a row, wait `delay`, then twice that, ... up to `longest`."""

    after: int = 3
    delay: float = 1800.0
    longest: float = 86400.0

    def wait_after(self, failures: int) -> float | None:
        """Seconds to wait after `failures` failures in a row; None: try on the next run."""
        if self.after <= 0 or failures < self.after:
            return None
        doublings = min(failures - self.after, _MAX_DOUBLINGS)
        return min(self.longest, self.delay * 2.0**doublings)

    def retry_at(self, health: SourceHealth | None, definition_digest: str | None = None) -> datetime | None:
        """When a failing source is due again; None when it has no reason to wait, or when
        its definition (`definition_digest`) changed since it failed: it may be fixed."""
        if health is None or health.last_attempt is None or health.is_changed(definition_digest):
            return None
        wait = self.wait_after(health.failures)
        last = parse_time(health.last_attempt)
        if wait is None or last is None:
            return None
        return last + timedelta(seconds=wait)

    def is_due(
        self, health: SourceHealth | None, now: datetime | None = None, definition_digest: str | None = None,
    ) -> bool:
        """Whether a scan should try the source now."""
        when = self.retry_at(health, definition_digest)
        return when is None or when <= (now or datetime.now(UTC))


def parse_time(value: str | None) -> datetime | None:
    """A stored RFC 3339 time back into an aware datetime (None for none or junk)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    # A date near the ends of datetime's range, stored by an older version, would overflow
    # when it is shown in local time.
    return within_range(parsed)
