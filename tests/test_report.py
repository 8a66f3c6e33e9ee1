"""`mentions report`: numbers checked against a state with known mentions; HTML in Chromium."""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from mentions.cli import app
from mentions.models import Mention
from mentions.report import Record, Report, build_report, load_records, render_terminal, sparkline
from mentions.report_html import render_html
from mentions.state import State
from tests.localsite import LocalSite
from tests.state_helpers import Item, invoke, rss, scan, write_config

END = date(2026, 11, 26)
RSS = "application/rss+xml"
HOSTILE = "<img src=x onerror=alert(1)></script><script>alert(2)</script>"


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def make(n: int, keyword: str, day: date, *, tags: tuple[str, ...] = (), source: str = "forum",
         author: str | None = "Max", title: str = "t", url: str | None = "https://x.example/") -> Mention:
    return Mention(id=f"{keyword}-{n}-{day}", keyword=keyword, tags=tags, source=source, source_type="feed",
                   url=url, title=title, author=author, published=at(day), found_at=at(END), terms=(keyword,),
                   count=1, snippet="s", lang=None)


def known_mentions() -> list[Mention]:
    """acme: 1 a day for 30 days, then 9 on the last day; globex: 2 on one day; a hostile title."""
    mentions = []
    for back in range(1, 31):
        mentions.append(make(back, "acme", END - timedelta(days=back), tags=("brand",),
                             source="blog" if back % 2 else "forum", author=f"a{back % 3}"))
    mentions += [make(100 + i, "acme", END, tags=("brand",), source="news", author=None) for i in range(9)]
    mentions += [make(200 + i, "globex", END - timedelta(days=3), tags=("competitor",), source="forum",
                      author="a1") for i in range(2)]
    mentions.append(make(300, "globex", END - timedelta(days=1), tags=("competitor",), title=HOSTILE,
                         url="javascript:alert(3)"))
    return mentions


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    path = tmp_path / "state.db"
    with State(path) as state:
        state.record(known_mentions())
    return path


def report_of(state_path: Path, days: int = 14) -> Report:
    with State(state_path) as state:
        records = load_records(state, at(END - timedelta(days=days - 1), 0))
    return build_report(records, END - timedelta(days=days - 1), END, tz=UTC)


def test_numbers_from_a_state_with_known_mentions(state_path: Path) -> None:
    report = report_of(state_path)
    assert len(report.days) == 14 and report.days[-1] == END
    assert report.volume["acme"] == (1,) * 13 + (9,)
    assert report.volume["globex"] == (0,) * 10 + (2, 0, 1, 0)
    assert report.total == 13 + 9 + 3
    assert report.share_by == "tag" and report.share == (("brand", 22), ("competitor", 3))
    # 7 odd days of the 13 went to blog, 6 even to forum (+3 globex): forum 9, news 9, blog 7
    assert dict(report.sources) == {"forum": 9, "news": 9, "blog": 7}
    assert "(unknown)" not in dict(report.authors)
    # the 9 is a spike: the 14 days before were all 1 (mean 1, σ 0); globex's 2 is below MIN_SPIKE
    assert [(s.keyword, s.day, s.count, s.mean, s.sd) for s in report.spikes] == [("acme", END, 9, 1.0, 0.0)]


def local_noon(day: date) -> datetime:
    return datetime.combine(day, time(12)).astimezone()


def spike_lines(state: Path, since: str) -> list[str]:
    result = CliRunner().invoke(app, ["report", "--state", str(state), "--since", since])
    assert result.exit_code == 0, result.output
    return [line.strip() for line in result.stdout.splitlines() if line.startswith("▲")]


def test_the_start_of_the_data_is_no_spike(tmp_path: Path) -> None:
    """Monitoring began 60 days ago with half a day, then ~20 a day: the days before were taken
    for quiet ones, and the first three days were spikes (62 "before: 0.0 ± 0.0")."""
    today = date.today()
    began = today - timedelta(days=60)
    mentions = [make(n, "acme", began) for n in range(10)]
    for back in range(1, 60):
        day = began + timedelta(days=back)
        mentions += [make(n, "acme", day) for n in range(18 + back % 5 + (40 if back == 40 else 0))]
    mentions = [replace(m, published=local_noon(m.published.date())) for m in mentions if m.published]
    path = tmp_path / "s.db"
    with State(path) as state:
        state.record(mentions)
    burst = (began + timedelta(days=40)).strftime("%d %b")
    assert spike_lines(path, "90d") == [f"▲ {burst}  acme: 58 mentions (before: 20.1 ± 1.4 a day)"]


