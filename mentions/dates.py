"""Dates from the web into timezone-aware UTC datetimes (or None: never an exception).

A date is kept only when it lies a day or more inside the years a datetime can hold
(0001-01-02 to 9999-12-30 in UTC). Anything closer to either end is junk, not a publication
date (Go's zero time, `Mon, 01 Jan 0001 00:00:00 +0000`, is how many generators say "no
date"), and it would overflow later, when it is shown in a local time zone or a day is added.
"""

from __future__ import annotations

import email.utils
import functools
import re
import time
from datetime import UTC, date, datetime, timedelta, tzinfo

EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, 23, 59, 59, tzinfo=UTC)

# The year of an RFC 2822 date when written with three or more digits (not a zone like +1400).
_LONG_YEAR = re.compile(r"(?<![\d+\-:.])(\d{3,})(?![\d:])")
# A calendar day written year first (2024-02-03, 2024/02/03), the year with its sign.
_WRITTEN_DAY = re.compile(r"(?<![\d+\-])([+-]?\d{4,})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
# An ISO date and time ending in its zone's name: fromisoformat reads `Z`, not `GMT` or `UTC`.
_ZONE_NAME = re.compile(r"\s*(?:GMT|UTC|UT)$", re.IGNORECASE)


def to_utc(value: datetime) -> datetime:
    """`value` in UTC; a naive datetime is taken to be UTC already (may raise OverflowError)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def within_range(value: datetime) -> datetime | None:
    """`value` in UTC, or None when it lies outside EARLIEST..LATEST (see the module docstring)."""
    try:
        utc = to_utc(value)
    except (OverflowError, ValueError):
        return None
    return utc if EARLIEST <= utc <= LATEST else None


def clamp(value: datetime) -> datetime:
    """`value` in UTC, moved inside EARLIEST..LATEST: for bounds such as `--since`."""
    try:
        utc = to_utc(value)
    except OverflowError:
        # only a time within a day of either end overflows when its offset is taken away
        return EARLIEST if value.year == 1 else LATEST
    return min(max(utc, EARLIEST), LATEST)


def from_local(value: datetime) -> datetime:
    """A time without an offset, read in the local time zone, in UTC and inside EARLIEST..LATEST.

    `--since 2026-11-01` is the start of that day where the user is, as every date `mentions`
    shows is local: a bound at midnight UTC left out the early hours east of UTC (in `history`,
    not in `report`) and was the evening before west of it."""
    if value.tzinfo is not None:
        return clamp(value)
    try:
        return clamp(value.astimezone())
    except (OverflowError, ValueError):  # the local time of a day at either end of the calendar
        return EARLIEST if value.year == 1 else LATEST


def is_date_only(published: datetime | None) -> bool:
    """Whether a published value is a date written without a time (`2026-11-24`).

    Such a date is kept as midnight UTC (`2026-11-24T00:00:00Z` in the JSONL record), so it
    is told apart by that: exactly 00:00:00 in UTC. Shown as a local time it would be the
    evening before west of UTC; `day_of` and `instant_of` read it as the day it names.
    """
    if published is None or published.utcoffset() != timedelta(0):
        return False
    return (published.hour, published.minute, published.second, published.microsecond) == (0, 0, 0, 0)


def day_of(moment: datetime, tz: tzinfo | None = None, *, is_date: bool = False) -> date:
    """The day `moment` falls on in `tz` (default: the local zone); a date (`is_date`) is
    the day it names, wherever the reader is."""
    return moment.date() if is_date else moment.astimezone(tz).date()


def instant_of(moment: datetime, *, is_date: bool = False) -> datetime:
    """`moment` as compared with a `--since` bound; a date (`is_date`) counts from the start
    of its day in the local time zone, as `--since` of that date does."""
    return from_local(datetime(moment.year, moment.month, moment.day)) if is_date else moment


def moment_of(published: datetime | None, found_at: datetime) -> datetime:
    """When a mention counts as published, for `--since` and for sorting: its published time
    (a date from the start of its local day), else when it was found."""
    if published is None:
        return found_at
    return instant_of(published, is_date=is_date_only(published))


def seconds_before(value: datetime, seconds: float) -> datetime:
    """`value` minus `seconds` (may be infinite), but never before EARLIEST."""
    if seconds >= (value - EARLIEST).total_seconds():
        return EARLIEST
    return value - timedelta(seconds=seconds)


def from_struct(value: time.struct_time | None) -> datetime | None:
    """feedparser's `*_parsed` values (UTC struct_time) as datetimes."""
    if value is None:
        return None
    try:
        return within_range(datetime(*value[:6], tzinfo=UTC))
    except (TypeError, ValueError):
        return None


def parse_date(text: str | None) -> datetime | None:
    """ISO 8601, RFC 2822 or a Unix timestamp; None when it is none of them or out of range."""
    if not text:
        return None
    text = text.strip()
    if not text or len(text) > 100:
        return None
    if text.isdigit():
        if len(text) == 8:  # 20240203: a day, not a second of 1970
            return _written_day(text[:4], text[4:6], text[6:])
        try:
            stamp = int(text)
            return within_range(datetime.fromtimestamp(stamp / 1000 if stamp > 10**11 else stamp, tz=UTC))
        except (OverflowError, OSError, ValueError):
            return None
    try:
        # (only a name of two letters or more; most dates end in a digit or `Z`)
        iso = datetime.fromisoformat(_ZONE_NAME.sub("+00:00", text) if text[-2:].isalpha() else text)
    except ValueError:
        pass
    else:
        found = within_range(iso)
        # Whole seconds, as feedparser gives them: the same entry must get the same date.
        return found.replace(microsecond=0) if found is not None else None
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        parsed = None
    if parsed is not None:
        written = _LONG_YEAR.search(text)
        if written is not None and int(written.group(1)) != parsed.year:
            # email.utils reads the year 0001 as 2001, as if it had been written 01
            try:
                parsed = parsed.replace(year=int(written.group(1)))
            except ValueError:  # 29 Feb of a year that has none, or a year past 9999
                return None
        return within_range(parsed)
    if _has_impossible_clock(text):  # the day written stands, if it is one; the moment is lost
        written = _WRITTEN_DAY.search(text)
        return _written_day(*written.groups()) if written else None
    try:
        from feedparser.datetimes import _parse_date

        found = from_struct(_parse_date(text))
    except Exception:  # feedparser's date handlers are many and any may trip on junk
        return None
    # Its handlers roll a wrong day over (2024-02-30 became 2024-03-01, month 13 the next
    # year, the year 99999 became 9999-11-01) or misread one (2024/02/03 became 2024-11-01).
    # The day written in the text decides: no such day is no date; a date more than a day
    # (a time zone) away from it gives way to it.
    written = _WRITTEN_DAY.search(text)
    if found is None or written is None:
        return found
    day = _written_day(*written.groups())
    if day is None:
        return None
    return found if abs((found - day).days) <= 1 else day


_CLOCK = re.compile(r"(?<!\d)(\d{1,2}):(\d{2})(?::(\d{2}))?(?!\d)")
_NUMERIC_ZONE = re.compile(r"(?<![\d:])[+-](\d{2}):?(\d{2})$")


def _has_impossible_clock(text: str) -> bool:
    """Whether `text` writes a time or a zone no clock shows (`25:61`, `+9999`).

    feedparser's handlers roll them over (`2026-11-24T25:61:00Z` became 02:01 the next day,
    `Tue, 24 Nov 2026 09:14:00 +9999` four days earlier): a made-up moment."""
    for clock in _CLOCK.finditer(text):
        hour, minute, second = int(clock[1]), int(clock[2]), int(clock[3] or 0)
        if hour > 24 or minute > 59 or second > 60 or (hour == 24 and (minute or second)):
            return True
    zone = _NUMERIC_ZONE.search(text)
    return zone is not None and (int(zone[1]) > 14 or int(zone[2]) > 59)


def _written_day(year: str, month: str, day: str) -> datetime | None:
    """Midnight UTC of a written calendar day, or None when there is no such day."""
    try:
        return within_range(datetime(int(year), int(month), int(day), tzinfo=UTC))
    except ValueError:
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
