"""Human-friendly sizes and durations from the config and the command line."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from mentions.dates import from_local, seconds_before

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?i?b?)?\s*$", re.IGNORECASE)
_SIZE_FACTORS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2,
                 "mb": 1000**2, "mib": 1024**2, "g": 1000**3, "gb": 1000**3, "gib": 1024**3}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$", re.IGNORECASE)
_DURATION_FACTORS = {"ms": 0.001, "s": 1, "": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def counted(count: int, noun: str, plural: str = "") -> str:
    """`1 keyword`, `2 keywords`, `0 entries` (`plural` where an s is not enough)."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def parse_size(value: str | int | float) -> int:
    """Bytes from `10MB`, `512KB`, `2MiB` or a plain number."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 10MB or 512KB")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a size cannot be negative")
        return int(value)
    found = _SIZE.match(value)
    unit = (found.group(2) or "").lower() if found else None
    if not found or unit not in _SIZE_FACTORS:
        raise ValueError(f"{value!r} is not a size such as 10MB or 512KB")
    return int(float(found.group(1)) * _SIZE_FACTORS[unit])


def parse_duration(value: str | int | float) -> float:
    """Seconds from `30s`, `15m`, `7d`, `2h` or a plain number of seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 15m or 7d")
    if isinstance(value, int | float):
        if not math.isfinite(value):  # YAML's .inf and .nan
            raise ValueError("a duration must be a finite number of seconds")
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    found = _DURATION.match(value)
    if not found:
        raise ValueError(f"{value!r} is not a duration such as 30s, 15m or 7d")
    seconds = float(found.group(1)) * _DURATION_FACTORS[(found.group(2) or "").lower()]
    if not math.isfinite(seconds):
        raise ValueError(f"{value!r} is too long a duration")
    return seconds


def parse_age(value: str) -> float:
    """Seconds from a duration written with its unit (`180d`, `26w`), for `prune --older-than`.

    A plain number is refused there: read as seconds, `--older-than 180` would forget every
    mention found more than three minutes ago."""
    found = _DURATION.match(value)
    if found and not found.group(2):
        raise ValueError(f"give a unit, like 180d or 26w, not {value!r}")
    return parse_duration(value)


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """A point in time from a duration back from now (`7d`) or a date (`2026-11-01`, `20261101`).

    A date is the start of that day in the local time zone, and a time without an offset
    (`2026-11-01T08:00`) is a local time: scan, history and report all read their bound here.

    A bound past either end of the calendar is moved to that end: `--since 1000000d`
    reaches back beyond the year 1 and means "from the beginning", like `--since 0001-01-01`.
    A number without a unit is refused: `--since 7` read as 7 seconds found nothing, and
    `--since 20261125` read as 234 days of seconds found far too much.
    """
    now = now or datetime.now(UTC)
    text = value.strip()
    found = _DURATION.match(text)
    if found and found.group(2):  # a duration so long that it is infinite also reaches back before the year 1
        return seconds_before(now, float(found.group(1)) * _DURATION_FACTORS[found.group(2).lower()])
    is_compact_day = len(text) == 8 and text.isdigit()  # 20261125, as `date +%Y%m%d` writes it
    if found and not is_compact_day:
        raise ValueError(f"give a unit or a date, like 7d or 2026-11-01, not {value!r}")
    if is_compact_day:
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        if is_compact_day:
            raise ValueError(f"{value!r} is no day of the calendar (as YYYYMMDD); give a unit or "
                             "a date, like 7d or 2026-11-01") from None
        raise ValueError(
            f"{value!r} is neither a duration such as 7d nor a date such as 2026-11-01"
        ) from None
    return from_local(when)
