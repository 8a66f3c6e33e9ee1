"""The only package that talks to the database: what was reported, HTTP validators, health.

    database.py where the state lives: a SQLite file or PostgreSQL, and their differences
    access.py   how a file's readers open it with read access alone, leaving nothing behind
    schema.py   the tables and their append-only migrations
    health.py   a source's health and the backoff of sources that keep failing
    store.py    `State`: the open state and every query

See docs/state.md for what a user can rely on (at-least-once, locking, pruning).
"""

from mentions.state.health import BackoffPolicy, SourceHealth
from mentions.state.schema import SCHEMA_VERSION
from mentions.state.store import State, default_state_path, read_rows

__all__ = ["SCHEMA_VERSION", "BackoffPolicy", "SourceHealth", "State", "default_state_path", "read_rows"]
