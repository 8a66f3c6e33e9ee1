"""The config: pydantic models, validated once and frozen.

Nothing downstream of `load_config()` (config_file.py) sees a raw dict. The validators here
say what is wrong in a sentence; config_file.py adds the file and line.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.dataclasses import dataclass as pydantic_dataclass

from mentions.config_fields import Backoff, Count, Delay, PageCount, Size, Timeout
from mentions.css import written_selector_problem
from mentions.errors import QueryError
from mentions.login import split_login
from mentions.match import KeywordRule, parse_query
from mentions.match.query import site_host
from mentions.redact import Redactor

DEFAULT_USER_AGENT = "mentions/0.1 (+https://github.com/mentions-cli/mentions)"
SOURCE_KINDS = ("feed", "page", "file", "json", "sitemap", "search", "preset")
_NAME = re.compile(r"^[\w][\w.\-: ]*$", re.UNICODE)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class HttpConfig(_Model):
    """How we talk to servers; every field has a polite default."""

    user_agent: str = DEFAULT_USER_AGENT
    timeout: Timeout = 20.0
    concurrency: Count = Field(32, ge=1, le=1000)
    per_host: Count = Field(2, ge=1, le=100)
    delay: Delay = 0.5
    retries: Count = Field(2, ge=0, le=10)
    max_bytes: Size = 10_000_000
    robots: bool = True
    headers: dict[str, str] = Field(default_factory=dict)
    proxy: str | None = None

    @field_validator("headers")
    @classmethod
    def _plain_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        return plain_headers(headers)


class Keyword(_Model):
    """What to listen for: `terms` (+ `exclude`) or one `query`."""

    name: str
    terms: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    query: str | None = None
    tags: list[str] = Field(default_factory=list)
    case_sensitive: bool = False
    fold_accents: bool = True

    @field_validator("name")
    @classmethod
    def _name_is_usable(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("a keyword needs a non-empty name")
        return name.strip()

    @field_validator("terms", "exclude")
    @classmethod
    def _terms_not_blank(cls, terms: list[str]) -> list[str]:
        for index, term in enumerate(terms):
            if not term.strip():
                raise ValueError(f"term {index + 1} is empty")
        return [term.strip() for term in terms]

    @model_validator(mode="after")
    def _terms_or_query(self) -> Keyword:
        if self.query is not None and self.terms:
            raise ValueError("give either `terms` or `query`, not both")
        if self.query is None and not self.terms:
            raise ValueError(f"keyword {self.name!r} has nothing to look for: add `terms` or `query`")
        if self.query is not None:
            if not self.query.strip():
                raise ValueError("`query` is empty")
            if self.exclude:
                raise ValueError("`exclude` goes with `terms`; in a query write NOT instead")
        return self

    @field_validator("query")
    @classmethod
    def _query_parses(cls, query: str | None) -> str | None:
        if query is not None and query.strip():
            try:
                parse_query(query)
            except QueryError as error:
                raise ValueError(str(error)) from None
        return query

    def rule(self) -> KeywordRule:
        """The matcher's view of this keyword."""
        return KeywordRule(
            name=self.name,
            terms=tuple(self.terms),
            exclude=tuple(self.exclude),
            query=self.query,
            case_sensitive=self.case_sensitive,
            fold_accents=self.fold_accents,
        )


