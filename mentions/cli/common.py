"""What every command shares: finding the config, reporting an error and leaving."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from mentions.console import clean_text, stderr_console
from mentions.errors import ConfigError

if TYPE_CHECKING:
    from mentions.config import Config
    from mentions.state import State

EXIT_OK = 0
EXIT_SOURCE_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_INTERRUPTED = 130

CONFIG_OPTION = typer.Option(
    None, "-c", "--config", help="Config file (default: $MENTIONS_CONFIG, ./mentions.yaml, user config dir)."
)


def fail(message: str | list[str], code: int = EXIT_USAGE, secrets: frozenset[str] = frozenset()) -> NoReturn:
    """Print one sentence per problem on stderr and exit with `code`."""
    console = stderr_console()
    for line in [message] if isinstance(message, str) else message:
        for secret in secrets:
            line = line.replace(secret, "***")
        console.print(f"mentions: {clean_text(line)}", markup=False, highlight=False)
    raise typer.Exit(code)


def load(config_path: Path | None) -> Config:
    """Find and load the config, or exit 2 with every problem listed."""
    from mentions.config import find_config, load_config

    try:
        return load_config(find_config(config_path))
    except ConfigError as error:
        fail(error.problems)


def open_state(config: Config, explicit: Path | None) -> State:
    """Open the state file: --state, else `state:` in the config, else the user state dir."""
    from mentions.errors import StateError
    from mentions.state import State, default_state_path

    if explicit is not None:
        path = explicit
    elif config.state:
        path = config.resolve_path(config.state)
    else:
        path = default_state_path()
    try:
        return State(path)
    except StateError as error:
        fail(str(error))
