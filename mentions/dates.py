"""Dates from the web into timezone-aware UTC datetimes (or None: never an exception)."""

from __future__ import annotations

import email.utils
import functools
import time
from datetime import UTC, datetime


def to_utc(value: datetime) -> datetime:
    """`value` in UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def from_struct(value: time.struct_time | None) -> datetime | None:
    """feedparser's `*_parsed` values (UTC struct_time) as datetimes."""
    if value is None:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def parse_date(text: str | None) -> datetime | None:
    """ISO 8601, RFC 2822 or a Unix timestamp; None when it is none of them."""
    if not text:
        return None
    text = text.strip()
    if not text or len(text) > 100:
        return None
    if text.isdigit():
        try:
            stamp = int(text)
            return datetime.fromtimestamp(stamp / 1000 if stamp > 10**11 else stamp, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        # Whole seconds, as feedparser gives them: the same entry must get the same date.
        return to_utc(datetime.fromisoformat(text.replace("Z", "+00:00"))).replace(microsecond=0)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is not None:
        return to_utc(parsed)
    try:
        from feedparser.datetimes import _parse_date

        return from_struct(_parse_date(text))
    except Exception:  # feedparser's date handlers are many and any may trip on junk
        return None


def rfc3339(value: datetime | None) -> str | None:
    """`2026-11-25T08:14:00Z`, as the JSONL record wants."""
    if value is None:
        return None
    return _utc_text(value)


@functools.lru_cache(maxsize=4096)
def _utc_text(value: datetime) -> str:
    # A scan formats each mention's dates twice (record and state), and they repeat: one
    # found_at for the whole scan, one published date for every keyword a post matched.
    if value.tzinfo is not UTC:
        value = to_utc(value)
    # isoformat of a naive value has no offset to replace
    return value.replace(tzinfo=None, microsecond=0).isoformat() + "Z"
