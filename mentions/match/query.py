"""The query language: tokens -> a small tree of frozen nodes.

Grammar (NOT binds tightest, then AND and adjacency, then OR; NEAR binds terms directly):

    query   := or EOF
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*
    unary   := "NOT" unary | "-"primary | near
    near    := primary (("NEAR/n" | "ONEAR/n") primary)*
    primary := "(" or ")" | [field ":"] (word | "phrase" | prefix* | /regex/)

Every problem is a `QueryError` with the 1-based column of the token at fault; the parser
raises nothing else, whatever the input (a hypothesis test holds us to that).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from mentions.errors import QueryError

FIELDS = ("title", "author", "url", "site", "lang")
# Fields whose value is searched like text; the others are compared with document metadata.
TEXT_FIELDS = (None, "title")
WORD_FIELDS = (None, "title", "author")
MAX_DISTANCE = 1000
MAX_NESTING = 50  # levels of parentheses and NOT, and NEARs in one chain

_OPERATOR = re.compile(r"(O?NEAR)(?:/(.*))?$")
_FIELD = re.compile(r"(title|author|url|site|lang):", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r'[^\s()"]*')


@dataclass(frozen=True, slots=True)
class Term:
    """A word or a "phrase" (`is_prefix`: `Schuh*`), optionally scoped to a field."""

    text: str
    field: str | None = None
    is_prefix: bool = False


@dataclass(frozen=True, slots=True)
class Regex:
    """A `/regex/`, searched case-insensitively in the normalised title and text."""

    pattern: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Near:
    """`left` and `right` at most `distance` words apart (`is_ordered`: left comes first)."""

    left: Node
    right: Node
    distance: int
    is_ordered: bool = False


Node = Term | Regex | Not | And | Or | Near


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "(" ")" AND OR NOT NEAR MINUS WORD PHRASE REGEX FIELD EOF
    text: str
    column: int
    number: int = 0


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        column = i + 1
        if char.isspace():
            i = _SPACE.match(text, i).end()  # type: ignore[union-attr]
        elif char in "()":
            tokens.append(_Token(char, char, column))
            i += 1
        elif char == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise QueryError('unclosed quote "', column)
            if not text[i + 1 : end].strip():
                raise QueryError('empty phrase ""', column)
            tokens.append(_Token("PHRASE", text[i + 1 : end], column))
            i = end + 1
        elif char == "/":
            i = _regex_token(text, i, tokens)
        elif char == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] != ")":
            tokens.append(_Token("MINUS", "-", column))
            i += 1
        else:
            end = _WORD.match(text, i).end()  # type: ignore[union-attr]
            i = _word_token(text, i, end, tokens)
    tokens.append(_Token("EOF", "", n + 1))
    return tokens


def _regex_token(text: str, i: int, tokens: list[_Token]) -> int:
    j = i + 1
    while j < len(text) and text[j] != "/":
        j += 2 if text[j] == "\\" else 1
    if j >= len(text):
        raise QueryError("unclosed regex /", i + 1)
    pattern = text[i + 1 : j].replace("\\/", "/")
    if not pattern:
        raise QueryError("empty regex //", i + 1)
    try:
        compile_regex(pattern, re.IGNORECASE)
    except (re.error, OverflowError, RecursionError, ValueError) as error:
        raise QueryError(f"bad regex /{pattern}/ ({error})", i + 1) from None
    tokens.append(_Token("REGEX", pattern, i + 1))
    return j + 1


def compile_regex(pattern: str, flags: int) -> re.Pattern[str]:
    """Compile a query's regex; "possible nested set" warnings are not the user's problem."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return re.compile(pattern, flags)


