"""Bundled search presets: data files in `mentions/presets/*.yaml`, one per platform.

A preset is a URL template with the platform's own search syntax and limits written down:

    name: hacker-news
    description: Hacker News stories and comments (Algolia search API)
    url: https://hn.algolia.com/api/v1/search_by_date?query={query}&tags=(story,comment)
    format: json                # feed | page | json (else sniffed from the answer)
    query: per-term             # or: any (all terms in one query, OR between them) | none
    items: hits                 # for json and page formats
    fields: {title: title|story_title, text: comment_text|story_text, ...}
    skip_if: [deleted, removed] # json: paths in an item; an item where one is true is left out
    backoff: backoff            # json: where an answer says how many seconds to wait before the next request
    params:                     # placeholders a config fills in with `params:`
      hl: {default: en, description: interface language}
      instance: {description: the Mastodon server}      # no default: required
    notes: [rate limits, what the feed leaves out, ...]

Files are read lazily (never on import) and cached.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

FORMATS = ("feed", "page", "json")
_PARAM = re.compile(r"\{(\w+)\}")
QUERY_STYLES = ("any", "per-term", "none")


@dataclass(frozen=True, slots=True)
class Param:
    """One placeholder of a preset's URL."""

    name: str
    description: str = ""
    default: str | None = None

    @property
    def is_required(self) -> bool:
        return self.default is None


@dataclass(frozen=True, slots=True)
class Preset:
    """A platform's search (or feed) URL template and how to read its answer."""

    name: str
    description: str
    url: str
    format: str | None = None
    query: str = "any"
    items: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    skip_if: tuple[str, ...] = ()
    backoff: str | None = None
    params: tuple[Param, ...] = ()
    notes: tuple[str, ...] = ()
    docs: str | None = None

    def missing_params(self, given: dict[str, str]) -> list[str]:
        """Required params that `given` leaves out."""
        return [p.name for p in self.params if p.is_required and not given.get(p.name, "").strip()]

    def values(self, given: dict[str, str]) -> dict[str, str]:
        """Defaults overridden by the config's `params`; a default may name another param
        (`host: {default: "{site}"}`: links go to the site that was searched)."""
        written = {**{p.name: p.default for p in self.params if p.default is not None}, **given}
        return {
            name: _PARAM.sub(lambda found: written.get(found.group(1), found.group(0)), value)
            if name not in given else value
            for name, value in written.items()
        }


class PresetError(ValueError):
    """A preset file is malformed (a bug in the package, caught by the tests)."""


def _text_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(item) for item in value)


def _parse(name: str, data: Any) -> Preset:
    if not isinstance(data, dict):
        raise PresetError(f"preset {name}: not a mapping")
    unknown = set(data) - {"name", "description", "url", "format", "query", "items", "fields", "skip_if",
                           "backoff", "params", "notes", "docs"}
    if unknown:
        raise PresetError(f"preset {name}: unknown keys {sorted(unknown)}")
    if data.get("format") is not None and data["format"] not in FORMATS:
        raise PresetError(f"preset {name}: format must be one of {FORMATS}")
    if data.get("query", "any") not in QUERY_STYLES:
        raise PresetError(f"preset {name}: query must be one of {QUERY_STYLES}")
    params = []
    for param_name, spec in (data.get("params") or {}).items():
        spec = spec or {}
        default = spec.get("default")
        params.append(Param(str(param_name), str(spec.get("description", "")),
                            None if default is None else str(default)))
    return Preset(
        name=str(data.get("name", name)),
        description=str(data.get("description", "")),
        url=str(data["url"]),
        format=data.get("format"),
        query=str(data.get("query", "any")),
        items=data.get("items"),
        fields={str(k): str(v) for k, v in (data.get("fields") or {}).items()},
        skip_if=_text_list(data.get("skip_if")),
        backoff=None if data.get("backoff") is None else str(data["backoff"]),
        params=tuple(params),
        notes=_text_list(data.get("notes")),
        docs=data.get("docs"),
    )


@functools.cache
def _all() -> dict[str, Preset]:
    import yaml

    found: dict[str, Preset] = {}
    folder = resources.files("mentions").joinpath("presets")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            name = entry.name.removesuffix(".yaml")
            found[name] = _parse(name, yaml.safe_load(entry.read_text(encoding="utf-8")))
    return found


def list_presets() -> list[Preset]:
    """Every bundled preset, by name (for `mentions init --list-presets`)."""
    return list(_all().values())


def get_preset(name: str) -> Preset | None:
    """The preset called `name`, or None."""
    return _all().get(name.strip())


def preset_problem(name: str, params: dict[str, str]) -> str | None:
    """What is wrong with `preset: name` + `params`, in one sentence; None when nothing is."""
    import difflib

    preset = get_preset(name)
    if preset is None:
        names = list(_all())
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown preset {name!r}{hint}; presets are {', '.join(names)}"
    missing = preset.missing_params(params)
    if missing:
        described = "; ".join(
            f"{p.name}: {p.description}" if p.description else p.name
            for p in preset.params
            if p.name in missing
        )
        return f"preset {name!r} needs `params` {', '.join(missing)} ({described})"
    known = {p.name for p in preset.params}
    for given in params:
        if given not in known:
            close = difflib.get_close_matches(given, list(known), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            accepted = ", ".join(sorted(known)) or "none"
            return f"preset {name!r} has no param {given!r}{hint}; it accepts {accepted}"
    return _link_host_problem(preset, params)


_LINK_HOST = re.compile(r"https?://\{(\w+)\}")


def _link_host_problem(preset: Preset, params: dict[str, str]) -> str | None:
    """A param that links are built on must be a host name: `site: superuser` (a short API
    name) made every link `https://superuser/q/…`, which leads nowhere."""
    values = preset.values(params)
    descriptions = {p.name: p.description for p in preset.params}
    for template in preset.fields.values():
        for found in _LINK_HOST.finditer(template):
            host = values.get(found[1])
            if host is not None and "." not in host:
                about = f" ({descriptions[found[1]]})" if descriptions.get(found[1]) else ""
                return (f"preset {preset.name!r}: links are built on `{found[1]}`, and {host!r} is no "
                        f"host name{about}")
    return None
