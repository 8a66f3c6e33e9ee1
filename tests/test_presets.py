"""Bundled presets: every file loads, required params are config errors, the feed presets read
the feed a user names. Each preset against its platform's answers: test_preset_answers.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from mentions.presets import list_presets, preset_problem
from tests.localsite import LocalSite
from tests.scanning import scan, write_config

FIXTURES = Path(__file__).parent / "fixtures" / "presets"
EXPECTED = {
    "google-news", "google-alerts", "reddit-search", "hacker-news", "mastodon-hashtag", "lemmy",
    "discourse-search", "stackexchange-search", "youtube-channel", "wordpress-comments", "github-search",
}


def test_every_bundled_preset_loads_with_a_description() -> None:
    loaded = {preset.name: preset for preset in list_presets()}
    assert set(loaded) == EXPECTED
    for preset in loaded.values():
        assert preset.description and preset.notes, preset.name
        assert preset.url.startswith(("https://", "{")), preset.name


def test_unknown_preset_and_missing_params_are_config_errors(tmp_path: Path, runner: object) -> None:
    from typer.testing import CliRunner

    from mentions.cli import app

    config = write_config(tmp_path, """  - name: news
    preset: google-newz
  - name: masto
    preset: mastodon-hashtag
  - name: alerts
    preset: google-alerts
    params: {urll: x}
""")
    result = CliRunner().invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert any(":7:" in line and "did you mean 'google-news'" in line for line in lines), lines
    assert any(":9:" in line and "needs `params` instance" in line for line in lines), lines
    assert any(":11:" in line and "needs `params` url" in line for line in lines), lines


@pytest.mark.parametrize(
    ("name", "params", "problem"),
    [
        ("google-news", {}, None),
        ("google-news", {"hl": "de", "gl": "DE"}, None),
        ("google-news", {"lang": "de"}, "has no param 'lang'"),
        ("discourse-search", {}, "needs `params` forum"),
        ("stackexchange-search", {"site": "superuser", "host": "superuser.com"}, None),
        ("stackexchange-search", {"site": "superuser.com"}, None),
        # a short API site name alone made every link https://superuser/q/…, leading nowhere
        ("stackexchange-search", {"site": "superuser"}, "links are built on `host`, and 'superuser' is no host name"),
        ("stackexchange-search", {"site": "unix", "host": "unix"}, "'unix' is no host name"),
    ],
)
def test_preset_problems(name: str, params: dict[str, str], problem: str | None) -> None:
    found = preset_problem(name, params)
    assert found == problem if problem is None else problem in (found or "")


@pytest.mark.parametrize(
    ("name", "fixture", "served", "param"),
    [
        ("google-alerts", "google-alerts.xml", "/alerts/feeds/0123/4567", "url: '{base}/alerts/feeds/0123/4567'"),
        ("wordpress-comments", "wordpress-comments.xml", "/comments/feed/", "site: '{base}'"),
        # a trailing slash on the address is joined with one slash, not two
        ("wordpress-comments", "wordpress-comments.xml", "/blog/comments/feed/", "site: '{base}/blog/'"),
    ],
)
def test_feed_presets_read_the_feed_the_user_names(
    name: str, fixture: str, served: str, param: str, site: LocalSite, tmp_path: Path
) -> None:
    site.add(served, (FIXTURES / fixture).read_bytes(), content_type="application/rss+xml")
    params = "{" + param.format(base=site.base) + "}"
    config = write_config(tmp_path, f"  - name: s\n    preset: {name}\n    params: {params}\n")
    result, records = scan(config, "--no-state")
    assert result.exit_code == 0, result.stderr
    assert len(records) == 1, records
    record = records[0]
    if name == "google-alerts":
        # the google.com/url redirect is unwrapped: the real article, the same id every delivery
        assert record["url"] == "https://www.example-news.de/wirtschaft/acme-werk-sachsen-100.html"
        assert record["title"] == "Acme eröffnet neues Werk in Sachsen"
        assert record["published"] == "2026-11-25T10:41:13Z"
        assert record["author"] is None
        assert "400 Arbeitsplätzen" in record["snippet"]
    else:
        # one comment per record, with its own anchor, author and date; "Toller Test" is not one
        assert record["url"] == "https://laufblog.example/2026/11/neue-schuhe-im-test/#comment-1201"
        assert record["author"] == "Jonas"
        assert record["published"] == "2026-11-24T18:22:09Z"
        assert "Acme Runner X" in record["snippet"]
        assert record["lang"] == "de"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.google.com/url?rct=j&sa=t&url=https://a.example/x%3Fy%3D1&ct=ga", "https://a.example/x?y=1"),
        ("https://www.google.de/url?q=https://b.example/&sa=U", "https://b.example/"),
        ("https://www.google.com/url?url=javascript:alert(1)", "https://www.google.com/url?url=javascript:alert(1)"),
        ("https://evil.example/url?url=https://a.example/", "https://evil.example/url?url=https://a.example/"),
        ("https://google.evil.example/url?url=https://a.example/", "https://google.evil.example/url?url=https://a.example/"),
        ("https://www.google.com/search?q=acme", "https://www.google.com/search?q=acme"),
        (None, None),
    ],
)
def test_google_redirects_are_unwrapped_and_nothing_else(url: str | None, expected: str | None) -> None:
    from mentions.sources.feed import unwrap_redirect

    assert unwrap_redirect(url) == expected
