"""The floor of `revstat --help`: a bare typer app with a few commands and nothing else.

    python bench/bare_typer.py --help
"""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(name="bare", help="A bare typer app (the --help floor).", no_args_is_help=True,
                  add_completion=False, rich_markup_mode=None)


@app.command()
def compile(workspace: Path, period: str = typer.Option(..., "--period")) -> None:
    """Compile a period."""


@app.command()
def check(workspace: Path, period: str = typer.Option(..., "--period")) -> None:
    """Check a period."""


@app.command()
def report(workspace: Path, period: str = typer.Option(..., "--period")) -> None:
    """Draft a report."""


@app.command()
def lint(workspace: Path) -> None:
    """Lint definitions."""


@app.command()
def init(target: Path) -> None:
    """Create a workspace."""


if __name__ == "__main__":
    app()
