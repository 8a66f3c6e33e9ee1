"""Each bundled preset against an answer shaped like its platform's, served from the local
server in place of the platform: the documents a user sees (title, link, author, date, text),
and the one line a refusing platform is named with."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from mentions import presets
from mentions.presets import get_preset, list_presets
from tests.localsite import LocalSite
from tests.scanning import scan, write_config

FIXTURES = Path(__file__).parent / "fixtures" / "presets"


def _serve_preset(monkeypatch: pytest.MonkeyPatch, site: LocalSite, name: str) -> presets.Preset:
    """The real preset, pointed at the local server instead of the platform's host."""
    real = get_preset(name)
    assert real is not None
    scheme_host = real.url.split("/", 3)[:3]
    url = real.url.replace("/".join(scheme_host), site.base) if real.url.startswith("https://") else real.url
    url = url.replace("https://{instance}", site.base).replace("https://{forum}", site.base)
    local = dataclasses.replace(real, url=url)
    table = {p.name: p for p in list_presets()}
    monkeypatch.setattr(presets, "_all", lambda: {**table, name: local})
    return local


# name, params, fixture, served path, content type, expected (url, author, published, text part)
CASES = [
    ("hacker-news", "", "hacker-news.json", "/api/v1/search_by_date", "application/json",
     ("https://news.ycombinator.com/item?id=41234567", "pg_fan", "2026-11-24T09:15:00Z", "builds to Acme")),
    ("discourse-search", "{forum: 127.0.0.1}", "discourse-search.json", "/search.json", "application/json",
     ("/t/1234/4", "janak", "2026-11-22T14:03:11Z", "Acme syncs twice")),
    ("stackexchange-search", "{host: unix.stackexchange.com, site: unix}", "stackexchange-search.json",
     "/2.3/search/excerpts", "application/json; charset=utf-8",
     ("https://unix.stackexchange.com/a/79100001", None, "2026-11-24T03:13:20Z", "Acme splits the suite")),
    ("github-search", "", "github-search.json", "/search/issues", "application/json",
     ("https://github.com/octo/tool/issues/42", "octocat", "2026-11-21T10:00:00Z", "run on Acme")),
    ("lemmy", "{instance: 127.0.0.1}", "lemmy.json", "/api/v3/search", "application/json",
     ("https://lemmy.example/comment/555", "kai", "2026-11-20T12:00:00Z", "Acme support answered")),
    ("google-news", "{hl: de, gl: DE}", "google-news.xml", "/rss/search", "application/rss+xml",
     ("https://news.google.com/rss/articles/", None, "2026-11-25T07:45:00Z", "neues Werk")),
    ("mastodon-hashtag", "{instance: 127.0.0.1}", "mastodon-hashtag.json", "/api/v1/timelines/tag/acme",
     "application/json; charset=utf-8",
     ("https://social.example/@lena/113500000000000001", "lena", "2026-11-25T07:00:00Z", "Laufschuhe von")),
    ("reddit-search", "", "reddit-search.xml", "/search.rss", "application/atom+xml; charset=UTF-8",
     ("https://www.reddit.com/r/running/comments/1gz9abc/acme_trail_3/", "/u/trailrunner_84",
      "2026-11-25T09:58:03Z", "Acme Trail 3")),
    ("youtube-channel", "{channel_id: UCabcdefghijklmnopqrstuv}", "youtube-channel.xml", "/feeds/videos.xml",
     "text/xml; charset=UTF-8",
     ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "Laufkanal", "2026-11-23T16:00:07Z", "Acme Runner X")),
]


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_preset_reads_its_platform(
    case: tuple[str, str, str, str, str, tuple[str, str | None, str, str]],
    site: LocalSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    name, params, fixture, path, content_type, (url, author, published, text) = case
    _serve_preset(monkeypatch, site, name)
    site.add(path, (FIXTURES / fixture).read_bytes(), content_type=content_type)
    params_line = f"    params: {params}\n" if params else ""
    keywords = '  - name: acme\n    terms: [Acme, "#acme", "Acme GmbH"]\n'
    config = write_config(tmp_path, f"  - name: s\n    preset: {name}\n{params_line}", keywords)
    result, records = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    assert site.requests, "the preset fetched nothing"
    matching = [r for r in records if r["url"].startswith(url) or r["url"].endswith(url)]
    assert matching, records
    record = matching[0]
    assert record["author"] == author
    assert record["published"] == published
    assert record["source_type"] == "search"
    assert text in record["snippet"]


def test_stackexchange_question_links_to_the_question(
    site: LocalSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve_preset(monkeypatch, site, "stackexchange-search")
    site.add("/2.3/search/excerpts", (FIXTURES / "stackexchange-search.json").read_bytes(),
             content_type="application/json")
    config = write_config(tmp_path, "  - name: se\n    preset: stackexchange-search\n")
    result, records = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    assert {r["url"] for r in records} == {
        "https://stackoverflow.com/a/79100001", "https://stackoverflow.com/q/79100002"
    }


def test_reddit_search_asks_for_the_keyword_and_reports_matching_posts_only(
    site: LocalSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve_preset(monkeypatch, site, "reddit-search")
    site.add("/search.rss", (FIXTURES / "reddit-search.xml").read_bytes(), content_type="application/atom+xml")
    config = write_config(tmp_path, "  - name: reddit\n    preset: reddit-search\n")
    result, records = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    assert any("q=" in request and "Acme" in request for request in site.requests), site.requests
    # the newest 100 posts, not Reddit's default 25: more between two scans were lost
    assert all("sort=new" in request and "limit=100" in request for request in site.requests), site.requests
    assert [r["title"] for r in records] == ["Acme Trail 3 durability?"]


def _documents(config: Path, name: str = "s") -> tuple[Result, list[dict[str, Any]]]:
    """`mentions test-source NAME --format jsonl --limit 0`: every document the source yields."""
    from typer.testing import CliRunner

    from mentions.cli import app

    result = CliRunner().invoke(app, ["test-source", name, "-c", str(config), "--format", "jsonl", "--limit", "0"])
    return result, [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


# What a user sees of each document of a platform-shaped answer: (title, url, author,
# published, a part of the text). `{base}` is the local server that stands in for the host.
DOCUMENTS = {
    "hacker-news": [
        ("Show HN: Acme, a tiny CI runner", "https://news.ycombinator.com/item?id=41234567", "pg_fan",
         "2026-11-24T09:15:00Z", "It's 3/4 cheaper: https://acme.example/pricing"),
        ("Acme GmbH raises €20M for CI runners", "https://news.ycombinator.com/item?id=41229999", "newsbot",
         "2026-11-24T08:00:00Z", "Acme GmbH raises €20M for CI runners"),
        ("Ask HN: Acme in production?", "https://news.ycombinator.com/item?id=41229000", "asker",
         "2026-11-23T20:00:00Z", "<script> tags in the config broke for us."),
    ],
    "lemmy": [
        ("Acme raises prices", "https://feddit.example/post/1234", "Mia", "2026-11-21T09:30:00Z",
         "Acme GmbH doubles the price of the team plan."),
        ("Acme Runner X review", "https://lemmy.example/post/79", "runner", "2026-11-18T07:00:00Z",
         "Acme Runner X review"),
        ("Which CI do you use?", "https://lemmy.example/comment/555", "kai", "2026-11-20T12:00:00Z",
         "Acme support answered **within an hour**. Even a `<select>` bug got fixed."),
    ],
    "discourse-search": [
        ("Sync speed & Acme", "{base}/t/1234/4", "janak", "2026-11-22T14:03:11Z",
         "Acme syncs twice as fast for us & the <select> menu works again…"),
        ("Acme or Syncthing for large folders?", "{base}/t/1240/1", "ole", "2026-11-21T08:00:00Z",
         "Which sync tools do you use for large folders? I tried two."),
    ],
    "stackexchange-search": [
        ('How to speed up "pytest" in CI?', "https://unix.stackexchange.com/a/79100001", None,
         "2026-11-24T03:13:20Z", "Use acme run --parallel; Acme splits the suite for you."),
        ("Acme on-premise: what's the licence & price?", "https://unix.stackexchange.com/q/79100002", None,
         "2026-11-23T02:13:20Z", "We can't use the cloud."),
    ],
    "github-search": [
        ("Support Acme runners", "https://github.com/octo/tool/issues/42", "octocat", "2026-11-21T10:00:00Z",
         "Put a `<script>` tag in the name field and the runner page breaks."),
        ("Add Acme runner label", "https://github.com/octo/tool/pull/43", "ghost", "2026-11-21T09:00:00Z",
         "Add Acme runner label"),
    ],
    "mastodon-hashtag": [
        ("", "https://social.example/@lena/113500000000000001", "lena", "2026-11-25T07:00:00Z",
         "Endlich sind die neuen Laufschuhe von #Acme da!"),
        ("Acme Runner X, long review", "https://other.example/@max/1122334455", "max@other.example",
         "2026-11-24T21:30:12Z", "the sole is fine & the laces broke."),
        ("", "https://pub.example/objects/8f2a1c", "pub@pub.example", "2026-11-24T10:00:00Z",
         "Acme mentioned on a server that gives no web address for its posts."),
    ],
    "reddit-search": [
        ("Acme Trail 3 durability?", "https://www.reddit.com/r/running/comments/1gz9abc/acme_trail_3/",
         "/u/trailrunner_84", "2026-11-25T09:58:03Z", "Has anyone tried the new Acme Trail 3? Mine fell apart"),
        ("Soup", "https://www.reddit.com/r/cooking/comments/1gz8xyz/soup/", "/u/someone_else",
         "2026-11-25T08:00:00Z", "Nothing about the brand here."),
    ],
    "youtube-channel": [
        ("Laufschuh-Test: 5 Modelle im Vergleich", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "Laufkanal",
         "2026-11-23T16:00:07Z", "darunter den neuen Acme Runner X. Kapitel: 0:00 Intro"),
    ],
    "google-news": [
        ("Acme GmbH eröffnet neues Werk in Sachsen - Lokalzeitung",
         "https://news.google.com/rss/articles/CBMiQmh0dHBzOi8vd3d3LmxvY2FsLmV4YW1wbGUvYWNtZS13ZXJr0gEA?oc=5", None,
         "2026-11-25T07:45:00Z", "Acme GmbH eröffnet neues Werk in Sachsen Lokalzeitung"),
    ],
}
# preset: (params, fixture, the path the platform serves it at, content type)
ANSWERS = {
    "hacker-news": ("", "hacker-news.json", "/api/v1/search_by_date", "application/json; charset=utf-8"),
    "lemmy": ("{instance: 127.0.0.1}", "lemmy.json", "/api/v3/search", "application/json"),
    "discourse-search": ("{forum: 127.0.0.1}", "discourse-search.json", "/search.json",
                         "application/json; charset=utf-8"),
    "stackexchange-search": ("{host: unix.stackexchange.com, site: unix}", "stackexchange-search.json",
                             "/2.3/search/excerpts", "application/json; charset=utf-8"),
    "github-search": ("", "github-search.json", "/search/issues", "application/json; charset=utf-8"),
    "mastodon-hashtag": ("{instance: 127.0.0.1}", "mastodon-hashtag.json", "/api/v1/timelines/tag/acme",
                         "application/json; charset=utf-8"),
    "reddit-search": ("", "reddit-search.xml", "/search.rss", "application/atom+xml; charset=UTF-8"),
    "youtube-channel": ("{channel_id: UCabcdefghijklmnopqrstuv}", "youtube-channel.xml", "/feeds/videos.xml",
                        "text/xml; charset=UTF-8"),
    "google-news": ("{hl: de, gl: DE}", "google-news.xml", "/rss/search", "application/xml; charset=utf-8"),
}


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_preset_documents_show_what_the_platform_shows(
    name: str, site: LocalSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    params, fixture, path, content_type = ANSWERS[name]
    _serve_preset(monkeypatch, site, name)
    site.add(path, (FIXTURES / fixture).read_bytes(), content_type=content_type)
    params_line = f"    params: {params}\n" if params else ""
    config = write_config(tmp_path, f"  - name: s\n    preset: {name}\n{params_line}")
    result, documents = _documents(config)
    assert result.exit_code == 0, result.stderr
    seen = [(d["title"], d["url"], d["author"], d["published"], d["text"]) for d in documents]
    expected = DOCUMENTS[name]
    assert len(seen) == len(expected), seen
    for got, (title, url, author, published, text) in zip(seen, expected, strict=True):
        assert got[:4] == (title, url.format(base=site.base), author, published), got
        assert text in got[4], got


# preset, params, served path, HTTP status, the platform's error answer, what the user reads
REFUSALS = [
    ("github-search", "", "/search/issues", 403,
     {"message": "API rate limit exceeded for 203.0.113.7. (But here's the good news: Authenticated requests "
                 "get a higher rate limit. Check out the documentation for more details.)",
      "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"},
     "http status: HTTP 403: API rate limit exceeded for 203.0.113.7: "),
    ("stackexchange-search", "", "/2.3/search/excerpts", 400,
     {"error_id": 502, "error_name": "throttle_violation",
      "error_message": "too many requests from this IP, more requests available in 77612 seconds"},
     "http status: HTTP 400: too many requests from this IP, more requests available in 77612 seconds: "),
    # an error in a 200 answer is named too, not read as an answer of the wrong shape
    ("stackexchange-search", "", "/2.3/search/excerpts", 200,
     {"error_id": 400, "error_name": "bad_parameter", "error_message": "site is required"},
     "parse error: the API answered with an error: site is required: "),
    ("hacker-news", "", "/api/v1/search_by_date", 400,
     {"message": "Invalid value for `hitsPerPage`, expected integer", "status": 400},
     "http status: HTTP 400: Invalid value for `hitsPerPage`, expected integer: "),
    ("lemmy", "{instance: 127.0.0.1}", "/api/v3/search", 400, {"error": "rate_limit_error"},
     "http status: HTTP 400: rate_limit_error: "),
    ("discourse-search", "{forum: 127.0.0.1}", "/search.json", 403,
     {"errors": ["You are not permitted to view the requested resource."], "error_type": "invalid_access"},
     "http status: HTTP 403: You are not permitted to view the requested resource: "),
    # a server that closed its public timelines to visitors
    ("mastodon-hashtag", "{instance: 127.0.0.1}", "/api/v1/timelines/tag/acme", 401,
     {"error": "This method requires an authenticated user"},
     "http status: HTTP 401: This method requires an authenticated user: "),
    ("reddit-search", "", "/search.rss", 429, {"message": "Too Many Requests", "error": 429},
     "rate-limited: HTTP 429: Too Many Requests: "),
]


@pytest.mark.parametrize("case", REFUSALS, ids=[f"{case[0]}-{case[3]}" for case in REFUSALS])
def test_a_refusing_platform_fails_the_source_with_its_reason(
    case: tuple[str, str, str, int, dict[str, Any], str],
    site: LocalSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    name, params, path, status, answer, expected = case
    _serve_preset(monkeypatch, site, name)
    site.add(path, json.dumps(answer), content_type="application/json; charset=utf-8", status=status)
    params_line = f"    params: {params}\n" if params else ""
    config = write_config(tmp_path, f"  - name: s\n    preset: {name}\n{params_line}")
    result, documents = _documents(config)
    assert result.exit_code == 1 and not documents, result.stdout
    assert f"s: {expected}{site.base}{path}?…" in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("params", "qualifier"), [("", "is:issue"), ("    params: {kind: pull-request}\n", "is:pull-request")]
)
def test_github_search_names_what_it_searches(
    params: str, qualifier: str, site: LocalSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitHub answers 422 "Query must include 'is:issue' or 'is:pull-request'" to fine-grained
    tokens and apps, the very tokens its rate limit asks for; the keyword's OR stays inside."""
    _serve_preset(monkeypatch, site, "github-search")
    site.add("/search/issues", (FIXTURES / "github-search.json").read_bytes(), content_type="application/json")
    config = write_config(tmp_path, f"  - name: gh\n    preset: github-search\n{params}")
    result, _ = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    [request] = site.requests
    assert request.startswith(f"/search/issues?q=(Acme%20OR%20%22Acme%20GmbH%22)%20{qualifier}&"), request
    assert "per_page=100" in request and "sort=created&order=desc" in request


@pytest.mark.parametrize(
    ("params", "site_param", "host"),
    [
        ("", "stackoverflow.com", "stackoverflow.com"),
        ("{site: superuser.com}", "superuser.com", "superuser.com"),  # links go to the site searched
        ("{site: unix, host: unix.stackexchange.com}", "unix", "unix.stackexchange.com"),
    ],
)
def test_stackexchange_links_go_to_the_site_searched(
    params: str, site_param: str, host: str, site: LocalSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve_preset(monkeypatch, site, "stackexchange-search")
    site.add("/2.3/search/excerpts", (FIXTURES / "stackexchange-search.json").read_bytes(),
             content_type="application/json")
    params_line = f"    params: {params}\n" if params else ""
    config = write_config(tmp_path, f"  - name: se\n    preset: stackexchange-search\n{params_line}")
    result, documents = _documents(config, "se")
    assert result.exit_code == 0, result.stderr
    assert [d["url"] for d in documents] == [f"https://{host}/a/79100001", f"https://{host}/q/79100002"]
    assert all(f"&site={site_param}&pagesize=100" in request for request in site.requests), site.requests


def test_lemmy_leaves_out_deleted_and_removed_posts_and_comments(
    site: LocalSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deleted comment comes with its content emptied (Lemmy 0.19.4 on), a removed one with
    it (before): the first read its post's text under the comment's link, the second the spam
    a moderator took down. Posts taken down keep their names."""
    _serve_preset(monkeypatch, site, "lemmy")
    site.add("/api/v3/search", (FIXTURES / "lemmy-deleted.json").read_bytes(), content_type="application/json")
    config = write_config(tmp_path, "  - name: s\n    preset: lemmy\n    params: {instance: 127.0.0.1}\n")
    result, records = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    assert site.requests, "the preset fetched nothing"
    assert [(r["url"], r["author"]) for r in records] == [("https://lemmy.example/comment/603", "kai")], records


def _stackexchange_answer(backoff: int | None = None, *extra: dict[str, Any]) -> bytes:
    """The fixture's answer, with more items and a `backoff` as Stack Exchange adds it (seconds
    to wait before calling the same method again)."""
    answer = json.loads((FIXTURES / "stackexchange-search.json").read_bytes())
    answer["items"].extend(extra)
    if backoff is not None:
        answer["backoff"] = backoff
    return json.dumps(answer).encode()


def test_stackexchange_backoff_makes_the_next_search_wait(
    site: LocalSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve_preset(monkeypatch, site, "stackexchange-search")
    site.add("/2.3/search/excerpts", _stackexchange_answer(backoff=1), content_type="application/json")
    # the default keyword's two terms: two searches
    config = write_config(tmp_path, "  - name: se\n    preset: stackexchange-search\n")
    result, records = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    (first, _), (second, _) = site.arrivals
    assert second - first >= 0.9, site.arrivals
    assert len(records) == 2


def test_stackexchange_pauses_add_up_to_no_more_than_a_scan_may_sleep(
    site: LocalSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every answer asks for a pause that alone is short: 20 terms slept up to ten minutes of a
    cron scan. Past the fetcher's longest wait (made 1.5 s here) the rest wait for the next run."""
    monkeypatch.setattr("mentions.fetch.client.MAX_WAIT", 1.5)
    _serve_preset(monkeypatch, site, "stackexchange-search")
    site.add("/2.3/search/excerpts", _stackexchange_answer(backoff=1), content_type="application/json")
    keywords = '  - name: acme\n    terms: [Acme, "Acme GmbH", "Acme Cloud", "Acme Shop"]\n'
    config = write_config(tmp_path, "  - name: se\n    preset: stackexchange-search\n", keywords)
    result, records = scan(config, "--state", str(tmp_path / "state.db"))
    assert result.exit_code == 1, result.stderr
    assert len(site.arrivals) == 2, site.arrivals
    assert len(records) == 2
    assert ("source 'se' failed: rate-limited: the API asked for a pause of 1 s before its next request "
            "after 1 s of pauses; 2 of 4 searches wait for the next run") in result.stderr, result.stderr


def test_a_long_stackexchange_backoff_leaves_the_other_searches_to_the_next_run(
    site: LocalSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pause longer than a scan may sleep ends the source's searches: what was read is
    written, the source fails with the reason, and nothing unread is taken as seen."""
    _serve_preset(monkeypatch, site, "stackexchange-search")
    site.add("/2.3/search/excerpts", _stackexchange_answer(backoff=600), content_type="application/json")
    keywords = '  - name: acme\n    terms: [Acme, "Acme GmbH", "Acme Cloud"]\n'
    config = write_config(tmp_path, "  - name: se\n    preset: stackexchange-search\n", keywords)
    state = str(tmp_path / "state.db")
    result, records = scan(config, "--state", state)
    assert result.exit_code == 1, result.stderr
    assert len(site.arrivals) == 1, site.arrivals
    assert sorted(r["url"] for r in records) == [
        "https://stackoverflow.com/a/79100001", "https://stackoverflow.com/q/79100002"
    ]
    assert ("source 'se' failed: rate-limited: the API asked for a pause of 600 s before its next request; "
            "2 of 3 searches wait for the next run") in result.stderr, result.stderr

    # The next run (the pause is over) searches every term again, and what only the terms
    # left out find is new.
    site.add("/2.3/search/excerpts", _stackexchange_answer(), content_type="application/json")
    later = {"item_type": "question", "question_id": 79100003, "creation_date": 1795500000,
             "title": "Acme GmbH invoices", "body": "<p>Where does Acme GmbH send its invoices?</p>",
             "score": 0, "is_answered": False}
    second_term = ("/2.3/search/excerpts?order=desc&sort=creation&q=Acme%20GmbH"
                   "&site=stackoverflow.com&pagesize=100")
    site.add(second_term, _stackexchange_answer(None, later), content_type="application/json")
    result, records = scan(config, "--state", state)
    assert result.exit_code == 0, result.stderr
    assert len(site.arrivals) == 4, site.arrivals
    assert [r["url"] for r in records] == ["https://stackoverflow.com/q/79100003"]