@pydantic_dataclass(config=ConfigDict(extra="forbid", populate_by_name=True), frozen=True, slots=True)
class Source:
    """Where to listen: exactly one of the kind keys, plus options.

    A slotted dataclass rather than a model: a scan holds every source for its whole run,
    and a model's instance dict made each ~1.1 KB heavier (5 MB at 5,000 sources).
    """

    name: str
    feed: str | None = None
    page: str | None = None
    file: str | None = None
    json_url: str | None = Field(default=None, alias="json")
    sitemap: str | None = None
    search: str | None = None
    preset: str | None = None
    items: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    next: str | None = None
    max_pages: PageCount | None = None  # None: the kind's own default
    params: dict[str, str] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    cookies: dict[str, str] = Field(default_factory=dict)
    timeout: Timeout | None = None
    robots: bool | None = None
    proxy: str | None = None
    enabled: bool = True
    comments: bool = False
    keywords: list[str] | None = None
    exclude_urls: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name_is_usable(cls, name: str) -> str:
        if not _NAME.match(name.strip()):
            raise ValueError(
                "a source name needs letters or digits (and may use . - : and spaces)"
            )
        return name.strip()

    @field_validator("headers")
    @classmethod
    def _plain_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        return plain_headers(headers)

    @field_validator("cookies")
    @classmethod
    def _plain_cookies(cls, cookies: dict[str, str]) -> dict[str, str]:
        return plain_headers(cookies, "cookie", stops=";")  # `;` would end it and start another

    @field_validator("exclude_urls")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"exclude_urls: {pattern!r} is not a valid regex ({error})") from None
        return patterns

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, fields: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        known = ("title", "text", "author", "date", "link", "guid")
        for name in fields:
            if name not in known:
                hint = did_you_mean(name, known)
                raise ValueError(f"unknown field {name!r}{hint}; fields are {', '.join(known)}")
        if info.data.get("page") is not None:
            for name, selector in fields.items():
                problem = written_selector_problem(selector)
                if problem:
                    raise ValueError(f"field {name!r}: {problem}")
        return fields

    @field_validator("items", "next")
    @classmethod
    def _selectors_parse(cls, selector: str | None, info: ValidationInfo) -> str | None:
        # Only a `page:` source's are surely CSS: a `json:` source's are dotted paths, and a
        # `search:` answer may turn out to be JSON.
        if selector is None or info.data.get("page") is None:
            return selector
        problem = written_selector_problem(selector, is_items=info.field_name == "items")
        if problem:
            raise ValueError(problem)
        return selector

    @model_validator(mode="after")
    def _one_kind(self) -> Source:
        kinds = [kind for kind in SOURCE_KINDS if self.location_of(kind) is not None]
        if not kinds:
            raise ValueError(
                f"source {self.name!r} needs one of: {', '.join(SOURCE_KINDS)}"
            )
        if len(kinds) > 1:
            raise ValueError(
                f"source {self.name!r} has {len(kinds)} kinds ({', '.join(kinds)}); give exactly one"
            )
        location = self.location_of(kinds[0]) or ""
        if not location.strip():
            raise ValueError(f"source {self.name!r}: `{kinds[0]}` is empty")
        if kinds[0] in ("feed", "page", "json", "sitemap") and "://" in location:
            scheme = location.split("://", 1)[0].lower()
            if scheme not in ("http", "https", "file"):
                raise ValueError(
                    f"source {self.name!r}: only http, https and file URLs are supported, not {scheme}://"
                )
            problem = web_address_problem(location) if scheme in ("http", "https") else None
            if problem:
                shown = split_login(location)[0]  # a password is not repeated in a message
                raise ValueError(f"source {self.name!r}: {shown!r} is not a valid URL: {problem}")
        if self.items is None and self.fields and kinds[0] == "page":
            raise ValueError("`fields` needs `items` (the CSS selector of one post or comment)")
        if self.next is not None and kinds[0] != "page":
            raise ValueError("`next` is for `page:` sources")
        if (self.items is not None or self.fields) and kinds[0] in ("feed", "sitemap", "file"):
            # Silently ignored before: a config that meant them read something else.
            raise ValueError("`items` and `fields` are for `page:`, `json:`, `search:` and `preset:` sources")
        if kinds[0] == "search" and "{query}" not in location and "{tag}" not in location:
            raise ValueError("a `search:` URL needs a {query} placeholder")
        if kinds[0] == "search":
            from mentions.sources.search import params_problem

            problem = params_problem(location, self.params)
            if problem:
                raise ValueError(problem)
        if kinds[0] == "preset":
            from mentions.presets import preset_problem

            problem = preset_problem(location, self.params)
            if problem:
                raise ValueError(problem)
        if kinds[0] in ("search", "preset"):
            from mentions.sources.search import address_problem

            problem = address_problem(self)
            if problem:
                raise ValueError(f"source {self.name!r}: {problem}")
        if self.params and kinds[0] not in ("search", "preset"):
            raise ValueError("`params` is for `search:` and `preset:` sources")
        if self.comments and kinds[0] != "feed":
            raise ValueError("`comments: true` is for `feed:` sources")
        return self

    def location_of(self, kind: str) -> str | None:
        """The value of the kind key `kind` (`json` is stored as `json_url`)."""
        value: str | None = getattr(self, "json_url" if kind == "json" else kind)
        return value

    @property
    def kind(self) -> str:
        """feed, page, file, json, sitemap, search or preset."""
        return next(kind for kind in SOURCE_KINDS if self.location_of(kind) is not None)

    @property
    def location(self) -> str:
        """The URL, path or preset name of this source."""
        return self.location_of(self.kind) or ""

    @property
    def reads_only_local_files(self) -> bool:
        """Whether everything this source reads is a file the config names: a `file:`, or a
        feed, page or JSON path that follows no link (`comments`, `next`) to the web."""
        kind = self.kind
        if kind == "file":
            return True
        scheme = self.location.split("://", 1)[0].lower() if "://" in self.location else "file"
        follows_links = self.comments or self.next is not None
        return kind in ("feed", "page", "json") and scheme == "file" and not follows_links


