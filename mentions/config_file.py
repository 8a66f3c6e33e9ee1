"""The config file: where it is, reading it, and every problem in it with its file and line.

`load_config()` reads the YAML (yamlsource.py keeps each value's line), expands `${ENV}`,
validates the models of config.py and turns pydantic's errors into sentences such as
`mentions.yaml:12: sources[2] (shoe-forum): unknown key 'itmes' (did you mean 'items'?)`,
so `mentions check` can list them all at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.dataclasses import is_pydantic_dataclass
from pydantic.fields import FieldInfo

from mentions.config import Config, KeywordsConfig, did_you_mean
from mentions.errors import ConfigError
from mentions.redact import Redactor
from mentions.yamlsource import Loc, LocatedYaml, YamlProblem, read_yaml


def _fields_at(loc: Loc) -> list[str]:
    """The field names the model at `loc` accepts, for "did you mean" hints."""
    fields = _fields_of(Config)
    for part in loc:
        if isinstance(part, int):
            continue
        info = fields.get(part) or next((f for f in fields.values() if f.alias == part), None)
        if info is None:
            return []
        inner = _model_type(info.annotation)
        if inner is None:
            return []
        fields = _fields_of(inner)
    return [field.alias or name for name, field in fields.items()]


def _fields_of(model: type) -> dict[str, FieldInfo]:
    """The fields of a pydantic model or pydantic dataclass."""
    if issubclass(model, BaseModel):
        return dict(model.model_fields)
    return dict(getattr(model, "__pydantic_fields__", {}))


def _model_type(annotation: Any) -> type | None:
    is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
    if is_model or is_pydantic_dataclass(annotation):
        return annotation  # type: ignore[no-any-return]
    for arg in getattr(annotation, "__args__", ()):
        found = _model_type(arg)
        if found is not None:
            return found
    return None


def _where(loc: Loc, data: Any) -> str:
    """`sources[2] (shoe-forum).items` from a pydantic location."""
    parts: list[str] = []
    node = data
    for part in loc:
        if isinstance(part, int):
            label = f"[{part}]"
            try:
                node = node[part]
                if isinstance(node, dict) and isinstance(node.get("name"), str):
                    label += f" ({node['name']})"
            except (IndexError, KeyError, TypeError):
                node = None
            parts.append(label)
        else:
            parts.append(("." if parts else "") + str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return "".join(parts)


def _describe(error: Any, data: Any) -> tuple[Loc, str]:
    loc: Loc = tuple(part for part in error["loc"] if not str(part).startswith("function-"))
    kind = error["type"]
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):  # a model's, a dataclass's
        key = str(loc[-1])
        hint = did_you_mean(key, _fields_at(loc[:-1]))
        return loc, f"{_where(loc[:-1], data) or 'top level'}: unknown key {key!r}{hint}"
    if kind in ("missing", "missing_argument"):
        # A file of keywords alone is whole for `mentions match`; say so where a scan's isn't.
        note = " (a file of keywords alone serves `mentions match`)" if loc == ("sources",) else ""
        return loc[:-1], f"{_where(loc[:-1], data) or 'top level'}: `{loc[-1]}` is required{note}"
    if kind == "literal_error" and loc == ("version",):
        return loc, "version: this mentions understands config version 1"
    if kind == "too_short" and loc in (("keywords",), ("sources",)):
        return loc, f"{loc[0]}: add at least one"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        got = type(error.get("input")).__name__
        got = {"NoneType": "nothing", "dict": "a mapping", "list": "a list"}.get(got, f"a {got}")
        message = f"{message} (got {got})"
    return loc, f"{_where(loc, data) or 'top level'}: {message}"


def validate(
    located: LocatedYaml, path: Path, *, needs_sources: bool = True, needs_network: bool = True
) -> Config:
    """Validate composed YAML; raise ConfigError listing every problem with its line.

    The messages quote values (`'30 parsecs' is not a duration`); one expanded from `${ENV}`
    is shown as `***`. Without `needs_sources` (a command that only matches) a config of
    keywords alone is whole. Without `needs_network` (a command that neither fetches nor
    alerts: `history`, `report`, `match`…) the alerts are left out, and so is an unset
    `${VAR}` in them: the webhook's secret may live only in cron's environment, and
    `mentions report` at a terminal has no use for it."""
    redactor = Redactor(located.secrets)
    model = Config if needs_sources else KeywordsConfig
    try:
        config = _validated(located, path, model, needs_network)
    except ConfigError as error:
        raise ConfigError([redactor(problem) for problem in error.problems]) from None
    config._path = path.resolve()
    config._redactor = redactor
    config._warnings = _unfindable(located, path, redactor)
    return config


# Where a value is searched for in a keyword's text: not its name.
_SEARCHED_KEYS = ("terms", "exclude", "query")


def _unfindable(located: LocatedYaml, path: Path, redactor: Redactor) -> list[str]:
    """A sentence for each `${VAR}` in a keyword's terms, exclude or query whose value is a
    secret too, being used elsewhere (a header, a URL): it is hidden in every text before
    matching, so the keyword can never find it. Not an error: the rest of the config works."""
    problems = [
        (located.line_of(found.loc),
         f"{_where(found.loc, located.data)}: ${{{found.name}}} is also used outside `keywords:`, so its "
         f"value is a secret, hidden as *** in every text before matching: no keyword can find it")
        for found in located.searched
        if found.value in redactor.secrets and len(found.loc) > 2 and found.loc[2] in _SEARCHED_KEYS
    ]
    return [redactor(problem) for problem in _in_line_order(problems, path)]


def _validated(located: LocatedYaml, path: Path, model: type[Config], needs_network: bool) -> Config:
    problems: list[tuple[int | None, str]] = [
        (p.line, p.message) for p in located.problems if needs_network or not _is_alert_secret(p)
    ]
    data = located.data
    if not needs_network and isinstance(data, dict):
        data = {key: value for key, value in data.items() if key != "notify"}
    if data is None:
        problems.append((None, "the file is empty; `mentions init` writes a starter config"))
        raise ConfigError(_in_line_order(problems, path))
    if not isinstance(data, dict):
        problems.append((1, "the top level must be a mapping of keys"))
        raise ConfigError(_in_line_order(problems, path))
    # Read from the data as written, so that they are listed beside the other problems too:
    # pydantic runs a list's or a model's own validators only once its items are valid.
    problems += _names_and_references(data, located)
    try:
        config = _validated_as_written(data, located, model)
    except ValidationError as errors:
        for error in errors.errors():
            loc, message = _describe(error, data)
            problems.append((located.line_of(loc), message))
    if problems:
        # A value left empty by an unset variable may be why the others failed: say so too.
        problems += [(p.line, p.message) for p in located.problems if _is_alert_secret(p)]
        raise ConfigError(_in_line_order(problems, path))
    return config


def _is_alert_secret(problem: YamlProblem) -> bool:
    """An unset `${VAR}` in `notify:`, which only commands that alert need. Anywhere else
    (`state: ${STATE}`) an empty value would quietly mean something else: another state file
    for `history` to show and `prune` to delete from."""
    return problem.is_unset_variable and problem.loc[:1] == ("notify",)


# A message quotes what the file says (a URL, a regex): a 20 MB URL came back whole.
MAX_MESSAGE = 500


def _in_line_order(problems: list[tuple[int | None, str]], path: Path) -> list[str]:
    """`file:line: message` for each problem once, top to bottom as one reads the file."""
    ordered = sorted(problems, key=lambda problem: problem[0] or 0)
    shown = ((line, message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…")
             for line, message in ordered)
    return list(dict.fromkeys(f"{path}:{line}: {message}" if line else f"{path}: {message}"
                              for line, message in shown))


def _names_and_references(data: dict[str, Any], located: LocatedYaml) -> list[tuple[int | None, str]]:
    """Keywords or sources sharing a name, and `keywords: [...]` of a source or notifier naming
    no keyword (when every keyword's name can be read): each with its line."""
    problems: list[tuple[int | None, str]] = []
    keywords = _unique_names(data, "keywords", "keyword", located, problems)
    _unique_names(data, "sources", "source", located, problems)
    if not keywords:
        return problems  # a keyword without a readable name: that is the problem to report
    for section in ("sources", "notify"):
        entries = data.get(section)
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            wanted = entry.get("keywords") if isinstance(entry, dict) else None
            for position, value in enumerate(wanted if isinstance(wanted, list) else []):
                loc = (section, index, "keywords", position)
                name = _as_text(value, loc, located)
                if name is not None and name not in keywords:
                    problems.append((located.line_of(loc), f"{_where(loc[:2], data)}: unknown keyword "
                                                           f"{name!r}{did_you_mean(name, keywords)}"))
    return problems


def _unique_names(data: dict[str, Any], section: str, what: str, located: LocatedYaml,
                  problems: list[tuple[int | None, str]]) -> set[str]:
    """The names in `data[section]`, adding a problem at each repeated one; empty when one is
    missing or no text."""
    entries = data.get(section)
    lines: dict[str, int | None] = {}
    is_readable = isinstance(entries, list)
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        loc = (section, index, "name")
        name = _as_text(entry.get("name") if isinstance(entry, dict) else None, loc, located)
        if name is None:
            is_readable = False
            continue
        name = name.strip()  # as the models read it
        line = located.line_of(loc)
        if name in lines:
            problems.append((line, f"{_where(loc[:2], data)}: two {what}s are named {name!r} (the other "
                                   f"on line {lines[name]}); names must be unique"))
        lines.setdefault(name, line)
    return set(lines) if is_readable else set()


def _as_text(value: Any, loc: Loc, located: LocatedYaml) -> str | None:
    """`value` as the models read it where a string is wanted (`On`, `1984` as written)."""
    return value if isinstance(value, str) else located.written.get(loc)


def _validated_as_written(data: dict[str, Any], located: LocatedYaml, model: type[Config]) -> Config:
    """The config, where a string is wanted reading `On`, `no` or `1984` as the text written.

    Validating twice costs only configs that need it; the first errors say where."""
    try:
        return model.model_validate(data)
    except ValidationError as errors:
        patched = False
        for error in errors.errors():
            loc = tuple(part for part in error["loc"] if not str(part).startswith("function-"))
            text = located.written.get(loc)
            if error["type"] == "string_type" and text is not None and loc:
                parent: Any = data
                for part in loc[:-1]:
                    parent = parent[part]
                parent[loc[-1]] = text
                patched = True
        if not patched:
            raise
    return model.model_validate(data)


def load_config(
    path: Path, environ: dict[str, str] | None = None, *, needs_sources: bool = True,
    needs_network: bool = True,
) -> Config:
    """Read, expand and validate one config file (`needs_sources`, `needs_network`: see
    `validate`)."""
    try:
        located = read_yaml(path, environ)
    except YamlProblem as problem:
        raise _unreadable(path, problem) from None
    return validate(located, path, needs_sources=needs_sources, needs_network=needs_network)


def load_config_text(text: str, path: Path, environ: dict[str, str] | None = None) -> Config:
    """Validate `text` as `load_config` would the file `path`, before that file is written."""
    try:
        located = LocatedYaml(text, environ)
    except YamlProblem as problem:
        raise _unreadable(path, problem) from None
    return validate(located, path)


def _unreadable(path: Path, problem: YamlProblem) -> ConfigError:
    where = f"{path}:{problem.line}" if problem.line else str(path)
    return ConfigError([f"{where}: {problem.message}"])


def candidate_paths(explicit: Path | None, environ: dict[str, str] | None = None) -> Iterator[Path]:
    """Where to look for the config, in the order of the spec."""
    env = os.environ if environ is None else environ
    if explicit is not None:
        yield explicit
        return
    if env.get("MENTIONS_CONFIG"):
        yield Path(env["MENTIONS_CONFIG"])
        return
    yield Path("mentions.yaml")
    import platformdirs

    yield Path(platformdirs.user_config_dir("mentions")) / "mentions.yaml"


def find_config(explicit: Path | None) -> Path:
    """The config file to use; ConfigError when there is none."""
    candidates = list(candidate_paths(explicit))
    named = os.environ.get("MENTIONS_CONFIG")
    if explicit is None and named and not candidates[0].is_file():
        raise ConfigError([f"$MENTIONS_CONFIG names {named}, which is no file; "
                           "set it to your config, or pass -c FILE"])
    for candidate in candidates:
        if candidate.is_file() or explicit is not None or len(candidates) == 1:
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise ConfigError(
        [f"no config file found (looked at {tried}); pass -c FILE or run `mentions init`"]
    )
