"""`mentions init`: write a commented starter config that passes `mentions check`."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import typer

from mentions.cli.common import fail
from mentions.console import stderr_console


def init(
    brand: str | None = typer.Option(
        None, "--brand", metavar="NAME", help="Your brand, product or name: \"Acme\"."
    ),
    competitor: list[str] = typer.Option(
        [], "--competitor", metavar="NAME", help="A competitor to watch (repeatable)."
    ),
    site: list[str] = typer.Option(
        [], "--site", metavar="SITE", help="Your own site: acme.de or its URL (repeatable)."
    ),
    lang: str = typer.Option("en", "--lang", metavar="CODE", help="Language of the news search: de, en, fr…"),
    output: Path = typer.Option(
        Path("mentions.yaml"), "-o", "--output", metavar="FILE", readable=False,
        help="Where to write the config; - prints it.",
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    list_presets: bool = typer.Option(False, "--list-presets", help="List the bundled source presets."),
) -> None:
    """Write a commented starter config for a brand and its competitors.

    Example: mentions init --brand "Acme" --competitor Globex --site acme.de --lang de
    """
    if list_presets:
        _list_presets()
        return
    if not brand or not brand.strip():
        fail("--brand is needed, e.g. mentions init --brand \"Acme\" (or --list-presets)")
    if not re.fullmatch(r"[a-zA-Z]{2,3}", lang):
        fail(f"--lang {lang!r}: give a language code such as de, en or fr")
    is_stdout = str(output) == "-"  # as `scan -o -`: `mentions init … -o - | tee`, not a file named "-"
    if output.exists() and not force and not is_stdout:
        fail(f"{output} exists already; pass --force to overwrite it, or -o to write elsewhere")
    brand = brand.strip()
    competitors = [c.strip() for c in competitor if c.strip()]
    given_sites = [s.strip() for s in site if s.strip()]
    problems = _unwritable(brand, competitors, given_sites)
    if problems:
        fail(problems)
    sites = _sites(given_sites)
    text = starter_config(brand, competitors, sites, lang.lower())
    # The last guard: what `mentions check` would reject is not written at all.
    problems = _rejected(text, output)
    if problems:
        fail([f"{problem}; nothing was written" for problem in problems])
    if is_stdout:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {output}: {error.strerror}")
    where = "" if output == Path("mentions.yaml") else f" -c {output}"
    stderr_console().print(
        f"Wrote {output}. Next:\n"
        f"  mentions check{where}          # see that it is valid\n"
        f"  mentions scan{where} --seed    # first run: remember what exists today, print nothing\n"
        f"  mentions scan{where}           # from then on: only what is new (e.g. every 15 min from cron)",
        markup=False, highlight=False,
    )


def _list_presets() -> None:
    from mentions.presets import list_presets

    for preset in list_presets():
        params = ", ".join(
            f"{param.name}{'' if param.is_required else '?'}" for param in preset.params
        )
        typer.echo(f"{preset.name:22} {preset.description}" + (f"  [params: {params}]" if params else ""))


# What a config cannot hold as written: controls and line breaks (a newline in a comment
# starts YAML of its own), lone surrogates (bytes of an argument that were not UTF-8) and
# non-characters. Refused rather than escaped: a brand name is text a person reads.
_UNWRITABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
_ENV_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")  # what the config loader expands


def _unwritable(brand: str, competitors: list[str], sites: list[str]) -> list[str]:
    """One sentence per value the config could not hold as given, or that repeats another."""
    problems = []
    given = [("--brand", brand), *(("--competitor", c) for c in competitors), *(("--site", s) for s in sites)]
    for flag, value in given:
        unwritable = _UNWRITABLE.search(value)
        if unwritable:
            code = f"U+{ord(unwritable.group()):04X}"
            problems.append(f"{flag} {value!r}: a config cannot hold {code} (no control characters or line "
                            "breaks)")
        elif _ENV_REFERENCE.search(value):
            problems.append(f"{flag} {value!r}: a config reads `${{NAME}}` from the environment, so leave "
                            "it out")
    # Matching ignores case: a second keyword for the same name would only report everything twice.
    first = {brand.casefold(): f"--brand {brand!r}"}
    for name in competitors:
        if name.casefold() in first:
            problems.append(f"--competitor {name!r} repeats {first[name.casefold()]}; give each name once")
        else:
            first[name.casefold()] = f"--competitor {name!r}"
    return problems


def _sites(given: list[str]) -> list[OwnSite]:
    """`--site` values as hosts, each with the scheme of its feed URL; exit 2 on one without a host.

    A pasted URL (`https://www.acme.de/`) means its host: written as is, it became a term no
    text contains, a `-site:` that left nothing out and a feed URL with two schemes."""
    from mentions.match.query import site_host

    sites, problems = [], []
    for value in given:
        host = site_host(value)
        if host is None:
            problems.append(f"--site {value!r}: names no host; give one such as acme.de, or a URL")
            continue
        scheme = value.split("://", 1)[0].lower() if "://" in value else "https"
        if scheme not in ("http", "https"):
            scheme = "https"
        port = _port_of(value)
        sites.append(OwnSite(host=host.rstrip("."), scheme=scheme, port=port))
    if problems:
        fail(problems)
    return list(dict.fromkeys(sites))


def _port_of(value: str) -> int | None:
    """The port a `--site` URL names, if any (`site_host` keeps the host alone)."""
    from urllib.parse import urlsplit

    try:
        return urlsplit(value if "://" in value else f"//{value}").port
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class OwnSite:
    """One `--site`: its host (`www.acme.de`) and the scheme its pages are served with."""

    host: str
    scheme: str = "https"
    port: int | None = None  # a URL's own port (`https://acme.de:8443/`), for its feed URL

    @property
    def origin(self) -> str:
        """Where its pages are served: `https://www.acme.de`, `https://acme.de:8443`."""
        return f"{self.scheme}://{self.host}" + (f":{self.port}" if self.port else "")

    @property
    def domain(self) -> str:
        """The host as people write it in text: `acme.de` for `www.acme.de`, `münchen.de`
        for the `xn--mnchen-3ya.de` that DNS (and `site:`) spells."""
        host = self.host.removeprefix("www.")
        if "xn--" in host:
            try:
                return host.encode("ascii").decode("idna")
            except UnicodeError:
                return host
        return host


def _rejected(text: str, output: Path) -> list[str]:
    """What `mentions check` would say about `text` as the file `output`; empty when it passes.

    The starter config takes nothing from the environment, so it is read without one."""
    from mentions.config_file import load_config_text
    from mentions.errors import ConfigError

    try:
        load_config_text(text, output, environ={})
    except ConfigError as error:
        return error.problems
    return []


def slug(name: str) -> str:
    """A keyword name from a brand: `Acme GmbH` -> `acme-gmbh`."""
    return re.sub(r"[^\w]+", "-", name.lower(), flags=re.UNICODE).strip("-_") or "brand"


def _quoted(value: str) -> str:
    # JSON strings are valid YAML double-quoted scalars, read back exactly once `_unwritable`
    # kept out the line breaks JSON leaves as they are (U+2028, U+2029)
    return json.dumps(value, ensure_ascii=False)


def _terms(name: str, sites: list[OwnSite]) -> list[str]:
    handle = re.sub(r"[^\w]", "", name.lower(), flags=re.UNICODE)
    terms = [name, *(site.domain for site in sites)]
    if handle:
        terms += [f"#{handle}", f"@{handle}"]
    return list(dict.fromkeys(terms))


def _distinct(names: list[str]) -> list[str]:
    """`names`, a repeat numbered (`brand`, `brand-2`): `#` and `"` both give `brand`."""
    taken: set[str] = set()
    distinct = []
    for name in names:
        unique, number = name, 2
        while unique in taken:
            unique, number = f"{name}-{number}", number + 1
        taken.add(unique)
        distinct.append(unique)
    return distinct


def starter_config(brand: str, competitors: list[str], sites: list[OwnSite], lang: str) -> str:
    """The YAML text: brand and competitor keywords, a news search, commented examples."""
    brand_name, *competitor_names = _distinct([slug(brand), *(slug(name) for name in competitors)])
    region = {"en": "US", "de": "DE", "fr": "FR", "es": "ES", "it": "IT", "nl": "NL"}.get(lang, lang.upper())
    lines = [
        f"# mentions config for {brand} — written by `mentions init`. Docs: mentions --help",
        "# Check it with `mentions check`; `mentions schema` gives editors completion for this file.",
        "version: 1",
        "state: ./mentions.db             # what was reported already; delete it to start over",
        "http:",
        f"  headers: {{Accept-Language: {lang}}}",
        "",
        "keywords:",
        f"  - name: {_quoted(brand_name)}",
        f"    terms: [{', '.join(_quoted(t) for t in _terms(brand, sites))}]",
        "    tags: [brand]",
    ]
    if sites:
        own = " ".join(dict.fromkeys(f"-site:{s.domain}" for s in sites))
        lines += ["    # To leave out your own site, use a query instead of the terms above:",
                  f"    # query: '{brand.replace(chr(39), '')} {own}'"]
    lines.append("    # exclude: [\"Acme Street\"]      # documents with these are not mentions")
    for name, keyword_name in zip(competitors, competitor_names, strict=True):
        lines += [
            f"  - name: {_quoted(keyword_name)}",
            f"    terms: [{_quoted(name)}]",
            "    tags: [competitor]",
        ]
    lines += [
        "",
        "# Alerts after each scan that found something new (secrets from the environment):",
        "# notify:",
        "#   - slack: ${SLACK_WEBHOOK_URL}",
        "#   - email:",
        "#       host: smtp.example.org",
        "#       from: mentions@example.org",
        "#       to: [pr@example.org]",
        "#       username: mentions",
        "#       password: ${SMTP_PASSWORD}",
        "",
        # Last, so that `mentions discover URL >> mentions.yaml` adds its sources to this list.
        "# Sources last: `mentions discover URL >> mentions.yaml` adds what it finds to this list.",
        "sources:",
        "  # One search per keyword in Google News (a bundled preset):",
        "  - name: news",
        "    preset: google-news",
        f"    params: {{hl: {lang}, gl: {region}}}",
        "  # More presets: `mentions init --list-presets`, for example:",
        "  # - name: reddit",
        "  #   preset: reddit-search",
        "  # - name: hacker-news",
        "  #   preset: hacker-news",
    ]
    if sites:
        lines.append("  # Comments on your own blog (WordPress):")
    for own_site in sites:
        lines += [f"  # - name: {slug(own_site.host)}-comments",
                  f"  #   feed: {own_site.origin}/comments/feed/"]
    lines += [
        "  # A forum thread, one document per post:",
        "  # - name: shoe-forum",
        "  #   page: https://forum.example.org/t/some-thread/123",
        "  #   items: article.post",
        "  #   fields: {title: h2, text: .content, author: .username, date: \"time@datetime\"}",
        "",
    ]
    return "\n".join(lines)
