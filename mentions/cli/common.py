"""What every command shares: finding the config, reporting an error and leaving."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from mentions.console import clean_text, stderr_console
from mentions.errors import ConfigError

if TYPE_CHECKING:
    from mentions.config import Config
    from mentions.errors import StateError
    from mentions.state import State

EXIT_OK = 0
EXIT_SOURCE_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3

CONFIG_OPTION = typer.Option(
    None, "-c", "--config", metavar="FILE", readable=False,  # an unreadable one: our own sentence
    help="Config file (default: $MENTIONS_CONFIG, ./mentions.yaml, user config dir)."
)


def fail(message: str | list[str], code: int = EXIT_USAGE) -> NoReturn:
    """Print one sentence per problem on stderr and exit with `code`.

    A message that may quote a value from `${ENV}` is redacted by its caller
    (`Config.redactor`): config errors are when the config is read."""
    console = stderr_console()
    for line in [message] if isinstance(message, str) else message:
        console.print(f"mentions: {clean_text(line)}", markup=False, highlight=False)
    raise typer.Exit(code)


def load(config_path: Path | None, *, needs_sources: bool = True, needs_network: bool = True) -> Config:
    """Find and load the config, or exit 2 with every problem listed.

    A command that never fetches (`match`) says so with `needs_sources=False`: then a config
    of keywords alone is enough. One that neither fetches nor alerts says `needs_network=False`:
    then the alerts are not read and unset `${VAR}`s are no problem."""
    from mentions.config_file import find_config, load_config

    try:
        return load_config(find_config(config_path), needs_sources=needs_sources, needs_network=needs_network)
    except ConfigError as error:
        fail(error.problems)


def state_path(config: Config | None, explicit: str | Path | None) -> Path | str:
    """Where the state is: --state, else `state:` in the config, else the user state dir.

    A file path, or a postgresql:// URL kept as the string it was (a Path would have
    squeezed its `//`)."""
    from mentions.state import default_state_path
    from mentions.state.database import is_database_url, url_problem

    if explicit is not None:
        if is_database_url(str(explicit)):
            problem = url_problem(str(explicit))
            if problem:
                fail(f"--state: {problem}")
            return str(explicit)
        return Path(explicit)
    if config is not None and config.state:
        if is_database_url(config.state):
            return config.state  # checked when the config was read
        return config.resolve_path(config.state)
    return default_state_path()


def state_name(location: Path | str) -> str:
    """How output names a state: its path, or its URL without the password."""
    from mentions.state.database import without_password

    return without_password(location) if isinstance(location, str) else str(location)


def state_exists(location: Path | str) -> bool:
    """Whether anything was recorded yet: a state file exists (a database always does)."""
    return isinstance(location, str) or location.exists()


def open_reader(location: Path | str, config: Config | None) -> State:
    """The state opened for reading only; no state file yet (or an empty one) is exit 2: a
    command that shows what was recorded would show nothing, and a typo in `--state` would
    go unnoticed."""
    opened = open_reader_if_any(location, config)
    if opened is None:
        fail(f"no state file at {location} yet: run `mentions scan` first (or pass --state)")
    return opened


def open_reader_if_any(location: Path | str, config: Config | None) -> State | None:
    """The state opened for reading only (`State.open_existing`: no lock, no file made), None
    when nothing was recorded yet; one that cannot be read is one sentence and exit 2."""
    from mentions.errors import StateError
    from mentions.state import State

    try:
        return State.open_existing(location)
    except StateError as error:
        fail_state(error, config)


def open_state(config: Config | None, explicit: str | Path | None, lock_wait: float | None = None) -> State:
    """Open the state; with `lock_wait`, first take the scan lock (exit 3 if it stays taken)."""
    from mentions.errors import StateError
    from mentions.state import State

    try:
        return State(state_path(config, explicit), lock_wait=lock_wait)
    except StateError as error:
        fail_state(error, config)


def fail_state(error: StateError, config: Config | None) -> NoReturn:
    """Exit with a state's failure: 3 if a scan holds it, else 2.

    The `${ENV}` values of the config are hidden: the state URL may hold one (a password, a
    host, or the whole URL), and a message names the state by its URL."""
    from mentions.errors import StateLockedError
    from mentions.redact import Redactor

    redact = config.redactor if config is not None else Redactor()
    fail(redact(str(error)), EXIT_LOCKED if isinstance(error, StateLockedError) else EXIT_USAGE)


STATE_HELP = "The state: a SQLite file, or a postgresql:// URL"
STATE_METAVAR = "FILE|URL"


def parse_wait(value: str | None) -> float:
    """Seconds from `--wait` (`30`, `5m`); 0 when not given: do not wait for the lock."""
    from mentions.units import parse_duration

    if value is None:
        return 0.0
    try:
        return parse_duration(value)
    except ValueError as error:
        fail(f"--wait: {error}")


TIMEOUT_HELP = "Seconds per request (20, 30s, 2m; 0.1 s to 1 hour, as `timeout:` in the config)."


def parse_timeout(value: str | None) -> float | None:
    """Seconds from `--timeout` (`20`, `30s`, `2m`), with the bounds of the config key; None
    when not given."""
    from mentions.config_fields import timeout_seconds

    if value is None:
        return None
    try:
        return timeout_seconds(value)
    except ValueError as error:
        fail(f"--timeout: {error}")
