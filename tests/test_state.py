"""The state file itself: migrations, refusing newer files, damaged files, backoff, health."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mentions.errors import StateError
from mentions.models import Mention
from mentions.state import SCHEMA_VERSION, BackoffPolicy, SourceHealth, State
from mentions.state.database import connect
from mentions.state.schema import DIALECTS, MIGRATIONS
from tests.conftest import run_cli
from tests.localsite import LocalSite
from tests.state_helpers import Item, invoke, rss, scan, write_config

RSS = "application/rss+xml"
NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


def mention(id_: str, keyword: str = "acme", found_at: datetime = NOW) -> Mention:
    return Mention(id=id_, keyword=keyword, tags=("brand",), source="blog", source_type="feed",
                   url=f"http://x.org/{id_}", title=f"Title {id_}", author=None, published=None,
                   found_at=found_at, terms=("Acme",), count=1, snippet="… Acme …", lang="de")


def test_a_version_1_file_migrates_forward_and_keeps_its_mentions(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0].format(**DIALECTS["sqlite"]))
    db.execute("INSERT INTO mentions VALUES ('m1','acme','blog','feed',NULL,'t',NULL,NULL,"
               "'2026-01-01T00:00:00Z','[\"Acme\"]',1,'s',NULL,'[]')")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with State(path) as state:
        assert state.seen([mention("m1"), mention("m2")]) == {"m1"}
        assert [m.id for m in state.mentions()] == ["m1"]
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    check.close()


def test_a_schema_4_state_migrates_and_its_mentions_count_as_not_seeded(state_location: Path | str) -> None:
    """A state written before `is_seeded` existed (schema 4) keeps its mentions, none of them
    taken as seeded (which ones a seed recorded is written nowhere, and so the report counts
    them as it did); what a seed records from then on is marked."""
    db = connect(state_location)
    db.begin()
    for migration in MIGRATIONS[:4]:
        for statement in migration.format(**DIALECTS[db.dialect]).split(";"):
            if statement.strip():
                db.execute(statement)
    db.execute("INSERT INTO mentions (id, keyword, source, source_type, url, title, author, published, "
               "found_at, terms, count, snippet, lang, tags, fingerprint) VALUES "
               "('old','acme','blog','feed',NULL,'t',NULL,NULL,'2026-01-01T00:00:00Z','[\"Acme\"]',1,'s',"
               "NULL,'[]','print-old')")
    db.set_schema_version(4)
    db.commit()
    db.close()
    with State(state_location) as state:
        assert state.seen([mention("copy")], {"copy": "print-old"}) == {"copy"}
        state.record([mention("seeded")], is_seed=True)
        state.deliver("blog", [mention("scanned")], {}, [], error=None, status="ok", http_status=200, items=1)
        state.deliver("blog", [mention("also-seeded")], {}, [], error=None, status="ok", http_status=200,
                      items=1, is_seed=True)
        assert [m.id for m in state.mentions()] == ["old", "seeded", "scanned", "also-seeded"]
    check = connect(state_location)
    try:
        assert check.schema_version() == SCHEMA_VERSION
        assert dict(check.execute("SELECT id, is_seeded FROM mentions").fetchall()) == {
            "old": 0, "seeded": 1, "scanned": 0, "also-seeded": 1}
    finally:
        check.close()


def test_a_newer_state_is_refused_with_one_sentence(site: LocalSite, tmp_path: Path) -> None:
    config = write_config(tmp_path, {"blog": site.add("/f", rss([]), content_type=RSS)})
    db = sqlite3.connect(tmp_path / "state.db")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    done = run_cli("scan", "-c", str(config))
    assert done.returncode == 2
    assert b"written by a newer mentions" in done.stderr
    assert b"Traceback" not in done.stderr
    assert site.requests["/f"] == 0


@pytest.mark.parametrize("command", [("scan",), ("sources",), ("history",), ("prune", "--older-than", "1d")])
@pytest.mark.parametrize("content", [b"not a database\n" * 100, b"SQLite format 3\x00" + b"\xff" * 5000])
def test_a_damaged_state_file_is_one_sentence_and_exit_2(tmp_path: Path, command: tuple[str, ...],
                                                        content: bytes) -> None:
    config = write_config(tmp_path, {"blog": "http://127.0.0.1:9/feed"})
    (tmp_path / "state.db").write_bytes(content)
    result = invoke(*command, "-c", str(config))
    assert result.code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mentions: ") and "state" in lines[0]


def test_a_folder_given_as_state_is_one_sentence(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"blog": "http://127.0.0.1:9/feed"})
    for command in ("scan", "history", "sources"):
        result = invoke(command, "-c", str(config), "--state", str(tmp_path))
        assert result.code == 2, command
        assert result.stderr.startswith("mentions: ")


def test_seen_by_id_or_by_the_same_text_under_the_same_keyword(state_location: Path | str) -> None:
    with State(state_location) as state:
        state.record([mention("a"), mention("b", "globex")], {"a": "print-1", "b": "print-1"})
        copies = [mention("a"), mention("c"), mention("d", "globex"), mention("e", "other")]
        prints = {"c": "print-1", "d": "print-2", "e": "print-1"}
        assert state.seen(copies, prints) == {"a", "c"}


def test_seen_by_text_among_a_thousand_copies(state_location: Path | str) -> None:
    """A feed of a thousand syndicated posts, a third seen before: each copy is found, and
    only under its own keyword (more ids than one query takes)."""
    with State(state_location) as state:
        state.record([mention(f"old{n}") for n in range(0, 1000, 3)], {f"old{n}": f"print-{n}" for n in range(0, 1000, 3)})
        copies = [mention(f"new{n}") for n in range(1000)] + [mention("other0", "globex")]
        prints = {f"new{n}": f"print-{n}" for n in range(1000)} | {"other0": "print-0"}
        assert state.seen(copies, prints) == {f"new{n}" for n in range(0, 1000, 3)}


def _committed(location: Path | str) -> set[str]:
    """What another reader of the state (`mentions history` during a scan) sees."""
    db = connect(location)
    try:
        return {row[0] for row in db.execute("SELECT id FROM mentions")}
    finally:
        db.close()


def test_grouped_commits_commit_on_request_and_at_the_end_even_after_an_error(
    state_location: Path | str,
) -> None:
    path = state_location
    with State(path) as state:
        with pytest.raises(RuntimeError), state.grouped_commits(seconds=3600):
            state.record([mention("a")])
            assert _committed(path) == set()  # grouped: not yet
            state.commit()
            assert _committed(path) == {"a"}
            state.record([mention("b")])
            raise RuntimeError("the reader went away")
        assert _committed(path) == {"a", "b"}  # written before the error: recorded


def test_a_failing_change_in_a_group_is_undone_alone(state_location: Path | str) -> None:
    path = state_location
    with State(path) as state, state.grouped_commits(seconds=3600):
        state.record([mention("a")])
        with pytest.raises(StateError):
            # a validators row the database refuses, after the delivery's mention went in
            broken = [("http://x.org/feed",)]
            state.deliver("blog", [mention("b")], {}, broken, error=None, status="ok",  # type: ignore[arg-type]
                          http_status=200, items=1)
        state.record([mention("c")])
    assert _committed(path) == {"a", "c"}


def test_withdraw_forgets_mentions_with_their_fingerprints_validators_and_page_notes(
    state_location: Path | str,
) -> None:
    """Lines left unread in a pipe: their mentions go, committed or not, and with them what
    would hide them from the next run (their text fingerprints, their sources' validators, a
    note under their page's URL); the rest of what was recorded stays."""
    with State(state_location) as state:
        state.deliver("blog", [mention("kept"), mention("gone")], {"kept": "p-kept", "gone": "p-gone"},
                      [("http://x.org/feed", '"v1"', None)], notes=[("http://x.org/gone", "t1"), ("other", "t2")],
                      error=None, status="ok", http_status=200, items=2)
        state.deliver("news", [replace(mention("news"), source="news")], {}, [("http://x.org/news", '"v2"', None)],
                      error=None, status="ok", http_status=200, items=1)
        state.record([mention("later")])  # the source in flight: recorded without validators
        state.withdraw(["gone", "later", "never-recorded"])
        assert {m.id for m in state.mentions()} == {"kept", "news"}
        assert state.seen([mention("copy-of-gone"), mention("copy-of-kept")],
                          {"copy-of-gone": "p-gone", "copy-of-kept": "p-kept"}) == {"copy-of-kept"}
        assert state.validators("blog", "http://x.org/feed") == (None, None)
        assert state.validators("news", "http://x.org/news") == ('"v2"', None)
        assert state.notes("blog") == {"other": "t2"}
    assert _committed(state_location) == {"kept", "news"}


def test_prune_forgets_old_mentions_but_never_reports_them_again(state_location: Path | str) -> None:
    with State(state_location) as state:
        state.record([mention("old", found_at=NOW - timedelta(days=200)), mention("new")], {"old": "p-old"})
        assert state.prune(NOW - timedelta(days=180), is_dry_run=True) == 1
        assert state.prune(NOW - timedelta(days=180)) == 1
        assert [m.id for m in state.mentions()] == ["new"]
        assert state.seen([mention("old"), mention("copy")], {"copy": "p-old"}) == {"old", "copy"}
        assert state.prune(NOW - timedelta(days=180)) == 0


def test_a_pruned_mention_keeps_the_time_it_was_first_found(state_location: Path | str) -> None:
    """`scan --all` shows a pruned mention again: with its first `found_at`, not now."""
    first = NOW - timedelta(days=200)
    with State(state_location) as state:
        state.record([mention("old", found_at=first), mention("twin", found_at=first)], {"twin": "p-twin"})
        assert state.prune(NOW - timedelta(days=180)) == 2
        copy = mention("copy", found_at=NOW)  # the same text at another URL
        assert state.first_found([mention("old", found_at=NOW), copy], {"copy": "p-twin"}) == {
            "old": first, "copy": first}


def test_health_counts_failures_in_a_row_and_remembers_when_they_began(state_location: Path | str) -> None:
    with State(state_location) as state:
        state.update_health("a", error=None, status="ok", items=3, http_status=200)
        state.update_health("a", error="http status: HTTP 503", status="failed", items=0, http_status=503)
        first = state.health("a")
        state.update_health("a", error="timeout", status="failed", items=0)
        second = state.health("a")
        assert first is not None and second is not None
        assert (second.failures, second.last_error) == (2, "timeout")
        assert second.failing_since == first.last_attempt
        assert second.last_success is not None
        state.update_health("a", error=None, status="ok", items=1, http_status=200)
        healed = state.health("a")
        assert healed is not None
        assert (healed.failures, healed.failing_since, healed.last_error) == (0, None, None)


def test_a_failure_after_the_source_changed_starts_a_new_streak(state_location: Path | str) -> None:
    with State(state_location) as state:
        for _ in range(3):
            state.update_health("a", error="timeout", status="failed", items=0, definition_digest="old")
        state.db.begin()
        state.db.execute("UPDATE sources SET failing_since = '2026-01-01T00:00:00Z'")
        state.db.commit()
        before = state.health("a")
        state.update_health("a", error="timeout", status="failed", items=0)  # unknown: unchanged
        same = state.health("a")
        state.update_health("a", error="HTTP 404", status="failed", items=0, definition_digest="new")
        changed = state.health("a")
        assert before is not None and same is not None and changed is not None
        assert (before.failures, same.failures, same.definition_digest) == (3, 4, "old")
        assert same.failing_since == "2026-01-01T00:00:00Z"
        assert (changed.failures, changed.definition_digest) == (1, "new")
        assert changed.failing_since == changed.last_attempt
        assert changed.is_changed("newer") and not changed.is_changed("new") and not changed.is_changed(None)
        state.update_health("a", error=None, status="ok", items=1, http_status=200)
        healed = state.health("a")
        assert healed is not None and healed.definition_digest is None


def health(failures: int, minutes_ago: float) -> SourceHealth:
    last = (NOW - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")
    return SourceHealth("s", last, None, "failed", 0, failures, "timeout")


@pytest.mark.parametrize(
    ("failures", "minutes_ago", "is_due"),
    [
        (0, 0, True),
        (2, 0, True),      # below `after`: every run
        (3, 29, False),    # third failure: wait 30 min
        (3, 31, True),
        (4, 59, False),    # then 60 min
        (4, 61, True),
        (30, 60 * 23, False),  # capped at 1 day
        (30, 60 * 24 + 1, True),
    ],
)
def test_backoff_doubles_up_to_its_limit(failures: int, minutes_ago: float, is_due: bool) -> None:
    policy = BackoffPolicy(after=3, delay=1800, longest=86400)
    assert policy.is_due(health(failures, minutes_ago), NOW) is is_due


def test_backoff_zero_means_never_skip() -> None:
    assert BackoffPolicy(after=0).is_due(health(100, 0), NOW)


def test_errors_from_the_database_become_state_errors(state_location: Path | str) -> None:
    state = State(state_location)
    state.close()
    with pytest.raises(StateError, match="cannot be used"):
        state.record([mention("x")])


def test_a_failing_source_backs_off_and_force_tries_it(site: LocalSite, tmp_path: Path) -> None:
    site.add("/dead", "gone", status=404)
    good = site.add("/ok", rss([Item("One", "Acme one", "http://x.org/1")]), content_type=RSS)
    config = write_config(tmp_path, {"dead": site.url("/dead"), "good": good},
                          extra="backoff: {after: 2, delay: 1h, max: 1d}\n")
    assert scan(config).code == 1
    assert scan(config).code == 1
    quiet = scan(config)
    assert (quiet.code, quiet.stderr) == (1, "")  # still failing, not fetched: named when it began
    skipped = scan(config, "-v")
    assert skipped.code == 1
    assert site.requests["/dead"] == 2
    assert "'dead' skipped" in skipped.stderr and "--force" in skipped.stderr
    assert scan(config, "--force").code == 1
    assert site.requests["/dead"] == 3
    site.add("/dead", rss([]), content_type=RSS)
    assert scan(config, "--force").code == 0
    assert scan(config).code == 0
    assert site.requests["/dead"] == 5


def test_a_source_backing_off_makes_the_scan_exit_1_and_the_others_are_still_written(
    site: LocalSite, tmp_path: Path,
) -> None:
    """Exit 0 means every source was fetched and parsed: one skipped because it keeps failing
    was not, so the scan exits 1 (as on the runs that tried it), quietly, and the mentions of
    the others are written and recorded. --seed and --dry-run exit the same way."""
    site.add("/down", "gone", status=404)  # not retried within a run
    news = [Item("One", "Acme one", "http://x.org/1")]
    good = site.add("/ok", rss(news), content_type=RSS)
    config = write_config(tmp_path, {"down": site.url("/down"), "good": good})
    for _ in range(3):  # the default backoff: after 3 failures in a row
        assert scan(config).code == 1
    assert site.requests["/down"] == 3
    news.append(Item("Two", "Acme two", "http://x.org/2"))
    site.add("/ok", rss(news), content_type=RSS)
    skipping = scan(config)
    assert site.requests["/down"] == 3  # backing off: not fetched
    assert (skipping.code, skipping.stderr) == (1, "")  # named when it began, not on every run
    assert skipping.titles == ["Two"]
    with State(tmp_path / "state.db") as state:
        assert [m.title for m in state.mentions()] == ["One", "Two"]
    news.append(Item("Three", "Acme three", "http://x.org/3"))
    site.add("/ok", rss(news), content_type=RSS)
    dry = scan(config, "--dry-run")
    assert (dry.code, dry.titles) == (1, ["Three"])
    seed = scan(config, "--seed")
    assert (seed.code, seed.records, seed.stderr) == (1, [], "")
    assert site.requests["/down"] == 3
    with State(tmp_path / "state.db") as state:
        assert [m.title for m in state.mentions()] == ["One", "Two", "Three"]
        assert state.db.execute("SELECT skipped FROM runs ORDER BY id").fetchall()[-2:] == [(1,), (1,)]


def _listed(config: Path) -> dict[str, dict[str, object]]:
    """`mentions sources --format jsonl`, by source name."""
    return {row["name"]: row for row in invoke("sources", "-c", str(config), "--format", "jsonl").records}


def test_a_source_fixed_in_the_config_is_fetched_on_the_next_scan_despite_its_backoff(
    site: LocalSite, tmp_path: Path,
) -> None:
    """Health is kept by name: a source backing off stayed skipped after the user gave it a
    working URL, until its backoff ran out. Edited since it failed, it is tried at once."""
    site.add("/moved", "gone", status=404)
    good = site.add("/ok", rss([Item("One", "Acme one", "http://x.org/1")]), content_type=RSS)
    config = write_config(tmp_path, {"blog": site.url("/moved"), "good": good})
    for _ in range(4):  # three failures, then backing off
        assert scan(config).code == 1
    assert site.requests["/moved"] == 3
    assert _listed(config)["blog"]["retry_at"] is not None
    fixed = site.add("/new-home", rss([Item("Moved", "Acme moved", "http://x.org/2")]), content_type=RSS)
    config = write_config(tmp_path, {"blog": fixed, "good": good})
    listed = _listed(config)["blog"]
    assert (listed["failures"], listed["retry_at"]) == (3, None)  # tried on the next scan
    assert "next scan" in invoke("sources", "-c", str(config), "--format", "table").stdout
    again = scan(config)
    assert (again.code, again.titles) == (0, ["Moved"])
    assert site.requests["/new-home"] == 1
    assert "'blog' works again" in again.stderr
    assert _listed(config)["blog"]["failures"] == 0


def test_a_changed_token_counts_as_a_change_and_only_its_digest_is_stored(
    site: LocalSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A source whose `${ENV}` token was rotated is tried again at once; if it still fails,
    its failure streak starts anew (it is another source now). The state keeps a digest of
    the definition, never the token."""
    site.add("/api", "no", status=404)
    config = tmp_path / "mentions.yaml"
    config.write_text(
        "version: 1\nstate: ./state.db\nhttp: {delay: 0, robots: false}\n"
        "keywords: [{name: acme, terms: [Acme]}]\n"
        f"sources:\n  - {{name: api, feed: {json.dumps(site.url('/api'))}, headers: {{X-Token: '${{TOKEN}}'}}}}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("TOKEN", "old-token-4711")
    for _ in range(4):
        assert scan(config).code == 1
    assert site.requests["/api"] == 3  # backing off
    with State(tmp_path / "state.db") as state:
        before = state.health("api")
    monkeypatch.setenv("TOKEN", "new-token-0815")
    assert _listed(config)["api"]["retry_at"] is None
    rotated = scan(config)
    assert (rotated.code, rotated.stderr) == (1, "")  # tried; the same 404: named before
    assert site.requests["/api"] == 4
    assert _listed(config)["api"]["failures"] == 1  # a new streak: not backing off yet
    assert scan(config).code == 1
    assert site.requests["/api"] == 5
    db = sqlite3.connect(tmp_path / "state.db")
    dump = "\n".join(db.iterdump())
    db.close()
    assert "token-4711" not in dump and "token-0815" not in dump
    with State(tmp_path / "state.db") as state:
        health = state.health("api")
        assert health is not None and health.definition_digest is not None
        assert len(health.definition_digest) == 64
    # Only 8 bits of the digest depend on the token: a copy of the state cannot be used to
    # guess a short secret offline, as a digest over all of it would allow.
    assert before is not None and before.definition_digest is not None
    assert health.definition_digest[:62] == before.definition_digest[:62]
    assert health.definition_digest[62:] != before.definition_digest[62:]


def test_a_schema_5_state_migrates_and_its_failing_sources_back_off_as_before(
    site: LocalSite, tmp_path: Path, state_location: Path | str,
) -> None:
    """Health written before schema 6 knows nothing of what a source was when it failed: the
    source counts as unchanged and backs off as it did, whatever the config says now."""
    db = connect(state_location)
    db.begin()
    for migration in MIGRATIONS[:5]:
        for statement in migration.format(**DIALECTS[db.dialect]).split(";"):
            if statement.strip():
                db.execute(statement)
    just_now = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    db.execute("INSERT INTO sources (name, last_attempt, last_success, status, items, failures, last_error, "
               "http_status, failing_since) VALUES ('blog', ?, NULL, 'failed', 0, 3, "
               "'http status: HTTP 404', 404, ?)", (just_now, just_now))
    db.set_schema_version(5)
    db.commit()
    db.close()
    blog = site.add("/blog", rss([Item("Blog", "Acme blog", "http://x.org/b")]), content_type=RSS)
    good = site.add("/ok", rss([Item("One", "Acme one", "http://x.org/1")]), content_type=RSS)
    config = write_config(tmp_path, {"blog": blog, "good": good})
    skipping = scan(config, "--state", str(state_location))
    assert (skipping.code, skipping.titles) == (1, ["One"])
    assert site.requests["/blog"] == 0
    check = connect(state_location)
    try:
        assert check.schema_version() == SCHEMA_VERSION
        assert check.execute("SELECT failures, definition_digest FROM sources WHERE name = 'blog'"
                             ).fetchall() == [(3, None)]
    finally:
        check.close()
    forced = scan(config, "--state", str(state_location), "--force")
    assert (forced.code, forced.titles) == (0, ["Blog"])
