"""The `revstat` command line. Each command lives in its own module ``cmd_<name>.py`` and is
registered here by discovery; modules import pandas and other heavy libraries only inside the
command functions, so ``revstat --help`` answers at once.

The console entry point (:func:`main`) imports a command's module only when that command is
looked up (``revstat compile …`` imports ``cmd_compile.py`` and what it imports, not the other
nine), and builds only that command's parameters; ``--help`` and a mistyped command load them
all. ``revstat.cli.app`` — for tests and ``typer.testing`` — is the same app with every command
registered up front, made when it is first imported.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from revstat.cli import common

_SETTINGS: dict[str, Any] = {
    "name": "revstat",
    "help": "乡村振兴统计汇总、审核与报告 — compile, check and report rural-revitalization statistics.",
    "no_args_is_help": True,
    "add_completion": False,
    "rich_markup_mode": None,
    "pretty_exceptions_enable": False,
}


def _options(
    lang: str = typer.Option("zh", "--lang", help="消息语言 zh|en / language of messages"),
    debug: bool = typer.Option(False, "--debug", help="出错时显示完整的 traceback / show tracebacks"),
) -> None:
    """revstat: 乡村振兴统计汇总、审核与报告。"""
    common.configure(lang=lang, debug=debug)


def _command_modules() -> list[str]:
    """The command modules' names (``cmd_*``), in the order their commands are listed."""
    package = sys.modules[__name__]
    return [f"{__name__}.{info.name}" for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name)
            if info.name.startswith("cmd_")]


class _Group(TyperGroup):
    """The top-level group. Given no commands (the console entry point), it imports a command's
    module when the command is looked up, and every module when all are asked for (help, a
    name that no module of that name registers)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lazy = not self.commands  # app (tests) comes with every command built
        self._loaded: dict[str, dict[str, Any]] = {}  # module → its click commands, by name

    def _load(self, module: str) -> None:
        if module in self._loaded:
            return
        collector = typer.Typer()
        importlib.import_module(module).register(collector)
        built = {}
        for info in collector.registered_commands:
            command = typer.main.get_command_from_info(
                info, pretty_exceptions_short=_root.pretty_exceptions_short, rich_markup_mode=self.rich_markup_mode)
            if command.name:
                built[command.name] = command
        self._loaded[module] = built
        self.commands.update(built)

    def _load_all(self) -> None:
        modules = _command_modules()
        for module in modules:
            self._load(module)
        ordered = {name: cmd for module in modules for name, cmd in self._loaded[module].items()}
        self.commands.clear()  # in the modules' order, as when every command is registered up front
        self.commands.update(ordered)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if self._lazy and cmd_name not in self.commands:
            module = f"{__name__}.cmd_{cmd_name.replace('-', '_')}"
            if cmd_name.isidentifier() and module in _command_modules():
                self._load(module)
            if cmd_name not in self.commands:  # registered under another name, or no such command
                self._load_all()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: Any) -> list[str]:
        if self._lazy:
            self._load_all()
        return super().list_commands(ctx)


#: the app the console entry point runs: no command module imported until a command is looked up
_root = typer.Typer(cls=_Group, **_SETTINGS)
_root.callback()(_options)


def _full_app() -> typer.Typer:
    full = typer.Typer(cls=_Group, **_SETTINGS)
    full.callback()(_options)
    for module in _command_modules():
        importlib.import_module(module).register(full)
    return full


def __getattr__(name: str) -> Any:
    if name == "app":  # every command registered (tests, typer.testing.CliRunner, the docs' check)
        app = globals()["app"] = _full_app()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point: exit codes 0 ok, 1 checks failed, 2 bad input, 70 bug."""
    # revstat's pydantic models load no pydantic plugins (typer does the same for its own
    # parameter types): saves the scan of every installed distribution's entry points
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")
    try:
        common.run_app(_root)
    except SystemExit as exc:
        common.leave(exc.code)
    common.leave(0)
