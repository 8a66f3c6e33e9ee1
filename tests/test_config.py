"""Config mistakes: one clear sentence with file and line, exit 2, never a traceback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from mentions.cli import app
from mentions.config_file import load_config
from mentions.errors import ConfigError
from tests.localsite import LocalSite
from tests.scanning import scan, write_config

GOOD = """\
version: 1
keywords:
  - name: acme
    terms: [Acme]
sources:
  - name: blog
    feed: https://blog.example.org/feed/
"""

# A keyword and the start of one source named b, whose kind and location a case adds (line 6).
ONE_SOURCE = "version: 1\nkeywords:\n  - name: acme\n    terms: [Acme]\nsources:\n  - name: b\n"
# (config text, line the problem is on, words the message must contain)
MISTAKES = [
    ("version: 1\nkeywords:\n  - name: acme\n    trms: [Acme]\nsources:\n  - name: b\n    feed: http://x/\n",
     4, ["unknown key 'trms'", "did you mean 'terms'"]),
    ("version: 1\nkeywords:\n  - name: acme\n    terms: [Acme]\nsources:\n  - name: b\n    fed: http://x/\n",
     7, ["unknown key 'fed'", "did you mean 'feed'"]),
    ("version: 1\nhttp:\n  timeout: soon\nkeywords:\n  - name: acme\n    terms: [Acme]\n"
     "sources:\n  - name: b\n    feed: http://x/\n", 3, ["timeout", "not a duration"]),
    ("version: 1\nhttp:\n  max_bytes: lots\nkeywords:\n  - name: acme\n    terms: [Acme]\n"
     "sources:\n  - name: b\n    feed: http://x/\n", 3, ["max_bytes", "not a size"]),
    ("version: 1\nkeywords:\n  - name: acme\nsources:\n  - name: b\n    feed: http://x/\n",
     3, ["nothing to look for"]),
    ("version: 1\nkeywords:\n  - name: acme\n    terms: [Acme]\nsources:\n  - name: b\n"
     "    feed: http://x/\n    page: http://y/\n", 6, ["2 kinds", "exactly one"]),
    ("version: 1\nkeywords:\n  - name: acme\n    terms: [Acme]\nsources:\n  - name: b\n"
     "    feed: ${MENTIONS_TEST_UNSET_VARIABLE}\n", 7, ["${MENTIONS_TEST_UNSET_VARIABLE} is not set"]),
    ("version: 1\nkeywords:\n  - name: acme\n    terms: [Acme]\n  - name: acme\n    terms: [B]\n"
     "sources:\n  - name: b\n    feed: http://x/\n", 5, ["keywords[1] (acme): two keywords are named 'acme'",
                                                   "the other on line 3"]),
    (ONE_SOURCE + "    feed: http://x/\n  - name: ' b'\n    feed: http://y/\n", 8,
     ["sources[1]", "two sources are named 'b'", "the other on line 6"]),
    (ONE_SOURCE + "    feed: http://x/\nnotify:\n  - webhook: http://h/\n    keywords: [acme, acmee]\n", 10,
     ["notify[0]: unknown keyword 'acmee'", "did you mean 'acme'"]),
    ("version: 1\nkeywords:\n  - name: acme\n    query: 'Acme AND (Schuh OR sneaker))'\n"
     "sources:\n  - name: b\n    feed: http://x/\n", 4, ['unbalanced ")"', "column"]),
    ("version: 1\nkeywords:\n  - name: acme\n    terms: [Acme]\nsources:\n  - name: b\n"
     "    feed: ftp://example.org/feed\n", 6, ["only http, https and file"]),
    # typos in a URL: named by `check` with the line, not a source failing on every scan
    (ONE_SOURCE + "    feed: 'http://exa mple.com/feed'\n", 6, ["not a valid URL", "space"]),
    (ONE_SOURCE + "    feed: 'http://[::1/feed'\n", 6, ["not a valid URL", "IPv6"]),
    (ONE_SOURCE + "    page: http://256.1.1.1/\n", 6, ["not a valid URL", "256.1.1.1 is no IPv4 address"]),
    (ONE_SOURCE + "    feed: http://example.org:99999/feed\n", 6, ["not a valid URL", "port"]),
    (ONE_SOURCE + "    feed: https:///feed.xml\n", 6, ["not a valid URL", "no host"]),
    ("version: 1\nkeywords:\n  - name: acme\n    terms: [Acme]\nsources:\n  - name: b\n"
     "    feed: http://x/\n    keywords: [acmee]\n", 8, ["unknown keyword 'acmee'", "did you mean 'acme'"]),
    ("version: 2\nkeywords:\n  - name: acme\n    terms: [Acme]\nsources:\n  - name: b\n    feed: http://x/\n",
     1, ["config version 1"]),
    ("version: 1\nkeywords:\n  - name: acme\n    terms: [Acme]\n    terms: [B]\nsources: []\n",
     5, ["duplicate key 'terms'"]),
    ("version: 1\nkeywords:\n  - name: acme\n    terms: [Acme\nsources:\n", 5, ["invalid YAML"]),
    ("version: 1\nkeywords:\n  - name: acme\n    terms: Acme\nsources:\n  - name: b\n    feed: http://x/\n",
     4, ["terms", "valid list"]),
    ("version: 1\nkeywords:\n  - name: acme\n    terms: [Acme, '  ']\nsources:\n  - name: b\n"
     "    feed: http://x/\n", 4, ["term 2 is empty"]),
    ("version: 1\nkeywords:\n  - name: acme\n    terms: [Acme]\nsources:\n  - name: b\n"
     "    page: http://x/\n    items: div.post\n    fields: {txt: .content}\n", 9, ["unknown field 'txt'",
                                                                               "did you mean 'text'"]),
    ("version: 1\nkeywords:\n  - name: acme\n    terms: [Acme]\nsources:\n  - name: b\n"
     "    feed: http://x/\n    exclude_urls: ['(']\n", 8, ["not a valid regex"]),
    ("version: 1\nkeywords: []\nsources:\n  - name: b\n    feed: http://x/\n", 2, ["keywords: add at least one"]),
    ("- just\n- a list\n", 1, ["top level must be a mapping"]),
    # YAML that PyYAML reads but no config can hold: each is one sentence, not a crash
    ("version: 1\nkeywords:\n  - name: !brand acme\n", 3, ["unsupported value", "'!brand'"]),
    ("version: 1\nkeywords: &k\n  - name: acme\n    terms: *k\n", 4, ["alias *k names no earlier anchor"]),
    ("version: 1\nstate: 2024-13-45\n", 2, ["not a valid value", "2024-13-45"]),
    ("version: 1\n? [a, b]\n: 1\n", 2, ["a key must be plain text"]),
    ("version: 1\n---\nversion: 1\n", 2, ["expected one document"]),
    # CSS selectors that selectolax refuses: named by `check`, not a parse error on every scan
    (ONE_SOURCE + "    page: http://x/\n    items: 'div[[['\n", 8, ["items", "'div[[[' is not a valid CSS selector"]),
    (ONE_SOURCE + "    page: http://x/\n    items: div\n    next: '>>>'\n", 9,
     ["next", "'>>>' is not a valid CSS selector"]),
    (ONE_SOURCE + "    page: http://x/\n    items: div\n    fields: {title: h2, link: 'a[[@href'}\n", 9,
     ["field 'link'", "'a[[' is not a valid CSS selector"]),
    (ONE_SOURCE + "    page: http://x/\n    items: ''\n", 8, ["items", "empty"]),
    # search params the URL never uses, or placeholders no param fills: named, not dropped or failing
    (ONE_SOURCE + "    search: 'http://x/?q={query}'\n    params: {hl: de}\n", 6,
     ["`params` 'hl' is not used", "no {hl}", "it has {query}"]),
    (ONE_SOURCE + "    search: 'http://x/?q={query}&hl={hl}'\n", 6, ["{hl} has no value", "add `hl` to `params`"]),
    # search and preset URLs a scan could never fetch: named by `check`, not failing every scan
    (ONE_SOURCE + "    search: 'ftp://x/{query}'\n", 6, ["'ftp://x/x' is not a valid URL", "http:// or https://"]),
    (ONE_SOURCE + "    preset: wordpress-comments\n    params: {site: '127.0.0.1:8731/blog'}\n", 6,
     ["'127.0.0.1:8731/blog/comments/feed/' is not a valid URL", "http:// or https://"]),
    (ONE_SOURCE + "    preset: lemmy\n    params: {instance: 'lemmy.example:99999'}\n", 6,
     ["not a valid URL", "port"]),
    # numbers that would hang a scan, or make every request fail at once
    ("version: 1\nhttp: {delay: .inf}\n" + ONE_SOURCE[11:] + "    feed: http://x/\n", 2,
     ["http.delay", "finite"]),
    ("version: 1\nhttp: {delay: 2h}\n" + ONE_SOURCE[11:] + "    feed: http://x/\n", 2,
     ["http.delay", "between 0 s and 1 hour, not 2h"]),
    ("version: 1\nhttp: {timeout: 0}\n" + ONE_SOURCE[11:] + "    feed: http://x/\n", 2,
     ["http.timeout", "between 0.1 s and 1 hour"]),
    (ONE_SOURCE + "    feed: http://x/\n    timeout: .nan\n", 8, ["timeout", "finite"]),
    ("version: 1\nbackoff: {max: 1000000d}\n" + ONE_SOURCE[11:] + "    feed: http://x/\n", 2,
     ["backoff.max", "366 days"]),
    ("version: true\n" + ONE_SOURCE[11:] + "    feed: http://x/\n", 1, ["config version 1", "version: 1"]),
    ("version: 1\nhttp: {retries: yes}\n" + ONE_SOURCE[11:] + "    feed: http://x/\n", 2,
     ["http.retries", "expected a number"]),
    ("version: 1\nstate: mysql://scan@db.example/mentions\nkeywords:\n  - name: acme\n"
     "    terms: [Acme]\nsources:\n  - name: b\n    feed: http://x/\n", 2,
     ["mysql:// is not a state mentions can use", "SQLite file or a postgresql:// URL"]),
]


@pytest.mark.parametrize(("text", "line", "words"), MISTAKES)
def test_check_names_file_line_and_problem(
    tmp_path: Path, runner: CliRunner, text: str, line: int, words: list[str]
) -> None:
    config = tmp_path / "mentions.yaml"
    config.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 2
    assert f"{config}:{line}:" in result.output
    for word in words:
        assert word in result.output
    assert "Traceback" not in result.output


def test_yaml_booleans_and_numbers_are_the_strings_written_where_strings_belong(tmp_path: Path) -> None:
    """YAML 1.1 reads On, yes, off and no as booleans: a brand called On is likely."""
    config = tmp_path / "c.yaml"
    config.write_text(
        "version: 1\nkeywords:\n  - name: off\n    terms: [On, Yes, 1984, 1.10, 2024-01-01]\n    tags: [no]\n"
        "  - {name: On, query: yes}\nsources:\n  - name: 1984\n    feed: http://x/\n    keywords: [off, On]\n"
        "    headers: {X-Count: 5, On: no}\n    enabled: yes\n    max_pages: 2\n"
    )
    loaded = load_config(config)
    first, second = loaded.keywords
    assert (first.name, first.terms, first.tags) == ("off", ["On", "Yes", "1984", "1.10", "2024-01-01"], ["no"])
    assert (second.name, second.query) == ("On", "yes")
    [source] = loaded.sources
    assert (source.name, source.keywords, source.headers) == ("1984", ["off", "On"], {"X-Count": "5", "On": "no"})
    assert source.enabled is True and source.max_pages == 2  # where a yes or a number is wanted, it stays


def test_a_search_answers_bad_selector_is_named(site: LocalSite, tmp_path: Path) -> None:
    """A `search:` source's items may be JSON paths, so `check` lets them be; the scan names them."""
    site.add("/s", "<html><body><div>Acme</div></body></html>")
    config = write_config(tmp_path, f"  - name: s\n    search: {site.url('/s')}?q={{query}}\n    items: 'div[[['\n")
    result, records = scan(config, "--no-state")
    assert result.exit_code == 1 and records == []
    assert "`items`: 'div[[[' is not a valid CSS selector" in result.stderr
    assert "SelectolaxError" not in result.stderr


