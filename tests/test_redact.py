"""Values from `${ENV}` never leave the process: not in messages, output, `sources`, `history`
or the state. The requests themselves still carry them. Values expanded in `keywords:` are
searched for, not hidden, unless they are secrets elsewhere too."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mentions.cli import app
from mentions.config_file import load_config
from mentions.errors import FetchError
from mentions.models import Mention
from mentions.redact import MIN_SECRET_LENGTH, Redactor
from tests.conftest import run_cli
from tests.localsite import LocalSite

SECRET = "secretvalue"
ENV = {"SECRET_TOKEN": SECRET}
PAGE = """<!DOCTYPE html><html lang="en"><head><title>Review: the Acme kettle</title></head><body>
<article><h1>Review: the Acme kettle</h1><p>The Acme kettle boils water in two minutes.</p></article>
</body></html>"""

# (secret values, text, redacted text)
CASES = [
    (["tops3cret"], "http://x/feed?key=tops3cret&n=1", "http://x/feed?key=***&n=1"),
    (["tops3cret"], "no secret here", "no secret here"),
    # ports, numbers, flags and language codes are not hidden: they would garble every text
    (["1", "8080", "true", "de"], "port 8080 since 2021, true", "port 8080 since 2021, true"),
    (["a b+c/d=é"], "http://h/p?k=a%20b+c/d=%C3%A9", "http://h/p?k=***"),  # as an HTTP client sends it
    (["a b+c/d=é"], "k=a+b%2Bc%2Fd%3D%C3%A9", "k=***"),  # form-encoded
    (["abcdefgh", "abcdefghijkl"], "x=abcdefghijkl", "x=***"),  # the longer one whole
    # lower-case hex as .NET and many logs write it; encodeURIComponent keeps !*()'
    (["wJalrXUtnFEMI/K7+bPxRfiCY"], "sig=wJalrXUtnFEMI%2fK7%2bbPxRfiCY", "sig=***"),
    (["it's(a)secret!"], "k=it's(a)secret!", "k=***"),
    (["it's(a)secret!"], "k=it%27s%28a%29secret%21", "k=***"),
    ([], "anything", "anything"),
]


@pytest.mark.parametrize(("secrets", "text", "expected"), CASES)
def test_redactor_hides_secrets(secrets: list[str], text: str, expected: str) -> None:
    assert Redactor(secrets)(text) == expected


def test_short_values_are_no_secrets() -> None:
    assert Redactor(["x" * (MIN_SECRET_LENGTH - 1), "y" * MIN_SECRET_LENGTH]).secrets == {"y" * MIN_SECRET_LENGTH}


def test_a_redacted_fetch_error_keeps_its_reason_and_status() -> None:
    error = Redactor([SECRET]).error(FetchError("http status", f"http://h/{SECRET}/x", "HTTP 503", 503))
    assert (error.reason, error.url, error.detail, error.status) == ("http status", "http://h/***/x", "HTTP 503", 503)


def test_a_mention_whose_snippet_held_a_secret_loses_its_highlights() -> None:
    mention = Mention(
        id="1", keyword="acme", tags=(), source="s", source_type="page", url=f"http://h/?k={SECRET}",
        title="Acme", author=None, published=None, found_at=datetime(2026, 1, 1, tzinfo=UTC),
        terms=("Acme",), count=1, snippet=f"Acme {SECRET}", lang=None, highlights=((0, 4),),
    )
    redacted = Redactor([SECRET]).mention(mention)
    assert (redacted.url, redacted.snippet, redacted.highlights) == ("http://h/?k=***", "Acme ***", ())
    clean = Redactor([SECRET]).mention(Mention(**{**_fields(mention), "url": "http://h/", "snippet": "Acme"}))
    assert clean.highlights == ((0, 4),)


def _fields(mention: Mention) -> dict[str, object]:
    return {name: getattr(mention, name) for name in Mention.__dataclass_fields__}


CONFIG = """\
version: 1
http: {{delay: 0, retries: 0, robots: false{http}}}
keywords:
  - name: acme
    terms: [Acme]
