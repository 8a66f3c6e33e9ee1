"""Read YAML into plain Python values while remembering the line of every key and item.

PyYAML's safe composer gives us nodes with marks; we build the values ourselves so that
validation errors can name `file:line`, `${VAR}` is expanded in strings only, duplicate keys
are problems (listed with the others; the later value wins), and alias bombs ("billion
laughs") are cut off instead of eating memory.

YAML 1.1 reads `On`, `yes`, `off` and `no` as booleans and `1984` as a number; a brand is
easily called On (and Norway's language code is `no`). So the text of every plain scalar
that did not become a string is kept (`written`), for the places that want a string, and
keys are always the text written.

A value taken from the environment is a secret (`secrets`), to be hidden wherever text is
shown or stored, except where it is what the user searches for: in `keywords:` (terms,
exclude, query, names) and in the lists of keyword names of sources and notifiers
(`searched`). The same value expanded in both places stays a secret: hiding it is what
protects it, and a keyword then cannot find it (`mentions check` warns of that). An alias
carries the values of its anchor to where it is used: `headers: {X: *token}` makes a
secret of a value anchored in `keywords:`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Loc = tuple[str | int, ...]
Variable = tuple[str, str]  # a `${VAR}` expanded: its name and value

MAX_NODES = 200_000
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# libyaml composes ten times faster than the pure-Python reader; both give nodes with marks.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Expansion:
    """A `${VAR}` expanded where the user searches for its value: its name, value and place."""

    name: str
    value: str
    loc: Loc


def is_searched(loc: Loc) -> bool:
    """Whether a value at `loc` is searched for rather than used: anything in `keywords:`, or
    a keyword's name in the `keywords:` list of a source or notifier."""
    return loc[:1] == ("keywords",) or (len(loc) >= 3 and loc[0] in ("sources", "notify")
                                         and loc[2] == "keywords")


class YamlProblem(Exception):
    """A problem found while reading the YAML itself; `line` is 1-based."""

    def __init__(self, message: str, line: int | None, is_unset_variable: bool = False) -> None:
        self.message = message
        self.line = line
        self.is_unset_variable = is_unset_variable  # a `${VAR}` the environment does not set
        self.loc: Loc = ()  # where the value with that variable is, once known
        super().__init__(message)


@dataclass
class _Open:
    """A mapping or sequence whose end event has not come yet."""

    value: dict[Any, Any] | list[Any]
    loc: Loc
    anchor: str | None
    nodes_before: int
    key: str | None = None  # in a mapping: the key whose value comes next
    expanded: set[Variable] = field(default_factory=set)  # (name, value) of `${VAR}`s within