@pytest.mark.parametrize("timeout", ["0.05", "3601", "inf"])
def test_timeout_on_the_command_line_has_the_configs_bounds(tmp_path: Path, runner: CliRunner,
                                                             timeout: str) -> None:
    config = tmp_path / "mentions.yaml"
    config.write_text(GOOD)
    result = runner.invoke(app, ["scan", "-c", str(config), "--no-state", "--timeout", timeout])
    assert result.exit_code == 2 and "--timeout" in result.output


NOTES_CONFIG = "version: 1\nkeywords:\n  - name: acme\n    terms: [Acme]\nsources:\n  - name: notes\n    file: notes.txt\n"


@pytest.mark.parametrize("timeout", ["30s", "2m", "20", "0.5", "1h", "100ms"])
def test_timeout_on_the_command_line_takes_what_the_config_key_takes(tmp_path: Path, runner: CliRunner,
                                                                      timeout: str) -> None:
    """`--timeout 30s` was refused ("Input should be a valid number") though `timeout: 30s` and
    `--wait 30s` were fine."""
    (tmp_path / "notes.txt").write_text("Acme news\n")
    config = tmp_path / "mentions.yaml"
    config.write_text(NOTES_CONFIG)
    scanned = runner.invoke(app, ["scan", "-c", str(config), "--no-state", "--format", "jsonl", "--timeout", timeout])
    assert (scanned.exit_code, scanned.stderr) == (0, "")
    assert json.loads(scanned.stdout)["keyword"] == "acme"
    tested = runner.invoke(app, ["test-source", "notes", "-c", str(config), "--timeout", timeout])
    assert tested.exit_code == 0, tested.output


