"""`mentions init` writes a config that passes `check`; every command's --help shows an example."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mentions.cli import app
from mentions.config_file import load_config

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


def test_completion_is_offered() -> None:
    result = runner.invoke(app, ["--help"])
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout
