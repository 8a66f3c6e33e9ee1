"""The `page:` examples in docs/engines/ read platform-shaped pages, field by field.

Each docs file is used as written; only its host is swapped for the local server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from typer.testing import CliRunner

from mentions.cli import app
from tests.localsite import LocalSite
from tests.scanning import scan, write_config

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "engines"
FIXTURES = Path(__file__).parent / "fixtures" / "engines"

# docs file -> {served path: fixture}, expected documents (url relative to the server, or absolute)
CASES: dict[str, tuple[dict[str, str], list[dict[str, Any]]]] = {
    "wordpress-comments": (
        {"/2026/11/rueckblick/": "wordpress-post.html"},
        [
            {"author": "Sabine", "published": "2026-11-24T19:20:00Z", "keyword": "acme",
             # WordPress writes absolute permalinks: they name the real blog, not the server asked
             "url": "https://blog.example.org/2026/11/rueckblick/#comment-201",
             "text": "Mit den Acme Runner X wäre das schneller gegangen!",
             "lang": "de"},
        ],
    ),
    "discourse": (
        {"/t/acme-sync-is-slow-after-the-update/1234": "discourse-topic.html"},
        [
            {"author": "janak", "published": "2026-11-22T14:03:11Z", "keyword": "acme",
             "url": "/t/acme-sync-is-slow-after-the-update/1234", "lang": "en",
             "text": "Since the 4.2 update, Acme takes twice as long to sync our 3,000 files. Anyone else?"},
            {"author": "ops_tom", "published": "2026-11-22T16:40:00Z", "keyword": "globex",
             "url": "/t/acme-sync-is-slow-after-the-update/1234", "lang": "en",
             "text": "Anyone else? Same here. Switching off delta sync in Globex fixed it for us."},
        ],
    ),
    "phpbb": (
        {"/viewtopic.php?t=77": "phpbb-topic-1.html", "/viewtopic.php?t=77&start=10": "phpbb-topic-2.html"},
        [
            {"author": "laufmaus", "published": "2026-11-20T18:12:00Z", "keyword": "acme",
             "title": "Acme Runner X – Erfahrungen?", "url": "/viewtopic.php?p=4711#p4711", "lang": "de",
             "text": "Hat jemand schon Erfahrungen mit dem Acme Runner X gesammelt?"},
            {"author": "km_fresser", "published": "2026-11-23T06:40:00Z", "keyword": "acme",
             "title": "Re: Acme Runner X – Erfahrungen?", "url": "/viewtopic.php?p=4790#p4790",
             "text": "400 km bisher, die Sohle von Acme hält."},
        ],
    ),
    "xenforo": (
        {"/threads/acme-vs-globex-for-small-teams.9911/": "xenforo-thread.html"},
        [
            {"author": "devmike", "published": "2026-11-19T20:07:42Z", "keyword": "acme", "lang": "en",
             "url": "/threads/acme-vs-globex-for-small-teams.9911/post-88101",
             "text": "We are five people. Is Acme worth it, or is Globex enough?"},
            {"author": "devmike", "published": "2026-11-19T20:07:42Z", "keyword": "globex",
             "url": "/threads/acme-vs-globex-for-small-teams.9911/post-88101"},
            {"author": "Hanna_R", "published": "2026-11-20T07:15:00Z", "keyword": "acme",
             "url": "/threads/acme-vs-globex-for-small-teams.9911/post-88140",
             "text": "devmike said: Is Acme worth it? "
                     "For five people the Acme team plan pays off after two months."},
        ],
    ),
    "reviews": (
        {"/review/acme.example": "reviews.html"},
        [
            {"author": "Petra M.", "published": "2026-11-18T09:00:00Z", "keyword": "acme",
             "title": "Lieferung dauerte ewig", "url": "/reviews/6741a0c2", "lang": "de",
             "text": "Die Acme Laufschuhe sind gut, aber auf die Lieferung habe ich drei Wochen gewartet."},
        ],
    ),
}

KEYWORDS = "  - name: acme\n    terms: [Acme]\n  - name: globex\n    terms: [Globex]\n"


@pytest.mark.parametrize("name", sorted(CASES))
def test_engine_example(name: str, site: LocalSite, tmp_path: Path) -> None:
    routes, expected = CASES[name]
    [source] = yaml.safe_load((DOCS / f"{name}.yaml").read_text(encoding="utf-8"))
    parts = urlsplit(source["page"])
    source["page"] = site.base + source["page"].removeprefix(f"{parts.scheme}://{parts.netloc}")
    for path, fixture in routes.items():
        site.add(path, (FIXTURES / fixture).read_bytes())
    snippet = yaml.safe_dump([source], allow_unicode=True, sort_keys=False)
    config = write_config(tmp_path, "".join(f"  {line}\n" for line in snippet.splitlines()), KEYWORDS)
    result, records = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    records.sort(key=lambda r: (r["published"], r["keyword"]))
    assert len(records) == len(expected), records
    for want, record in zip(expected, records, strict=True):
        for key, value in want.items():
            if key == "text":
                continue
            wanted = site.base + value if key == "url" and value.startswith("/") else value
            assert record[key] == wanted, key

    # the text itself, as `mentions test-source` shows it (not cut around the match)
    args = ["test-source", source["name"], "-c", str(config), "--format", "jsonl"]
    shown = CliRunner().invoke(app, args)
    assert shown.exit_code == 0, shown.stderr
    texts = {(d["author"], d["published"]): d["text"] for d in map(json.loads, shown.stdout.splitlines())}
    for want in expected:
        if "text" in want:
            assert texts[(want["author"], want["published"])] == want["text"]


def test_a_post_with_a_broken_permalink_costs_only_its_link() -> None:
    from mentions.config import Source
    from mentions.sources.page import parse_page

    html = (b'<div class="post"><a href="http://[oops">#1</a><p class="body">Acme one</p></div>'
            b'<div class="post"><a href="/t/1#p2">#2</a><p class="body">Acme two</p></div>')
    url = "https://forum.example/t/1"
    source = Source(name="forum", page=url, items=".post", fields={"text": ".body", "link": "a@href"})
    parsed = parse_page(html, "text/html", url, source)
    assert [(d.text, d.url) for d in parsed.documents] == [
        ("Acme one", url), ("Acme two", "https://forum.example/t/1#p2")]
