"""What every command shares: language, error presentation, exit codes, consoles.

Exit codes: 0 ok; 1 the data failed checks; 2 unusable input or configuration (a
RevstatError); 70 an internal bug (short message; the traceback with ``--debug``).

A standard output closed by its reader (``revstat explain … | head``) is not an error: the rest
of the output goes to the null device, the command finishes its work (files are still written)
and exits with its usual code — 0, or 1 when checks found errors (:func:`discard_stdout`).
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:  # rich is imported when a console is made, not for `revstat --help`
    from rich.console import Console

from revstat.errors import ErrorGroup, RevstatError
from revstat.i18n import get_lang, set_lang, t

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_BUG = 0, 1, 2, 70


class _State:
    debug = False
    stdout_closed = False


state = _State()


def configure(lang: str, debug: bool) -> None:
    if lang not in ("zh", "en"):
        err_console().print("错误: --lang 只能是 zh 或 en / --lang must be zh or en")
        raise typer.Exit(EXIT_INPUT)
    set_lang(lang)
    state.debug = debug or os.environ.get("REVSTAT_DEBUG") == "1"


def discard_stdout() -> None:
    """The reader of standard output went away (a broken pipe): send the rest of the output to
    the null device, so that the command ends quietly with its own exit code instead of rich's
    exit 1 ("checks found errors") or a traceback."""
    state.stdout_closed = True
    with contextlib.suppress(OSError, ValueError):  # not a real file (tests): nothing to redirect
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)


def out_console() -> Console:
    from rich.console import Console

    class StdoutConsole(Console):
        def on_broken_pipe(self) -> None:  # rich's default raises SystemExit(1)
            self.quiet = True
            discard_stdout()

    return StdoutConsole(highlight=False, soft_wrap=True, emoji=False)  # a cell's ":x:" stays as typed


def echo(text: str, nl: bool = True) -> None:
    """``typer.echo`` to standard output, quiet when its reader has gone (see :func:`discard_stdout`)."""
    try:
        typer.echo(text, nl=nl)
    except BrokenPipeError:
        discard_stdout()


def err_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def en() -> bool:
    return get_lang() == "en"


def show_error(err: RevstatError) -> None:
    console = err_console()
    errors = err.errors if isinstance(err, ErrorGroup) else [err]
    for i, e in enumerate(errors):
        if i:
            console.print()
        console.print(e.render(), markup=False)
    if len(errors) > 1:
        console.print(t("\n共 {n} 个错误。", "\n{n} errors in all", n=len(errors)).render(), markup=False)


def fail(err: RevstatError) -> NoReturn:
    show_error(err)
    if state.debug:
        traceback.print_exception(err, file=sys.stderr)
    raise typer.Exit(EXIT_INPUT)


@contextmanager
def guarded() -> Iterator[None]:
    """Turn user errors into exit 2 with a message, and anything else into exit 70."""
    try:
        yield
    except RevstatError as err:
        fail(err)
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except BrokenPipeError:  # stdout closed by its reader mid-way: end quietly, not as a bug
        discard_stdout()
        raise typer.Exit(EXIT_OK) from None
    except Exception as exc:  # an internal bug: never look like "findings found"
        if state.debug:
            traceback.print_exc()
        err_console().print(
            t("内部错误（这是 revstat 的缺陷，不是您的数据问题）：{e}\n  加 --debug 查看详情并报告此问题。",
              "internal error (a bug in revstat, not in your data): {e}\n  rerun with --debug and report it.",
              e=f"{type(exc).__name__}: {exc}").render(), markup=False)
        raise typer.Exit(EXIT_BUG) from None


def command(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for command bodies: runs them under :func:`guarded`."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with guarded():
            return fn(*args, **kwargs)

    return wrapper


def leave(code: int | str | None) -> NoReturn:
    """End the process the way ``sys.exit(code)`` would — atexit handlers (and with them
    ``weakref.finalize`` clean-ups) run and the standard streams are flushed — but without
    tearing the interpreter down object by object: after a compile that is millions of cells,
    Decimals and strings, ~0.3 s spent freeing memory the operating system reclaims at once.
    Every output file is already closed (written atomically) when a command returns. Falls back
    to a normal exit when a non-daemon thread is still running (its work must finish)."""
    import atexit
    import threading

    if isinstance(code, str):  # sys.exit("message"): printed to stderr, status 1
        sys.stderr.write(code + "\n")
        code = 1
    status = 0 if code is None else int(code)
    if any(th is not threading.main_thread() and th.is_alive() and not th.daemon for th in threading.enumerate()):
        sys.exit(status)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe: nothing more can be said
            stream.flush()
    os._exit(status)


def run_app(app: typer.Typer) -> NoReturn:
    """Run the CLI; usage errors (a missing option, an unknown one, a bad value) are told in the
    user's language like every other error, with click's exit code 2."""
    # typer ships its own click; its exception classes are reached through the public BadParameter
    click_classes = {cls.__name__: cls for cls in typer.BadParameter.__mro__}
    usage_error, click_exception = click_classes["UsageError"], click_classes["ClickException"]
    try:
        code = app(standalone_mode=False)
    except usage_error as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # `revstat` alone: the help
            exc.show()
        else:
            show_usage_error(exc)
        raise SystemExit(exc.exit_code) from None
    except click_exception as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except (typer.Abort, KeyboardInterrupt):
        err_console().print(t("已中止。", "Aborted!").render(), markup=False)
        raise SystemExit(1) from None
    raise SystemExit(code if isinstance(code, int) else EXIT_OK)


def show_usage_error(exc: Any) -> None:
    """click's usage error as revstat says errors: what, the usage line, and where to look."""
    ctx = exc.ctx
    if ctx is not None and ctx.find_root().params.get("lang") in ("zh", "en"):
        # an unknown command is found before the main callback has applied --lang
        set_lang(ctx.find_root().params["lang"])
    param = getattr(exc, "param", None)
    hint = getattr(exc, "param_hint", None) or ""
    if not hint and param is not None:
        hint = " / ".join(param.opts) if param.param_type_name == "option" else str(param.name)
    what: Any
    if hasattr(exc, "param_type"):  # MissingParameter
        kind = exc.param_type or (param.param_type_name if param is not None else "parameter")
        what = (t("缺少选项 {hint}", "missing option {hint}", hint=hint) if kind == "option"
                else t("缺少参数 {hint}", "missing argument {hint}", hint=hint))
    elif hasattr(exc, "possibilities"):  # NoSuchOption
        close = "、".join(exc.possibilities or [])
        what = (t("没有选项 {name}（是否应为 {close}？）", "no such option {name} (did you mean {close}?)",
                  name=exc.option_name, close=close) if close
                else t("没有选项 {name}", "no such option {name}", name=exc.option_name))
    elif isinstance(exc, typer.BadParameter):
        what = t("{hint} 的值无效：{msg}", "invalid value for {hint}: {msg}", hint=hint, msg=exc.message)
    elif getattr(exc, "option_name", None):  # BadOptionUsage: e.g. a value left out
        what = t("选项 {name} 的用法不对（{msg}）", "wrong use of option {name} ({msg})",
                 name=exc.option_name, msg=exc.format_message())
    elif match := re.match(r"No such command '(.+?)'", exc.format_message()):
        name = match.group(1)
        commands = sorted(getattr(ctx.command, "commands", {})) if ctx is not None else []
        close = difflib.get_close_matches(name, commands, n=1, cutoff=0.6)
        what = (t("没有命令 {name}（是否应为 {close}？）", "no such command {name} (did you mean {close}?)",
                  name=name, close=close[0]) if close
                else t("没有命令 {name}", "no such command {name}", name=name))
    elif exc.format_message() == "Missing command.":
        what = t("缺少命令", "missing command")
    else:
        what = t("用法错误：{msg}", "usage error: {msg}", msg=exc.format_message())
    command = ctx.command_path if ctx is not None else "revstat"
    usage = ctx.get_usage().replace("Usage: ", "Usage: " if en() else "用法：", 1) if ctx is not None else ""
    fix = t("运行 `{cmd} --help` 查看用法", "run `{cmd} --help` for usage", cmd=command)
    console = err_console()
    labels = ("Error", "fix") if en() else ("错误", "处理")
    if usage:
        console.print(usage, markup=False)
    console.print(f"{labels[0]}: {what.render()}\n  {labels[1]}: {fix.render()}", markup=False)
