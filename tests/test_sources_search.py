"""`search:` sources: one URL per keyword in the platform's syntax, answers sniffed, and the
keyword that searched must still match the text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mentions.config import Keyword, Source
from mentions.presets import get_preset
from mentions.sources.search import hashtags, parse_answer, positive_terms, search_urls, sniff_format
from tests.localsite import LocalSite
from tests.scanning import scan, write_config


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ('"Acme" AND (Schuh* OR sneaker*) NOT "Acme Corp"', ["Acme"]),
        ("Globex NEAR/5 (preis OR price OR teuer)", ["Globex", "preis", "price", "teuer"]),
        ("acme -site:acme.de lang:de", ["acme"]),
        ("title:acme OR author:\"Max Muster\" OR url:blog", ["acme"]),
        ("Telekom* OR /tele(kom|com)/", ["Telekom"]),
        ("acme NOT (foo OR bar) baz", ["acme", "baz"]),
        ("-acme", []),
        ('"unclosed (', ["unclosed"]),  # lenient: the config rejects such queries anyway
    ],
)
def test_positive_terms_of_queries(query: str, terms: list[str]) -> None:
    assert positive_terms(query) == terms


def test_urls_per_keyword_in_search_syntax() -> None:
    keywords = [
        Keyword(name="acme", terms=["Acme GmbH", "Acme", "#acme"]),
        Keyword(name="globex", query="Globex NOT Globex-Street"),
    ]
    urls = search_urls("https://s.example/?q={query}&hl={hl}", {"hl": "de"}, keywords, "any")
    assert urls == [
        "https://s.example/?q=%22Acme%20GmbH%22%20OR%20Acme%20OR%20%23acme&hl=de",
        "https://s.example/?q=Globex&hl=de",
    ]
    per_term = search_urls("https://s.example/?q={query}", {}, keywords[:1], "per-term")
    assert per_term == [
        "https://s.example/?q=Acme%20GmbH", "https://s.example/?q=Acme", "https://s.example/?q=%23acme"
    ]


def test_quotes_inside_a_term_do_not_break_its_phrase(site: LocalSite, tmp_path: Path) -> None:
    site.add("/api", json.dumps({"hits": []}), content_type="application/json")
    keywords = "  - name: quote\n    terms: ['say \"hi\"', '\"Acme\"', 'C++']\n"
    config = write_config(tmp_path, f"  - name: s\n    search: {site.base}/api?q={{query}}\n    items: hits\n",
                          keywords)
    result, _ = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    # one phrase the engine can read, not `"say "hi""`
    assert list(site.requests) == ["/api?q=%22say%20hi%22%20OR%20Acme%20OR%20C%2B%2B"]


def test_tags_and_fixed_urls() -> None:
    keywords = [Keyword(name="acme", terms=["Acme", "#AcmeShoes", "Acme GmbH"])]
    assert hashtags(list(keywords[0].terms)) == ["acmeshoes"]
    assert search_urls("https://m.example/tags/{tag}.rss", {"tag": ""}, keywords, "per-term") == [
        "https://m.example/tags/acmeshoes.rss"
    ]
    assert search_urls("https://m.example/tags/{tag}.rss", {"tag": "acme"}, keywords, "per-term") == [
        "https://m.example/tags/acme.rss"
    ]
    assert search_urls("{site}/comments/feed/", {"site": "https://b.example"}, keywords, "none") == [
        "https://b.example/comments/feed/"
    ]
    assert search_urls("https://{forum}/search.json?q={query}", {"forum": "f.example/"}, keywords, "any") == [
        "https://f.example/search.json?q=Acme%20OR%20%23AcmeShoes%20OR%20%22Acme%20GmbH%22"
    ]


@pytest.mark.parametrize(
    ("body", "content_type", "kind"),
    [
        (b'{"hits": []}', "text/plain", "json"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', "application/json", "feed"),
        (b"<?xml version='1.0'?><rss version='2.0'></rss>", "text/xml", "feed"),
        (b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'></feed>", "", "feed"),
        (b"<html><body>hi</body></html>", "text/html", "page"),
        (b"[]", "application/json", "json"),
    ],
)
def test_sniffing(body: bytes, content_type: str, kind: str) -> None:
    assert sniff_format(body, content_type) == kind


RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>search</title>
<item><title>{title}</title><link>https://news.example/{slug}</link><description>{text}</description>
<pubDate>Mon, 24 Nov 2026 10:00:00 GMT</pubDate></item></channel></rss>"""