@pytest.mark.parametrize(("command", "timeout", "problem"), [
    (["scan", "--no-state"], "2h", "a timeout must lie between 0.1 s and 1 hour, not 2h"),
    (["scan", "--no-state"], "soon", "'soon' is not a duration such as 30s, 15m or 7d"),
    (["test-source", "notes"], "0", "a timeout must lie between 0.1 s and 1 hour, not 0"),
    (["discover", "https://example.org/"], "90m", "a timeout must lie between 0.1 s and 1 hour, not 90m"),
])
def test_a_bad_timeout_is_one_sentence_and_exit_2(tmp_path: Path, runner: CliRunner, command: list[str],
                                                   timeout: str, problem: str) -> None:
    config = tmp_path / "mentions.yaml"
    config.write_text(NOTES_CONFIG)
    args = [*command, "--timeout", timeout] + (["-c", str(config)] if command[0] != "discover" else [])
    result = runner.invoke(app, args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"mentions: --timeout: {problem}\n")


def test_scan_refuses_a_bad_config_and_fetches_nothing(tmp_path: Path, runner: CliRunner) -> None:
    config = tmp_path / "mentions.yaml"
    config.write_text(MISTAKES[0][0], encoding="utf-8")
    result = runner.invoke(app, ["scan", "-c", str(config), "--no-state"])
    assert result.exit_code == 2
    assert "unknown key 'trms'" in result.output


