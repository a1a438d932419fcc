"""The `revstat` command line. Each command lives in its own module ``cmd_<name>.py`` and is
registered here by discovery; modules import pandas and other heavy libraries only inside the
command functions, so ``revstat --help`` answers at once.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import typer

from revstat.cli import common

app = typer.Typer(
    name="revstat",
    help="乡村振兴统计汇总、审核与报告 — compile, check and report rural-revitalization statistics.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


@app.callback()
def _options(
    lang: str = typer.Option("zh", "--lang", help="消息语言 zh|en / language of messages"),
    debug: bool = typer.Option(False, "--debug", help="出错时显示完整的 traceback / show tracebacks"),
) -> None:
    """revstat: 乡村振兴统计汇总、审核与报告。"""
    common.configure(lang=lang, debug=debug)


def _register() -> None:
    package = sys.modules[__name__]
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("cmd_"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            module.register(app)


_register()


def main() -> None:
    """Console-script entry point: exit codes 0 ok, 1 checks failed, 2 bad input, 70 bug."""
    # revstat's pydantic models load no pydantic plugins (typer does the same for its own
    # parameter types): saves the scan of every installed distribution's entry points
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")
    try:
        common.run_app(app)
    except SystemExit as exc:
        common.leave(exc.code)
    common.leave(0)
