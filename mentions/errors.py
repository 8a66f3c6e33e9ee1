"""The one exception tree of `mentions`.

    MentionsError                 anything we expect and can explain in one sentence
    ├── ConfigError               the config file is wrong (exit 2); carries file and line
    ├── QueryError                a query does not parse; carries the column
    ├── UsageError                a flag or argument is wrong (exit 2)
    ├── StateError                the state file cannot be used (exit 2)
    │   └── StateLockedError      another scan holds the state (exit 3)
    ├── OutputError               stdout or -o FILE cannot be written: disk full, closed (exit 2)
    └── FetchError                one URL could not be fetched or parsed; a value in the
                                  run report, never fatal to a scan

Only `mentions.cli` turns these into messages and exit codes. The ones with arguments of
their own pickle them (`__reduce__`): parsers run in worker processes, and an exception that
cannot be unpickled in the parent breaks the whole process pool.
"""

from __future__ import annotations


class MentionsError(Exception):
    """An expected failure with a message fit for a person."""


class ConfigError(MentionsError):
    """The config is invalid; `problems` holds one sentence per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))

    def __reduce__(self) -> tuple[type[ConfigError], tuple[list[str]]]:
        return type(self), (self.problems,)


class QueryError(MentionsError):
    """A query does not parse; `column` is 1-based within the query text."""

    def __init__(self, message: str, column: int) -> None:
        self.message = message
        self.column = column
        super().__init__(f"{message} at column {column}")

    def __reduce__(self) -> tuple[type[QueryError], tuple[str, int]]:
        return type(self), (self.message, self.column)


class UsageError(MentionsError):
    """A command-line flag or argument is wrong."""


class StateError(MentionsError):
    """The state file cannot be opened or used."""


class StateLockedError(StateError):
    """Another scan holds the state lock."""


class OutputError(MentionsError):
    """The output cannot be written (a full disk, a closed stdout); a closed pipe is not this."""


class FetchError(MentionsError):
    """A URL could not be fetched or its body could not be used.

    `reason` is one of a small set a person understands (see `REASONS`);
    `detail` adds the specifics (the status code, the limit that was hit).
    """

    REASONS = (
        "timeout",
        "connection failed",
        "http status",
        "rate-limited",
        "bot challenge",
        "robots.txt",
        "too large",
        "not a feed",
        "not html",
        "empty response",
        "invalid compression",
        "protocol error",
        "truncated",
        "redirect",
        "blocked address",
        "unsupported url",
        "file error",
        "parse error",
    )

    def __init__(self, reason: str, url: str, detail: str = "", status: int | None = None) -> None:
        self.reason = reason
        self.url = url
        self.detail = detail
        self.status = status
        text = f"{reason}: {detail}" if detail else reason
        super().__init__(text)

    def __reduce__(self) -> tuple[type[FetchError], tuple[str, str, str, int | None]]:
        # A parser in a worker process raises it; the parent unpickles it (with these args).
        return type(self), (self.reason, self.url, self.detail, self.status)
