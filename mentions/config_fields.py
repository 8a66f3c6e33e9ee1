"""The config's numbers: durations within bounds, counts that refuse yes/no, sizes.

Each bound is checked before pydantic's own (`Field(ge=..., le=...)` stays as a last guard),
so `check` can say what is allowed in words: "a timeout must lie between 0.1 s and 1 hour,
not 0 s" rather than "Input should be greater than or equal to 0.1".

A duration or size is a number or a text such as `30s` or `10MB`; pydantic would describe
only the number (and its bounds as unknown keywords), so the JSON Schema for editors is
written here: a number within the bounds, or a text of the form `parse_duration` and
`parse_size` read.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

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


def timeout_seconds(value: str | float) -> float:
    """A timeout (`20`, `30s`, `2m`) in seconds within its bounds: the config key's and
    `--timeout`'s rule; ValueError says what is allowed."""
    return _seconds(value, MIN_TIMEOUT, MAX_TIMEOUT, "a timeout")


def _span(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hour" if seconds == 3600 else "hours", 3600)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


# units.py's forms without its IGNORECASE: JSON Schema patterns take no flags
_DURATION_TEXT = r"^\s*\d+(\.\d+)?\s*([mM][sS]|[sSmMhHdDwW])?\s*$"
_SIZE_TEXT = r"^\s*\d+(\.\d+)?\s*([kKmMgG]([iI]?[bB])?|[bB])?\s*$"


def _number_or_text(bounds: dict[str, float], pattern: str, example: str) -> WithJsonSchema:
    return WithJsonSchema({
        "anyOf": [{"type": "number", **bounds}, {"type": "string", "pattern": pattern}],
        "description": f"a number or a text such as {example}",
    })


def _duration_schema(low: float, high: float) -> WithJsonSchema:
    return _number_or_text({"minimum": low, "maximum": high}, _DURATION_TEXT, "30s, 15m or 7d")


def _no_bool(value: Any) -> Any:
    # pydantic reads `true` as 1 where a number is wanted
    if isinstance(value, bool):
        raise ValueError("expected a number, not a yes/no value")
    return value


Timeout = Annotated[float, BeforeValidator(timeout_seconds),
                    Field(ge=MIN_TIMEOUT, le=MAX_TIMEOUT), _duration_schema(MIN_TIMEOUT, MAX_TIMEOUT)]
Delay = Annotated[float, BeforeValidator(lambda v: _seconds(v, 0, MAX_DELAY, "a delay")),
                  Field(ge=0, le=MAX_DELAY), _duration_schema(0, MAX_DELAY)]
Backoff = Annotated[float, BeforeValidator(lambda v: _seconds(v, 0, MAX_BACKOFF, "a backoff")),
                    Field(ge=0, le=MAX_BACKOFF), _duration_schema(0, MAX_BACKOFF)]
Count = Annotated[int, BeforeValidator(_no_bool)]
# Bounds given beside an Optional come after the validator, where pydantic cannot put them into
# the JSON Schema (it wrote `ge`, which no editor knows); given first, they become `minimum`.
PageCount = Annotated[int, Field(ge=1, le=1000), BeforeValidator(_no_bool)]
# a size is whole bytes: 0.5 is read as 0, which is refused
Size = Annotated[int, BeforeValidator(parse_size), Field(gt=0),
                 _number_or_text({"minimum": 1}, _SIZE_TEXT, "10MB, 512KB or 2MiB")]