def test_a_burst_after_a_quiet_fortnight_is_judged_from_the_first_mention_in_the_state(tmp_path: Path) -> None:
    """The report reads only the 15 days before `--since`; the keyword began long before."""
    today = date.today()
    mentions = [make(1, "globex", today - timedelta(days=100))]
    mentions += [make(n, "globex", today - timedelta(days=10)) for n in range(5)]
    mentions = [replace(m, published=local_noon(m.published.date())) for m in mentions if m.published]
    path = tmp_path / "s.db"
    with State(path) as state:
        state.record(mentions)
    burst = (today - timedelta(days=10)).strftime("%d %b")
    assert spike_lines(path, "30d") == [f"▲ {burst}  globex: 5 mentions (before: 0.0 ± 0.0 a day)"]


def test_mentions_dated_in_the_future_are_said_to_be_left_out(tmp_path: Path) -> None:
    """`history` showed 13 and `report --since 0001-01-01` 11, without a word on the other 2."""
    today = date.today()
    mentions = [make(1, "acme", today), make(2, "acme", today - timedelta(days=1)),
                make(3, "acme", today + timedelta(days=3)), make(4, "acme", date(2099, 1, 1))]
    mentions = [replace(m, published=local_noon(m.published.date())) for m in mentions if m.published]
    path = tmp_path / "s.db"
    with State(path) as state:
        state.record(mentions)
    html = tmp_path / "r.html"
    shown = CliRunner().invoke(app, ["report", "--state", str(path), "--since", "0001-01-01"])
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0].endswith("(2 days): 2") and lines[1] == "2 mentions dated after today are not counted."
    assert CliRunner().invoke(app, ["report", "--state", str(path), "--html", str(html)]).exit_code == 0
    assert "2 mentions dated after today are not counted." in html.read_text()
    ahead = Record("acme", (), "blog", None, "t", None, at(END + timedelta(days=1)))
    buffer = io.StringIO()
    Console(file=buffer, width=80, no_color=True).print(render_terminal(build_report([ahead], END, END, tz=UTC)))
    assert buffer.getvalue() == ("No mentions recorded from 2026-11-26 to 2026-11-26.\n"
                                 "1 mention dated after 2026-11-26 is not counted.\n")
    assert "dated after" not in render_html(build_report([], END, END, tz=UTC))


def test_share_of_voice_falls_back_to_keywords_without_tags(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with State(path) as state:
        state.record([make(1, "a", END), make(2, "a", END), make(3, "b", END)])
    assert report_of(path).share_by == "keyword" and report_of(path).share == (("a", 2), ("b", 1))


def test_keyword_filter_and_empty_periods(state_path: Path) -> None:
    with State(state_path) as state:
        records = load_records(state, at(END - timedelta(days=5), 0), ["globex"])
    report = build_report(records, END - timedelta(days=5), END, tz=UTC)
    assert list(report.volume) == ["globex"] and report.total == 3
    empty = build_report([], END - timedelta(days=3), END, tz=UTC)
    assert empty.total == 0 and "No mentions recorded in this period" in render_html(empty)
    assert "No mentions recorded from 2026-11-23 to 2026-11-26" in str(render_terminal(empty))


def test_sparkline_scales_and_buckets() -> None:
    assert sparkline([0, 1, 2, 4, 8], 10) == " ▁▂▄█"
    assert sparkline([1] * 60, 30) == "█" * 30


def test_terminal_report_as_a_person_sees_it(state_path: Path) -> None:
    import io

    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=80, no_color=True, force_terminal=False).print(
        render_terminal(report_of(state_path), width=80))
    out = buffer.getvalue()
    assert "Mentions from 2026-11-13 to 2026-11-26 (14 days): 25" in out
    assert "▲ 26 Nov  acme: 9 mentions (before: 1.0 ± 0.0 a day)" in out
    assert "brand" in out and "88%" in out  # 22 of 25
    assert all(len(line) <= 80 for line in out.splitlines())
    assert "\x1b" not in out


def test_cli_report_and_html(state_path: Path, tmp_path: Path) -> None:
    html = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", "--state", str(state_path), "--since", "60d", "--html",
                                      str(html)])
    assert result.exit_code == 0, result.output
    page = html.read_text()
    assert "<script" not in page.lower().replace("&lt;script", "")
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'href="javascript' not in page
    head = page.split("<body>")[0]
    assert "src=" not in head and "<link" not in head  # nothing loaded from elsewhere