def test_all_problems_are_listed_at_once(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "version: 1\nhtp: {}\nkeywords:\n  - name: acme\n    trms: [x]\nsources:\n  - name: b\n    fed: x\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert len(caught.value.problems) == 3


def test_a_good_config_passes_check(tmp_path: Path, runner: CliRunner) -> None:
    config = tmp_path / "mentions.yaml"
    config.write_text(GOOD)
    result = runner.invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "1 keyword, 1 source" in result.output


def test_env_variables_are_expanded_and_kept_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MENTIONS_TEST_TOKEN", "s3cr3t-token")
    config = tmp_path / "c.yaml"
    config.write_text(GOOD.replace("feed: https://blog.example.org/feed/",
                                   "feed: https://api.example.org/feed?token=${MENTIONS_TEST_TOKEN}"))
    loaded = load_config(config)
    assert loaded.sources[0].location.endswith("token=s3cr3t-token")
    assert "s3cr3t-token" in loaded.secrets


@pytest.mark.parametrize(("where", "words"), [
    ("    headers: {X-Team: \"wert \u00fc\"}\n", "header 'X-Team': its value must be one line of plain ASCII"),
    ("    headers: {\u00dcmlaut: y}\n", "header name '\u00dcmlaut' is not an HTTP token"),
    ("    headers: {Accept Language: de}\n", "header name 'Accept Language' is not an HTTP token"),
    ("    headers: {X-Ok: \"a\\r\\nInjected: 1\"}\n", "header 'X-Ok': its value must be one line"),
    ("    headers: {X-Token: \"${MENTIONS_TEST_HEADER}\"}\n", "header 'X-Token': its value must be one line"),
    ("    cookies: {sid: \"a;admin=1\"}\n", "cookie 'sid': its value must be one line of plain ASCII, without ';'"),
])
def test_a_header_no_request_can_carry_is_a_config_error(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch, where: str, words: str
) -> None:
    """`check` said ok, and then every scan failed the source with "protocol error:
    UnicodeEncodeError", or a line break sent a header of the value's own."""
    monkeypatch.setenv("MENTIONS_TEST_HEADER", "z\u00fcrich-secret-value")
    config = tmp_path / "mentions.yaml"
    config.write_text("version: 1\nkeywords:\n  - name: acme\n    terms: [Acme]\nsources:\n"
                      "  - name: blog\n    feed: http://blog.example.org/feed\n" + where, encoding="utf-8")
    for command in (["check", "-c", str(config)], ["scan", "-c", str(config), "--no-state"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, result.output
        assert f"{config}:8:" in result.output and words in result.output, result.output
        assert "secret-value" not in result.output


def test_missing_config_file_is_one_sentence(tmp_path: Path, runner: CliRunner) -> None:
    result = runner.invoke(app, ["check", "-c", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "cannot read the file" in result.output


def test_a_problem_quoting_a_huge_value_is_cut_short(tmp_path: Path, runner: CliRunner) -> None:
    """A 200 KB URL in a config came back whole in the message (a 20 MB one, 20 MB of stderr)."""
    config = tmp_path / "mentions.yaml"
    config.write_text("version: 1\nkeywords: [{name: acme, terms: [Acme]}]\nsources:\n"
                      f"  - {{name: y, feed: 'http://bad host/{'b' * 200_000}'}}\n", encoding="utf-8")
    result = runner.invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert "source 'y'" in line and line.endswith("…") and len(line) < 500 + len(str(config)) + 20


def test_config_discovery_uses_environment_variable(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "elsewhere.yaml"
    config.write_text(GOOD)
    monkeypatch.setenv("MENTIONS_CONFIG", str(config))
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0
    assert str(config) in result.output


def test_config_discovery_finds_mentions_yaml_in_the_working_folder(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mentions.yaml").write_text(GOOD)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output


def test_no_config_anywhere_says_where_it_looked(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 2
    assert "no config file found" in result.output
    assert "mentions.yaml" in result.output


def test_alias_bomb_is_refused(tmp_path: Path, runner: CliRunner) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    config = tmp_path / "bomb.yaml"
    config.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 2
    assert "alias bomb" in result.output


def test_an_unknown_database_url_for_the_state_is_refused_not_made_a_folder(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Taken as a path, `mysql://...` would become a folder `mysql:` holding a SQLite file."""
    config = tmp_path / "mentions.yaml"
    config.write_text(GOOD)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["scan", "-c", str(config), "--state", "mysql://scan@db.example/m"])
    assert result.exit_code == 2
    assert "--state: mysql:// is not a state mentions can use" in result.output
    assert list(tmp_path.iterdir()) == [config]


def test_deep_nesting_is_read_not_a_crash(tmp_path: Path, runner: CliRunner) -> None:
    """Deeper than Python's recursion limit but within libyaml's: a config error, not a traceback."""
    config = tmp_path / "deep.yaml"
    config.write_text(GOOD + "notes: " + "[" * 900 + "]" * 900 + "\n")
    result = runner.invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 2
    assert f"{config}:8: top level: unknown key 'notes'" in result.output


def test_anchors_and_aliases_give_the_same_values(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "version: 1\nkeywords:\n  - name: acme\n    terms: &names [Acme, 'Acme GmbH']\n"
        "  - name: acme-news\n    terms: *names\n    tags: [news]\n"
        "sources:\n  - name: blog\n    feed: &url https://blog.example.org/feed/\n"
        "  - name: blog-again\n    page: *url\n"
    )
    loaded = load_config(config)
    assert loaded.keywords[1].terms == ["Acme", "Acme GmbH"]
    assert loaded.sources[1].location == "https://blog.example.org/feed/"


def test_schema_is_json_schema_of_the_same_models(runner: CliRunner) -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"keywords", "sources", "http"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False


# SPEC's config file: the contract the schema must accept too
SPEC_HTTP = """\
version: 1
state: ./mentions.db
http:
  user_agent: "mentions/1.0 (+https://example.org/contact)"
  timeout: 20
  concurrency: 32
  per_host: 2
  delay: 0.5
  retries: 2
  max_bytes: 10MB
  robots: true
  headers: {Accept-Language: de}
keywords:
  - name: acme
    terms: [Acme]
sources:
  - name: shoe-forum
    page: https://forum.example.de/t/acme-erfahrungen/123
    items: article.post
    next: "a[rel=next]@href"
    max_pages: 5
  - name: news
    preset: google-news
    params: {hl: de, gl: DE}
"""
REPO = Path(__file__).resolve().parents[1]
README_CONFIGS = [block for block in re.findall(r"```yaml\n(.*?)```", (REPO / "README.md").read_text(), re.S)
                  if block.startswith("version: 1")]
# what `check` accepts, as a file written by hand would say it
SCHEMA_GOOD = [(REPO / "config.example.yaml").read_text(), (REPO / "examples" / "demo.yaml").read_text(),
               SPEC_HTTP, *README_CONFIGS,
               SPEC_HTTP.replace("timeout: 20", "timeout: 30s").replace("delay: 0.5", "delay: 2m")
               .replace("max_bytes: 10MB", "max_bytes: 512 kib")
               + "    timeout: 1h\nnotify:\n  - webhook: https://hooks.example/x\n    timeout: '10s'\n"
               "backoff: {delay: 30m, max: 7d}\n",
               # README: YAML 1.1 numbers and yes/no are the text written where text is wanted
               SPEC_HTTP.replace("terms: [Acme]", "terms: [On, 1984]\n    tags: [yes]")
               .replace("params: {hl: de, gl: DE}", "params: {hl: no, gl: DE}")
               .replace("headers: {Accept-Language: de}", "headers: {Accept-Language: de, DNT: 1}")]
SCHEMA_BAD = [("timeout: 20", "timeout: 99999"), ("timeout: 20", "timeout: 0"), ("max_bytes: 10MB", "max_bytes: -5"),
              ("max_bytes: 10MB", "max_bytes: 0"), ("max_bytes: 10MB", "max_bytes: 10XB"),
              ("delay: 0.5", "delay: -1"), ("delay: 0.5", "delay: 5 minutes"), ("max_pages: 5", "max_pages: -1"),
              ("max_pages: 5", "max_pages: 1001"),
              # yes/no and numbers stay wrong where no text is wanted, and a list is never text
              ("retries: 2", "retries: yes"), ("max_pages: 5", "max_pages: on"), ("robots: true", "robots: 1984"),
              ("hl: de", "hl: [de]")]


@pytest.mark.parametrize("text", SCHEMA_GOOD)
def test_the_schema_accepts_what_check_accepts(runner: CliRunner, tmp_path: Path, text: str) -> None:
    """`max_bytes: 10MB` and `timeout: 30s` are what the README and SPEC write; the schema
    used to want a bare number there, so an editor marked every example config wrong."""
    config = tmp_path / "mentions.yaml"
    config.write_text(text)
    assert runner.invoke(app, ["check", "-c", str(config)]).exit_code == 0
    schema = json.loads(runner.invoke(app, ["schema"]).output)
    jsonschema.validate(yaml.safe_load(text), schema)


@pytest.mark.parametrize(("good", "bad"), SCHEMA_BAD)
def test_the_schema_refuses_what_check_refuses(runner: CliRunner, tmp_path: Path, good: str, bad: str) -> None:
    """The bounds used to be written as `ge`/`le`, which JSON Schema does not know."""
    config = tmp_path / "mentions.yaml"
    config.write_text(SPEC_HTTP.replace(good, bad))
    assert runner.invoke(app, ["check", "-c", str(config)]).exit_code == 2
    schema = json.loads(runner.invoke(app, ["schema"]).output)
    with pytest.raises(jsonschema.ValidationError) as caught:
        jsonschema.validate(yaml.safe_load(config.read_text()), schema)
    assert bad.split(":")[0] in caught.value.absolute_path  # refused for the bad value, not another


def test_example_config_validates() -> None:
    config = load_config(Path(__file__).resolve().parents[1] / "config.example.yaml")
    assert config.keywords and config.sources


def test_a_loaded_config_keeps_none_of_its_yaml_nodes(tmp_path: Path) -> None:
    """Memory stays flat in the number of sources: the parse tree goes once values are built."""
    import gc

    import yaml

    sources = "".join(f"  - name: s{n}\n    feed: https://blog{n}.example/feed\n" for n in range(300))
    path = tmp_path / "mentions.yaml"
    path.write_text(f"version: 1\nkeywords:\n  - name: acme\n    terms: [Acme]\nsources:\n{sources}")
    config = load_config(path)
    gc.collect()
    assert len(config.sources) == 300
    assert not [thing for thing in gc.get_objects() if isinstance(thing, yaml.Node)]


def test_check_lists_a_sources_unknown_keyword_beside_other_problems(tmp_path: Path, runner: CliRunner) -> None:
    """SPEC: check lists every problem. An unknown keyword of a source used to wait until the
    other problems were fixed."""
    config = tmp_path / "mentions.yaml"
    config.write_text("version: 1\nhttp: {timeout: 30 parsecs}\nkeywords:\n  - name: acme\n    terms: [Acme]\n"
                      "sources:\n  - name: blog\n    feed: https://example.org/feed\n    keywords: [acmee]\n")
    result = runner.invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 2
    assert f"{config}:2: http.timeout" in result.output
    assert f"{config}:9: sources[0] (blog): unknown keyword 'acmee' (did you mean 'acme'?)" in result.output


def test_check_lists_the_other_problems_beside_a_duplicate_key(tmp_path: Path, runner: CliRunner) -> None:
    """SPEC: check lists every problem. A duplicate key used to be reported alone; the later
    value wins, as in YAML loaders, and lines inside it are its own."""
    config = tmp_path / "mentions.yaml"
    config.write_text("version: 1\nkeywords:\n  - name: acme\n    terms: [Acme]\n    tags: [brand, shoes]\n"
                      "    tags:\n      - x\n      - {a: b}\n  - name: b\n    query: 'a AND'\n"
                      "sources:\n  - name: fa\n    feed: http://x/\n")
    result = runner.invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 2
    assert f"{config}:6: duplicate key 'tags'" in result.output
    assert f"{config}:8: keywords[0] (acme).tags[1]: Input should be a valid string" in result.output
    assert f"{config}:10: keywords[1] (b).query: nothing after \"AND\"" in result.output


def test_check_lists_names_and_keywords_beside_other_problems(tmp_path: Path, runner: CliRunner) -> None:
    """SPEC: check lists every problem. Two sources of one name, or a notifier's unknown
    keyword, used to wait until the other problems were fixed (and the notifier's was put on
    line 1, `top level`)."""
    config = tmp_path / "mentions.yaml"
    config.write_text("version: 1\nhttp: {timout: 5}\nkeywords:\n  - name: acme\n    terms: [Acme]\n"
                      "  - {name: acme, terms: [B]}\nsources:\n  - name: fa\n    feed: http://x/\n"
                      "  - name: fa\n    feed: http://y/\nnotify:\n  - webhook: http://h/\n    keywords: [nein]\n")
    result = runner.invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 2
    for expected in ("2: http: unknown key 'timout'", "6: keywords[1] (acme): two keywords are named 'acme'",
                     "10: sources[1] (fa): two sources are named 'fa'", "14: notify[0]: unknown keyword 'nein'"):
        assert f"{config}:{expected}" in result.output


def test_check_lists_the_problems_in_line_order(tmp_path: Path, runner: CliRunner) -> None:
    """One reads the file top to bottom: the problems come in that order, whichever pass found them
    (the YAML reader, pydantic, or the names read as written)."""
    config = tmp_path / "mentions.yaml"
    config.write_text("version: 1\nhttp:\n  timout: 20\n  delay: 5 minutes\nkeywords:\n  - name: acme\n"
                      "    terms: [Acme]\n    terms: [B]\n  - {name: b, query: 'a AND'}\nsources:\n"
                      "  - name: fa\n    feed: http://x/\n    keywords: [nope]\n  - name: fa\n    fed: http://y/\n")
    result = runner.invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 2
    lines = [int(line.split(f"{config}:")[1].split(":")[0]) for line in result.output.splitlines()]
    assert lines == [3, 4, 8, 9, 13, 14, 15]


def test_commands_that_neither_fetch_nor_alert_run_without_the_alert_secrets(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The webhook's secret lives in cron's environment; at a terminal, `mentions report`
    # has no use for it and must not refuse to run.
    monkeypatch.delenv("MENTIONS_TEST_WEBHOOK", raising=False)
    (tmp_path / "notes.txt").write_text("Acme called.\n")
    config = tmp_path / "mentions.yaml"
    config.write_text(
        "version: 1\nstate: ./state.db\nkeywords:\n  - name: acme\n    terms: [Acme]\n"
        "sources:\n  - name: notes\n    file: notes.txt\n"
        "notify:\n  - slack: ${MENTIONS_TEST_WEBHOOK}\n"
    )
    monkeypatch.setenv("MENTIONS_TEST_WEBHOOK", "http://127.0.0.1:9/hook")
    assert runner.invoke(app, ["scan", "--seed", "-c", str(config)]).exit_code == 0
    monkeypatch.delenv("MENTIONS_TEST_WEBHOOK")
    for command in (["history"], ["report"], ["sources"], ["prune", "--older-than", "180d", "--dry-run"]):
        result = runner.invoke(app, [*command, "-c", str(config)])
        assert result.exit_code == 0, (command, result.output)
    matched = runner.invoke(app, ["match", "-c", str(config), "-"], input="Acme again\n")
    assert matched.exit_code == 0, matched.output
    # The commands that alert, or check the whole file for them, still say what is missing.
    for command in (["scan", "--dry-run"], ["check"]):
        result = runner.invoke(app, [*command, "-c", str(config)])
        assert result.exit_code == 2 and "${MENTIONS_TEST_WEBHOOK} is not set" in result.stderr, command


def test_an_unset_variable_is_named_when_an_offline_command_still_fails(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MENTIONS_TEST_FEED_URL", raising=False)
    config = tmp_path / "mentions.yaml"
    config.write_text("version: 1\nkeywords:\n  - name: acme\n    terms: [Acme]\n"
                      "sources:\n  - name: blog\n    feed: ${MENTIONS_TEST_FEED_URL}\n")
    result = runner.invoke(app, ["sources", "-c", str(config)])
    assert result.exit_code == 2
    assert "${MENTIONS_TEST_FEED_URL} is not set" in result.stderr


def test_an_unset_state_variable_stops_every_command(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Empty, `state:` would mean the default state file: `history` would show another
    # project's mentions and `prune` delete them.
    monkeypatch.delenv("MENTIONS_TEST_STATE", raising=False)
    config = tmp_path / "mentions.yaml"
    config.write_text("version: 1\nstate: ${MENTIONS_TEST_STATE}\nkeywords:\n  - name: acme\n    terms: [Acme]\n"
                      "sources:\n  - name: notes\n    file: notes.txt\n")
    for command in (["history"], ["prune", "--older-than", "1s"], ["report"], ["sources"]):
        result = runner.invoke(app, [*command, "-c", str(config)])
        assert result.exit_code == 2 and "${MENTIONS_TEST_STATE} is not set" in result.stderr, command


def test_an_empty_state_is_an_error_not_the_default_state(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `state: ${STATE}` with STATE set to "" would have meant the user's default state file.
    monkeypatch.setenv("MENTIONS_TEST_EMPTY_STATE", "")
    config = tmp_path / "mentions.yaml"
    config.write_text("version: 1\nstate: ${MENTIONS_TEST_EMPTY_STATE}\nkeywords:\n  - name: acme\n"
                      "    terms: [Acme]\nsources:\n  - name: notes\n    file: notes.txt\n")
    for command in (["check"], ["scan"], ["history"]):
        result = runner.invoke(app, [*command, "-c", str(config)])
        assert result.exit_code == 2 and "state: is empty" in result.stderr, (command, result.stderr)


def test_counts_in_messages_say_one_in_the_singular(tmp_path: Path, runner: CliRunner) -> None:
    config = tmp_path / "one.yaml"
    config.write_text("version: 1\nkeywords: [{name: acme, terms: [Acme]}]\n"
                      "sources: [{name: notes, file: notes.txt}]\n")
    (tmp_path / "notes.txt").write_text("Acme once")
    checked = runner.invoke(app, ["check", "-c", str(config)])
    assert checked.exit_code == 0 and "ok (1 keyword, 1 source)" in checked.output
    tried = runner.invoke(app, ["test-source", "notes", "-c", str(config)])
    assert "notes: 1 document, 1 shown matches a keyword" in tried.stderr


def test_a_control_character_is_named_with_its_line_in_one_line(tmp_path: Path, runner: CliRunner) -> None:
    """PyYAML's message took two lines and named a position in "<unicode string>"."""
    config = tmp_path / "bell.yaml"
    config.write_bytes(b"version: 1\nkeywords:\n  - name: a\x07b\n    terms: [x]\n")
    result = runner.invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 2
    assert result.stderr == (f"mentions: {config}:3: invalid YAML: the character U+0007: "
                             "control characters are not allowed\n")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_a_config_saved_as_utf16_or_utf32_with_its_mark_is_read(
    tmp_path: Path, runner: CliRunner, encoding: str
) -> None:
    """Notepad's "Unicode" is UTF-16: such a config was "not valid UTF-8" at line 1."""
    config = tmp_path / "wide.yaml"
    config.write_bytes("version: 1\nkeywords: [{name: müller, terms: [Müller]}]\n"
                       "sources: [{name: notes, file: notes.txt}]\n".encode(encoding))
    result = runner.invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 0, result.stderr
    assert "ok (1 keyword, 1 source)" in result.stderr


def test_a_mentions_config_variable_naming_no_file_is_named(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MENTIONS_CONFIG", str(tmp_path / "gone.yaml"))
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 2
    assert result.stderr == f"mentions: $MENTIONS_CONFIG names {tmp_path / 'gone.yaml'}, which is no file; " \
                            "set it to your config, or pass -c FILE\n"