sources:
  - name: b
    feed: {feed}
{extra}"""

# (what the config says, its line, words of the plain sentence)
BAD_VALUES = [
    ({"http": ', timeout: "${SECRET_TOKEN}"'}, 2, ["http.timeout", "is not a duration"]),
    ({"http": ', max_bytes: "${SECRET_TOKEN}"'}, 2, ["http.max_bytes", "is not a size"]),
    ({"feed": '"http://exa mple.org/${SECRET_TOKEN}/feed"'}, 7, ["is not a valid URL", "space"]),
    ({"feed": '"http://example.org:99999/feed?key=${SECRET_TOKEN}"'}, 7, ["is not a valid URL", "port"]),
    ({"extra": '    exclude_urls: ["(${SECRET_TOKEN}"]\n'}, 9, ["exclude_urls", "is not a valid regex"]),
]


@pytest.mark.parametrize(("parts", "line", "words"), BAD_VALUES)
def test_config_errors_never_quote_a_secret(
    parts: dict[str, str], line: int, words: list[str], tmp_path: Path, runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "ftp://" + SECRET)
    config = tmp_path / "cfg.yaml"
    config.write_text(CONFIG.format(**{"http": "", "feed": "http://example.org/feed", "extra": "", **parts}))
    result = runner.invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 2
    assert SECRET not in result.output
    assert f"cfg.yaml:{line}: " in result.output and "***" in result.output
    assert all(word in result.output for word in words), result.output


def _serve(site: LocalSite) -> None:
    site.add(f"/503/{SECRET}/x", "down for maintenance", status=503, content_type="text/plain")
    site.add("/page.html", PAGE)


def _secret_config(tmp_path: Path, site: LocalSite, secret: str = "${SECRET_TOKEN}") -> Path:
    config = tmp_path / "mentions.yaml"
    config.write_text(CONFIG.format(
        http=", timeout: 5", feed=f'"{site.url(f"/503/{secret}/x")}"',
        extra=f'  - name: p\n    page: "{site.url(f"/page.html?api_key={secret}")}"\nstate: ./state.db\n',
    ))
    return config


def _state_dump(tmp_path: Path) -> str:
    """Every row of every table, and the raw bytes of the database and its journals."""
    with sqlite3.connect(tmp_path / "state.db") as db:
        dump = "\n".join(db.iterdump())
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("state.db*"))
    return dump + raw.decode("latin-1")


def test_a_scan_fetches_with_the_secret_and_shows_and_stores_none(site: LocalSite, tmp_path: Path) -> None:
    _serve(site)
    config = _secret_config(tmp_path, site)
    first = run_cli("scan", "-c", str(config), "--format", "jsonl", "-v", env=ENV)
    assert first.returncode == 1, first.stderr
    assert site.requests[f"/503/{SECRET}/x"] == 1 and site.requests[f"/page.html?api_key={SECRET}"] == 1
    stdout, stderr = first.stdout.decode(), first.stderr.decode()
    [record] = [json.loads(line) for line in stdout.splitlines()]
    assert record["url"] == site.url("/page.html?api_key=***")
    assert f"source 'b' failed: http status: HTTP 503: {site.url('/503/***/x')}" in stderr
    again = run_cli("scan", "-c", str(config), "--format", "jsonl", "-v", env=ENV)
    # the validators, kept under the redacted URL, still make the rerun cheap
    assert site.not_modified[f"/page.html?api_key={SECRET}"] == 1
    listed = run_cli("sources", "-c", str(config), "--format", "jsonl", env=ENV)
    health = {row["name"]: row for row in map(json.loads, listed.stdout.decode().splitlines())}
    assert health["b"]["last_error"] == f"http status: HTTP 503: {site.url('/503/***/x')}"
    table = run_cli("sources", "-c", str(config), "--format", "table", env=ENV)
    history = run_cli("history", "-c", str(config), "--format", "jsonl", env=ENV)
    assert [json.loads(line)["url"] for line in history.stdout.decode().splitlines()] == [record["url"]]
    shown = [run_cli("test-source", name, "-c", str(config), env=ENV) for name in ("b", "p")]
    assert "api_key=***" in shown[1].stdout.decode() and "/503/***/x" in shown[0].stderr.decode()
    for result in (first, again, listed, table, history, *shown):
        assert SECRET.encode() not in result.stdout + result.stderr
    assert SECRET not in _state_dump(tmp_path)


def test_mention_ids_do_not_depend_on_the_secret(site: LocalSite, tmp_path: Path) -> None:
    """Changing a token reports nothing again, and an id cannot be used to guess it."""
    site.add("/page.html", PAGE)
    config = _secret_config(tmp_path, site)
    ids = []
    for token in (SECRET, "another-secret"):
        result = run_cli("scan", "-c", str(config), "--no-state", "-s", "p", env={"SECRET_TOKEN": token})
        ids += [json.loads(line)["id"] for line in result.stdout.decode().splitlines()]
    assert len(ids) == 2 and ids[0] == ids[1]


def test_sources_and_history_hide_secrets_recorded_by_older_versions(site: LocalSite, tmp_path: Path) -> None:
    _serve(site)
    # The secret written into the config, not from ${ENV}: recorded as it is, as before the fix.
    run_cli("scan", "-c", str(_secret_config(tmp_path, site, secret=SECRET)), env=ENV)
    assert SECRET in _state_dump(tmp_path)
    config = _secret_config(tmp_path, site)
    listed = run_cli("sources", "-c", str(config), "--format", "jsonl", env=ENV)
    history = run_cli("history", "-c", str(config), "--format", "jsonl", env=ENV)
    assert "/503/***/x" in listed.stdout.decode() and "api_key=***" in history.stdout.decode()
    for result in (listed, history):
        assert SECRET.encode() not in result.stdout + result.stderr


def test_a_snippet_cut_inside_a_long_secret_shows_no_piece_of_it(tmp_path: Path) -> None:
    """The snippet was cut out of the raw text and redacted after: cut inside a long token
    (a GitHub token, a JWT) next to the hit, the piece left was no longer the secret."""
    token = "github_pat_11ABCDEFG0aBcDeFgHiJkLmN_OpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbC"
    text = (f"curl https://api.example/search?access_token={token}&q=Acme returned nothing. This log is "
            "followed by a few more words of ordinary text, longer than one snippet of two hundred characters.")
    (tmp_path / "log.jsonl").write_text(json.dumps({"title": "t", "url": "https://ok.example/1", "text": text}) + "\n")
    config = tmp_path / "m.yaml"
    config.write_text("version: 1\nhttp: {headers: {Authorization: 'Bearer ${MENTIONS_TEST_TOKEN}'}}\n"
                      "keywords: [{name: acme, terms: [Acme]}]\nsources: [{name: log, file: ./log.jsonl}]\n")
    result = run_cli("scan", "-c", str(config), "--no-state", "--format", "jsonl", env={"MENTIONS_TEST_TOKEN": token})
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "Acme" in out and "***" in out
    assert not any(token[i:i + 12] in out for i in range(len(token) - 11))


def test_json_output_escapes_what_a_terminal_would_obey(tmp_path: Path) -> None:
    # U+009B is CSI (ESC [ in 8 bits), U+202E reverses what follows: raw, a terminal obeys them.
    title = "Acme \u009b2J\u009b31mRED \u009d0;PWNED\u009c \u202eevil"
    (tmp_path / "c1.jsonl").write_text(json.dumps({"title": title, "text": "Acme"}) + "\n")
    config = tmp_path / "m.yaml"
    config.write_text("version: 1\nkeywords: [{name: acme, terms: [Acme]}]\nsources: [{name: x, file: ./c1.jsonl}]\n")
    for command in (["scan", "--no-state", "--format", "jsonl"], ["test-source", "x", "--format", "jsonl"]):
        result = run_cli(*command, "-c", str(config))
        assert result.returncode == 0, result.stderr
        assert not any(0x80 <= ord(char) <= 0x9F or char == "\u202e" for char in result.stdout.decode())
        assert json.loads(result.stdout.decode().splitlines()[0])["title"] == title


BRAND_ENV = {"MENTIONS_TEST_BRAND": "Initech"}
BRAND_CONFIG = """\
version: 1
keywords: [{name: brand, terms: ["${MENTIONS_TEST_BRAND}"]}]
sources: [{name: notes, file: ./brandnotes.txt}]
"""


def _jsonl(result: subprocess.CompletedProcess[bytes]) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


def test_a_keyword_term_from_env_is_found_alike_by_scan_test_source_and_match(tmp_path: Path) -> None:
    """The term was starred in every document before matching: `scan` found nothing,
    `test-source` showed `I really love *** products`, and only `match` found it."""
    config = tmp_path / "envbrand.yaml"
    config.write_text(BRAND_CONFIG)
    notes = tmp_path / "brandnotes.txt"
    notes.write_text("I really love Initech products, Initech is great\n")
    scan = run_cli("scan", "-c", str(config), "--no-state", "--format", "jsonl", env=BRAND_ENV)
    assert scan.returncode == 0, scan.stderr
    [record] = _jsonl(scan)
    assert (record["keyword"], record["terms"], record["count"]) == ("brand", ["Initech"], 2)
    assert record["snippet"] == "I really love Initech products, Initech is great"
    shown = run_cli("test-source", "notes", "-c", str(config), env=BRAND_ENV)
    assert shown.returncode == 0, shown.stderr
    assert "I really love Initech products" in shown.stdout.decode()
    assert "matches: brand ×2 (Initech)" in shown.stdout.decode()
    matched = run_cli("match", "-c", str(config), "--format", "jsonl", str(notes), env=BRAND_ENV)
    assert matched.returncode == 0, matched.stderr
    [filtered] = _jsonl(matched)
    assert {**filtered, "source": "notes", "url": record["url"], "found_at": None} == {**record, "found_at": None}


# (what the config says, the values expected to be secrets)
WHERE_EXPANDED = {
    "terms and exclude": (
        'keywords: [{name: b, terms: ["${MENTIONS_TEST_BRAND}"], exclude: ["${MENTIONS_TEST_OTHER} St"]}]',
        set()),
    "query": ("keywords: [{name: b, query: '${MENTIONS_TEST_BRAND} NEAR/3 ${MENTIONS_TEST_OTHER}'}]", set()),
    "names": ('keywords: [{name: "${MENTIONS_TEST_BRAND}", terms: [x]}]\n'
              'sources: [{name: s, file: ./x.txt, keywords: ["${MENTIONS_TEST_BRAND}"]}]', set()),
    "a header": ('http: {headers: {X-Token: "${MENTIONS_TEST_OTHER}"}}\n'
                 'keywords: [{name: b, terms: ["${MENTIONS_TEST_BRAND}"]}]', {"Globex-Token"}),
    # an alias takes its anchor's values where it is used: outside `keywords:`, they are secrets
    "an alias in a header": (
        'keywords: [{name: b, terms: ["${MENTIONS_TEST_BRAND}", &t "${MENTIONS_TEST_OTHER}"]}]\n'
        "sources: [{name: s, file: ./x.txt, headers: {X-Token: *t}}]", {"Globex-Token"}),
    "an alias of a list": (
        'keywords: [{name: b, terms: &t ["${MENTIONS_TEST_BRAND}"], exclude: ["${MENTIONS_TEST_OTHER}"]}]\n'
        "sources: [{name: s, file: ./x.txt, exclude_urls: *t}]", {"Initech"}),
}


@pytest.mark.parametrize(("written", "secrets"), WHERE_EXPANDED.values(), ids=WHERE_EXPANDED)
def test_values_expanded_in_keywords_are_no_secrets_unless_used_elsewhere(
    written: str, secrets: set[str], tmp_path: Path
) -> None:
    config = tmp_path / "m.yaml"
    sources = "" if "sources:" in written else "\nsources: [{name: s, file: ./x.txt}]"
    config.write_text(f"version: 1\n{written}{sources}\n")
    environ = {**BRAND_ENV, "MENTIONS_TEST_OTHER": "Globex-Token"}
    assert load_config(config, environ).secrets == secrets


def test_a_secret_in_a_text_is_hidden_by_scan_and_by_match_in_every_format(tmp_path: Path) -> None:
    """`match` did not redact: a header's token in a pasted log came out in clear."""
    token = "tok-5f3a9c1e7b"
    config = tmp_path / "m.yaml"
    config.write_text("version: 1\nhttp: {headers: {Authorization: 'Bearer ${MENTIONS_TEST_TOKEN}'}}\n"
                      "keywords: [{name: acme, terms: [Acme]}]\nsources: [{name: log, file: ./log.txt}]\n")
    log = tmp_path / "log.txt"
    log.write_text(f"Acme support asked for the key {token} in a ticket\n")
    env = {"MENTIONS_TEST_TOKEN": token}
    scan = run_cli("scan", "-c", str(config), "--no-state", "--format", "jsonl", env=env)
    assert scan.returncode == 0, scan.stderr
    [record] = _jsonl(scan)
    assert record["snippet"] == "Acme support asked for the key *** in a ticket"
    for output_format in ("jsonl", "json", "csv", "table"):
        matched = run_cli("match", "-c", str(config), "--format", output_format, str(log), env=env)
        assert matched.returncode == 0, matched.stderr
        assert token.encode() not in matched.stdout + matched.stderr, output_format
        assert b"***" in matched.stdout, output_format
    [filtered] = _jsonl(run_cli("match", "-c", str(config), "--format", "jsonl", str(log), env=env))
    assert (filtered["id"], filtered["snippet"]) == (record["id"], record["snippet"])
    # A query of its own (`-e`) replaces the config's keywords, not its secrets.
    queried = run_cli("match", "-c", str(config), "-e", "Acme", "--format", "jsonl", str(log), env=env)
    assert queried.returncode == 0, queried.stderr
    assert token.encode() not in queried.stdout + queried.stderr
    assert [found["snippet"] for found in _jsonl(queried)] == [record["snippet"]]


