"""Read YAML into plain Python values while remembering the line of every key and item.

PyYAML's safe composer gives us nodes with marks; we build the values ourselves so that
validation errors can name `file:line`, `${VAR}` is expanded in strings only, duplicate keys
are errors, and alias bombs ("billion laughs") are cut off instead of eating memory.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

Loc = tuple[str | int, ...]

MAX_NODES = 200_000
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# libyaml composes ten times faster than the pure-Python reader; both give nodes with marks.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlProblem(Exception):
    """A problem found while reading the YAML itself; `line` is 1-based."""

    def __init__(self, message: str, line: int | None) -> None:
        self.message = message
        self.line = line
        super().__init__(message)


class LocatedYaml:
    """Plain values from a YAML text plus the line of every path in it."""

    def __init__(self, text: str, environ: dict[str, str] | None = None) -> None:
        self.lines: dict[Loc, int] = {}
        self.secrets: set[str] = set()
        self.problems: list[YamlProblem] = []
        self._environ = os.environ if environ is None else environ
        self._nodes = 0
        # One per document: a constructor caches every node it read (with its marks) for
        # as long as it lives; a shared one kept every config's nodes, 7 MB for 5,000 sources.
        self._scalars = yaml.constructor.SafeConstructor()
        try:
            root = yaml.compose(text, Loader=_LOADER)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = mark.line + 1 if mark else None
            what = error.problem or error.context or "invalid YAML"
            raise YamlProblem(f"invalid YAML: {what}", line) from None
        except yaml.YAMLError as error:
            raise YamlProblem(f"invalid YAML: {error}", None) from None
        self.data: Any = None if root is None else self._build(root, ())

    def line_of(self, loc: Loc) -> int | None:
        """The line of the longest known prefix of `loc`."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return None

    def _build(self, node: yaml.Node, loc: Loc) -> Any:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise YamlProblem(
                f"the file expands to more than {MAX_NODES} values (an alias bomb?)",
                node.start_mark.line + 1,
            )
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise YamlProblem("merge keys (<<) are not supported", key_node.start_mark.line + 1)
                key = self._scalars.construct_object(key_node)
                if not isinstance(key, str | int | float | bool) or key is None:
                    raise YamlProblem("a key must be plain text", key_node.start_mark.line + 1)
                key = str(key)
                if key in result:
                    raise YamlProblem(f"duplicate key {key!r}", key_node.start_mark.line + 1)
                self.lines[(*loc, key)] = key_node.start_mark.line + 1
                result[key] = self._build(value_node, (*loc, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self._build(item, (*loc, index)) for index, item in enumerate(node.value)]
        value = self._scalars.construct_object(node)
        if isinstance(value, str):
            return self._expand(value, node.start_mark.line + 1)
        if isinstance(value, bytes):
            raise YamlProblem("binary values are not supported", node.start_mark.line + 1)
        return value

    def _expand(self, value: str, line: int) -> str:
        def replace(found: re.Match[str]) -> str:
            name = found.group(1)
            if name not in self._environ:
                self.problems.append(YamlProblem(f"${{{name}}} is not set in the environment", line))
                return ""
            secret = self._environ[name]
            if len(secret) >= 3:
                self.secrets.add(secret)
            return secret

        return _ENV.sub(replace, value)


def read_yaml(path: Path, environ: dict[str, str] | None = None) -> LocatedYaml:
    """Read and compose `path`; raise YamlProblem for unreadable or malformed files."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise YamlProblem(f"cannot read the file: {error.strerror or error}", None) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise YamlProblem("the file is not valid UTF-8", line) from None
    return LocatedYaml(text, environ)
