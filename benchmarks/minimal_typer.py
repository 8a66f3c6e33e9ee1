"""The start-up baseline: a Typer app with one command and --version, on the same Typer and Rich."""

from __future__ import annotations

import typer

app = typer.Typer(help="A minimal Typer app.", no_args_is_help=True)


def _version(value: bool) -> None:
    if value:
        print("minimal 0.0")
        raise typer.Exit()


@app.callback()
def main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True)) -> None:
    """A minimal Typer app."""


@app.command()
def scan(config: str = typer.Option("mentions.yaml", "-c", "--config", help="Config file.")) -> None:
    """Do nothing, quickly."""


if __name__ == "__main__":
    app()
