"""Errors a user can cause: each says what is wrong, where, and how to fix it.

Bad input (missing file, malformed YAML, unreadable workbook) raises a RevstatError.
Bad *data* found by checks is collected as :class:`revstat.model.Issue`, never raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from revstat.i18n import Text, get_lang, t
from revstat.model import Location

T = TypeVar("T")


class RevstatError(Exception):
    """Base of every error meant for a user (exit code 2)."""

    def __init__(self, what: Text | str, where: Location | None = None,
                 fix: Text | str | None = None) -> None:
        self.what = what if isinstance(what, Text) else t(what, what)
        self.where = where
        self.fix = fix if isinstance(fix, Text) or fix is None else t(fix, fix)
        super().__init__(self.what.zh)

    def render(self, lang: str | None = None) -> str:
        en = (lang or get_lang()) == "en"
        labels = ("Error", "where", "fix") if en else ("错误", "位置", "处理")
        lines = [f"{labels[0]}: {self.what.render(lang)}"]
        if self.where is not None:
            lines.append(f"  {labels[1]}: {self.where.render(lang)}")
        if self.fix is not None:
            lines.append(f"  {labels[2]}: {self.fix.render(lang)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


class ConfigError(RevstatError):
    """revstat.yaml, regions.csv or a workspace layout is unusable."""


class SourceError(RevstatError):
    """A workbook/CSV cannot be read as its source says."""


class DefinitionError(RevstatError):
    """An indicator, field, source or rule definition is invalid."""


class RenderError(RevstatError):
    """A report template failed."""


class OutputError(RevstatError):
    """An output could not be written."""


class ErrorGroup(RevstatError):
    """Several independent input errors, reported together (the rest was still read)."""

    def __init__(self, errors: list[RevstatError]) -> None:
        self.errors = errors
        super().__init__(t("{n} 个输入错误", "input errors: {n}", n=len(errors)))

    def render(self, lang: str | None = None) -> str:
        return "\n\n".join(e.render(lang) for e in self.errors)

    @staticmethod
    def of(errors: list[RevstatError]) -> RevstatError:
        """One error as itself, several as a group (for ``raise`` or showing them)."""
        return errors[0] if len(errors) == 1 else ErrorGroup(errors)


def collect(errors: list[RevstatError], load: Callable[[], T]) -> T | None:
    """Run ``load``; on a user error append it (each error of a group) to ``errors`` and
    return None, so one bad file does not hide the errors of the next."""
    try:
        return load()
    except ErrorGroup as group:
        errors.extend(group.errors)
    except RevstatError as err:
        errors.append(err)
    return None