def test_a_keyword_term_that_is_a_secret_too_stays_hidden_and_check_says_it_cannot_match(
    tmp_path: Path,
) -> None:
    """The header's token may not appear in any output: the term hidden with it finds
    nothing, and `check` says so, with the line, without the value."""
    token = "tok-5f3a9c1e7b"
    config = tmp_path / "m.yaml"
    config.write_text("version: 1\nhttp: {headers: {Authorization: 'Bearer ${MENTIONS_TEST_TOKEN}'}}\n"
                      "keywords:\n  - name: brand\n    terms: [Initech]\n"
                      "  - name: leak\n    terms: ['${MENTIONS_TEST_TOKEN}']\n"
                      "sources: [{name: log, file: ./log.txt}]\n")
    log = tmp_path / "log.txt"
    log.write_text(f"Initech support asked for the key {token} in a ticket\n")
    env = {"MENTIONS_TEST_TOKEN": token}
    for command in (["scan", "--no-state"], ["match", str(log)]):
        result = run_cli(*command, "-c", str(config), "--format", "jsonl", env=env)
        assert result.returncode == 0, result.stderr
        assert [(found["keyword"], found["terms"]) for found in _jsonl(result)] == [("brand", ["Initech"])]
        assert token.encode() not in result.stdout + result.stderr
    checked = run_cli("check", "-c", str(config), env=env)
    assert checked.returncode == 0, checked.stderr
    assert token.encode() not in checked.stdout + checked.stderr
    [warning] = [line for line in checked.stderr.decode().splitlines() if "warning" in line]
    assert f"{config}:7: keywords[1] (leak).terms[0]: ${{MENTIONS_TEST_TOKEN}} is also used outside " in warning
    assert "no keyword can find it" in warning
