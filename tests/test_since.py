"""What `--since` means, and on which day a mention falls, in scan, history and report alike.

Real commands over a real SQLite state (filled by `State.record` or by scans of a local
server), run under a given time zone: a `--since` that each command read its own way, or a
date that moved a day west of UTC, shows only there.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from mentions.models import Mention
from mentions.state import State
from tests.state_helpers import invoke

Zone = Callable[[str], None]


@pytest.fixture
def zone() -> Iterator[Zone]:
    """Run the rest of the test in a time zone: `zone("Europe/Berlin")`; restored after."""
    before = os.environ.get("TZ")

    def set_zone(name: str) -> None:
        os.environ["TZ"] = name
        time.tzset()

    yield set_zone
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def mention(name: str, published: datetime | None, found_at: datetime | None = None) -> Mention:
    return Mention(id=name, keyword="acme", tags=(), source="blog", source_type="feed",
                   url=f"https://blog.example/{name}", title=name, author=None, published=published,
                   found_at=found_at or datetime.now(UTC).replace(microsecond=0), terms=("Acme",), count=1,
                   snippet="Acme", lang=None)


def state_with(tmp_path: Path, *mentions: Mention) -> str:
    path = tmp_path / "state.db"
    with State(path) as state:
        state.record(list(mentions))
    return str(path)


# --- a number without a unit -------------------------------------------------------------

@pytest.mark.parametrize("command", ["scan", "history", "report"])
@pytest.mark.parametrize("value", ["7", "2026", "1.5", "0"])
def test_a_number_without_a_unit_is_a_usage_error(command: str, value: str, tmp_path: Path) -> None:
    """SPEC: durations are `30s`/`15m`/`7d`. `--since 7` was 7 seconds (nothing, exit 0) and
    `--since 2026` 2026 seconds: a typo that looked like an empty result."""
    config = tmp_path / "mentions.yaml"
    config.write_text("version: 1\nstate: ./state.db\nkeywords: [{name: acme, terms: [Acme]}]\n"
                      "sources: [{name: notes, file: ./notes.txt}]\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("Acme\n", encoding="utf-8")
    state_with(tmp_path, mention("a", datetime.now(UTC) - timedelta(hours=1)))
    result = invoke(command, "-c", str(config), "--since", value)
    assert result.code == 2, result.stdout
    assert f"--since: give a unit or a date, like 7d or 2026-11-01, not '{value}'" in result.stderr
    assert result.records == []


def test_a_compact_date_is_that_day(tmp_path: Path, zone: Zone) -> None:
    """`--since 20261125` (as `date +%Y%m%d` writes it) was 20,261,125 seconds: 234 days."""
    zone("UTC")
    day = date.today() - timedelta(days=2)
    before, on = (datetime(day.year, day.month, day.day, 8, tzinfo=UTC) + timedelta(days=back)
                  for back in (-1, 0))
    state = state_with(tmp_path, mention("before", before), mention("on", on))
    compact = day.strftime("%Y%m%d")
    assert [r["title"] for r in invoke("history", "--state", state, "--since", compact).records] == ["on"]
    report = invoke("report", "--state", state, "--since", compact)
    assert report.code == 0 and report.stdout.startswith(f"Mentions from {day} to "), report.stdout


def test_a_compact_date_that_is_no_day_says_so(tmp_path: Path) -> None:
    result = invoke("history", "--state", state_with(tmp_path), "--since", "20261345")
    assert result.code == 2
    assert "--since: '20261345' is no day of the calendar (as YYYYMMDD)" in result.stderr


@pytest.mark.parametrize("value", ["180", "0"])
def test_prune_older_than_a_number_without_a_unit_forgets_nothing(value: str, tmp_path: Path) -> None:
    """`prune --older-than 180` read as 180 seconds forgot every mention older than 3 minutes."""
    state = state_with(tmp_path, mention("old", None, datetime.now(UTC) - timedelta(days=1)))
    result = invoke("prune", "--state", state, "--older-than", value)
    assert result.code == 2
    assert f"--older-than: give a unit, like 180d or 26w, not '{value}'" in result.stderr
    assert [r["title"] for r in invoke("history", "--state", state).records] == ["old"]
