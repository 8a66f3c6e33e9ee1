"""A state in PostgreSQL (`state: postgresql://...`), on a real server: the commands a team
sharing one state runs, the scan lock across processes, and what a user sees when it fails."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

if not os.environ.get("CI"):  # in CI a missing driver must fail, not skip (see conftest)
    pytest.importorskip("psycopg")
import psycopg

from mentions.state import SCHEMA_VERSION, State
from tests.conftest import run_cli
from tests.localsite import LocalSite
from tests.state_helpers import Item, invoke, rss, scan, write_config

RSS = "application/rss+xml"
ITEMS = [
    Item("Acme opens a shop", "Acme opens its first shop in Berlin.", link="http://example.org/1"),
    Item("Weather", "Rain all day, nothing about brands.", link="http://example.org/2"),
    Item("Acme and Globex", "Acme beats Globex on price.", link="http://example.org/3"),
]


def config_with_state(tmp_path: Path, site: LocalSite, url: str) -> Path:
    feed = site.add("/feed", rss(ITEMS), content_type=RSS)
    config = write_config(tmp_path, {"blog": feed}, {"acme": ["Acme"], "globex": ["Globex"]})
    text = config.read_text().replace("state: ./state.db", f"state: {json.dumps(url)}")
    config.write_text(text)
    return config


def test_scan_history_sources_report_and_prune_share_one_database(
    site: LocalSite, tmp_path: Path, postgres_url: str
) -> None:
    config = config_with_state(tmp_path, site, postgres_url)
    first = scan(config)
    assert first.code == 0, first.stderr
    assert sorted((r["keyword"], r["title"]) for r in first.records) == [
        ("acme", "Acme and Globex"), ("acme", "Acme opens a shop"), ("globex", "Acme and Globex")]
    again = scan(config)
    assert (again.code, again.records) == (0, [])
    assert not (tmp_path / "state.db").exists()  # nothing went to a file instead

    history = invoke("history", "--state", postgres_url, "--format", "jsonl")
    assert sorted(history.ids) == sorted(first.ids)
    sources = invoke("sources", "-c", str(config), "--format", "jsonl")
    [blog] = sources.records
    # The rescan's conditional request got a 304: the validators live in the database too.
    assert (blog["name"], blog["status"], blog["failures"]) == ("blog", "unchanged", 0)
    assert blog["last_success"] is not None
    report = invoke("report", "-c", str(config), "--since", "30d")
    assert report.code == 0, report.stderr
    assert "acme" in report.stdout and "globex" in report.stdout

    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("UPDATE mentions SET found_at = '2026-01-01T00:00:00Z'")
    pruned = invoke("prune", "--older-than", "1d", "--state", postgres_url)
    assert pruned.code == 0, pruned.stderr
    assert "forgot 3 mentions" in pruned.stdout
    assert invoke("history", "--state", postgres_url, "--format", "jsonl").records == []
    assert scan(config).records == []  # forgotten, never reported again
    assert [r["id"] for r in scan(config, "--all").records] != []


def test_a_second_scan_on_the_same_database_is_refused_with_exit_3(
    site: LocalSite, tmp_path: Path, postgres_url: str
) -> None:
    """Two machines of a team, one state: the advisory lock keeps their scans apart."""
    config = config_with_state(tmp_path, site, postgres_url)
    with State(postgres_url, lock_wait=0):
        done = run_cli("scan", "-c", str(config), "--format", "jsonl")
        assert done.returncode == 3
        message = done.stderr.decode()
        assert "is in use by another scan (pid " in message and "--wait" in message
        assert message.count("\n") == 1
        assert done.stdout == b""
        assert site.requests["/feed"] == 0
    done = run_cli("scan", "-c", str(config), "--format", "jsonl")
    assert done.returncode == 0
    assert len(done.stdout.splitlines()) == 3


def test_a_scan_killed_holding_the_lock_does_not_block_the_next(
    site: LocalSite, tmp_path: Path, postgres_url: str
) -> None:
    """The server drops a session's advisory locks when its connection ends, however it ends."""
    config = config_with_state(tmp_path, site, postgres_url)
    holder = State(postgres_url, lock_wait=0)
    holder.db.close()  # as a killed process's connection would be closed
    assert scan(config).code == 0


def test_fresh_databases_opened_at_once_are_migrated_once(postgres_url: str) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_state() -> None:
        try:
            start.wait()
            State(postgres_url).close()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=open_state) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with psycopg.connect(postgres_url) as db:
        assert db.execute("SELECT version FROM mentions_schema").fetchall() == [(SCHEMA_VERSION,)]


def test_a_database_written_by_a_newer_mentions_is_refused(
    site: LocalSite, tmp_path: Path, postgres_url: str
) -> None:
    State(postgres_url).close()
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("UPDATE mentions_schema SET version = %s", (SCHEMA_VERSION + 1,))
    config = config_with_state(tmp_path, site, postgres_url)
    done = run_cli("scan", "-c", str(config))
    assert done.returncode == 2
    assert b"written by a newer mentions" in done.stderr
    assert b"Traceback" not in done.stderr
    assert site.requests["/feed"] == 0


