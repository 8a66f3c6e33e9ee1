"""`mentions init`: write a commented starter config that passes `mentions check`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer

from mentions.cli.common import fail
from mentions.console import stderr_console


def init(
    brand: str | None = typer.Option(None, "--brand", help="Your brand, product or name: \"Acme\"."),
    competitor: list[str] = typer.Option([], "--competitor", help="A competitor to watch (repeatable)."),
    site: list[str] = typer.Option([], "--site", help="Your own site, e.g. acme.de (repeatable)."),
    lang: str = typer.Option("en", "--lang", help="Language of the news search: de, en, fr…"),
    output: Path = typer.Option(Path("mentions.yaml"), "-o", "--output", help="Where to write the config."),
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
    if output.exists() and not force:
        fail(f"{output} exists already; pass --force to overwrite it, or -o to write elsewhere")
    text = starter_config(brand.strip(), [c.strip() for c in competitor if c.strip()],
                          [s.strip() for s in site if s.strip()], lang.lower())
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


def slug(name: str) -> str:
    """A keyword name from a brand: `Acme GmbH` -> `acme-gmbh`."""
    return re.sub(r"[^\w]+", "-", name.lower(), flags=re.UNICODE).strip("-_") or "brand"


def _quoted(value: str) -> str:
    # JSON strings are valid YAML double-quoted scalars: safe for any brand name
    return json.dumps(value, ensure_ascii=False)


def _terms(name: str, sites: list[str]) -> list[str]:
    handle = re.sub(r"[^\w]", "", name.lower(), flags=re.UNICODE)
    terms = [name, *sites]
    if handle:
        terms += [f"#{handle}", f"@{handle}"]
    return list(dict.fromkeys(terms))


def starter_config(brand: str, competitors: list[str], sites: list[str], lang: str) -> str:
    """The YAML text: brand and competitor keywords, a news search, commented examples."""
    brand_name = slug(brand)
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
        own = " ".join(f"-site:{s}" for s in sites)
        lines.append(f"    # To leave out your own site, use a query instead of terms: "
                     f"query: '{brand.replace(chr(39), '')} {own}'")
    lines.append("    # exclude: [\"Acme Street\"]      # documents with these are not mentions")
    for name in competitors:
        lines += [
            f"  - name: {_quoted(slug(name))}",
            f"    terms: [{_quoted(name)}]",
            "    tags: [competitor]",
        ]
    lines += [
        "",
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
    for own_site in sites:
        lines += ["  # Comments on your own blog (WordPress), and a forum thread, item by item:",
                  f"  # - name: {slug(own_site)}-comments",
                  f"  #   feed: https://{own_site}/comments/feed/"]
    lines += [
        "  # - name: shoe-forum",
        "  #   page: https://forum.example.org/t/some-thread/123",
        "  #   items: article.post",
        "  #   fields: {title: h2, text: .content, author: .username, date: \"time@datetime\"}",
        "",
        "# Alerts after each scan that found something new (secrets from the environment):",
        "# notify:",
        "#   - slack: ${SLACK_WEBHOOK_URL}",
        "#   - email: {host: smtp.example.org, from: mentions@example.org, to: [pr@example.org],",
        "#             username: mentions, password: ${SMTP_PASSWORD}}",
        "",
    ]
    return "\n".join(lines)
