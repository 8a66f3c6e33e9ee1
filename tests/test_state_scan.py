"""Only new mentions, across runs, against a real local server: identity, syndication, 304s."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.localsite import LocalSite
from tests.state_helpers import Item, invoke, rss, scan, write_config

RSS = "application/rss+xml"
LONG = "Acme has released a new running shoe that is lighter than anything before it, say testers."


def test_seed_prints_nothing_and_records_everything(site: LocalSite, tmp_path: Path) -> None:
    feed = site.add("/feed", rss([Item("One", "Acme one", "http://x.org/1"),
                                  Item("Two", "Acme two", "http://x.org/2")]), content_type=RSS)
    config = write_config(tmp_path, {"blog": feed})
    seeded = scan(config, "--seed")
    assert (seeded.code, seeded.stdout) == (0, "")
    assert scan(config).records == []
    site.add("/feed", rss([Item("Three", "Acme three", "http://x.org/3"),
                           Item("One", "Acme one", "http://x.org/1")]), content_type=RSS)
    assert scan(config).titles == ["Three"]


def test_guids_and_dates_changing_on_every_fetch_neither_repeat_nor_lose(
    site: LocalSite, tmp_path: Path
) -> None:
    def serve(run: int, count: int) -> None:
        items = [Item(f"Post {n}", f"Acme post {n}", f"http://x.org/p/{n}?utm_source=rss{run}",
                      guid=f"urn:{run}:{n}", date=f"Tue, 24 Nov 2026 0{run}:00:00 GMT")
                 for n in range(count)]
        site.add("/feed", rss(items), content_type=RSS)

    config = write_config(tmp_path, {"churn": site.url("/feed")})
    serve(1, 3)
    assert len(scan(config).records) == 3
    serve(2, 3)
    assert scan(config).records == []
    serve(3, 4)
    assert scan(config).titles == ["Post 3"]


def test_a_guid_repeated_for_different_entries_loses_none(site: LocalSite, tmp_path: Path) -> None:
    items = [Item(f"Entry {n}", f"Acme entry {n}", f"http://x.org/e/{n}", guid="same-guid") for n in range(3)]
    feed = site.add("/feed", rss(items), content_type=RSS)
    config = write_config(tmp_path, {"dup": feed})
    assert scan(config).titles == ["Entry 0", "Entry 1", "Entry 2"]
    site.add("/feed", rss([*items, Item("Entry 3", "Acme entry 3", "http://x.org/e/3", guid="same-guid")]),
             content_type=RSS)
    assert scan(config).titles == ["Entry 3"]


def test_entries_sharing_one_link_are_each_reported_once(site: LocalSite, tmp_path: Path) -> None:
    # A link blog points two posts at one sponsor; a feed points every entry at its home page.
    items = [Item("Sponsor: Acme", "Acme sponsors this week.", "https://acme.example/", guid="tag:df,1"),
             Item("Acme, again", "More on Acme shoes.", "https://acme.example/", guid="tag:df,2"),
             Item("Home", "Acme news of the day", "https://news.example/"),
             Item("Home", "Acme news of the next day", "https://news.example/")]
    feed = site.add("/feed", rss(items), content_type=RSS)
    config = write_config(tmp_path, {"links": feed})
    assert sorted(scan(config).titles) == ["Acme, again", "Home", "Home", "Sponsor: Acme"]
    assert scan(config).records == []
    # One more post with that link: only it is new.
    site.add("/feed", rss([*items, Item("Acme 3", "A third Acme post.", "https://acme.example/", guid="tag:df,3")]),
             content_type=RSS)
    assert scan(config).titles == ["Acme 3"]


def test_entries_sharing_a_link_with_guids_new_on_every_fetch_are_reported_once(
    site: LocalSite, tmp_path: Path
) -> None:
    # A page-to-RSS scraper: every entry links to the shop, the guids are new on each fetch.
    def serve(run: int) -> None:
        site.add("/feed", rss([Item(f"Acme deal {n}", "Acme", "https://shop.example/", guid=f"urn:{run}:{n}")
                               for n in range(2)]), content_type=RSS)

    config = write_config(tmp_path, {"shop": site.url("/feed")})
    serve(1)
    assert sorted(scan(config).titles) == ["Acme deal 0", "Acme deal 1"]
    serve(2)
    assert scan(config).records == []


def test_entries_whose_links_differ_only_in_tracking_or_app_routes_are_each_reported(
    site: LocalSite, tmp_path: Path
) -> None:
    items = [Item("Acme recall", "Acme recall in Texas", "https://news.example/?utm_campaign=a1", guid="a1"),
             Item("Acme CEO", "Acme CEO resigns", "https://news.example/?utm_campaign=a2", guid="a2"),
             Item("Acme post 5", "Acme five", "https://spa.example/#!/post/5"),
             Item("Acme post 6", "Acme six", "https://spa.example/#!/post/6")]
    config = write_config(tmp_path, {"links": site.add("/feed", rss(items), content_type=RSS)})
    assert len(scan(config).records) == 4
    assert scan(config).records == []


def test_an_entry_listed_twice_is_one_document(site: LocalSite, tmp_path: Path) -> None:
    twice = Item("Acme", "Acme makes shoes.", "https://x.example/1", guid="urn:1")
    feed = site.add("/feed", rss([twice, twice]), content_type=RSS)
    assert scan(write_config(tmp_path, {"dup": feed})).titles == ["Acme"]


def test_posts_told_apart_by_a_fragment_are_two_documents(site: LocalSite, tmp_path: Path) -> None:
    # Scripting News names its posts of one day by the time: /2002/09/29#When:12:59:01PM.
    items = [Item("", "Acme at noon", "http://scripting.example/2002/09/29#When:12:59:01PM"),
             Item("", "Acme in the evening", "http://scripting.example/2002/09/29#When:6:52:02PM")]
    feed = site.add("/feed", rss(items), content_type=RSS)
    config = write_config(tmp_path, {"scripting": feed})
    assert len(scan(config).records) == 2
    assert scan(config).records == []


def test_the_same_url_in_two_sources_is_reported_once(site: LocalSite, tmp_path: Path) -> None:
    first = site.add("/a", rss([Item("Story", "Acme story", "https://News.example.org/s/1?utm_medium=a")]),
                     content_type=RSS)
    second = site.add("/b", rss([Item("Story (copy)", "Acme story, copied", "https://news.example.org/s/1#more")]),
                      content_type=RSS)
    config = write_config(tmp_path, {"one": first, "two": second})
    assert len(scan(config).records) == 1
    assert scan(config).records == []


def test_the_same_text_at_another_url_is_reported_once_per_keyword(site: LocalSite, tmp_path: Path) -> None:
    first = site.add("/a", rss([Item("Acme shoe", LONG, "http://one.example/acme-shoe")]),
                     content_type=RSS)
    config = write_config(tmp_path, {"one": first}, {"acme": ["Acme"], "shoe": ["shoe"]})
    assert sorted(r["keyword"] for r in scan(config).records) == ["acme", "shoe"]
    # Later a second site syndicates it (different URL, other markup and case).
    second = site.add("/b", rss([Item("ACME Shoe", f"<p>{LONG.upper()}</p>", "http://two.example/x?id=9")]),
                      content_type=RSS)
    config = write_config(tmp_path, {"one": first, "two": second}, {"acme": ["Acme"], "shoe": ["shoe"]})
    assert scan(config).records == []
    # Both in one run (a fresh state): each keyword once.
    (tmp_path / "state.db").unlink()
    assert sorted(r["keyword"] for r in scan(config).records) == ["acme", "shoe"]


def test_short_identical_texts_from_different_people_both_count(site: LocalSite, tmp_path: Path) -> None:
    feed = site.add("/f", rss([Item("", "Thanks Acme!", "http://forum.example/1"),
                               Item("", "Thanks Acme!", "http://forum.example/2")]),
                    content_type=RSS)
    assert len(scan(write_config(tmp_path, {"forum": feed})).records) == 2


def test_an_edit_that_adds_the_brand_is_reported_once(site: LocalSite, tmp_path: Path) -> None:
    def serve(text: str) -> None:
        site.add("/f", rss([Item("Running shoes", text, "http://forum.example/t/1#p7")]),
                 content_type=RSS)

    serve("Which running shoe do you recommend?")
    config = write_config(tmp_path, {"forum": site.url("/f")})
    assert scan(config).records == []
    serve("Which running shoe do you recommend? Edit: bought the Acme one.")
    assert scan(config).titles == ["Running shoes"]
    serve("Which running shoe do you recommend? Edit: bought the Acme one. It is great, Acme rocks.")
    assert scan(config).records == []


def test_since_skips_older_documents(site: LocalSite, tmp_path: Path) -> None:
    old = Item("Old", "Acme old", "http://x.org/old", date="Mon, 02 Jan 2023 10:00:00 GMT")
    new = Item("New", "Acme new", "http://x.org/new", date="Tue, 24 Nov 2026 08:00:00 GMT")
    feed = site.add("/f", rss([old, new]), content_type=RSS)
    config = write_config(tmp_path, {"blog": feed})
    assert scan(config, "--since", "2026-01-01").titles == ["New"]
    # The skipped one was not recorded, and the limited run saved no validators (no 304).
    assert scan(config).titles == ["Old"]
    assert site.not_modified["/f"] == 0


def test_since_counts_an_undated_document_as_found_now(site: LocalSite, tmp_path: Path) -> None:
    """As `history` does: inside `--since 7d`, outside a `--since` in the future."""
    undated = Item("Undated", "Acme with no date", "http://x.org/undated", date="")
    feed = site.add("/f", rss([undated]), content_type=RSS)
    config = write_config(tmp_path, {"blog": feed})
    assert scan(config, "--since", "9999-12-31", "--dry-run").titles == []
    assert scan(config, "--since", "7d").titles == ["Undated"]


def test_an_unchanged_rerun_costs_one_304_per_source(site: LocalSite, tmp_path: Path) -> None:
    names = {f"s{n}": site.add(f"/f{n}", rss([Item(f"T{n}", f"Acme {n}", f"http://x.org/{n}")]),
                               content_type=RSS) for n in range(5)}
    config = write_config(tmp_path, names)
    assert len(scan(config).records) == 5
    assert scan(config).records == []
    for n in range(5):
        assert (site.requests[f"/f{n}"], site.not_modified[f"/f{n}"]) == (2, 1)


def test_a_rerun_of_304s_reuses_its_connections(site: LocalSite, tmp_path: Path) -> None:
    """A 304 has no body, but an unread answer used to cost its connection: one per source."""
    names = {f"s{n}": site.add(f"/f{n}", rss([Item(f"T{n}", f"Acme {n}", f"http://x.org/{n}")]),
                               content_type=RSS) for n in range(12)}
    config = write_config(tmp_path, names, extra="")
    config.write_text(config.read_text().replace("robots: false}", "robots: false, per_host: 2}"))
    assert len(scan(config).records) == 12
    before = site.connections
    assert scan(config).records == []
    assert sum(site.not_modified.values()) == 12
    assert site.connections - before <= 2  # per_host: 2, each connection kept for the next


def test_slow_answers_do_not_hold_up_others_while_the_host_has_free_slots(
    site: LocalSite, tmp_path: Path
) -> None:
    """A host allowed 4 connections gets two pools of 2; each request takes the less busy one.

    Taking them in turn put the fifth source behind two slow answers in one pool while the
    other pool had room.
    """
    names = {}
    for n in range(7):
        delay = 2.0 if n in (0, 2) else 0.0  # long enough for the rest to arrive on a busy machine
        names[f"s{n}"] = site.add(f"/f{n}", rss([Item(f"T{n}", f"Acme {n}", f"http://x.org/{n}")]),
                                  content_type=RSS, delay=delay)
    config = write_config(tmp_path, names)
    config.write_text(config.read_text().replace("robots: false}", "robots: false, per_host: 4}"))
    result = scan(config)
    assert result.code == 0, result.stderr
    assert len(result.records) == 7
    first_slow_answer = min(site.events.index("< /f0"), site.events.index("< /f2"))
    arrived_before = {event for event in site.events[:first_slow_answer] if event.startswith(">")}
    assert arrived_before == {f"> /f{n}" for n in range(7)}


def test_a_connection_the_server_closed_while_idle_is_not_reused(site: LocalSite, tmp_path: Path) -> None:
    """The server hangs up after each answer without saying so; the next source still works."""
    names = {f"s{n}": site.add(f"/f{n}", rss([Item(f"T{n}", f"Acme {n}", f"http://x.org/{n}")]),
                               content_type=RSS, closes_after=True) for n in range(4)}
    config = write_config(tmp_path, names)
    # one connection at a time, 0.2 s apart (the hang-up has arrived by then), no retries
    # that would hide a request sent on a dead connection
    config.write_text(config.read_text().replace("{delay: 0, robots: false}",
                                                 "{delay: 0.2s, robots: false, per_host: 1, retries: 0}"))
    result = scan(config)
    assert result.code == 0, result.stderr
    assert len(result.records) == 4
    assert site.connections == 4


def test_a_keyword_limited_run_does_not_hide_the_rest_behind_a_304(site: LocalSite, tmp_path: Path) -> None:
    feed = site.add("/f", rss([Item("Both", "Acme and Globex", "http://x.org/1")]),
                    content_type=RSS)
    config = write_config(tmp_path, {"blog": feed}, {"acme": ["Acme"], "globex": ["Globex"]})
    assert [r["keyword"] for r in scan(config, "--keyword", "acme").records] == ["acme"]
    assert [r["keyword"] for r in scan(config).records] == ["globex"]
    assert scan(config).records == []
    assert site.not_modified["/f"] == 1


def test_dry_run_records_nothing(site: LocalSite, tmp_path: Path) -> None:
    feed = site.add("/f", rss([Item("One", "Acme one", "http://x.org/1")]), content_type=RSS)
    config = write_config(tmp_path, {"blog": feed})
    assert len(scan(config, "--dry-run").records) == 1
    assert len(scan(config).records) == 1
    assert len(scan(config, "--all").records) == 1


def test_a_rewritten_file_and_a_rotated_export_report_their_new_texts(tmp_path: Path) -> None:
    """A local file's place is no identity: a new text there is a new mention, an old one is not."""
    notes, tickets = tmp_path / "notes.txt", tmp_path / "tickets.jsonl"
    notes.write_text("Acme first note", encoding="utf-8")
    tickets.write_text('{"text": "Acme ticket A"}\n{"text": "Acme ticket B"}\n', encoding="utf-8")
    config = tmp_path / "mentions.yaml"
    config.write_text(
        "version: 1\nstate: ./state.db\nkeywords:\n  - {name: acme, terms: [Acme]}\n"
        "sources:\n  - {name: notes, file: notes.txt}\n  - {name: tickets, file: tickets.jsonl}\n",
        encoding="utf-8",
    )
    first = scan(config)
    assert sorted(record["snippet"] for record in first.records) == [
        "Acme first note", "Acme ticket A", "Acme ticket B",
    ]
    notes.write_text("Acme second, totally new note", encoding="utf-8")
    # The export rotated: ticket B moved up a line, ticket C is new.
    tickets.write_text('{"text": "Acme ticket B"}\n{"text": "Acme ticket C"}\n', encoding="utf-8")
    second = scan(config)
    assert sorted(record["snippet"] for record in second.records) == [
        "Acme second, totally new note", "Acme ticket C",
    ]
    assert scan(config).records == []