def _word_token(text: str, start: int, end: int, tokens: list[_Token]) -> int:
    word, column = text[start:end], start + 1
    field = _FIELD.match(word)
    if field:
        tokens.append(_Token("FIELD", field.group(1).lower(), column))
        rest = word[field.end() :]
        if rest.startswith("/"):  # title:/regex/ - let the main loop read the regex
            return start + field.end()
        if rest:
            return _word_token(text, start + field.end(), end, tokens)
        return end
    if word in ("AND", "OR", "NOT"):
        tokens.append(_Token(word, word, column))
        return end
    operator = _OPERATOR.match(word)
    if operator:
        if not (operator.group(2) or "").isdecimal() or not operator.group(2).isascii():
            raise QueryError(f"{operator.group(1)} needs a number ({operator.group(1)}/5)", column)
        distance = int(operator.group(2))
        if distance > MAX_DISTANCE:
            name = operator.group(1)
            raise QueryError(f"{name}/{distance} is too far (at most {MAX_DISTANCE})", column)
        tokens.append(_Token("NEAR", operator.group(1), column, distance))
        return end
    tokens.append(_Token("WORD", word, column))
    return end


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.depth = 0  # parentheses and NOTs open around the current token

    def deeper(self, token: _Token) -> None:
        """One more level of nesting; a query error past MAX_NESTING (200 levels exhausted
        Python's stack while parsing or matching: an internal error, not a message)."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise QueryError(f"the query nests too deeply (at most {MAX_NESTING} levels)", token.column)

    @property
    def token(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def parse(self) -> Node:
        if self.token.kind == "EOF":
            raise QueryError("empty query", 1)
        node = self.or_()
        if self.token.kind == ")":
            raise QueryError('unbalanced ")"', self.token.column)
        if self.token.kind != "EOF":  # pragma: no cover - every other token starts a unary
            raise QueryError(f'unexpected "{self.token.text}"', self.token.column)
        return node

    def or_(self) -> Node:
        children = [self.and_()]
        while self.token.kind == "OR":
            operator = self.take()
            children.append(self.operand_after(operator, self.and_))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_(self) -> Node:
        children = [self.unary()]
        while self.token.kind not in ("OR", ")", "EOF"):
            if self.token.kind == "AND":
                operator = self.take()
                children.append(self.operand_after(operator, self.unary))
            else:
                children.append(self.unary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def operand_after(self, operator: _Token, parse: Callable[[], Node]) -> Node:
        if self.token.kind in ("OR", "AND", ")", "EOF", "NEAR"):
            raise QueryError(f'nothing after "{operator.text}"', operator.column)
        return parse()

    def unary(self) -> Node:
        token = self.token
        if token.kind in ("NOT", "MINUS"):
            self.take()
            self.deeper(token)
            node = Not(self.operand_after(token, self.unary))
            self.depth -= 1
            return node
        if token.kind in ("AND", "OR", "NEAR"):
            raise QueryError(f'nothing before "{token.text}"', token.column)
        return self.near()

    def near(self) -> Node:
        node = self.primary()
        chained = 0
        while self.token.kind == "NEAR":
            operator = self.take()
            chained += 1
            if chained > MAX_NESTING:  # each NEAR holds the chain before it: one level more
                raise QueryError(f"too many NEARs in a row (at most {MAX_NESTING})", operator.column)
            right = self.operand_after(operator, self.primary)
            for side in (node, right):
                if not _is_positional(side):
                    raise QueryError(
                        f"{operator.text} joins words, phrases and prefixes (or an OR of them)",
                        operator.column,
                    )
            node = Near(node, right, operator.number, operator.text == "ONEAR")
        return node

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "(":
            if self.token.kind == ")":
                raise QueryError('empty parentheses "()"', token.column)
            self.deeper(token)
            node = self.or_()
            if self.token.kind != ")":
                raise QueryError('unbalanced "("', token.column)
            self.take()
            self.depth -= 1
            return node
        if token.kind == ")":
            raise QueryError('unbalanced ")"', token.column)
        if token.kind == "FIELD":
            return self.scoped(token)
        if token.kind in ("NOT", "MINUS", "NEAR", "AND", "OR", "EOF"):  # after NEAR/field
            raise QueryError(f'unexpected "{token.text or "end of query"}"', token.column)
        return _leaf(token, None)

    def scoped(self, field: _Token) -> Node:
        token = self.take()
        if token.kind not in ("WORD", "PHRASE", "REGEX") or (
            token.kind == "REGEX" and field.text not in TEXT_FIELDS
        ):
            raise QueryError(f"{field.text}: needs a word or phrase right after it", field.column)
        return _leaf(token, field.text)


def _leaf(token: _Token, field: str | None) -> Node:
    from mentions.match.normalize import has_content

    if token.kind == "REGEX":
        return Regex(token.text, field)
    text, is_prefix = token.text, False
    if token.kind == "WORD" and text.endswith("*") and field in WORD_FIELDS:
        text, is_prefix = text[:-1], True
        if not has_content(text):
            raise QueryError("a prefix needs letters before *", token.column)
    if field in WORD_FIELDS and not has_content(text):
        raise QueryError(f'"{token.text}" has nothing to look for', token.column)
    if field == "site":
        host = site_host(text)
        if host is None:
            raise QueryError(f'site: "{token.text}" names no host (write it as acme.de)', token.column)
        text = host
    return Term(" ".join(text.split()), field, is_prefix)


_LABEL = r"(?!-)[\w-]+(?<!-)"  # a host name's label: no hyphen at either end
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")


def site_host(value: str) -> str | None:
    """The host a `site:` value means, lower case, IDNA-encoded; None when it names none.

    People paste URLs (`https://www.acme.de/`) where a host belongs: the host is what they
    mean, and compared with a document's host the whole URL would never match. `*.acme.de`
    means acme.de (its subdomains match anyway). Anything else that is no host name or IP
    address (`site:acme.de`, `acme.de,acme.com`, `http:acme.de`) is refused: read as a
    host, it would be a word such as "site" that no document's host is.
    """
    import ipaddress
    from urllib.parse import urlsplit

    value = value.strip().removeprefix("*.").removeprefix(".")
    try:
        parts = urlsplit(value if "://" in value else f"//{value}")
        host, port = parts.hostname or "", parts.port  # a port that is no number raises
    except ValueError:  # an unclosed IPv6 bracket, a port such as `:acme.de`
        return None
    if port is None and parts.netloc.endswith(":"):  # `site:` given as the value: no port
        return None
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return None
        return host
    if not host.strip(".") or not _HOST_NAME.fullmatch(host):
        return None
    return ascii_host(host)


def ascii_host(host: str) -> str:
    """A host name as DNS spells it (`münchen.de` -> `xn--mnchen-3ya.de`), so that either
    spelling in a query matches either in a URL."""
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _is_positional(node: Node) -> bool:
    if isinstance(node, Term):
        return node.field in TEXT_FIELDS
    if isinstance(node, Or):
        return all(_is_positional(child) for child in node.children)
    return isinstance(node, Near)


@lru_cache(maxsize=16384)
def parse_query(text: str) -> Node:
    """Parse a query; raise QueryError with the column of the first problem.

    Cached: the config validates every query and the matcher then compiles the same text.
    """
    return _Parser(text).parse()
