"""The README and the example config are part of the product: keep them true."""

from __future__ import annotations

import re
from pathlib import Path

from mentions.cli import app

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_every_command_is_in_the_readme() -> None:
    for command in app.registered_commands:
        assert f"`mentions {command.name}" in README, command.name


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    quick_start = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    test_command = next(block for block in quick_start if "pytest" in block)
    assert ".venv/bin/python -m pytest" in test_command
    assert ".venv/bin/python -m pytest" in ci


def test_readme_links_point_to_files() -> None:
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        if "://" not in target:
            assert (REPO / target).exists(), target