@pytest.mark.parametrize("command", [("scan",), ("history",), ("sources",), ("prune", "--older-than", "1d")])
def test_an_unreachable_database_is_one_sentence_without_the_password(
    site: LocalSite, tmp_path: Path, command: tuple[str, ...]
) -> None:
    url = (f"postgresql://scanner:Sup3rSecretPw@/mentions?host={tmp_path}/no-server&connect_timeout=2"
           "&password=Qu3rySecretPw")
    config = config_with_state(tmp_path, site, url)
    done = run_cli(*command, "-c", str(config))
    assert done.returncode == 2
    message = done.stderr.decode()
    assert message.startswith("mentions: cannot connect to the state database postgresql://scanner:***@")
    assert message.count("\n") == 1
    assert "Sup3rSecretPw" not in message and "Qu3rySecretPw" not in message
    assert "Traceback" not in message


@pytest.mark.parametrize(("password", "rest"), [
    ("Pw1#cdSECRET", "/mentions?host={tmp}/no-server&connect_timeout=2"),  # unencoded `#`
    ("Pw1/cdSECRET", "/mentions?host={tmp}/no-server&connect_timeout=2"),  # libpq: port "Pw1"
    ("Pw1?cdSECRET", "/mentions?host={tmp}/no-server&connect_timeout=2"),
    ("Pw1@cdSECRET", "/mentions?host={tmp}/no-server&connect_timeout=2"),
    ("50%offSECRET", "/mentions?host={tmp}/no-server"),  # libpq quotes the bad %-token
    ("Pw1cdSECRET", "[::1/mentions"),  # libpq quotes the whole URL
])
def test_a_password_libpq_cannot_parse_is_not_shown(tmp_path: Path, password: str, rest: str) -> None:
    url = f"postgresql://scanner:{password}@{rest.format(tmp=tmp_path)}"
    done = run_cli("history", "--state", url)
    assert done.returncode == 2
    message = done.stderr.decode()
    assert message.startswith("mentions: cannot connect to the state database postgresql://scanner:***@")
    assert "SECRET" not in message and "Pw1" not in message and "50%" not in message
    assert "Traceback" not in message


@pytest.mark.parametrize("command", [("scan",), ("history",), ("sources",), ("report",),
                                     ("prune", "--older-than", "1d")])
def test_a_database_url_from_the_environment_is_hidden_in_every_command(
    site: LocalSite, tmp_path: Path, command: tuple[str, ...]
) -> None:
    url = f"postgresql://scanner@/mentions?host={tmp_path}/no-server&connect_timeout=2"
    config = config_with_state(tmp_path, site, "${MENTIONS_TEST_DB}")
    done = run_cli(*command, "-c", str(config), env={"MENTIONS_TEST_DB": url})
    assert done.returncode == 2
    message = done.stderr.decode()
    assert message.startswith("mentions: cannot connect to the state database ***: ")
    assert url not in message


def test_the_database_url_may_come_from_the_environment(
    site: LocalSite, tmp_path: Path, postgres_url: str
) -> None:
    config = config_with_state(tmp_path, site, "${MENTIONS_TEST_DB}")
    done = run_cli("scan", "-c", str(config), "--format", "jsonl", env={"MENTIONS_TEST_DB": postgres_url})
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 3
    with psycopg.connect(postgres_url) as db:
        assert db.execute("SELECT count(*) FROM mentions").fetchone() == (3,)


def test_a_seed_is_marked_in_the_database_and_its_undated_mentions_count_on_no_day(
    site: LocalSite, tmp_path: Path, postgres_url: str
) -> None:
    """The `is_seeded` column of schema 5 in PostgreSQL, as in SQLite: the undated posts a seed
    took in are left out of the report, which says so; those found later count."""
    old = [Item(f"Acme thread {n}", "Acme, years ago", link=f"http://example.org/old{n}", date=None)
           for n in range(5)]
    config = config_with_state(tmp_path, site, postgres_url)
    site.add("/feed", rss(old), content_type=RSS)
    assert scan(config, "--seed").records == []
    site.add("/feed", rss([Item("Acme today", "Acme, new", link="http://example.org/new", date=None), *old]),
             content_type=RSS)
    assert [r["title"] for r in scan(config).records] == ["Acme today"]
    with psycopg.connect(postgres_url) as db:
        assert db.execute("SELECT title, is_seeded FROM mentions ORDER BY seq").fetchall()[-2:] == [
            ("Acme thread 4", 1), ("Acme today", 0)]
    report = invoke("report", "-c", str(config), "--since", "30d")
    assert report.code == 0, report.stderr
    lines = report.stdout.splitlines()
    assert lines[0].endswith("(1 day): 1")
    assert lines[1] == "5 mentions recorded by `scan --seed` have no date and are not counted."
