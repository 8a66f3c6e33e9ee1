"""`mentions init` writes a config that passes `check`; every command's --help shows an example."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mentions.cli import app
from mentions.config_file import load_config
from tests.conftest import run_cli

runner = CliRunner()


def test_init_writes_a_valid_commented_config(tmp_path: Path) -> None:
    out = tmp_path / "mentions.yaml"
    result = runner.invoke(app, ["init", "--brand", "Acme", "--competitor", "Globex", "--competitor",
                                 "Initech", "--site", "acme.de", "--lang", "de", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "mentions check -c" in result.stderr and "--seed" in result.stderr
    config = load_config(out)
    assert [(k.name, k.tags) for k in config.keywords] == [
        ("acme", ["brand"]), ("globex", ["competitor"]), ("initech", ["competitor"])]
    assert config.keywords[0].terms == ["Acme", "acme.de", "#acme", "@acme"]
    assert config.sources[0].preset == "google-news" and config.sources[0].params == {"hl": "de", "gl": "DE"}
    text = out.read_text()
    assert "-site:acme.de" in text and "reddit-search" in text and "hacker-news" in text
    assert runner.invoke(app, ["check", "-c", str(out)]).exit_code == 0


def test_a_site_given_as_a_url_is_used_as_its_host(tmp_path: Path) -> None:
    out = tmp_path / "a.yaml"
    result = runner.invoke(app, ["init", "--brand", "Acme", "--site", "https://www.acme.de/",
                                 "--site", "http://blog.acme.de:8080/", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert load_config(out).keywords[0].terms == ["Acme", "acme.de", "blog.acme.de", "#acme", "@acme"]
    text = out.read_text()
    assert "query: 'Acme -site:acme.de -site:blog.acme.de'" in text
    assert "feed: https://www.acme.de/comments/feed/" in text
    assert "feed: http://blog.acme.de:8080/comments/feed/" in text  # the URL's port kept
    assert "https://https" not in text and "-site:https" not in text


@pytest.mark.parametrize("site", ["https://", "site:acme.de", "acme.de,acme.com"])
def test_a_site_without_a_host_is_refused(tmp_path: Path, site: str) -> None:
    # `site:acme.de` once became the term "site", a mention in almost every text.
    out = tmp_path / "a.yaml"
    result = runner.invoke(app, ["init", "--brand", "Acme", "--site", site, "-o", str(out)])
    assert (result.exit_code, result.stderr) == (
        2, f"mentions: --site {site!r}: names no host; give one such as acme.de, or a URL\n")
    assert not out.exists()


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    out = tmp_path / "mentions.yaml"
    out.write_text("mine")
    refused = runner.invoke(app, ["init", "--brand", "Acme", "-o", str(out)])
    assert refused.exit_code == 2 and "--force" in refused.stderr and out.read_text() == "mine"
    assert runner.invoke(app, ["init", "--brand", "Acme", "-o", str(out), "--force"]).exit_code == 0
    assert out.read_text() != "mine"


@pytest.mark.parametrize("brand", ['Acme "Shoes": GmbH & Co.', "Müller #1", "[bold]x[/]", "日本"])
def test_odd_brand_names_still_give_valid_yaml(tmp_path: Path, brand: str) -> None:
    out = tmp_path / "m.yaml"
    assert runner.invoke(app, ["init", "--brand", brand, "-o", str(out)]).exit_code == 0
    assert load_config(out).keywords[0].terms[0] == brand


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--brand", "Acme\nversion: 2"],
         "--brand 'Acme\\nversion: 2': a config cannot hold U+000A (no control characters or line breaks)"),
        (["--brand", "\x1b[31mAcme"],
         "--brand '\\x1b[31mAcme': a config cannot hold U+001B (no control characters or line breaks)"),
        (["--brand", "Acme", "--site", "acme.de\u2028version: 2"],
         "--site 'acme.de\\u2028version: 2': a config cannot hold U+2028 (no control characters or line breaks)"),
        (["--brand", "Acme\udcff"],  # a byte of the argument that was not UTF-8
         "--brand 'Acme\\udcff': a config cannot hold U+DCFF (no control characters or line breaks)"),
        (["--brand", "Acme ${HOME}"],
         "--brand 'Acme ${HOME}': a config reads `${NAME}` from the environment, so leave it out"),
        (["--brand", "Acme", "--competitor", "Acme"],
         "--competitor 'Acme' repeats --brand 'Acme'; give each name once"),
        (["--brand", "Acme", "--competitor", "Globex", "--competitor", "globex"],
         "--competitor 'globex' repeats --competitor 'Globex'; give each name once"),
    ],
    ids=["newline", "escape", "line-separator", "surrogate", "env", "brand-twice", "competitor-twice"],
)
def test_a_config_check_would_reject_is_refused_and_not_written(
    tmp_path: Path, args: list[str], problem: str
) -> None:
    """These were written with exit 0 and then rejected by `mentions check`: injected YAML,
    control characters, `${…}` read from the environment, two keywords of the same name."""
    out = tmp_path / "m.yaml"
    result = runner.invoke(app, ["init", *args, "-o", str(out)])
    assert (result.exit_code, result.stderr) == (2, f"mentions: {problem}\n")
    assert not out.exists()


@pytest.mark.parametrize(
    ("brand", "competitors", "names"),
    [
        ("#", ['"'], ["brand", "brand-2"]),  # neither has a letter: both were named `brand`
        ("Acme GmbH", ["acme-gmbh", "ACME GmbH!"], ["acme-gmbh", "acme-gmbh-2", "acme-gmbh-3"]),
    ],
)
def test_different_names_that_give_the_same_keyword_name_are_numbered(
    tmp_path: Path, brand: str, competitors: list[str], names: list[str]
) -> None:
    out = tmp_path / "m.yaml"
    competitor_args = [arg for name in competitors for arg in ("--competitor", name)]
    result = runner.invoke(app, ["init", "--brand", brand, *competitor_args, "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    keywords = load_config(out).keywords
    assert [k.name for k in keywords] == names
    assert [k.terms[0] for k in keywords] == [brand, *competitors]
    assert runner.invoke(app, ["check", "-c", str(out)]).exit_code == 0


def test_init_needs_a_brand_and_lists_presets() -> None:
    assert runner.invoke(app, ["init"]).exit_code == 2
    listed = runner.invoke(app, ["init", "--list-presets"])
    assert listed.exit_code == 0 and listed.stdout.strip()


def command_names() -> list[str]:
    return sorted(command.name or "" for command in app.registered_commands)


@pytest.mark.parametrize("name", command_names())
def test_every_command_help_shows_an_example(name: str) -> None:
    result = runner.invoke(app, [name, "--help"])
    assert result.exit_code == 0
    assert "Example: mentions " + name in " ".join(result.stdout.split())


# Typer's placeholders for values: `<str>`, `<list[str]>`, `<path>`, `<int range>`.
_PYTHON_TYPE = re.compile(r"<[a-z][\w\[\]]*(?: range)?>", re.IGNORECASE)


@pytest.mark.parametrize("name", ["", *command_names()])
def test_every_command_help_names_its_values_not_python_types(name: str) -> None:
    """`--keyword <list[str]>` and `--state <str>` said nothing to a person: `NAME`, `FILE|URL`."""
    result = runner.invoke(app, [name, "--help"] if name else ["--help"])
    assert result.exit_code == 0
    assert _PYTHON_TYPE.findall(result.stdout) == []


def test_completion_is_offered() -> None:
    result = runner.invoke(app, ["--help"])
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout


_EXAMPLE = re.compile(r"^(\s*)# (\s*(?:- )?[A-Za-z_][\w-]*:(?: |$).*)$")  # a commented YAML line


def commented_examples(lines: list[str]) -> list[list[int]]:
    """The line numbers of each commented example: a YAML line in a comment and the commented
    lines indented under it (`# notify:` with its notifiers, `# - name: x` with its keys)."""
    blocks: list[list[int]] = []
    indent = -1
    for number, line in enumerate(lines):
        example = _EXAMPLE.match(line)
        if example is None:
            indent = -1
            continue
        content = example.group(1) + example.group(2)
        own = len(content) - len(content.lstrip())
        if blocks and indent >= 0 and own > indent and blocks[-1][-1] == number - 1:
            blocks[-1].append(number)
        else:
            blocks.append([number])
            indent = own
    return blocks


def uncommented(lines: list[str], block: list[int]) -> list[str]:
    """`lines` with the example `block` uncommented, as a person would do it in an editor."""
    edited = list(lines)
    for number in block:
        example = _EXAMPLE.match(edited[number])
        assert example is not None
        edited[number] = example.group(1) + example.group(2)
    if edited[block[0]].lstrip().startswith("query:"):  # offered "instead of the terms above"
        terms = max(n for n in range(block[0]) if edited[n].lstrip().startswith("terms:"))
        del edited[terms]
    return edited


@pytest.mark.parametrize("sites", [[], ["acme.de"], ["acme.de", "shop.acme.com"], ["www.acme.de", "acme.de"]])
def test_every_commented_example_init_writes_passes_check_once_uncommented(
    tmp_path: Path, sites: list[str]
) -> None:
    """The email alert was a flow mapping with an unquoted `${SMTP_PASSWORD}`: uncommented,
    `mentions check` stopped at a YAML syntax error."""
    out = tmp_path / "mentions.yaml"
    site_args = [arg for site in sites for arg in ("--site", site)]
    result = runner.invoke(app, ["init", "--brand", "Acme", "--competitor", "Globex", *site_args,
                                 "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    blocks = commented_examples(lines)
    starts = [lines[block[0]].split("#", 1)[1].strip() for block in blocks]
    assert "notify:" in starts and "- name: shoe-forum" in starts and "exclude: [\"Acme Street\"]" in " ".join(starts)
    assert len(blocks) == 5 + len(sites) + bool(sites)  # with sites, the query that leaves them out
    env = {"SLACK_WEBHOOK_URL": "https://hooks.slack.example/T0/B0/abc123",
           "SMTP_PASSWORD": "correct horse battery"}
    every = uncommented(lines, [number for block in blocks if not _is_query(lines, block)
                                for number in block])
    for edited in [*(uncommented(lines, block) for block in blocks), every]:
        config = tmp_path / "edited.yaml"
        config.write_text("\n".join(edited) + "\n", encoding="utf-8")
        checked = runner.invoke(app, ["check", "-c", str(config)], env=env)
        assert checked.exit_code == 0, "\n".join(edited) + "\n" + checked.stderr
    notify = load_config(config, environ=env).notify
    assert [n.kind for n in notify] == ["slack", "email"]
    assert notify[1].email is not None and notify[1].email.password == "correct horse battery"


def _is_query(lines: list[str], block: list[int]) -> bool:
    return lines[block[0]].split("#", 1)[1].strip().startswith("query:")


def test_output_dash_prints_the_config_instead_of_writing_a_file_named_dash(tmp_path: Path) -> None:
    """`-o -` wrote a file named "-" and advised `mentions check -c -`, which then failed."""
    done = run_cli("init", "--brand", "Acme", "-o", "-", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == []
    printed = tmp_path / "printed.yaml"
    printed.write_bytes(done.stdout)
    assert run_cli("check", "-c", str(printed)).returncode == 0
