"""`mentions history`, `prune` and `sources` over a state filled by real scans."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.localsite import LocalSite
from tests.state_helpers import Item, invoke, rss, scan, write_config

RSS = "application/rss+xml"


@pytest.fixture
def scanned(site: LocalSite, tmp_path: Path) -> Path:
    """A config whose state holds 3 mentions from two sources (acme x2, globex x1)."""
    blog = site.add("/blog", rss([Item("Old news", "Acme in 2023", "http://x.org/1",
                                       date="Mon, 02 Jan 2023 10:00:00 GMT"),
                                  Item("New news", "Acme and Globex today", "http://x.org/2")]),
                    content_type=RSS)
    site.add("/down", "boom", status=503)
    config = write_config(tmp_path, {"blog": blog, "down": site.url("/down")},
                          {"acme": ["Acme"], "globex": ["Globex"]},
                          extra="  - {name: never, feed: 'http://127.0.0.1:9/x', enabled: false}\n")
    assert len(scan(config).records) == 3
    return config


def test_history_prints_what_scans_reported_in_every_format(scanned: Path) -> None:
    everything = invoke("history", "-c", str(scanned))
    assert everything.code == 0
    assert sorted((r["keyword"], r["title"]) for r in everything.records) == [
        ("acme", "New news"), ("acme", "Old news"), ("globex", "New news")]
    assert set(everything.records[0]) >= {"id", "tags", "found_at", "published", "snippet", "terms"}
    only = invoke("history", "-c", str(scanned), "--keyword", "globex", "--source", "blog")
    assert [r["keyword"] for r in only.records] == ["globex"]
    recent = invoke("history", "-c", str(scanned), "--since", "2026-01-01")
    assert "Old news" not in recent.titles and len(recent.records) == 2
    as_json = json.loads(invoke("history", "-c", str(scanned), "--format", "json").stdout)
    assert len(as_json) == 3
    rows = list(csv.DictReader(io.StringIO(invoke("history", "-c", str(scanned), "--format", "csv").stdout)))
    assert len(rows) == 3 and rows[0]["keyword"] in ("acme", "globex")
    table = invoke("history", "-c", str(scanned), "--format", "table")
    assert table.code == 0 and "Old news" in table.stdout


def test_history_needs_no_config_with_state(tmp_path: Path, scanned: Path) -> None:
    assert len(invoke("history", "--state", str(tmp_path / "state.db")).records) == 3
    bad = invoke("history", "--state", str(tmp_path / "state.db"), "--since", "yesterday")
    assert bad.code == 2 and bad.stderr.startswith("mentions: --since")


def test_a_filter_that_names_nothing_known_is_said_on_stderr(scanned: Path, tmp_path: Path) -> None:
    """`--keyword ACME` (the keyword is `acme`) or `--source nope` printed nothing and said nothing."""
    wrong_case = invoke("history", "-c", str(scanned), "--keyword", "ACME", "--keyword", "globex")
    assert wrong_case.code == 0 and [r["keyword"] for r in wrong_case.records] == ["globex"]
    assert wrong_case.stderr == ("mentions: --keyword 'ACME': no keyword of that name in the config or the "
                                 "state (did you mean 'acme'? known: acme, globex)\n")
    nope = invoke("history", "--state", str(tmp_path / "state.db"), "--source", "nope")
    assert (nope.code, nope.stdout) == (0, "")
    assert nope.stderr == "mentions: --source 'nope': no source of that name in the state (known: blog)\n"
    known = invoke("history", "-c", str(scanned), "--keyword", "acme", "--source", "down")  # in the config
    assert known.code == 0 and known.stderr == ""
    report = invoke("report", "-c", str(scanned), "--keyword", "acmee")
    assert report.code == 0 and "No mentions recorded" in report.stdout
    assert report.stderr == ("mentions: --keyword 'acmee': no keyword of that name in the config or the "
                             "state (did you mean 'acme'? known: acme, globex)\n")


def test_a_long_list_of_known_names_is_counted() -> None:
    from mentions.cli.filters import unknown_name_message

    names = [f"brand{number}" for number in range(40)]
    assert unknown_name_message("--keyword", "keyword", "other", names, "the state") == (
        "--keyword 'other': no keyword of that name in the state (40 are known)")
    assert unknown_name_message("--source", "source", "x", [], "the state") == (
        "--source 'x': no source of that name in the state (none is known yet)")


@pytest.mark.parametrize("command", [("history",), ("sources",)])
def test_a_state_file_that_is_not_there_is_exit_2_as_for_report(tmp_path: Path, scanned: Path,
                                                               command: tuple[str, ...]) -> None:
    """A typo in `--state` printed nothing (history) or every source as never fetched
    (sources), with exit 0; `report` says there is no such state."""
    missing = invoke(*command, "-c", str(scanned), "--state", str(tmp_path / "stat.db"))
    assert (missing.code, missing.stdout) == (2, "")
    assert missing.stderr == f"mentions: no state file at {tmp_path / 'stat.db'} yet: run `mentions scan` first (or pass --state)\n"
    assert not (tmp_path / "stat.db").exists()


def test_history_before_the_first_scan_says_there_is_nothing_yet(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"a": "http://127.0.0.1:9/a"})
    missing = invoke("history", "-c", str(config))
    assert missing.code == 2 and "run `mentions scan` first" in missing.stderr


@pytest.mark.parametrize("since", ["10000000000000000000d", "1000000d", "0001-01-01"])
def test_since_before_the_year_1_means_from_the_beginning(scanned: Path, since: str) -> None:
    assert len(invoke("history", "-c", str(scanned), "--since", since).records) == 3
    again = invoke("scan", "-c", str(scanned), "--all", "--since", since, "--format", "jsonl")
    assert again.code == 1 and len(again.records) == 3  # (the `down` source fails, as it always does)


def test_prune_says_how_many_and_they_are_not_reported_again(scanned: Path, tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "state.db")
    db.execute("UPDATE mentions SET found_at = '2025-01-01T00:00:00Z' WHERE title = 'Old news'")
    db.commit()
    db.close()
    dry = invoke("prune", "-c", str(scanned), "--older-than", "180d", "--dry-run")
    assert dry.code == 0 and dry.stdout.startswith("would forget 1 mention found before")
    pruned = invoke("prune", "-c", str(scanned), "--older-than", "180d")
    assert pruned.code == 0 and pruned.stdout.startswith("forgot 1 mention found before")
    assert invoke("history", "-c", str(scanned)).titles == ["New news", "New news"]
    assert scan(scanned, "--force").records == []  # the old post is still in the feed
    assert invoke("prune", "-c", str(scanned), "--older-than", "soon").code == 2


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The local zone is Europe/Berlin (UTC+1 in winter) while the test runs."""
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_prune_names_its_cutoff_as_a_local_time_not_a_day(tmp_path: Path, berlin: None) -> None:
    """Mentions found at 10:00 yesterday go with `--older-than 1d` run after 10:00 today: "found
    before <yesterday's date>" said they were older than that day."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from mentions.models import Mention
    from mentions.state import State

    path = tmp_path / "s.db"
    before = datetime.now(UTC) - timedelta(days=1)
    with State(path) as state:
        state.record([Mention(id="m", keyword="acme", tags=(), source="blog", source_type="feed", url=None,
                              title="t", author=None, published=None, found_at=before - timedelta(hours=1),
                              terms=("Acme",), count=1, snippet="s", lang=None)])
    pruned = invoke("prune", "--state", str(path), "--older-than", "1d", "--dry-run")
    after = datetime.now(UTC) - timedelta(days=1)
    local = {moment.astimezone(ZoneInfo("Europe/Berlin")).strftime("%d %b %Y %H:%M") for moment in (before, after)}
    assert pruned.code == 0 and pruned.stdout.startswith("would forget 1 mention found before ")
    assert any(f"found before {cutoff} in " in pruned.stdout for cutoff in local), pruned.stdout
    ancient = invoke("prune", "--state", str(path), "--older-than", "99999999d", "--dry-run")
    assert "found before 02 Jan 0001 " in ancient.stdout  # the year in four digits (the zone: local mean time)


def test_scan_all_shows_pruned_mentions_with_the_time_they_were_first_found(scanned: Path,
                                                                           tmp_path: Path) -> None:
    """SPEC: `found_at` is when it was first found; the pruned ids keep that time."""
    db = sqlite3.connect(tmp_path / "state.db")
    db.execute("UPDATE mentions SET found_at = '2025-01-01T00:00:00Z' WHERE title = 'Old news'")
    db.commit()
    db.close()
    assert invoke("prune", "-c", str(scanned), "--older-than", "180d").stdout.startswith("forgot 1 ")
    again = scan(scanned, "--all")
    assert [r["found_at"] for r in again.records if r["title"] == "Old news"] == ["2025-01-01T00:00:00Z"]


def test_sources_lists_every_configured_source_with_its_health(scanned: Path) -> None:
    listed = invoke("sources", "-c", str(scanned))
    assert listed.code == 0
    rows = {r["name"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert list(rows) == ["blog", "down", "never"]
    assert (rows["blog"]["status"], rows["blog"]["items"], rows["blog"]["failures"]) == ("ok", 2, 0)
    assert rows["blog"]["http_status"] == 200 and rows["blog"]["last_success"]
    down = rows["down"]
    assert (down["status"], down["failures"], down["http_status"]) == ("failed", 1, 503)
    assert "503" in down["last_error"] and down["failing_since"] == down["last_attempt"]
    assert down["last_success"] is None
    assert (rows["never"]["enabled"], rows["never"]["last_attempt"]) == (False, None)


def test_sources_table_marks_failing_ones(scanned: Path) -> None:
    table = invoke("sources", "-c", str(scanned), "--format", "table")
    assert table.code == 0
    assert "failing since" in table.stdout and "failed (503)" in table.stdout and "never" in table.stdout
    assert "down: http status: HTTP 503" in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 80


@pytest.mark.parametrize("columns", ["60", "50"])
def test_the_sources_table_keeps_the_names_in_a_narrow_terminal(
    scanned: Path, monkeypatch: pytest.MonkeyPatch, columns: str
) -> None:
    """At 60 columns Rich squeezed the names column to nothing: a table of failures that did
    not say which source failed."""
    monkeypatch.setenv("COLUMNS", columns)
    table = invoke("sources", "-c", str(scanned), "--format", "table")
    names = [line.split("│")[1].strip() for line in table.stdout.splitlines()
             if line.startswith("│") and line.split("│")[1].strip()]
    assert names == ["blog", "down", "never"]


def test_sources_before_any_scan_shows_them_never_fetched(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"a": "http://127.0.0.1:9/a"})
    listed = invoke("sources", "-c", str(config))
    assert json.loads(listed.stdout)["status"] == "never fetched"
    assert not (tmp_path / "state.db").exists()


def test_prune_older_than_the_calendar_forgets_nothing(tmp_path: Path) -> None:
    """`--older-than 99999999d` reaches back past the year 1: no mention is that old."""
    from datetime import UTC, datetime

    from typer.testing import CliRunner

    from mentions.cli import app
    from mentions.models import Mention
    from mentions.state import State

    path = tmp_path / "s.db"
    now = datetime.now(UTC)
    with State(path) as state:
        state.record([Mention(id="m", keyword="acme", tags=(), source="blog", source_type="feed", url=None,
                              title="t", author=None, published=now, found_at=now, terms=("Acme",),
                              count=1, snippet="s", lang=None)])
    result = CliRunner().invoke(app, ["prune", "--state", str(path), "--older-than", "99999999d"])
    assert result.exit_code == 0, result.output
    with State(path) as state:
        assert state.seen([Mention(id="m", keyword="acme", tags=(), source="blog", source_type="feed",
                                   url=None, title="t", author=None, published=now, found_at=now,
                                   terms=("Acme",), count=1, snippet="s", lang=None)]) == {"m"}


def test_history_table_is_oldest_first_like_every_other_format(site: LocalSite, tmp_path: Path) -> None:
    """`history --help` and docs/state.md say oldest first, and JSONL and CSV are: the table was
    newest first, as a scan's is."""
    first = Item("First post", "Acme one", "http://x.org/1", date="Mon, 06 Jan 2025 10:00:00 GMT")
    second = Item("Second post", "Acme two", "http://x.org/2", date="Mon, 03 Feb 2025 10:00:00 GMT")
    blog = site.add("/blog", rss([first]), content_type=RSS)
    config = write_config(tmp_path, {"blog": blog}, {"acme": ["Acme"]})
    assert scan(config).titles == ["First post"]
    site.add("/blog", rss([second, first]), content_type=RSS)
    assert scan(config).titles == ["Second post"]
    assert invoke("history", "-c", str(config)).titles == ["First post", "Second post"]
    table = invoke("history", "-c", str(config), "--format", "table").stdout
    assert table.index("First post") < table.index("Second post")
