"""`mentions schema`: the JSON Schema of the config file, for editor completion."""

from __future__ import annotations

import json

import typer


def schema() -> None:
    """Print the JSON Schema of the config file.

    Example: mentions schema > mentions.schema.json
    """
    from mentions.config_schema import json_schema

    typer.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))