NOTIFY_KINDS = ("webhook", "slack", "discord", "teams", "mattermost", "email")


class EmailConfig(_Model):
    """SMTP delivery of the alert mail; the password belongs in `${ENV}`."""

    host: str
    port: Count = Field(587, ge=1, le=65535)
    sender: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    username: str | None = None
    password: str | None = None
    # starttls: upgrade a plain connection (port 587); ssl: TLS from the start (port 465);
    # none: only for a relay on localhost, and then no password may be sent.
    tls: Literal["starttls", "ssl", "none"] = "starttls"
    subject: str = "mentions: {count} new"

    @model_validator(mode="after")
    def _no_password_in_clear(self) -> EmailConfig:
        if self.tls == "none" and self.password:
            raise ValueError("a password is never sent without TLS: use `tls: starttls` or `tls: ssl`")
        if site_host(self.host) is None:  # the host a `site:` names: the same rules
            raise ValueError("host: no valid host name")
        return self


class NotifyConfig(_Model):
    """Where to send one alert per scan about its new mentions: exactly one kind key."""

    name: str | None = None
    webhook: str | None = None
    slack: str | None = None
    discord: str | None = None
    teams: str | None = None
    mattermost: str | None = None
    email: EmailConfig | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    max_items: Count = Field(20, ge=1, le=500)
    keywords: list[str] | None = None
    timeout: Timeout = 10.0

    @model_validator(mode="after")
    def _one_kind(self) -> NotifyConfig:
        kinds = [kind for kind in NOTIFY_KINDS if getattr(self, kind) is not None]
        if len(kinds) != 1:
            found = f"{len(kinds)} ({', '.join(kinds)})" if kinds else "none"
            raise ValueError(f"a notifier needs exactly one of {', '.join(NOTIFY_KINDS)}; found {found}")
        url = getattr(self, kinds[0])
        if isinstance(url, str) and url.split("://", 1)[0].lower() not in ("http", "https"):
            raise ValueError(f"`{kinds[0]}` needs an http:// or https:// URL")
        # Found out only when the alert went, these ended the scan with an internal error and
        # the notifiers after it never ran. (The messages never quote the URL: a secret.)
        if isinstance(url, str) and site_host(url) is None:
            raise ValueError(f"`{kinds[0]}`: the URL has no valid host or port")
        plain_headers(self.headers)
        return self

    @property
    def kind(self) -> str:
        """webhook, slack, discord, teams, mattermost or email."""
        return next(kind for kind in NOTIFY_KINDS if getattr(self, kind) is not None)

    @property
    def label(self) -> str:
        """How messages name this notifier: its `name`, else its kind (never its secret URL)."""
        return self.name or self.kind
class BackoffConfig(_Model):
    """After `after` failures in a row, try a source only after `delay`, doubling up to `max`."""

    after: Count = Field(3, ge=0, le=1000)  # 0 turns backoff off
    delay: Backoff = 1800.0
    longest: Backoff = Field(86400.0, alias="max")