def test_all_shows_old_mentions_with_the_time_they_were_first_found(site: LocalSite, tmp_path: Path) -> None:
    import sqlite3

    site.add("/f", rss([Item("Acme news", "Acme ships", "http://blog.example/1")]), content_type=RSS)
    config = write_config(tmp_path, {"blog": site.url("/f")})
    [first] = scan(config).records
    with sqlite3.connect(tmp_path / "state.db") as db:  # as if that scan ran in January
        db.execute("UPDATE mentions SET found_at = '2026-01-05T09:30:00Z'")
    db.close()
    [again] = scan(config, "--all").records
    assert again["id"] == first["id"]
    assert again["found_at"] == "2026-01-05T09:30:00Z"


def test_a_table_that_never_got_out_records_nothing(site: LocalSite, tmp_path: Path) -> None:
    """The table is printed when the scan ends: had its mentions been recorded as each source
    finished, a reader that went away (or a Ctrl-C) would have lost them for good."""
    import subprocess
    import sys

    from tests.conftest import REPO

    feed = site.add("/feed", rss([Item("One", "Acme one", "http://x.org/1"),
                                  Item("Two", "Acme two", "http://x.org/2")]), content_type=RSS)
    config = write_config(tmp_path, {"blog": feed})
    process = subprocess.Popen(
        [sys.executable, "-m", "mentions", "scan", "-c", str(config), "--format", "table"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the table comes
    with process.stderr:
        stderr = process.stderr.read()
    process.wait(timeout=60)
    assert b"Traceback" not in stderr
    assert site.requests["/feed"] == 1
    assert invoke("history", "-c", str(config), "--format", "jsonl").records == []

    shown = scan(config, "--format", "table")  # they never got out: in the next table
    assert shown.code == 0 and "· One" in shown.stdout and "· Two" in shown.stdout
    site.add("/feed", rss([Item("One", "Acme one", "http://x.org/1"),
                           Item("Three", "Acme three", "http://x.org/3")]), content_type=RSS)
    assert scan(config).titles == ["Three"]


def test_two_sources_on_one_feed_each_read_it_until_they_have(site: LocalSite, tmp_path: Path) -> None:
    """One feed, two sources limited to different keywords: the second one's first run must
    read the feed. The validators were kept per URL alone, so it sent the first one's ETag,
    got a 304 and never found its mention; each source now keeps its own."""
    feed = site.add("/feed", rss([Item("Deal", "Acme and Globex agree on a deal", "http://x.org/1")]),
                    content_type=RSS)
    config = tmp_path / "mentions.yaml"
    config.write_text(
        "version: 1\nstate: ./state.db\nhttp: {delay: 0, robots: false}\nkeywords:\n"
        "  - {name: acme, terms: [Acme]}\n  - {name: globex, terms: [Globex]}\nsources:\n"
        f"  - {{name: a, feed: '{feed}', keywords: [acme]}}\n"
        f"  - {{name: b, feed: '{feed}', keywords: [globex]}}\n",
        encoding="utf-8",
    )
    assert [r["keyword"] for r in scan(config, "--source", "a").records] == ["acme"]
    assert [r["keyword"] for r in scan(config, "--source", "b").records] == ["globex"]
    assert scan(config).records == []
    assert site.not_modified["/feed"] == 2  # the rerun: one 304 for each source


def test_entries_sharing_a_link_that_carries_a_secret_are_each_reported(
    site: LocalSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A private feed puts its `${TOKEN}` into every link. The entries that share a link were
    told apart by their links as fetched, but looked up by their links with the secret
    replaced: they found no distinction, got one id, and all but the first were lost."""
    monkeypatch.setenv("FEED_TOKEN", "s3cr3t-feed-token")
    link = "https://acme.example/sponsor?token=s3cr3t-feed-token"
    items = [Item("Sponsor: Acme", "Acme sponsors this week.", link, guid="tag:df,1"),
             Item("Acme, again", "More on Acme shoes.", link, guid="tag:df,2")]
    site.add("/feed", rss(items), content_type=RSS)
    config = write_config(tmp_path, {"private": site.url("/feed") + "?token=${FEED_TOKEN}"})
    first = scan(config)
    assert first.titles == ["Acme, again", "Sponsor: Acme"]
    assert len(set(first.ids)) == 2
    assert "s3cr3t" not in first.stdout
    assert scan(config).records == []