@pytest.mark.parametrize("since", ["100000d", "1000000d", "10000000000000000000d", "0001-01-01"])
def test_cli_report_over_centuries_starts_at_the_first_mention(tmp_path: Path, since: str) -> None:
    path = tmp_path / "s.db"
    first = datetime.now(UTC) - timedelta(days=3)
    with State(path) as state:
        state.record([Mention(id="m", keyword="acme", tags=(), source="blog", source_type="feed", url=None,
                              title="t", author=None, published=first, found_at=first, terms=("Acme",),
                              count=1, snippet="s", lang=None)])
    result = CliRunner().invoke(app, ["report", "--state", str(path), "--since", since, "--html",
                                      str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    days = (date.today() - first.astimezone().date()).days + 1
    assert f"({days} days)" in (tmp_path / "r.html").read_text()


def test_cli_report_of_an_empty_state_over_centuries_is_one_day(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    State(path).close()
    result = CliRunner().invoke(app, ["report", "--state", str(path), "--since", "1000000d", "--html",
                                      str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert "(1 day)" in (tmp_path / "r.html").read_text()


def test_a_report_of_decades_draws_runs_of_days_and_names_years() -> None:
    """`report --since 100000d` ran for over 11 minutes (every day re-added all the days; were
    that back, this test would hang, not pass). Its speed is no assertion here: the shape is."""
    import io

    from rich.console import Console

    days = 40_000  # a mention dated a century back makes a period this long
    records = [Record("acme", (), "blog", None, "t", None, at(END - timedelta(days=back)))
               for back in range(0, days, 7)]
    report = build_report(records, END - timedelta(days=days), END, tz=UTC)
    buffer = io.StringIO()
    Console(file=buffer, width=80, no_color=True).print(render_terminal(report, width=80))
    page = render_html(report)
    assert page.count("<rect") <= 2 * 366  # a bar for a run of days
    assert "1917-05-" in buffer.getvalue()  # the axis names years


def test_cli_report_without_a_state_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", "--state", str(tmp_path / "none.db")])
    assert result.exit_code == 2 and "run `mentions scan` first" in result.stderr


@pytest.mark.parametrize("target", ["state.db", "state.db-wal", "state.db-shm", "state.db.lock", "mentions.yaml",
                                    "link.db", "sub/../state.db"])
def test_html_never_overwrites_the_state_its_files_or_the_config(state_path: Path, target: str) -> None:
    """`report --html state.db` wrote the report over the state it had just read."""
    folder = state_path.parent
    config = write_config(folder, {"blog": "http://127.0.0.1:9/feed"})  # state: ./state.db
    (folder / "link.db").symlink_to(state_path)
    (folder / "sub").mkdir()
    with State(state_path, lock_wait=0):  # a scan runs: its -wal, -shm and lock exist
        before = {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}
        result = CliRunner().invoke(app, ["report", "-c", str(config), "--html", str(folder / target)])
        assert {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()} == before
    assert result.exit_code == 2
    what = {"state.db-wal": "the -wal file of the state", "state.db-shm": "the -shm file of the state",
            "state.db.lock": "the lock file of the state", "mentions.yaml": "the config file"}.get(
                target, "the state file")
    named = config if target == "mentions.yaml" else state_path
    assert result.stderr == f"mentions: --html {folder / target} is {what} {named}; write the report to another file\n"
    assert len(report_of(state_path).days) == 14


def test_html_overwrites_an_earlier_report(state_path: Path, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    html.write_text("an earlier report")
    result = CliRunner().invoke(app, ["report", "--state", str(state_path), "--html", str(html)])
    assert result.exit_code == 0, result.output
    assert html.read_text().startswith("<!DOCTYPE html>")


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.skip("no headless Chromium installed")


def test_html_report_in_headless_chromium(state_path: Path, tmp_path: Path) -> None:
    browser = chromium()
    page = tmp_path / "report.html"
    page.write_text(render_html(report_of(state_path, 30)), encoding="utf-8")
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--user-data-dir={tmp_path / 'p'}",
         "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
        capture_output=True, timeout=90, check=False, text=True,
    )
    dom = result.stdout
    assert result.returncode == 0 and "</html>" in dom
    assert ":CONSOLE" not in result.stderr  # no script errors, no CSP violations
    assert dom.count("<rect") == 30 * 3  # acme, globex, all keywords: one bar per day
    assert "<img" not in dom and dom.lower().count("<script") == 0  # the hostile title stays text
    assert "&lt;img src=x onerror=alert(1)&gt;&lt;/script&gt;&lt;script&gt;alert(2)" in dom
    assert 'href="javascript' not in dom


@pytest.mark.parametrize("first", ["a date and a time of that date", "a find at midnight UTC"])
def test_where_the_data_begins_is_the_earliest_day_as_the_reader_counts_days(tmp_path: Path, first: str) -> None:
    """In New York, a post at D 03:00Z is on D-1, earlier than a post dated D alone; and a
    mention found at 00:00:00Z without a date is a time, not a date. The data's beginning
    was taken as D, and a burst on D+6 after a mention a day went unjudged (under 7 days)."""
    from zoneinfo import ZoneInfo

    from mentions.report import first_moments

    def utc(day: date, hour: int) -> datetime:
        return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)

    today = date.today()
    d = today - timedelta(days=20)
    if first == "a find at midnight UTC":
        mentions = [replace(make(0, "acme", d), published=None, found_at=utc(d, 0))]
    else:
        mentions = [replace(make(0, "acme", d), published=utc(d, 3)), replace(make(1, "acme", d), published=utc(d, 0))]
    mentions += [replace(make(10 + k, "acme", d), published=utc(d + timedelta(days=k), 17)) for k in range(1, 6)]
    mentions += [replace(make(20 + n, "acme", d), published=utc(d + timedelta(days=6), 17)) for n in range(10)]
    path = tmp_path / "s.db"
    with State(path) as state:
        state.record(mentions)
    with State(path) as state:
        begun = first_moments(state)
        records = load_records(state, datetime.now(UTC) - timedelta(days=30))
    report = build_report(records, d - timedelta(days=1), today, tz=ZoneInfo("America/New_York"), begun=begun)
    assert [(spike.day, spike.count) for spike in report.spikes] == [(d + timedelta(days=6), 10)]


def pub_date(day: date) -> str:
    """The RSS date of local noon on `day`."""
    from email.utils import format_datetime

    return format_datetime(local_noon(day).astimezone(UTC), usegmt=True)


def seed_then_scan(site: LocalSite, folder: Path) -> Path:
    """A new setup: a feed with a post a day for a fortnight (five on one day, three days
    ago) and 40 old threads without a date, taken in by `scan --seed` today; then a scan
    finds two new undated threads. Returns the config."""
    today = date.today()
    dated = [Item(f"Dated {back}", "Acme", f"http://x.org/d{back}", date=pub_date(today - timedelta(days=back)))
             for back in range(1, 15)]
    dated += [Item(f"Burst {n}", "Acme", f"http://x.org/b{n}", date=pub_date(today - timedelta(days=3)))
              for n in range(4)]
    old = [Item(f"Old thread {n}", "Acme", f"http://x.org/old{n}", date=None) for n in range(40)]
    config = write_config(folder, {"forum": site.add("/feed", rss(dated + old), content_type=RSS)})
    seeded = scan(config, "--seed")
    assert (seeded.code, seeded.stdout) == (0, "")
    new = [Item(f"New thread {n}", "Acme", f"http://x.org/new{n}", date=None) for n in range(2)]
    site.add("/feed", rss(new + dated + old), content_type=RSS)
    assert scan(config).titles == ["New thread 0", "New thread 1"]
    return config


def test_a_seed_of_undated_posts_is_no_spike_and_is_said_to_be_left_out(site: LocalSite, tmp_path: Path) -> None:
    """The 40 undated threads a seed took in counted on the seed's day: "acme: 42 mentions",
    a spike that never happened. They count on no day now, and the report says so; the seed's
    dated posts count on their days (the real burst three days ago stays a spike), and the
    undated threads found after the seed count on the day they were found."""
    config = seed_then_scan(site, tmp_path)
    today = date.today()
    html = tmp_path / "r.html"
    shown = CliRunner().invoke(app, ["report", "-c", str(config), "--since", "30d"])
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0].endswith("(15 days): 20")  # 14 + 4 dated, 2 new
    assert lines[1] == "40 mentions recorded by `scan --seed` have no date and are not counted."
    burst = (today - timedelta(days=3)).strftime("%d %b")
    assert [line.strip() for line in lines if line.startswith("▲")] == [
        f"▲ {burst}  acme: 5 mentions (before: 1.0 ± 0.0 a day)"]
    assert CliRunner().invoke(app, ["report", "-c", str(config), "--html", str(html)]).exit_code == 0
    assert "40 mentions recorded by `scan --seed` have no date and are not counted." in html.read_text()
    with State(tmp_path / "state.db") as state:
        records = load_records(state, at(today - timedelta(days=29), 0))
    report = build_report(records, today - timedelta(days=14), today)
    assert report.volume["acme"] == (1,) * 11 + (5, 1, 1, 2)
    assert report.seeded_undated == 40 and len(report.latest) == 20
    # `history` shows what was recorded, the seed's undated threads too (found today)
    everything = invoke("history", "-c", str(config))
    assert len(everything.records) == 60
    assert sum(title.startswith("Old thread") for title in invoke("history", "-c", str(config), "--since",
                                                                  "1h").titles) == 40


def test_a_seed_burst_neither_makes_a_spike_nor_hides_a_later_one() -> None:
    """Counted on the seed's day, 340 undated old posts were a spike ("12x the usual"), and
    for two weeks after it a real burst looked small beside them."""
    seed_day = END - timedelta(days=10)
    records = [Record("acme", (), "blog", None, "t", None, at(END - timedelta(days=back)))
               for back in range(1, 40)]
    old = Record("acme", (), "forum", None, "old", None, at(seed_day), is_undated=True, is_seeded=True)
    records += [old] * 340
    records += [Record("acme", (), "news", None, "new", None, at(END)) for _ in range(6)]
    report = build_report(records, END - timedelta(days=29), END, tz=UTC)
    assert [(spike.day, spike.count) for spike in report.spikes] == [(END, 6)]
    assert report.volume["acme"][-11] == 1 and report.total == 29 + 6
    assert report.seeded_undated == 340 and dict(report.sources) == {"blog": 29, "news": 6}
    buffer = io.StringIO()
    Console(file=buffer, width=80, no_color=True).print(render_terminal(report))
    assert buffer.getvalue().splitlines()[1] == (
        "340 mentions recorded by `scan --seed` have no date and are not counted.")
    alone = build_report([old], seed_day, seed_day, tz=UTC)
    assert render_html(alone).count("1 mention recorded by `scan --seed` has no date and is not counted.") == 1
    assert build_report(records, END - timedelta(days=5), END, tz=UTC).seeded_undated == 0  # seeded before


def test_a_state_written_before_schema_5_reports_as_it_did(tmp_path: Path) -> None:
    """A state of the previous version: readers leave its upgrade to the next scan; then its
    undated mentions count on the day they were found, as they did, even a burst of them
    (which of them a seed recorded, that version did not write down)."""
    import sqlite3

    from mentions.dates import rfc3339
    from mentions.state.schema import DIALECTS, MIGRATIONS

    today = date.today()
    mentions = [replace(make(back, "acme", today), published=local_noon(today - timedelta(days=back)),
                        found_at=local_noon(today - timedelta(days=back)))
                for back in range(1, 20)]
    mentions += [replace(make(100 + n, "acme", today), published=None, found_at=local_noon(today - timedelta(days=2)))
                 for n in range(30)]
    path = tmp_path / "state.db"
    db = sqlite3.connect(path)
    for migration in MIGRATIONS[:4]:
        db.executescript(migration.format(**DIALECTS["sqlite"]))
    for m in mentions:
        db.execute("INSERT INTO mentions (id, keyword, source, source_type, url, title, author, published, "
                   "found_at, terms, count, snippet, lang, tags) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   (m.id, m.keyword, m.source, m.source_type, m.url, m.title, m.author, rfc3339(m.published),
                    rfc3339(m.found_at), '["acme"]', 1, "s", None, "[]"))
    db.execute("PRAGMA user_version = 4")
    db.commit()
    db.close()
    fresh = tmp_path / "fresh.db"
    with State(fresh) as state:
        state.record(mentions)
    config = write_config(tmp_path, {"blog": "http://127.0.0.1:9/feed"})  # state: ./state.db
    before = CliRunner().invoke(app, ["report", "-c", str(config)])
    assert before.exit_code == 2 and "must upgrade it first" in before.stderr
    assert CliRunner().invoke(app, ["scan", "-c", str(config), "--source", "blog"]).exit_code == 1
    after = CliRunner().invoke(app, ["report", "-c", str(config)])
    expected = CliRunner().invoke(app, ["report", "--state", str(fresh)])
    assert (after.exit_code, after.stdout) == (0, expected.stdout)
    assert "acme: 31 mentions" in after.stdout and "scan --seed" not in after.stdout
