"""The config's numbers: durations within bounds, counts that refuse yes/no, sizes.

Each bound is checked before pydantic's own (`Field(ge=..., le=...)` stays for the JSON
Schema), so `check` can say what is allowed in words: "a timeout must lie between 0.1 s and
1 hour, not 0 s" rather than "Input should be greater than or equal to 0.1".
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from mentions.units import parse_duration, parse_size

# A request needs some time and must end (the bounds of --timeout); a delay between two
# requests to one host longer than an hour would stall a scan; backing off longer than a
# year is switching the source off (`enabled: false` says that).
MIN_TIMEOUT, MAX_TIMEOUT = 0.1, 3600.0
MAX_DELAY = 3600.0
MAX_BACKOFF = 366 * 86400.0


def _seconds(value: Any, low: float, high: float, what: str) -> float:
    seconds = parse_duration(value)
    if not low <= seconds <= high:
        shown = value.strip() if isinstance(value, str) else f"{seconds:g} s"
        raise ValueError(f"{what} must lie between {_span(low)} and {_span(high)}, not {shown}")
    return seconds


def _span(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hour" if seconds == 3600 else "hours", 3600)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def _no_bool(value: Any) -> Any:
    # pydantic reads `true` as 1 where a number is wanted
    if isinstance(value, bool):
        raise ValueError("expected a number, not a yes/no value")
    return value


Timeout = Annotated[float, BeforeValidator(lambda v: _seconds(v, MIN_TIMEOUT, MAX_TIMEOUT, "a timeout")),
                    Field(ge=MIN_TIMEOUT, le=MAX_TIMEOUT)]
Delay = Annotated[float, BeforeValidator(lambda v: _seconds(v, 0, MAX_DELAY, "a delay")),
                  Field(ge=0, le=MAX_DELAY)]
Backoff = Annotated[float, BeforeValidator(lambda v: _seconds(v, 0, MAX_BACKOFF, "a backoff")),
                    Field(ge=0, le=MAX_BACKOFF)]
Count = Annotated[int, BeforeValidator(_no_bool)]
Size = Annotated[int, BeforeValidator(parse_size), Field(gt=0)]
