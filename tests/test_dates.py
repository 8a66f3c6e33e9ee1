"""Dates at the ends of the calendar: a junk date costs only itself, never a feed or a command.

The unit cases read dates as every source kind does; the end-to-end cases serve each kind
from a local server with one item dated past the year 9999 and check the other items.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mentions.cli import app
from mentions.dates import EARLIEST, LATEST, parse_date
from mentions.extract.meta import parse_date as meta_date
from mentions.units import parse_since
from tests.localsite import LocalSite
from tests.scanning import scan, write_config

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
BEYOND = "Fri, 31 Dec 9999 23:59:59 -1200"  # 10000-01-01 in UTC
ZERO_PLUS_14 = "Sat, 01 Jan 0001 00:00:00 +1400"  # the year 0 in UTC


@pytest.mark.parametrize(("text", "expected"), [
    (BEYOND, None),
    ("9999-12-31T23:59:59-12:00", None),
    ("Fri, 31 Dec 9999 23:59:59 +0000", None),  # representable, but a local time zone overflows
    (ZERO_PLUS_14, None),  # email.utils read it as 2000-12-31T10:00:00Z
    ("0001-01-01T00:00:00+14:00", None),
    ("Mon, 01 Jan 0001 00:00:00 +0000", None),  # Go's zero time: "no date"
    ("99999999999999999999", None),
    ("Tue, 02 Jan 0001 12:00:00 +0000", datetime(1, 1, 2, 12, tzinfo=UTC)),  # the year 1, not 2001
    ("Mon, 24 Nov 0099 08:00:00 +0000", datetime(99, 11, 24, 8, tzinfo=UTC)),
    ("Mon, 24 Nov 26 08:00:00 +0000", datetime(2026, 11, 24, 8, tzinfo=UTC)),  # two digits: 2026
    ("Mon, 24 Nov 2026 08:00:00 -1200", datetime(2026, 11, 24, 20, tzinfo=UTC)),
])
def test_dates_outside_the_calendar_are_none(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-02-30", None),  # was 2024-03-01: feedparser rolled the day over
    ("2024-13-01", None),  # was 2025-01-01
    ("99999-01-01", None),  # was 9999-11-01
    ("-0001-01-01", None),  # was 2000-01-01
    ("2024/02/03", datetime(2024, 2, 3, tzinfo=UTC)),  # was 2024-11-01
    ("20240203", datetime(2024, 2, 3, tzinfo=UTC)),  # was a second of 1970
    ("2024-02-03 10:00:00 GMT", datetime(2024, 2, 3, 10, tzinfo=UTC)),  # the time was dropped
    ("2023-12-28T12:00:00+99:99", datetime(2023, 12, 28, tzinfo=UTC)),  # was 2023-12-24T07:21Z
    ("2026-11-24T25:61:00Z", datetime(2026, 11, 24, tzinfo=UTC)),  # was 2026-11-25T02:01Z
    ("2026-11-24T23:60:00Z", datetime(2026, 11, 24, tzinfo=UTC)),  # was 2026-11-25T00:00Z
    ("Tue, 24 Nov 2026 09:14:00 +9999", None),  # was 2026-11-20T04:35Z
    ("Tue, 24 Nov 2026 25:14:00 +0000", None),
    ("Tue, 24 Nov 2026 09:14:00 -1400", datetime(2026, 11, 24, 23, 14, tzinfo=UTC)),  # a real zone
    ("2026-11-24T24:00:00Z", datetime(2026, 11, 25, tzinfo=UTC)),  # the end of a day, as ISO 8601 allows
    ("2024-W05", datetime(2024, 1, 29, tzinfo=UTC)),  # an ISO week: its Monday
    ("1700000000", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),  # a Unix time
])
def test_a_date_that_disagrees_with_the_day_written_is_not_taken(text: str, expected: datetime | None) -> None:
    """README: unreadable dates become null. feedparser's lenient handlers made dates out of
    days that do not exist, and misread some that do."""
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00",
                                  "9999-12-31T23:00:00Z"])
def test_page_meta_dates_outside_the_calendar_are_none(text: str) -> None:
    assert meta_date(text) is None


@pytest.mark.parametrize(("value", "expected"), [
    ("10000000000000000000d", EARLIEST),
    ("1000000d", EARLIEST),
    ("9" * 400 + "d", EARLIEST),
    ("0001-01-01", EARLIEST),
    ("0001-01-01T00:00:00+14:00", EARLIEST),
    ("9999-12-31T23:59:59-12:00", LATEST),
    ("2d", datetime(2026, 11, 24, 12, tzinfo=UTC)),
])
def test_since_beyond_the_calendar_is_its_end(value: str, expected: datetime) -> None:
    assert parse_since(value, NOW) == expected


RSS = """<?xml version="1.0" encoding="UTF-8"?>{doctype}
<rss version="2.0"><channel><title>t</title><link>{base}/</link>
<item><title>A</title><link>{base}/a</link><pubDate>{beyond}</pubDate><description>Acme one</description></item>
<item><title>B</title><link>{base}/b</link><pubDate>{zero}</pubDate><description>Acme two</description></item>
<item><title>C</title><link>{base}/c</link><pubDate>Tue, 24 Nov 2026 08:00:00 +0000</pubDate>
<description>Acme three</description></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>{doctype}
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:t</id><updated>2026-11-24T08:00:00Z</updated>
<entry><title>A</title><id>urn:a</id><link href="{base}/a"/><updated>9999-12-31T23:59:59-12:00</updated>
<summary>Acme one</summary></entry>
<entry><title>B</title><id>urn:b</id><link href="{base}/b"/><published>0001-01-01T00:00:00+14:00</published>
<summary>Acme two</summary></entry>
<entry><title>C</title><id>urn:c</id><link href="{base}/c"/><published>0001-01-01T00:00:00+14:00</published>
<updated>2026-11-24T08:00:00Z</updated><summary>Acme three</summary></entry>
</feed>"""


def _json_feed(base: str) -> str:
    items = [{"id": name, "url": f"{base}/{name}", "title": name.upper(), "content_text": f"Acme {name}",
              "date_published": date}
             for name, date in (("a", "9999-12-31T23:59:59-12:00"), ("b", "0001-01-01T00:00:00+14:00"),
                                ("c", "2026-11-24T08:00:00Z"))]
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": items})


def _api(base: str) -> str:
    return json.dumps({"hits": [{"url": f"{base}/{name}", "title": name.upper(), "text": f"Acme {name}",
                                 "created_at": date}
                                for name, date in (("a", BEYOND), ("b", ZERO_PLUS_14),
                                                   ("c", "2026-11-24T08:00:00Z"))]})


def _posts(base: str) -> str:
    posts = "".join(f'<article><a class="p" href="{base}/{name}">{name.upper()}</a><time datetime="{date}">'
                    f"</time><p>Acme {name}</p></article>"
                    for name, date in (("a", "9999-12-31T23:59:59-12:00"), ("b", ZERO_PLUS_14),
                                       ("c", "2026-11-24T08:00:00Z")))
    return f"<html><body>{posts}</body></html>"


ARTICLE = """<html><head><title>A</title>
<meta property="article:published_time" content="9999-12-31T23:59:59-12:00"></head>
<body><article><h1>A</h1><p>{text}</p></article></body></html>"""


@pytest.mark.parametrize("kind", ["rss", "rss-feedparser", "atom", "atom-feedparser", "json-feed", "json-api",
                                  "page-items"])
def test_a_date_beyond_the_calendar_costs_only_its_own_item(kind: str, site: LocalSite, tmp_path: Path) -> None:
    doctype = "\n<!DOCTYPE x>" if kind.endswith("-feedparser") else ""  # sends it to feedparser
    options = ""
    if kind.startswith("rss"):
        site.add("/s", RSS.format(doctype=doctype, base=site.base, beyond=BEYOND, zero=ZERO_PLUS_14),
                 content_type="application/rss+xml")
    elif kind.startswith("atom"):
        site.add("/s", ATOM.format(doctype=doctype, base=site.base), content_type="application/atom+xml")
    elif kind == "json-feed":
        site.add("/s", _json_feed(site.base), content_type="application/feed+json")
    elif kind == "json-api":
        site.add("/s", _api(site.base), content_type="application/json")
        options = "    items: hits\n    fields: {date: created_at}\n"
    else:
        site.add("/s", _posts(site.base))
        options = "    items: article\n    fields: {date: 'time@datetime', link: 'a.p@href', title: a.p}\n"
    key = {"json-api": "json", "page-items": "page"}.get(kind, "feed")
    config = write_config(tmp_path, f"  - name: s\n    {key}: {site.url('/s')}\n{options}")
    result, records = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    published = {str(record["url"]).rsplit("/", 1)[-1]: record["published"] for record in records}
    assert published == {"a": None, "b": None, "c": "2026-11-24T08:00:00Z"}


def test_a_page_whose_meta_date_is_beyond_the_calendar_is_undated(site: LocalSite, tmp_path: Path) -> None:
    site.add("/a", ARTICLE.format(text="Ein langer Text über Acme und Schuhe. " * 5))
    config = write_config(tmp_path, f"  - name: s\n    page: {site.url('/a')}\n")
    result, [record] = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    assert record["published"] is None


def test_match_reads_a_date_beyond_the_calendar_as_none() -> None:
    line = '{"text":"Acme","published":"9999-12-31T23:59:59-12:00"}\n'
    result = CliRunner().invoke(app, ["match", "-e", "Acme", "--jsonl"], input=line)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["published"] is None