def test_search_source_end_to_end(site: LocalSite, tmp_path: Path) -> None:
    site.add("/search?q=Acme", RSS.format(title="Acme opens a shop", slug="a", text="Also: Globex."),
             content_type="application/rss+xml")
    site.add("/search?q=Globex", RSS.format(title="Globex news", slug="g", text="Nothing about them."),
             content_type="application/rss+xml")
    site.add("/search?q=Initech", RSS.format(title="Unrelated", slug="i", text="Search engines are fuzzy."),
             content_type="application/rss+xml")
    keywords = (
        "  - name: acme\n    terms: [Acme]\n  - name: globex\n    terms: [Globex]\n"
        "  - name: initech\n    terms: [Initech]\n"
    )
    config = write_config(tmp_path, f"  - name: news\n    search: {site.base}/search?q={{query}}\n", keywords)
    result, records = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    found = sorted((r["keyword"], r["url"]) for r in records)
    # the Acme result also mentions Globex; the Initech result does not mention Initech at all
    assert found == [
        ("acme", "https://news.example/a"),
        ("globex", "https://news.example/a"),
        ("globex", "https://news.example/g"),
    ]
    assert all(r["source_type"] == "search" for r in records)
    assert site.requests["/search?q=Acme"] == 1


def test_search_respects_the_source_keywords(site: LocalSite, tmp_path: Path) -> None:
    site.add("/api", json.dumps({"hits": [{"text": "Acme and Globex"}]}), content_type="application/json")
    keywords = "  - name: acme\n    terms: [Acme]\n  - name: globex\n    terms: [Globex]\n"
    config = write_config(
        tmp_path,
        f"  - name: s\n    search: {site.base}/api?q={{query}}\n    items: hits\n    keywords: [globex]\n",
        keywords,
    )
    result, records = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    assert list(site.requests) == ["/api?q=Globex"]
    assert [r["keyword"] for r in records] == ["globex"]


def test_search_html_answer_with_items(site: LocalSite, tmp_path: Path) -> None:
    site.add("/find", """<html lang="en"><body><ol>
      <li class="hit"><a class="t" href="/p/1">Acme review</a><p class="s">Acme is fine.</p></li>
      <li class="hit"><a class="t" href="/p/2">Other</a><p class="s">No brand here.</p></li>
    </ol></body></html>""")
    config = write_config(tmp_path, f"""  - name: find
    search: {site.base}/find?q={{query}}
    items: li.hit
    fields: {{title: a.t, text: p.s, link: "a.t@href"}}
""")
    result, records = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    assert [r["url"] for r in records] == [f"{site.base}/p/1"]
    assert records[0]["lang"] == "en"


def test_search_needs_a_placeholder(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mentions.cli import app

    config = write_config(tmp_path, "  - name: s\n    search: https://s.example/?q=acme\n")
    result = CliRunner().invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 2
    assert "needs a {query} placeholder" in result.stderr


@pytest.mark.parametrize(
    ("backoff", "pause"),
    [("12", 12.0), ("2.5", 2.5), ("0", None), ("-1", None), ("null", None), ("true", None), ('"10"', None),
     ("1e308", 86400.0)],  # a day stops the source as well, and says so in a short line
)
def test_the_pause_an_answer_asks_for(backoff: str, pause: float | None) -> None:
    preset = get_preset("stackexchange-search")
    body = f'{{"items": [], "has_more": false, "backoff": {backoff}}}'.encode()
    source = Source(name="se", preset="stackexchange-search")
    answer = parse_answer(body, "application/json", "https://api.example/", source, preset)
    assert answer.pause == pause
