"""`--keyword` and `--source` filters of the commands that read the state (`history`, `report`).

A name that neither the config nor the state knows selects nothing; said nowhere, a wrong
case (`ACME` for `acme`) or a typo looked like a quiet week. It is named on stderr, with the
known names, and the command goes on as before (same output, same exit code).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Literal

from mentions.config import did_you_mean
from mentions.console import clean_text, stderr_console

if TYPE_CHECKING:
    from mentions.config import Config
    from mentions.state import State

# Up to this many known names are listed; past it, a count (and the closest one) is enough.
LISTED_NAMES = 10


def warn_unknown_filters(
    state: State, config: Config | None, *, keywords: Sequence[str] = (), sources: Sequence[str] = (),
) -> None:
    """One line on stderr for each filter value that no keyword or source of the config or
    the state is called."""
    where = "the state" if config is None else "the config or the state"
    checks: tuple[tuple[Literal["keyword", "source"], Sequence[str], list[str]], ...] = (
        ("keyword", keywords, [k.name for k in config.keywords] if config else []),
        ("source", sources, [s.name for s in config.sources] if config else []),
    )
    for noun, given, configured in checks:
        if not given:
            continue
        known = set(configured) | state.recorded_names(noun)
        for value in dict.fromkeys(given):
            if value not in known:
                message = unknown_name_message(f"--{noun}", noun, value, known, where)
                stderr_console().print(f"mentions: {clean_text(message)}", markup=False, highlight=False)


def unknown_name_message(option: str, noun: str, value: str, known: Iterable[str], where: str) -> str:
    """`--keyword 'ACME': no keyword of that name in the state (did you mean 'acme'? known: acme, globex)`."""
    names = sorted(known)
    same_but_case = [name for name in names if name.casefold() == value.casefold()]
    hint = f"did you mean {same_but_case[0]!r}?" if same_but_case else did_you_mean(value, names).strip(" ()")
    if not names:
        listed = "none is known yet"
    elif len(names) <= LISTED_NAMES:
        listed = "known: " + ", ".join(names)
    else:
        listed = f"{len(names)} are known"
    details = " ".join(part for part in (hint, listed) if part)
    return f"{option} {value!r}: no {noun} of that name in {where} ({details})"
