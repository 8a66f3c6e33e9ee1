"""The Typer app: wiring only; each command lives in its own module."""

from __future__ import annotations

import typer

from mentions import __version__
from mentions.cli import (
    check,
    discover,
    history,
    init,
    match,
    prune,
    report,
    scan,
    schema,
    sources,
    test_source,
)

app = typer.Typer(
    name="mentions",
    help="Find where your brand is talked about: feeds, blogs, forums, reviews.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mentions {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Find where your brand is talked about: feeds, blogs, forums, reviews."""


app.command("scan")(scan.scan)
app.command("check")(check.check)
app.command("schema")(schema.schema)
app.command("match")(match.match)
app.command("report")(report.report)
app.command("init")(init.init)
app.command("sources")(sources.sources)
app.command("history")(history.history)
app.command("prune")(prune.prune)
app.command("discover")(discover.discover)
app.command("test-source")(test_source.test_source)