class Config(_Model):
    """A whole config file.

    Unique names and the keywords a source or notifier names are checked by config_file.py
    on the data as written, so that `check` lists them beside the other problems.
    """

    version: Literal[1] = 1
    state: str | None = None
    http: HttpConfig = Field(default_factory=lambda: HttpConfig())
    backoff: BackoffConfig = Field(default_factory=lambda: BackoffConfig())
    keywords: list[Keyword] = Field(min_length=1)
    sources: list[Source] = Field(min_length=1)
    notify: list[NotifyConfig] = Field(default_factory=list)

    _path: Path | None = PrivateAttr(default=None)
    _redactor: Redactor = PrivateAttr(default_factory=Redactor)
    _warnings: list[str] = PrivateAttr(default_factory=list)

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_a_number(cls, version: Any) -> Any:
        if isinstance(version, bool):  # pydantic takes `true` for 1
            raise ValueError("this mentions understands config version 1; write `version: 1`")
        return version

    @field_validator("state")
    @classmethod
    def _state_is_a_file_or_database(cls, state: str | None) -> str | None:
        from mentions.state.database import url_problem

        if state is not None and not state.strip():
            # Left out, `state:` means the user state folder; empty (a variable set to ""), it
            # would quietly mean the same: another project's state for history and prune.
            raise ValueError("is empty; give a file or a database URL, or leave `state:` out")
        problem = url_problem(state) if state else None
        if problem:
            raise ValueError(problem)
        return state

    @property
    def path(self) -> Path | None:
        """The file this config was read from."""
        return self._path

    @property
    def secrets(self) -> frozenset[str]:
        """Values that came from `${ENV}` outside `keywords:`: never to be shown.

        A value expanded in `keywords:` is what the user searches for, not a secret: it is
        shown and matched. Expanded in both places, it stays a secret (see `warnings`)."""
        return self._redactor.secrets

    @property
    def warnings(self) -> list[str]:
        """Sentences with `file:line` on what the config, valid, can never do as written
        (`check` prints them): a keyword term that is also a secret, hidden before matching."""
        return self._warnings

    @property
    def redactor(self) -> Redactor:
        """Hides the `secrets` in text that is shown or stored."""
        return self._redactor

    def resolve_path(self, value: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        path = Path(os.path.expanduser(value))
        if not path.is_absolute() and self._path is not None:
            path = self._path.parent / path
        return path


class KeywordsConfig(Config):
    """A config read by a command that only matches text (`mentions match`): `sources` may
    be left out, so one `brands.yaml` of keywords serves a filter that never fetches."""

    sources: list[Source] = Field(default_factory=list)


_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def plain_headers(headers: dict[str, str], what: str = "header", stops: str = "") -> dict[str, str]:
    """`headers` if every name is an HTTP token and every value one line of plain ASCII.

    Found out only when a request went, such a header failed every scan of the source with
    "protocol error: UnicodeEncodeError", or a line break let a value inject a header of its
    own. The message names the header, never its value (a `${ENV}` secret, often)."""
    for name, value in headers.items():
        if not _HEADER_NAME.match(name):
            raise ValueError(f"{what} name {name!r} is not an HTTP token (ASCII letters, digits and "
                             "!#$%&'*+-.^_`|~; no spaces)")
        if not value.isascii() or any(c in value for c in "\r\n\0" + stops):
            more = f", without {stops!r}" if stops else ""
            raise ValueError(f"{what} {name!r}: its value must be one line of plain ASCII{more}")
    return headers


def did_you_mean(word: str, choices: Any) -> str:
    """` (did you mean 'feed'?)` when one of `choices` is close to `word`, else ""."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def web_address_problem(url: str) -> str | None:
    """Why `url` (http or https) cannot be fetched as written, or None.

    Caught when the config is read (`mentions check` names the line), not as a failing
    source on every scan: a host with a space, an unclosed IPv6 bracket, a port out of
    range, an IPv4 address with a part above 255.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError as error:  # "Invalid IPv6 URL"
        return str(error)
    try:
        port = parts.port
    except ValueError:  # not a number, or above 65535
        port = 0
    if port == 0:
        return "the port must be a number from 1 to 65535"
    host = parts.hostname or ""
    if not host:
        return "it names no host"
    if any(char.isspace() or not char.isprintable() for char in parts.netloc):
        return "the host part holds a space or a control character"
    if re.fullmatch(r"[\d.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return f"{host} is no IPv4 address"
    return None
