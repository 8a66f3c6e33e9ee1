"""The Typer app: wiring only; each command lives in its own module."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand

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


class Command(TyperCommand):
    """A command whose help names each value by its metavar alone (`NAME`, `FILE...`).

    Typer writes an argument's Python type after its metavar (`NAME <str>`, `FILE
    <list[Path]>`), which says nothing to a person; options show the metavar alone."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        # (click's types: Typer 0.29 bundles its own click, older ones use the package)
        arguments: list[tuple[str, str]] = []
        options: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                if param.metavar:
                    record = (param.metavar + ("..." if param.nargs != 1 else ""), record[1])
                arguments.append(record)
            else:
                options.append(record)
        for title, records in (("Arguments", arguments), ("Options", options)):
            if records:
                with formatter.section(title):
                    formatter.write_dl(records)


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


app.command("scan", cls=Command)(scan.scan)
app.command("check", cls=Command)(check.check)
app.command("schema", cls=Command)(schema.schema)
app.command("match", cls=Command)(match.match)
app.command("report", cls=Command)(report.report)
app.command("init", cls=Command)(init.init)
app.command("sources", cls=Command)(sources.sources)
app.command("history", cls=Command)(history.history)
app.command("prune", cls=Command)(prune.prune)
app.command("discover", cls=Command)(discover.discover)
app.command("test-source", cls=Command)(test_source.test_source)
