"""Which `/regex/` terms can take exponential time, for a warning from `mentions check`.

Python's `re` backtracks: `/(a+)+b/` tries every way to split a run of `a` between the two
`+`, and on hostile web text one document can hold a scan for minutes. We walk the tree of
the standard library's own regex parser (`re._parser`: what `re.compile` reads, so the
pattern means here what it means when matched) and name the two shapes that are clearly
exponential, leaving alone anything we cannot decide (no false alarm on common patterns):

- a repeat (unbounded, or at least `LARGE` times) whose body can match a run of text in many
  ways because an unbounded repeat inside it could take over the rest: `(a+)+`,
  `(\\w+\\s?)*`, `(.*a){20}`;
- a repeat over a choice of two alternatives that are the same: `(x|x)*` (the parser keeps
  it as `x(?:|)`, whose two empty alternatives double the tries of every round).

Possessive repeats and atomic groups give nothing back, lookarounds neither: they are safe.
"""

from __future__ import annotations

import re
import string
import warnings
from collections.abc import Callable, Iterator

# The parser `re.compile` itself uses (Python 3.11+, the project's floor; the older
# `sre_parse` alias warns on import). Private, so any surprise in its tree means "no warning".
from re import _constants as constants  # type: ignore[attr-defined]
from re import _parser as parser  # type: ignore[attr-defined]
from typing import Any

from mentions.match.query import And, Near, Node, Not, Or, Regex

LARGE = 10  # ten rounds of an ambiguous body: tries grow like (length of text) ** 10
NESTED = "a repeated group that itself repeats"
SAME_CHOICE = "a repeated choice between alternatives that match the same text"

_SAMPLE = string.printable + "äöüßéÄ€ı\u00a0\u2003\u3000中"
# The sets `\d`, `\s` and `\w` stand for, as `re` reads them in a str pattern.
_CATEGORIES: dict[Any, Callable[[str], bool]] = {
    constants.CATEGORY_DIGIT: str.isdecimal,
    constants.CATEGORY_NOT_DIGIT: lambda c: not c.isdecimal(),
    constants.CATEGORY_SPACE: str.isspace,
    constants.CATEGORY_NOT_SPACE: lambda c: not c.isspace(),
    constants.CATEGORY_WORD: lambda c: c.isalnum() or c == "_",
    constants.CATEGORY_NOT_WORD: lambda c: not (c.isalnum() or c == "_"),
}
_SINGLE = (constants.LITERAL, constants.NOT_LITERAL, constants.ANY, constants.IN)
_REPEATS = (constants.MAX_REPEAT, constants.MIN_REPEAT)  # not POSSESSIVE_REPEAT: gives nothing back

Item = tuple[Any, Any]  # (opcode, argument), an element of the parser's SubPattern


def slow_regexes(query: Node) -> Iterator[tuple[str, str]]:
    """Each `/regex/` of a parsed query that can take very long, with why."""
    if isinstance(query, Regex):
        reason = why_slow(query.pattern)
        if reason:
            yield query.pattern, reason
    elif isinstance(query, Not):
        yield from slow_regexes(query.child)
    elif isinstance(query, And | Or):
        for child in query.children:
            yield from slow_regexes(child)
    elif isinstance(query, Near):
        yield from slow_regexes(query.left)
        yield from slow_regexes(query.right)


def why_slow(pattern: str) -> str | None:
    """Why `pattern` can take exponential time (a short phrase), or None if we see no reason."""
    try:
        with warnings.catch_warnings():  # "possible nested set": as in `compile_regex`
            warnings.simplefilter("ignore")
            tree = parser.parse(pattern, re.IGNORECASE)
        return reason_in(list(tree))
    except Exception:  # a private tree may change shape, a deep one overflow: a warning
        return None  # is never worth failing `check` for


def reason_in(items: list[Item]) -> str | None:
    """Why the parsed `items` can take exponential time, or None (raises on a surprise)."""
    for op, av in items:
        if op in _REPEATS:
            _, high, body = av
            if high == constants.MAXREPEAT or high >= LARGE:
                if _is_ambiguous(list(body)):
                    return NESTED
                if _has_same_choice(list(body)):
                    return SAME_CHOICE
        for child in _children(op, av):
            reason = reason_in(child)
            if reason:
                return reason
    return None


def _children(op: Any, av: Any) -> list[list[Item]]:
    """The sub-sequences of one item, for the walk."""
    if op in (*_REPEATS, constants.POSSESSIVE_REPEAT):
        return [list(av[2])]
    if op == constants.SUBPATTERN:
        return [list(av[3])]
    if op == constants.BRANCH:
        return [list(branch) for branch in av[1]]
    if op in (constants.ASSERT, constants.ASSERT_NOT):
        return [list(av[1])]
    if op == constants.ATOMIC_GROUP:
        return [list(av)]
    if op == constants.GROUPREF_EXISTS:
        return [list(branch) for branch in av[1:] if branch is not None]
    return []


