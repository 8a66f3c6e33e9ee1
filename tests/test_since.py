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
from email.utils import format_datetime
from pathlib import Path

import pytest

from mentions.dates import EARLIEST, LATEST
from mentions.models import Mention
from mentions.state import State
from mentions.units import parse_since
from tests.localsite import LocalSite
from tests.state_helpers import Item, invoke, rss, scan, write_config

RSS = "application/rss+xml"

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


# --- a date is the start of that day, where the user is ----------------------------------

ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Pacific/Kiritimati", "UTC"]


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A local wall time of the zone set for the test, in UTC."""
    return datetime(day.year, day.month, day.day, hour, minute).astimezone(UTC)


@pytest.mark.parametrize("name", ZONES)
def test_since_a_date_is_the_same_instant_in_history_and_report(name: str, tmp_path: Path, zone: Zone) -> None:
    """With TZ=Europe/Berlin `history --since D` left out a mention at 00:30 on D that
    `report --since D` counted; with TZ=America/New_York the report began the day before."""
    zone(name)
    day = date.today() - timedelta(days=3)
    state = state_with(tmp_path, mention("evening before", local(day - timedelta(days=1), 23, 30)),
                       mention("just after midnight", local(day, 0, 30)))
    for since in (day.isoformat(), day.strftime("%Y%m%d")):
        history = invoke("history", "--state", state, "--since", since)
        assert [r["title"] for r in history.records] == ["just after midnight"]
        report = invoke("report", "--state", state, "--since", since)
        first = report.stdout.splitlines()[0]
        assert first.startswith(f"Mentions from {day} to ") and first.endswith(": 1"), report.stdout


@pytest.mark.parametrize("name", ["Europe/Berlin", "America/New_York"])
def test_scan_since_a_date_is_the_start_of_that_day(name: str, site: LocalSite, tmp_path: Path,
                                                    zone: Zone) -> None:
    zone(name)
    day = date.today() - timedelta(days=3)
    items = [Item(title, "Acme", f"http://x.org/{n}", date=format_datetime(moment, usegmt=True))
             for n, (title, moment) in enumerate((("evening before", local(day - timedelta(days=1), 23, 30)),
                                                  ("just after midnight", local(day, 0, 30))))]
    config = write_config(tmp_path, {"blog": site.add("/blog", rss(items), content_type=RSS)})
    assert scan(config, "--since", day.isoformat()).titles == ["just after midnight"]


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-11-01", datetime(2026, 10, 31, 23, tzinfo=UTC)),
    ("20261101", datetime(2026, 10, 31, 23, tzinfo=UTC)),
    ("2026-07-01", datetime(2026, 6, 30, 22, tzinfo=UTC)),  # summer time
    ("2026-11-01T08:00", datetime(2026, 11, 1, 7, tzinfo=UTC)),  # no offset: a local time
    ("2026-11-01T08:00Z", datetime(2026, 11, 1, 8, tzinfo=UTC)),
    ("2026-11-01T08:00-05:00", datetime(2026, 11, 1, 13, tzinfo=UTC)),
    ("0001-01-01", EARLIEST),  # midnight in Berlin is the year 0 in UTC
    ("9999-12-31", datetime(9999, 12, 30, 23, tzinfo=UTC)),
    ("9999-12-31T23:59:59", LATEST),  # the year 10000 in UTC
])
def test_since_without_an_offset_is_local(value: str, expected: datetime, zone: Zone) -> None:
    zone("Europe/Berlin")
    assert parse_since(value) == expected


# --- a date without a time is the day it names, wherever the reader is ------------------

REVIEWS = """<html><body>
<article class="review"><h3>{title}</h3><time datetime="{published}"></time><p>Acme {title}</p></article>
</body></html>"""


def day_text(day: date) -> str:
    """How the table writes a day (the year only when it is not this one)."""
    return day.strftime("%d %b") if day.year == date.today().year else day.isoformat()


def reviews_config(site: LocalSite, tmp_path: Path, kind: str, published: str) -> Path:
    """A review page (`<time datetime>`) or a feed (`<pubDate>`) with one post dated `published`."""
    if kind == "page":
        url = site.add("/reviews", REVIEWS.format(title="Review", published=published))
        source = f"{{name: reviews, page: {url!r}, items: article.review, fields: {{title: h3, date: 'time@datetime'}}}}"
    else:
        url = site.add("/feed", rss([Item("Review", "Acme", "http://x.org/r", date=published)]), content_type=RSS)
        source = f"{{name: reviews, feed: {url!r}}}"
    config = tmp_path / "mentions.yaml"
    config.write_text("version: 1\nstate: ./state.db\nhttp: {delay: 0, robots: false}\n"
                      f"keywords: [{{name: acme, terms: [Acme]}}]\nsources: [{source}]\n", encoding="utf-8")
    return config


@pytest.mark.parametrize("kind", ["page", "feed"])
@pytest.mark.parametrize("name", ["America/Los_Angeles", "Etc/GMT+12", "Europe/Berlin", "Pacific/Auckland",
                                  "Pacific/Kiritimati"])
def test_a_date_without_a_time_stays_on_its_day(kind: str, name: str, site: LocalSite, tmp_path: Path,
                                               zone: Zone) -> None:
    """`<time datetime="2026-11-24">` is stored as 2026-11-24T00:00:00Z; with TZ=America/Los_Angeles
    history showed it as "23 Nov 16:00" and report counted it on 23 Nov."""
    zone(name)
    day = date.today() - timedelta(days=3)
    config = reviews_config(site, tmp_path, kind, day.isoformat())
    scanned = scan(config)
    # the record keeps RFC 3339 in UTC: midnight UTC of the day written
    assert [r["published"] for r in scanned.records] == [f"{day}T00:00:00Z"]
    table = invoke("history", "-c", str(config), "--format", "table").stdout
    assert table.startswith(day_text(day) + "  "), table
    report = invoke("report", "-c", str(config), "--since", day.isoformat()).stdout
    assert report.startswith(f"Mentions from {day} to ") and f"busiest day: {day_text(day)} (1)" in report, report
    next_day = (day + timedelta(days=1)).isoformat()
    for command in (("history",), ("scan", "--no-state", "--format", "jsonl")):
        assert len(invoke(*command, "-c", str(config), "--since", day.isoformat()).records) == 1
        assert invoke(*command, "-c", str(config), "--since", next_day).records == []


def test_only_midnight_utc_exactly_is_a_date(tmp_path: Path, zone: Zone) -> None:
    """A time a second after midnight UTC is a time, shown where it falls locally."""
    zone("America/Los_Angeles")
    day = date.today() - timedelta(days=3)
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    state = state_with(tmp_path, mention("dated", midnight), mention("timed", midnight + timedelta(seconds=1)))
    table = invoke("history", "--state", state, "--format", "table").stdout.splitlines()
    # oldest first by the time shown: 16:00:01 the evening before, then the day
    previous = day - timedelta(days=1)
    assert table[0].startswith(f"{day_text(previous)} 16:00 ") and "timed" in table[0], table
    assert table[3].startswith(day_text(day) + "  ") and "dated" in table[3], table
    # The days begin at the first mention's: the one stored a second later lies a day earlier.
    report = invoke("report", "--state", state, "--since", "30d").stdout
    assert report.startswith(f"Mentions from {previous} to ") and "busiest day" in report, report
    assert invoke("report", "--state", state, "--html", str(tmp_path / "r.html")).code == 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert f"<td>{day}</td>" in html and f"<td>{previous} 16:00</td>" in html
