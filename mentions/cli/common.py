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

CONFIG_OPTION = typer.Option(
    None, "-c", "--config", help="Config file (default: $MENTIONS_CONFIG, ./mentions.yaml, user config dir)."
)


def fail(message: str | list[str], code: int = EXIT_USAGE) -> NoReturn:
    """Print one sentence per problem on stderr and exit with `code`.

    A message that may quote a value from `${ENV}` is redacted by its caller
    (`Config.redactor`): config errors are when the config is read."""
    console = stderr_console()
    for line in [message] if isinstance(message, str) else message:
        console.print(f"mentions: {clean_text(line)}", markup=False, highlight=False)
    raise typer.Exit(code)


def load(config_path: Path | None) -> Config:
    """Find and load the config, or exit 2 with every problem listed."""
    from mentions.config import find_config, load_config

    try:
        return load_config(find_config(config_path))
    except ConfigError as error:
        fail(error.problems)


def state_path(config: Config | None, explicit: Path | None) -> Path:
    """Where the state is: --state, else `state:` in the config, else the user state dir."""
    from mentions.state import default_state_path

    if explicit is not None:
        if ":/" in str(explicit):  # a URL, perhaps (Path made postgresql:// into postgresql:/)
            from mentions.config import state_url_problem

            problem = state_url_problem(str(explicit))
            if problem:
                fail(f"--state: {problem}")
        return explicit
    if config is not None and config.state:
        return config.resolve_path(config.state)
    return default_state_path()


def open_state(config: Config | None, explicit: Path | None, lock_wait: float | None = None) -> State:
    """Open the state file; with `lock_wait`, first take the scan lock (exit 3 if it stays taken)."""
    from mentions.errors import StateError, StateLockedError
    from mentions.state import State

    try:
        return State(state_path(config, explicit), lock_wait=lock_wait)
    except StateLockedError as error:
        fail(str(error), EXIT_LOCKED)
    except StateError as error:
        fail(str(error))


def parse_wait(value: str | None) -> float:
    """Seconds from `--wait` (`30`, `5m`); 0 when not given: do not wait for the lock."""
    from mentions.units import parse_duration

    if value is None:
        return 0.0
    try:
        return parse_duration(value)
    except ValueError as error:
        fail(f"--wait: {error}")