class LocatedYaml:
    """Plain values from a YAML text plus the line of every path in it.

    The values are built straight from the parser's events: a composed node tree (every
    scalar with two marks) took ~14 MB for 5,000 sources and left that much resident.
    """

    def __init__(self, text: str, environ: dict[str, str] | None = None) -> None:
        self.lines: dict[Loc, int] = {}
        self.written: dict[Loc, str] = {}  # the text of plain scalars that became no string
        self.secrets: set[str] = set()  # values taken from the environment to be used: hidden
        self.searched: list[Expansion] = []  # values taken from it to be searched for
        self.problems: list[YamlProblem] = []
        self._environ = os.environ if environ is None else environ
        self._nodes = 0
        self._anchors: dict[str, tuple[Any, int]] = {}  # value and how many values it holds
        self._anchored: dict[str, set[Variable]] = {}  # the `${VAR}`s each anchor holds
        self._expanded: list[Variable] = []  # those of the scalar just read
        self._resolver = yaml.resolver.Resolver()
        self._scalars = yaml.constructor.SafeConstructor()
        try:
            self.data: Any = self._build(yaml.parse(text, Loader=_LOADER))
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = mark.line + 1 if mark else None
            what = error.problem or error.context or "invalid YAML"
            raise YamlProblem(f"invalid YAML: {what}", line) from None
        except yaml.reader.ReaderError as error:  # a control character: its line, in one line
            line = text.count("\n", 0, error.position) + 1
            code = error.character if isinstance(error.character, int) else ord(error.character)
            raise YamlProblem(f"invalid YAML: the character U+{code:04X}: {error.reason}", line) from None
        except yaml.YAMLError as error:
            raise YamlProblem(f"invalid YAML: {error}", None) from None

    def line_of(self, loc: Loc) -> int | None:
        """The line of the longest known prefix of `loc`."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return None

    def _build(self, events: Iterator[yaml.Event]) -> Any:
        """The one document's value; iterative, so nesting depth is libyaml's limit, not Python's."""
        root: Any = None
        documents = 0
        stack: list[_Open] = []
        for event in events:
            line = event.start_mark.line + 1 if event.start_mark else None
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise YamlProblem("invalid YAML: expected one document, but found another", line)
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                done = stack.pop()
                if done.anchor is not None:
                    self._anchors[done.anchor] = (done.value, self._nodes - done.nodes_before)
                    self._anchored[done.anchor] = done.expanded
                if stack:
                    stack[-1].expanded |= done.expanded
                value: Any = done.value
            elif not isinstance(event, yaml.NodeEvent):
                continue  # stream start and end, document end
            elif stack and isinstance(stack[-1].value, dict) and stack[-1].key is None:
                stack[-1].key = self._key(event, stack[-1], line)
                continue
            else:
                loc = self._next_loc(stack)
                self._count(1, line)
                self.lines.setdefault(loc, line or 0)
                if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                    opened: dict[Any, Any] | list[Any] = (
                        {} if isinstance(event, yaml.MappingStartEvent) else []
                    )
                    stack.append(_Open(opened, loc, event.anchor, self._nodes - 1))
                    continue
                if isinstance(event, yaml.AliasEvent):
                    value, size = self._alias(event, line)
                    self._count(size - 1, line)
                    self._note(self._anchored.get(event.anchor or "", set()), loc, stack)
                elif isinstance(event, yaml.ScalarEvent):
                    known = len(self.problems)
                    value = self._scalar(event, line)
                    for problem in self.problems[known:]:
                        problem.loc = loc
                    if value is not None and not isinstance(value, str):
                        self.written[loc] = event.value
                    expanded = self._note(self._expanded, loc, stack)
                    if event.anchor is not None:
                        self._anchors[event.anchor] = (value, 1)
                        self._anchored[event.anchor] = expanded
            if not stack:
                root = value
            elif isinstance(stack[-1].value, dict):
                key = stack[-1].key
                stack[-1].value[key] = value
                stack[-1].key = None
            else:
                stack[-1].value.append(value)
        return root

    def _note(self, expanded: Iterable[Variable], loc: Loc, stack: list[_Open]) -> set[Variable]:
        """File the `${VAR}`s found at `loc` as secrets or searched, and under the collection
        around them too (for an anchor on it); return them."""
        found = set(expanded)
        self._expanded = []
        for name, value in found:
            if is_searched(loc):
                self.searched.append(Expansion(name, value, loc))
            else:
                self.secrets.add(value)
        if stack:
            stack[-1].expanded |= found
        return found

    @staticmethod
    def _next_loc(stack: list[_Open]) -> Loc:
        if not stack:
            return ()
        parent = stack[-1]
        if isinstance(parent.value, dict):
            return (*parent.loc, parent.key or "")
        return (*parent.loc, len(parent.value))

    def _count(self, nodes: int, line: int | None) -> None:
        self._nodes += nodes
        if self._nodes > MAX_NODES:
            raise YamlProblem(f"the file expands to more than {MAX_NODES} values (an alias bomb?)", line)

    def _alias(self, event: yaml.AliasEvent, line: int | None) -> tuple[Any, int]:
        found = self._anchors.get(event.anchor or "")
        if found is None:
            # an anchor is known once its node is complete, so a node cannot contain itself
            raise YamlProblem(f"invalid YAML: the alias *{event.anchor} names no earlier anchor", line)
        return found

    def _key(self, event: yaml.NodeEvent, mapping: _Open, line: int | None) -> str:
        expanded: Iterable[Variable] = ()
        if isinstance(event, yaml.AliasEvent):
            key: Any = self._alias(event, line)[0]
            expanded = self._anchored.get(event.anchor or "", set())
        elif isinstance(event, yaml.ScalarEvent):
            if self._tag(event) == "tag:yaml.org,2002:merge":
                raise YamlProblem("merge keys (<<) are not supported", line)
            key = self._scalar(event, line)
            expanded = self._expanded
        else:
            key = None
        if not isinstance(key, str | int | float | bool) or key is None:
            raise YamlProblem("a key must be plain text", line)
        # `On:` is the key "On", not "True"
        text = event.value if isinstance(event, yaml.ScalarEvent) and not isinstance(key, str) else str(key)
        loc = (*mapping.loc, text)
        self._note(expanded, loc, [mapping])
        if text in mapping.value:
            # Noted, and the later value wins as in YAML loaders, so that `check` goes on to
            # list the other problems of the file too.
            self.problems.append(YamlProblem(f"duplicate key {text!r}", line))
            self._forget(loc)
        self.lines[loc] = line or 0
        return text

    def _forget(self, loc: Loc) -> None:
        """Drop the lines and texts of the value at `loc`, which a duplicate key replaces."""
        for known in (self.lines, self.written):
            for path in [path for path in known if path[: len(loc)] == loc]:
                del known[path]

    def _tag(self, event: yaml.ScalarEvent) -> str:
        if event.tag is None or event.tag == "!":
            return str(self._resolver.resolve(yaml.ScalarNode, event.value, event.implicit))  # type: ignore[no-untyped-call]
        return event.tag

    def _scalar(self, event: yaml.ScalarEvent, line: int | None) -> Any:
        node = yaml.ScalarNode(self._tag(event), event.value, None, None, event.style)
        try:
            value = self._scalars.construct_object(node)
        except yaml.constructor.ConstructorError as error:
            raise YamlProblem(f"unsupported value: {error.problem}", line) from None
        except ValueError:  # a timestamp-shaped value that is no date, like 2024-13-45
            raise YamlProblem(f"not a valid value: {event.value!r}", line) from None
        finally:
            self._scalars.constructed_objects.clear()
        if isinstance(value, str):
            return self._expand(value, line or 0)
        if isinstance(value, bytes):
            raise YamlProblem("binary values are not supported", line)
        return value

    def _expand(self, value: str, line: int) -> str:
        def replace(found: re.Match[str]) -> str:
            name = found.group(1)
            if name not in self._environ:
                self.problems.append(YamlProblem(f"${{{name}}} is not set in the environment", line, True))
                return ""
            value = self._environ[name]
            if value:  # how long a value must be to be hidden is the Redactor's rule
                self._expanded.append((name, value))
            return value

        return _ENV.sub(replace, value)


_WIDE_MARKS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
               (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def read_yaml(path: Path, environ: dict[str, str] | None = None) -> LocatedYaml:
    """Read and compose `path`; raise YamlProblem for unreadable or malformed files."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise YamlProblem(f"cannot read the file: {error.strerror or error}", None) from None
    try:
        # Notepad's "Unicode" is UTF-16 with a byte order mark: read it, as a browser would.
        wide = next((name for mark, name in _WIDE_MARKS if raw.startswith(mark)), None)
        text = raw.decode(wide) if wide else raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise YamlProblem("the file is not valid UTF-8", line) from None
    return LocatedYaml(text, environ)