def _is_ambiguous(body: list[Item]) -> bool:
    """Whether one round of `body` can match text in which an unbounded repeat inside it
    could also take what the rest needs: then rounds split a run in exponentially many ways."""
    for alternative in _alternatives(body):
        sequence = _flatten(alternative)
        for index, (op, av) in enumerate(sequence):
            if op not in _REPEATS or av[1] != constants.MAXREPEAT or _max_zero(list(av[2])):
                continue
            inner = _single(list(av[2]))
            rest = sequence[:index] + sequence[index + 1 :]
            if all(_min_width([item]) == 0 or _is_taken_by(item, inner) for item in rest):
                return True
    return False


def _alternatives(body: list[Item]) -> list[list[Item]]:
    """A body that is one choice (maybe in a group) is any of its alternatives in a round."""
    sequence = _flatten(body)
    if len(sequence) == 1 and sequence[0][0] == constants.BRANCH:
        return [list(branch) for branch in sequence[0][1][1]]
    return [body]


def _flatten(items: list[Item]) -> list[Item]:
    """A sequence with its plain groups opened: `(ab)c` is `abc` for what it matches."""
    flat: list[Item] = []
    for op, av in items:
        if op == constants.SUBPATTERN:
            flat.extend(_flatten(list(av[3])))
        else:
            flat.append((op, av))
    return flat


def _is_taken_by(item: Item, inner: Item | None) -> bool:
    """Whether the one-character repeat `inner` could match a character `item` needs."""
    if inner is None:
        return False
    op, av = item
    if op in _REPEATS:
        body = _single(list(av[2]))
        return body is not None and _overlaps(body, inner)
    return op in _SINGLE and _overlaps(item, inner)


def _single(items: list[Item]) -> Item | None:
    """The one one-character item that `items` are (in groups or not), or None."""
    flat = _flatten(items)
    return flat[0] if len(flat) == 1 and flat[0][0] in _SINGLE else None


def _overlaps(first: Item, second: Item) -> bool:
    """Whether some character matches both (tried on a sample and the literals named)."""
    candidates = _SAMPLE + "".join(chr(v) for op, v in (first, second) if op == constants.LITERAL)
    for char in {*candidates, *candidates.lower(), *candidates.upper()}:
        if _accepts(first, char) and _accepts(second, char):
            return True
    return False


def _accepts(item: Item, char: str) -> bool:
    """Whether a one-character item matches `char`, case-insensitively; unknowns do not."""
    op, av = item
    variants = {char, char.lower(), char.upper()}
    if op == constants.LITERAL:
        return chr(av) in variants
    if op == constants.NOT_LITERAL:
        return chr(av) not in variants
    if op == constants.ANY:
        return char != "\n"
    if op != constants.IN:
        return False
    is_negated = bool(av) and av[0][0] == constants.NEGATE
    found = any(_in_set(member, variant) for member in av for variant in variants)
    return found != is_negated


def _in_set(member: Item, char: str) -> bool:
    op, av = member
    if op == constants.LITERAL:
        return chr(av) == char
    if op == constants.RANGE:
        return bool(av[0] <= ord(char) <= av[1])
    if op == constants.CATEGORY and av in _CATEGORIES:
        return bool(_CATEGORIES[av](char))
    return False


def _has_same_choice(body: list[Item]) -> bool:
    """Whether a round goes through a choice with two identical alternatives, outside an
    atomic part (possessive, atomic group, lookaround: they give nothing back)."""
    for op, av in body:
        if op == constants.BRANCH:
            shapes = [_shape(list(branch)) for branch in av[1]]
            if len(set(shapes)) < len(shapes):
                return True
        is_giving_back = op in (*_REPEATS, constants.SUBPATTERN, constants.BRANCH, constants.GROUPREF_EXISTS)
        if is_giving_back and any(_has_same_choice(child) for child in _children(op, av)):
            return True
    return False


def _shape(items: list[Item]) -> str:
    """A comparable form of a sequence (the parser's nodes do not compare by value); group
    numbers are left out: `((a)|(a))` has two identical alternatives."""
    parts = []
    for op, av in items:
        children = _children(op, av)
        if not children:
            parts.append(f"{op}:{av!r}")
        else:
            bounds = av[:2] if op in (*_REPEATS, constants.POSSESSIVE_REPEAT) else ""
            parts.append(f"{op}{bounds}[{'|'.join(_shape(child) for child in children)}]")
    return ";".join(parts)


def _max_zero(items: list[Item]) -> bool:
    """Whether `items` can only match the empty string (a repeat of them takes nothing)."""
    return all(op in (constants.AT, constants.ASSERT, constants.ASSERT_NOT) for op, _ in _flatten(items))


def _min_width(items: list[Item]) -> int:
    """The fewest characters `items` match; an item we do not know counts as one."""
    total = 0
    for op, av in items:
        if op in (constants.AT, constants.ASSERT, constants.ASSERT_NOT):
            continue
        if op in (*_REPEATS, constants.POSSESSIVE_REPEAT):
            total += av[0] * _min_width(list(av[2])) if av[0] else 0
        elif op == constants.SUBPATTERN:
            total += _min_width(list(av[3]))
        elif op == constants.ATOMIC_GROUP:
            total += _min_width(list(av))
        elif op in (constants.BRANCH, constants.GROUPREF_EXISTS):
            total += min((_min_width(child) for child in _children(op, av)), default=0)
        else:
            total += 1
    return total
