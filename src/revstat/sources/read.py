"""read_sources: the workspace's sheet and CSV sources for some periods → observations.

Every file is opened once (all sources reading sheets of one workbook share it), every
problem becomes one :class:`SourceError` naming file, sheet and cell or column, and the other
files are still read. 合计 rows are kept with origin ``total`` (region = the workbook's county),
never summed. Household-record sources (``kind: records``) are read by :mod:`revstat.records`.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import fnmatch
import glob
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import zip_longest
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from revstat.config import LEVELS, FieldDef, SourceDef
from revstat.errors import ConfigError, RevstatError, SourceError
from revstat.i18n import join, t, unit_text
from revstat.model import Location
from revstat.numbers import NotANumber
from revstat.periods import Period
from revstat.sources.cells import (
    ONE,
    PrecisionLost,
    ScopeFinder,
    missing_column,
    region_code,
    to_value,
    unit_from,
    unit_shift,
)
from revstat.sources.excel import Book, Grid, a1, open_book
from revstat.sources.layout import (
    Column,
    cell_text,
    classify_label,
    detect_layout,
    header_key,
    match_column,
)
from revstat.workspace import Workspace, any_case_extension

if TYPE_CHECKING:
    from revstat.sources.prefetch import Prefetch
    from revstat.sources.table import ObservationTable


@dataclass
class ReadSummary:
    files: int = 0
    sheets: int = 0
    rows: int = 0  # data rows read (not 合计 rows)
    fields: int = 0  # distinct fields with at least one row
    missing_cells: int = 0  # blank, "—", "/", "…"
    totals_rows: int = 0  # 合计/总计 rows set aside
    encodings: dict[str, str] = field(default_factory=dict)  # CSV file → utf-8-sig | gb18030
    skipped: list[str] = field(default_factory=list)  # lock files (~$…)
    hidden: list[str] = field(default_factory=list)  # hidden sheets/rows met, and what was done
    conversions: list[str] = field(default_factory=list)  # "file › sheet › column: 元 → 万元"
    notes: list[str] = field(default_factory=list)  # e.g. CSV saved under an .xlsx name
    unmatched: list[str] = field(default_factory=list)  # spreadsheets beside the read ones that no source reads


@dataclass
class ReadResult:
    observations: Any  # pandas.DataFrame with exactly tidy.OBSERVATION_COLUMNS
    errors: list[RevstatError]
    summary: ReadSummary


@dataclass
class _Ctx:
    ws: Workspace
    period: str
    errors: list[RevstatError]
    summary: ReadSummary
    out: ObservationTable  # filled a field of a sheet at a time
    seen_county: dict[tuple[str, str, str], str] = field(default_factory=dict)
    globbed: dict[str, list[tuple[Path, Path, bool]]] = field(default_factory=dict)  # (path, resolved, inside)
    reported: set[tuple[str, str, str]] = field(default_factory=set)
    scopes: ScopeFinder | None = None
    codes: dict[tuple[str, str | None, str, str], str] = field(default_factory=dict)  # region names matched
    missing: dict[str, list[SourceDef]] = field(default_factory=dict)  # pattern → the sources that found no file
    prefetched: Prefetch | None = None  # books opened ahead on a background thread


def read_sources(ws: Workspace, periods: Sequence[str], *,
                 progress: Callable[[str], None] | None = None,
                 prefetched: Prefetch | None = None) -> ReadResult:
    """Read every ``sheet`` and ``csv`` source of the workspace for the given periods.

    The workbooks are opened and parsed ahead of it on a background thread
    (:mod:`revstat.sources.prefetch`); ``prefetched``: one started earlier by the caller
    (:func:`start_prefetch` with the same periods), which this read takes over and closes."""
    from revstat.sources.table import ObservationTable

    summary = ReadSummary()
    errors: list[RevstatError] = []
    out = ObservationTable(ws.regions)
    books: dict[Path, Book | None] = {}
    scopes = ScopeFinder(ws.regions)  # region names normalised once for all periods
    codes: dict[tuple[str, str | None, str, str], str] = {}
    ahead = prefetched if prefetched is not None else start_prefetch(ws, periods)
    try:
        for period in periods:
            ctx = _Ctx(ws, str(period), errors, summary, out, scopes=scopes, codes=codes, prefetched=ahead)
            for source in ws.sources:
                if source.kind == "records":
                    continue
                for path, real in _files(ws, source, ctx):
                    book = _book(path, real, ws, books, ctx, progress)
                    if book is not None:
                        _read_book(source, book, ctx)
            _report_missing(ctx)
            _report_unmatched(ctx)
    finally:
        ahead.close()
        for book in books.values():
            if book is not None:
                book.close()
    df = out.frame()  # values are Decimal objects, never floats
    if out.has_repeats("source"):
        _check_duplicates(df, errors)
    errors = _merge_columns(ws, _merge_elsewhere(_merge_titles(_unique(errors))))
    summary.fields = out.fields("source")
    return ReadResult(df, errors, summary)


def start_prefetch(ws: Workspace, periods: Sequence[str]) -> Prefetch:
    """Start opening the workbooks :func:`read_sources` will read for ``periods``, in the order
    it reads them, and parsing the sheets its sources pick, on a background thread. Files it
    would refuse unopened (outside the workspace, ``~$`` lock files, named for another period)
    are left alone; any error met here is met and reported again by the read itself."""
    from revstat.sources.prefetch import Prefetch, Wanted

    wanted: dict[Path, Wanted] = {}
    readers: dict[Path, list[SourceDef]] = {}
    for period in periods:
        scratch = _Ctx(ws, str(period), [], ReadSummary(), None)  # type: ignore[arg-type]
        for source in ws.sources:
            if source.kind == "records":
                continue
            for path, real in _files(ws, source, scratch):
                readers.setdefault(real, []).append(source)
                if real not in wanted and _wrong_period(path.stem, str(period)) is None:
                    wanted[real] = Wanted(path, real, ws.rel(path), _sheet_picker(ws, readers[real], str(period)))
    return Prefetch(list(wanted.values()))


def _sheet_picker(ws: Workspace, sources: list[SourceDef], period: str) -> Callable[[Book], list[str]]:
    """The sheets of a book that ``sources`` (the list grows while files are listed) will read."""
    def pick(book: Book) -> list[str]:
        scratch = _Ctx(ws, period, [], ReadSummary(), None)  # type: ignore[arg-type]
        names: list[str] = []
        for source in sources:
            names += [n for n in _pick_sheet(source, book, scratch) if n not in names]
        return [] if book.kind == "html" and len(names) > 1 else names
    return pick


# ---- files -----------------------------------------------------------------------------------
def _files(ws: Workspace, source: SourceDef, ctx: _Ctx) -> list[tuple[Path, Path]]:
    """The files of a source for the period, each with its resolved path."""
    pattern = source.files.replace("{period}", ctx.period)
    where = Location(ws.source_files.get(source.id, f"sources/{source.id}.yaml"))
    if pattern not in ctx.globbed:  # several sources usually share one pattern
        root = ws.root.resolve()
        try:
            resolved = [(p, p.resolve()) for p in sorted(ws.root.glob(any_case_extension(pattern))) if p.is_file()]
            ctx.globbed[pattern] = [(p, real, real.is_relative_to(root)) for p, real in resolved]
        except (OSError, ValueError) as exc:  # a name too long, a NUL byte … (found by fuzzing)
            ctx.globbed[pattern] = []
            ctx.errors.append(SourceError(
                t("files 模式 {pattern!r} 无法使用：{e}", "the files pattern {pattern!r} cannot be used: {e}",
                  pattern=pattern[:120], e=getattr(exc, "strerror", None) or str(exc)), where,
                t("改正来源中的 files，如 data/{period}/*.xlsx", "correct the source's `files`, e.g. data/{period}/*.xlsx")))
            return []
    found = []
    for path, real, inside in ctx.globbed[pattern]:
        if not inside:
            ctx.errors.append(SourceError(
                t("文件 {f} 指向工作区以外，已拒绝", "{f} points outside the workspace and was refused", f=str(path)), where,
                t("把数据文件复制到工作区的 data/ 下", "copy the data files into the workspace's data/ folder")))
            continue
        if path.name.startswith("~$"):
            rel = ws.rel(path)
            if rel not in ctx.summary.skipped:
                ctx.summary.skipped.append(rel)
            continue
        found.append((path, real))
    if not found:  # reported once per pattern (or missing folder) after all sources: _report_missing
        ctx.missing.setdefault(pattern, []).append(source)
    return found


_ZH_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4}
_CLAIMS = (  # how a file name or a title says which period it is: (year, months from January)
    (re.compile(r"(20\d{2})\s*[Qq]([1-4])(?!\d)"), lambda m: (int(m[1]), 3 * int(m[2]))),
    (re.compile(r"(20\d{2})年?第?([一二三四1-4])季度"), lambda m: (int(m[1]), 3 * _ZH_DIGITS.get(m[2], 0) or 3 * int(m[2]))),
    (re.compile(r"(20\d{2})年1\s*[—\-–~～至到]+\s*(\d{1,2})月"), lambda m: (int(m[1]), int(m[2]))),
    (re.compile(r"截至(20\d{2})年(\d{1,2})月(?:底|末)"), lambda m: (int(m[1]), int(m[2]))),
)


def lock_owner(lock: Path) -> Path | None:
    """The workbook an Office lock file (``~$…``) stands beside: ``~$`` + its whole name (Excel,
    WPS), or + its name without the first two characters (Word's way for long names) when one
    workbook fits; None when none does, or several."""
    rest = lock.name[2:]
    whole = lock.with_name(rest)
    if rest and whole.is_file():
        return whole
    fits = [p for p in lock.parent.glob(f"??{glob.escape(rest)}") if p.is_file() and not p.name.startswith("~$")] \
        if len(rest) > 1 else []
    return fits[0] if len(fits) == 1 else None


def _period_claim(text: str) -> tuple[int, int, str] | None:
    """(year, months, the words) when ``text`` names a reporting period (``2024Q3``, ``2024年第三季度``,
    ``2024年1—9月``, ``截至2024年9月底``); a date (``报出日期：2024年10月10日``) is not a period."""
    for pattern, value in _CLAIMS:
        m = pattern.search(text)
        if m:
            year, months = value(m)
            if 1 <= months <= 12:
                return year, months, m[0]
    return None


def _wrong_period(text: str, period: str) -> tuple[str, str] | None:
    """(the words, the period they name) when ``text`` names a period other than ``period``."""
    claim = _period_claim(text)
    if claim is None:
        return None
    per = Period.parse(period)
    if per.kind not in ("Q", "M", "Y"):
        return None
    months = per.months or 12
    year, claimed, words = claim
    if (year, claimed) == (per.year, months):
        return None
    named = f"{year}Q{claimed // 3}" if claimed % 3 == 0 else f"{year}年1—{claimed}月"
    return words, named


#: what a county may send a workbook as (any case): read when a source's files pattern matches it
SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".et", ".csv")


def _report_unmatched(ctx: _Ctx) -> None:
    """Spreadsheets in the folders the sources read that no source's pattern matched (东山县.xls
    beside the .xlsx of the others, under ``files: data/{period}/*.xlsx``): named in the summary,
    since that county's figures are otherwise just missing."""
    from revstat.records.files import files_of

    matched = {real for found in ctx.globbed.values() for _, real, _ in found}
    for source in ctx.ws.sources:  # household records are read elsewhere (revstat.records), not unread
        if source.kind == "records" and "://" not in source.files:
            try:
                matched |= {p.resolve() for p in files_of(ctx.ws, source, ctx.period)}
            except (OSError, ValueError):
                continue
    folders = {(ctx.ws.root / pattern).parent for pattern in ctx.globbed}
    for folder in sorted(folders):
        try:
            files = sorted(p for p in folder.iterdir() if p.is_file())
        except OSError:
            continue
        for p in files:
            if p.suffix.lower() in SPREADSHEETS and not p.name.startswith("~$") and p.resolve() not in matched:
                rel = ctx.ws.rel(p)
                if rel not in ctx.summary.unmatched:
                    ctx.summary.unmatched.append(rel)


def _report_missing(ctx: _Ctx) -> None:
    """One error per period folder that does not exist (whatever the number of sources under
    it), then one per file pattern that matched nothing, naming every source that uses it."""
    ws = ctx.ws
    folders: set[str] = set()
    for pattern, sources in ctx.missing.items():
        first = sources[0]
        folder = _missing_folder(ws, first.files, ctx.period)
        if folder is not None:
            rel, periods = folder
            if rel not in folders:
                folders.add(rel)
                ctx.errors.append(_no_folder(rel, periods, ctx.period))
            continue
        ctx.errors.append(SourceError(
            t("来源 {id} 在 {period} 没有找到文件：{pattern}", "source {id} found no file for {period}: {pattern}",
              id="、".join(s.id for s in sources), period=ctx.period, pattern=pattern),
            Location(ws.source_files.get(first.id, f"sources/{first.id}.yaml")),
            t("把该期的文件放到 {pattern}，或改正 files 模式", "put the period's files at {pattern}, or correct `files`",
              pattern=pattern)))
    ctx.missing.clear()


_GLOB = frozenset("*?[")


def _missing_folder(ws: Workspace, template: str, period: str) -> tuple[str, list[str]] | None:
    """(the period's folder, the periods whose folder exists) when ``template`` puts each period
    in a folder of its own (``data/{period}/*.xlsx``) and this period's folder does not exist."""
    parts = PurePosixPath(template.replace("\\", "/")).parts
    at = next((i for i, part in enumerate(parts) if "{period}" in part), None)
    if at is None or at == len(parts) - 1 or any(_GLOB & set(part) for part in parts[:at + 1]) \
            or parts[at].count("{period}") != 1 or PurePosixPath(template).is_absolute():
        return None
    parent = ws.root.joinpath(*parts[:at])
    folder = parent / parts[at].replace("{period}", period)
    if folder.is_dir():
        return None
    prefix, suffix = parts[at].split("{period}")
    found: list[tuple[Period, str]] = []
    try:
        children = [p for p in parent.iterdir() if p.is_dir()] if parent.is_dir() else []
    except OSError:
        children = []
    for child in children:
        name = child.name
        if len(name) > len(prefix) + len(suffix) and name.startswith(prefix) and name.endswith(suffix):
            try:
                found.append((Period.parse(name[len(prefix):len(name) - len(suffix)]), name))
            except ConfigError:
                continue
    rel = "/".join((*parts[:at], parts[at].replace("{period}", period))) + "/"
    return rel, [name for _, name in sorted(found)]


def _no_folder(rel: str, periods: list[str], period: str) -> SourceError:
    if periods:
        known = t("已有数据的期：{list_zh}", "periods with data: {list_en}", list_zh="、".join(periods),
                  list_en=", ".join(periods))
    else:
        known = t("还没有任何一期的数据文件夹", "no period has a data folder yet")
    return SourceError(
        t("{period} 的数据文件夹 {folder} 不存在（{known}）", "the data folder {folder} for {period} does not exist ({known})",
          period=period, folder=rel, known=known),
        Location(rel),
        t("把 {period} 各县（区）的工作簿放到 {folder}，或用 --period 选择已有数据的期",
          "put the counties' workbooks for {period} in {folder}, or choose a period that has data with --period",
          period=period, folder=rel))


def _book(path: Path, key: Path, ws: Workspace, books: dict[Path, Book | None], ctx: _Ctx,
          progress: Callable[[str], None] | None) -> Book | None:
    """The opened file at ``path`` (resolved: ``key``), opened once for every source reading it."""
    if key in books:
        return books[key]
    display = ws.rel(path)
    if progress is not None:
        progress(display)
    wrong = _wrong_period(path.stem, ctx.period)
    if wrong is not None:  # last quarter's workbook copied into this quarter's folder
        books[key] = None
        ctx.errors.append(SourceError(
            t("文件名中的“{w}”表明这是 {named} 的报表，而读取的是 {p} 的数据", "the file name says “{w}”: a workbook for "
              "{named}, while {p} is being read", w=wrong[0], named=wrong[1], p=ctx.period),
            Location(display),
            t("换成 {p} 的报表；若文件名写错了，改正文件名", "put the {p} workbook here; if only the name is wrong, rename "
              "the file", p=ctx.period)))
        return None
    try:
        ahead = ctx.prefetched.take(key) if ctx.prefetched is not None else None
        if isinstance(ahead, SourceError):
            raise ahead
        book: Book | None = ahead if ahead is not None else open_book(path, display)
    except SourceError as err:
        ctx.errors.append(err)
        book = None
    books[key] = book
    if book is not None:
        ctx.summary.files += 1
        if book.encoding is not None:
            ctx.summary.encodings[display] = book.encoding
        if book.note == "csv-under-excel-name":
            ctx.summary.notes.append(t("{f} 实际是 CSV 文本文件，已按 CSV 读取（编码 {enc}）",
                                       "{f} is really a CSV text file; read as CSV ({enc})",
                                       f=display, enc=book.encoding).render())
        elif book.note == "xml2003":
            ctx.summary.notes.append(t("{f} 是 Excel 2003 XML 表格，已读取；建议另存为 .xlsx",
                                       "{f} is an Excel 2003 XML spreadsheet; it was read (saving it as .xlsx is better)",
                                       f=display).render())
        elif book.note == "html-under-excel-name":
            ctx.summary.notes.append(t("{f} 实际是网页（HTML）文件，已读取其中的表格",
                                       "{f} is really a web page (HTML); its tables were read", f=display).render())
    return book


def _pick_sheet(source: SourceDef, book: Book, ctx: _Ctx) -> list[str]:
    if book.kind in ("csv", "html") or not source.sheet:
        names = [n for n in book.sheet_names if n not in book.hidden_sheets] or book.sheet_names
        return names if book.kind == "html" else names[:1]
    pattern = source.sheet.strip()
    matches = [n for n in book.sheet_names if fnmatch.fnmatchcase(n.strip(), pattern)]
    if not matches:
        ctx.errors.append(_no_sheet(source, book, pattern, ctx))
        return []
    if len(matches) > 1 and _policy(source, ctx.ws) != "include":  # hidden copies do not count
        visible = [n for n in matches if n not in book.hidden_sheets]
        if len(visible) == 1:
            hidden = [n for n in matches if n in book.hidden_sheets]
            if _policy(source, ctx.ws) == "exclude":
                ctx.summary.hidden.extend(_hidden_note(Location(book.display, n), "exclude") for n in hidden)
                return visible
            return visible + hidden  # _read_book reports each hidden sheet
    if len(matches) > 1:
        hidden = [n for n in matches if n in book.hidden_sheets]
        shown = [f"{n}{t('（隐藏）', ' (hidden)').render()}" if n in hidden else n for n in matches]
        fix = t("删除或改名多余的工作表，或把 sheet 写得更具体", "remove or rename the extra sheets, or make `sheet` more specific")
        if hidden and len(hidden) < len(matches):  # hidden: include reads hidden sheets, so the copy counts
            fix = t("删除或改名多余的工作表（隐藏的也算：hidden 设为 include 时隐藏的工作表照样读取；设为 exclude 则跳过它们）",
                    "remove or rename the extra sheets (hidden ones count: hidden: include reads them; set hidden: "
                    "exclude to skip them)")
        ctx.errors.append(SourceError(
            t("有多个工作表符合 {pattern!r}：{names}", "several sheets match {pattern!r}: {names_en}", pattern=pattern,
              names="、".join(shown), names_en=", ".join(shown)), Location(book.display), fix))
        return []
    return matches


def _no_sheet(source: SourceDef, book: Book, pattern: str, ctx: _Ctx) -> SourceError:
    """No sheet matches a source's ``sheet``: an empty workbook is said once, as such (not once
    per source); otherwise the sheets it has, the likeliest renamed one, and where the pattern is."""
    import difflib

    def empty(name: str) -> bool:
        try:
            return not any(v not in (None, "") for row in book.sheet(name).rows for v in row)
        except SourceError:
            return False

    if all(empty(n) for n in book.sheet_names):
        return SourceError(t("工作簿是空的（工作表 {names_zh} 中没有任何内容）", "the workbook is empty (sheets {names_en} hold "
                             "nothing)", names_zh="、".join(book.sheet_names), names_en=", ".join(book.sheet_names)),
                           Location(book.display),
                           t("请该县重新报送填好的报表；若文件是误放的，把它移出该期的文件夹",
                             "ask the county to send the filled-in workbook again; if the file is there by mistake, "
                             "move it out of the period's folder"))
    stem = pattern.strip("*?").strip()
    close = difflib.get_close_matches(stem, [n.strip() for n in book.sheet_names], n=1, cutoff=0.3)
    guess = t("是否是“{c}”改了名？", "Was it renamed “{c}”? ", c=close[0]) if close else t("", "")
    where = ctx.ws.source_files.get(source.id, f"sources/{source.id}.yaml")
    return SourceError(
        t("找不到{name}的工作表（名称应与 {pattern!r} 相符）", "no sheet for {name} (its name should match {pattern!r})",
          name=source.name or source.id, pattern=pattern),
        Location(book.display),
        t("该文件的工作表有：{names_zh}。{guess}把工作表改回原名，或改正 {src} 中的 sheet", "the file's sheets are: "
          "{names_en}. {guess}Rename the sheet back, or correct `sheet` in {src}", names_zh="、".join(book.sheet_names),
          names_en=", ".join(book.sheet_names), guess=guess, src=where))


def _policy(source: SourceDef, ws: Workspace) -> str:
    return source.hidden or ws.config.hidden


def _read_book(source: SourceDef, book: Book, ctx: _Ctx) -> None:
    names = _pick_sheet(source, book, ctx)
    if book.kind == "html" and len(names) > 1:  # several tables: take the one whose header fits
        names = [max(names, key=lambda n: _fit(source, book.sheet(n)))]
    for name in names:
        try:
            grid = book.sheet(name)
        except SourceError as err:  # a damaged or oversized sheet: the other sheets and files go on
            ctx.errors.append(err)
            continue
        where = Location(book.display, None if book.kind == "csv" else name)
        if grid.hidden:
            policy = _policy(source, ctx.ws)
            if policy == "error":
                ctx.errors.append(SourceError(t("工作表 {s} 是隐藏的", "sheet {s} is hidden", s=name), where,
                                              t("取消隐藏后重新报送，或在配置中设置 hidden: include/exclude",
                                                "unhide it, or set hidden: include/exclude")))
                continue
            ctx.summary.hidden.append(_hidden_note(where, policy))
            if policy == "exclude":
                continue
        try:
            _read_grid(source, book, grid, ctx)
        except SourceError as err:
            ctx.errors.append(err)


class _TitleError(SourceError):
    """A sheet whose title names another period (``words``, the period ``named``)."""

    def __init__(self, words: str, named: str, period: str, where: Location, sheets: Sequence[str] = ()) -> None:
        self.words, self.named, self.period = words, named, period
        if len(sheets) > 1:
            what = t("{n}张表（{sheets}）标题中的“{w}”表明这是 {named} 的报表，而读取的是 {p} 的数据",
                     "the titles of {n} sheets ({sheets_en}) say “{w}”: a workbook for {named}, while {p} is being read",
                     n=len(sheets), sheets="、".join(sheets), sheets_en=", ".join(sheets), w=words, named=named, p=period)
        else:
            what = t("标题中的“{w}”表明这是 {named} 的报表，而读取的是 {p} 的数据",
                     "the title says “{w}”: a workbook for {named}, while {p} is being read", w=words, named=named, p=period)
        super().__init__(what, where, t("换成 {p} 的报表；若只是标题写错了，改正标题",
                                        "put the {p} workbook here; if only the title is wrong, correct it", p=period))


def _merged(errors: list[RevstatError], key_of: Callable[[RevstatError], Any],
            enough: Callable[[list[RevstatError]], bool],
            one: Callable[[list[RevstatError]], RevstatError]) -> list[RevstatError]:
    """Errors that share a key (``key_of``; None for the others) told as ``one`` error, in the
    place of the first of them, when there are ``enough`` of them; else each as it is. The
    reader's way of saying one cause once: a workbook of last quarter, another county's
    workbook, a column misspelt in the source."""
    groups: dict[Any, list[RevstatError]] = {}
    for err in errors:
        key = key_of(err)
        if key is not None:
            groups.setdefault(key, []).append(err)
    told: set[Any] = set()
    out: list[RevstatError] = []
    for err in errors:
        key = key_of(err)
        if key is None or not enough(groups[key]):
            out.append(err)
        elif key not in told:  # the group's others are in this one
            told.add(key)
            out.append(one(groups[key]))
    return out


def _merge_titles(errors: list[RevstatError]) -> list[RevstatError]:
    """The sheets of one workbook whose titles name the same other period, as one error (at the
    first sheet's title), so a workbook of last quarter is told once with all its sheets."""
    def key(err: RevstatError) -> Any:
        return (err.where.file, err.named, err.words) if isinstance(err, _TitleError) and err.where else None

    def one(group: list[Any]) -> RevstatError:
        first = group[0]
        sheets = [e.where.sheet for e in group if e.where is not None and e.where.sheet]
        return _TitleError(first.words, first.named, first.period, first.where, sheets)

    return _merged(errors, key, lambda group: len(group) > 1, one)


#: A column missing from this many workbooks is told once, at the sources file.
COLUMN_MERGED = 3


def _merge_columns(ws: Workspace, errors: list[RevstatError]) -> list[RevstatError]:
    """A column that many workbooks lack is most likely misspelt in the source: one error at the
    sources file's line, naming how many workbooks and one of them, instead of one a workbook
    and period."""
    from revstat.sources.cells import MissingColumn

    def key(err: RevstatError) -> Any:
        return err.column_of if isinstance(err, MissingColumn) and err.where is not None else None

    def files(group: list[RevstatError]) -> list[str]:
        return list(dict.fromkeys(e.where.file for e in group if e.where is not None))

    def one(group: list[Any]) -> RevstatError:
        from revstat.yamlload import line_of, load_yaml

        first = group[0]
        source_id, path, wanted = first.column_of
        display = ws.source_files.get(source_id, "sources/")
        try:
            line = line_of(load_yaml(ws.root / display, display), list(path))
        except (RevstatError, OSError):
            line = None
        params = first.fix.params if first.fix is not None else {}
        return SourceError(
            t("{n} 个工作簿都找不到列 {col!r}（如 {first}）", "{n} workbooks lack the column {col!r} (e.g. {first})",
              n=len(files(group)), col=wanted, first=str(first.where)),
            Location(display, line=line),
            t("{hint}表头有：{found}。改正 {file} 中的 column，使之与工作簿的表头一致",
              "{hint}the headers are: {found}. Correct the column in {file} to match the workbooks' header",
              hint=params.get("hint", ""), found=params.get("found", ""), file=display))

    return _merged(errors, key, lambda group: len(files(group)) >= COLUMN_MERGED, one)


#: Rows of another county's regions in one workbook told as one error from this many on.
ELSEWHERE_MERGED = 3


def _merge_elsewhere(errors: list[RevstatError]) -> list[RevstatError]:
    """Many rows of one workbook belonging to one other county: the workbook is that county's
    (sent under the wrong name), told once instead of a "move the row" per row."""
    from revstat.regions import ElsewhereError

    def key(err: RevstatError) -> Any:
        if isinstance(err, ElsewhereError) and err.where is not None and len(err.owners) == 1:
            return err.where.file, err.here, err.owners[0]
        return None

    def one(group: list[Any]) -> RevstatError:
        first = group[0]
        names = list(dict.fromkeys(e.name for e in group))
        owner, here = first.owners[0], first.here
        return SourceError(
            t("工作簿中有 {n} 个地区（{names}）是{owner}的，不属于{here}：它看来是{owner}的报表",
              "{n} of its regions ({names_en}) are {owner}'s, not {here}'s: this workbook looks like {owner}'s",
              n=len(names), names="、".join(names[:5]) + ("等" if len(names) > 5 else ""),
              names_en=", ".join(names[:5]) + (" …" if len(names) > 5 else ""), owner=owner, here=here),
            Location(first.where.file),
            t("核对文件：若这是{owner}的报表，按{owner}的文件名存放，并向{here}索取它自己的报表",
              "check the file: if it is {owner}'s workbook, store it under {owner}'s name and ask {here} for its own",
              owner=owner, here=here))

    return _merged(errors, key, lambda group: len(group) >= ELSEWHERE_MERGED, one)


def _unique(errors: list[RevstatError]) -> list[RevstatError]:
    """One error per problem: two sources reading the same sheet meet the same bad cell."""
    seen: set[str] = set()
    out = []
    for err in errors:
        key = err.render("en")
        if key not in seen:
            seen.add(key)
            out.append(err)
    return out


def _hidden_note(where: Location, policy: str) -> str:
    if policy == "exclude":
        return t("{w}（已跳过）", "{w} (skipped)", w=str(where)).render()
    return t("{w}（已读取）", "{w} (read)", w=str(where)).render()


def _fit(source: SourceDef, grid: Grid) -> int:
    layout = detect_layout(grid.rows, grid.merged, anchor=source.region.column)
    return sum(1 for f in source.fields if f.column and match_column(layout.columns, f.column)[0] is not None)


def _missing_columns(source: SourceDef, book: Book, sheet: str | None, layout: Any,
                     errors: list[SourceError]) -> list[SourceError]:
    """The columns a sheet lacks: each its own error when a few are missing (a renamed header);
    one error for the sheet when most of the source's columns are (the wrong sheet, or a file
    that is text or a web page under an Excel name), instead of dozens."""
    required = sum(1 for f in source.fields if f.required)
    text_file = book.note in ("csv-under-excel-name", "html-under-excel-name")
    if not errors or (not text_file and (len(errors) < 3 or len(errors) * 2 < required)):
        return errors
    names = [str(e.what.params.get("col", "")) for e in errors]
    shown = "、".join(names[:4]) + (f"等 {len(names)} 列" if len(names) > 4 else "")
    found = "、".join(c.label for c in layout.columns) or "—"
    what = (t("文件不是 Excel 工作簿（内容是文本或网页），其中找不到来源“{src}”的 {n} 个必填列：{cols}",
              "the file is not an Excel workbook (it holds text or a web page) and lacks {n} required columns of "
              "source {src}: {cols}", src=source.name or source.id, n=len(names), cols=shown) if text_file else
            t("找不到来源“{src}”的 {n} 个必填列（共 {m} 个）：{cols}", "{n} of the {m} required columns of source {src} "
              "are not found: {cols}", src=source.name or source.id, n=len(names), m=required, cols=shown))
    fix = (t("向报送单位索取原始的 .xlsx 文件，或在 Excel/WPS 中打开后另存为 .xlsx；表头有：{found}",
             "ask the sender for the real .xlsx, or open it in Excel/WPS and save it as .xlsx; the headers are: {found}",
             found=found) if text_file else
           t("核对这是否是该来源的工作表；表头有：{found}。改正表头，或修改来源中的 sheet / column",
             "check that this is the source's sheet; the headers are: {found}. Fix the headers or the source's "
             "sheet / column", found=found))
    return [SourceError(what, Location(book.display, sheet), fix)]


# ---- one sheet -------------------------------------------------------------------------------
def _read_grid(source: SourceDef, book: Book, grid: Grid, ctx: _Ctx) -> None:
    ws = ctx.ws
    sheet = None if book.kind == "csv" else grid.name
    header_rows = [r - 1 for r in source.header.rows] if not isinstance(source.header, str) else None
    layout = detect_layout(grid.rows, grid.merged, header_rows=header_rows, anchor=source.region.column)
    wrong = _wrong_period(layout.title, ctx.period) if layout.title else None
    if wrong is not None:  # the name said nothing, the title says another quarter
        key = (book.display, "title", sheet or "")
        if key not in ctx.reported:  # every sheet of the workbook said in one run (merged later)
            ctx.reported.add(key)
            row = layout.title_rows[0] if layout.title_rows else 0
            raise _TitleError(wrong[0], wrong[1], ctx.period, Location(book.display, sheet, a1(row, 0)))
        return
    region_col, close = match_column(layout.columns, source.region.column)
    if region_col is None:
        if not layout.columns and book.note in ("csv-under-excel-name", "html-under-excel-name"):
            raise SourceError(
                t("文件不是 Excel 工作簿（内容是文本或网页），其中也找不到表头",
                  "the file is not an Excel workbook (it holds text or a web page) and has no header row"),
                Location(book.display),
                t("向报送单位索取原始的 .xlsx 文件，或在 Excel/WPS 中打开后另存为 .xlsx",
                  "ask the sender for the real .xlsx, or open it in Excel/WPS and save it as .xlsx"))
        raise missing_column(book.display, sheet, source.region.column, layout, close,
                             column_of=(source.id, ("region", "column"), source.region.column))
    fields: list[tuple[FieldDef, Column, int]] = []
    unmatched: list[tuple[FieldDef, list[str]]] = []
    taken = {region_col.index}  # the columns other fields (and the regions) are read from
    for f in source.fields:
        col, close = match_column(layout.columns, f.column or f.name)
        if col is None:
            if f.required:
                unmatched.append((f, close))
            continue
        taken.add(col.index)
        try:
            shift = unit_shift(f, col, layout, source, Location(book.display, sheet, a1(layout.header_rows[-1], col.index)))
        except SourceError as err:
            ctx.errors.append(err)
            continue
        fields.append((f, col, shift))
    missing: list[SourceError] = []
    for f, close in unmatched:  # the closest headers not already read for another field: a renamed one
        free = [c for c in layout.columns if c.index not in taken]
        nearer = difflib.get_close_matches("/".join(header_key(f.column or f.name)), ["/".join(c.parts) for c in free],
                                           n=3, cutoff=0.3)
        at = next(i for i, g in enumerate(source.fields) if g is f)  # where it is in the source
        missing.append(missing_column(book.display, sheet, f.column or f.name, layout,
                                      nearer + [c for c in close if c not in nearer] if nearer else close,
                                      column_of=(source.id, ("fields", at, "column" if f.column else "name"),
                                                 f.column or f.name)))
    ctx.errors.extend(_missing_columns(source, book, sheet, layout, missing))
    conv: dict[str, list[str]] = {}
    for f, col, shift in fields:
        if shift:
            conv.setdefault(f"{unit_text(unit_from(shift, f.unit))} → {unit_text(f.unit)}", []).append(col.label)
    for change, labels in conv.items():
        ctx.summary.conversions.append(f"{Location(book.display, sheet)}: {change} ({join(labels)})")
    ctx.summary.sheets += 1

    tree = ws.regions
    level = source.region.level
    scope_level = LEVELS[LEVELS.index(level) - 1] if LEVELS.index(level) > 0 else None
    scopes = ctx.scopes or ScopeFinder(tree)
    scope = scopes.find([Path(book.display).stem, layout.title, layout.meta], level) \
        if scope_level is not None else None
    if scope is not None:
        key = (ctx.period, source.id, scope)
        other = ctx.seen_county.get(key)
        if other is not None and other != book.display:
            pair = (ctx.period, other, book.display)
            if pair in ctx.reported:  # once per pair of files, not once per source
                return
            ctx.reported.add(pair)
            raise SourceError(
                t("{county} {period} 有两个文件：{a} 和 {b}", "two files for {county} in {period}: {a} and {b}",
                  county=tree.name(scope), period=ctx.period, a=other, b=book.display),
                Location(book.display),
                t("删除或移走重复的文件（只保留最新报送的一份）", "remove the duplicate (keep the latest submission)"))
        ctx.seen_county[key] = book.display

    policy = _policy(source, ws)
    seen_regions: dict[str, int] = {}  # region → the row that named it
    totals: list[tuple[int, int]] = []  # (row, label col) of 合计 rows
    rows = grid.rows
    rc = region_col.index
    data_cols = [c.index for _, c, _ in fields]
    matched: list[tuple[int, str]] = []
    errors_before = len(ctx.errors)
    for r in range(layout.data_start, len(rows)):
        row = rows[r]
        label = cell_text(row[rc]) if rc < len(row) else ""
        if rc == 0 and label:  # the usual layout: the region column comes first
            first = label
        else:
            first = next((cell_text(v) for v in row if v is not None and v != ""), "")
        kind = classify_label(first) if first else "blank"
        if kind == "footer":
            break
        if label:  # a 序号 column left of the names may mark the row: "一、" section, "其中", 合计
            kind = classify_label(label) if kind not in ("total", "section", "part") else kind
        elif kind not in ("total", "section", "part"):
            if any(c < len(row) and row[c] not in ("", None) for c in data_cols):
                merge = next(((r0, c0, r1, c1) for r0, c0, r1, c1 in grid.merged
                              if r0 < r <= r1 and c0 <= rc <= c1), None)
                if merge is not None:  # the name cell merged with the row above: two rows, one name
                    ref = f"{a1(merge[0], merge[1])}:{a1(merge[2], merge[3])}"
                    ctx.errors.append(SourceError(
                        t("地区名称是合并单元格 {ref}：第{row}行的数据没有自己的地区名称",
                          "the region name is merged across {ref}: row {row} has no name of its own", ref=ref, row=r + 1),
                        Location(book.display, sheet, ref),
                        t("取消合并，每行填写各自的地区名称", "unmerge the cells and give each row its own region name")))
                else:
                    ctx.errors.append(SourceError(
                        t("第{row}行有数据但没有地区名称", "row {row} has values but no region name", row=r + 1),
                        Location(book.display, sheet, a1(r, rc)),
                        t("填写地区名称，或删除该行", "fill in the region name or delete the row")))
            continue
        if kind in ("section", "part", "blank"):
            continue
        if r in grid.hidden_rows:
            where = Location(book.display, sheet, f"{r + 1}:{r + 1}")
            if policy == "error":
                ctx.errors.append(SourceError(t("第{row}行是隐藏的", "row {row} is hidden", row=r + 1), where,
                                              t("取消隐藏，或在配置中设置 hidden: include/exclude",
                                                "unhide it, or set hidden: include/exclude")))
                continue
            ctx.summary.hidden.append(_hidden_note(where, policy))
            if policy == "exclude":
                continue
        if kind == "total":
            totals.append((r, rc))
            continue
        try:
            key = (label, scope, source.region.by, level)
            code = ctx.codes.get(key) or ctx.codes.setdefault(key, region_code(label, source, tree, scope, None))
        except SourceError as err:
            err.where = Location(book.display, sheet, a1(r, rc))  # built only when needed
            ctx.errors.append(err)
            continue
        if code == scope or (scope is None and tree.level(code) == scope_level):
            totals.append((r, rc))  # a row named after the workbook's own county is its total
            if scope is None:
                scope = code
            continue
        if code in seen_regions:
            ctx.errors.append(SourceError(
                t("地区 {name} 在同一表中出现两次：{a} 和 {b}", "region {name} appears twice in the sheet: {a} and {b}",
                  name=label, a=a1(seen_regions[code], rc), b=a1(r, rc)), Location(book.display, sheet, a1(r, rc)),
                t("删除重复的行或改正地区名称", "delete the duplicate row or correct the name")))
            continue
        seen_regions[code] = r
        matched.append((r, code))

    if not matched and not totals and errors_before == len(ctx.errors):
        raise SourceError(t("工作表只有表头，没有数据行", "the sheet has a header but no data rows"),
                          Location(book.display, sheet),
                          t("填入各地区的数据后重新报送；若本期确无数据，请逐行填 “—”",
                            "fill in the regions' rows; if there is truly nothing to report, write \"—\" in each row"))
    if scope is None and matched:
        parents = {tree[c].parent for _, c in matched}
        scope = parents.pop() if len(parents) == 1 else None
    skip = _merged_data_cells(grid, {r for r, _ in matched} | {r for r, _ in totals}, set(data_cols), book, sheet, ctx)
    _emit_block([r for r, _ in matched], [code for _, code in matched], "source", fields, book, sheet, grid, ctx, skip)
    ctx.summary.rows += len(matched)
    total_rows = []
    for r, c in totals:
        if scope is None:
            ctx.errors.append(SourceError(
                t("无法确定合计行属于哪个地区", "cannot tell which region the total row belongs to"),
                Location(book.display, sheet, a1(r, c)),
                t("在文件名或标题中写明县（区）名称", "put the county name in the file name or title")))
            continue
        total_rows.append(r)
    if total_rows and scope is not None:
        _emit_block(total_rows, [scope] * len(total_rows), "total", fields, book, sheet, grid, ctx, skip)
        ctx.summary.totals_rows += len(total_rows)


def _merged_data_cells(grid: Grid, data_rows: set[int], data_cols: set[int], book: Book,
                       sheet: str | None, ctx: _Ctx) -> frozenset[tuple[int, int]]:
    """Merged ranges over the value cells of data or 合计 rows: which region a merged value
    belongs to (and what hides under it) is unknowable, so each is one error."""
    cells: set[tuple[int, int]] = set()
    for r0, c0, r1, c1 in grid.merged:
        if (r0, c0) == (r1, c1) or not any(r in data_rows for r in range(r0, r1 + 1)) \
                or not any(c in data_cols for c in range(c0, c1 + 1)):
            continue
        ref = f"{a1(r0, c0)}:{a1(r1, c1)}"
        ctx.errors.append(SourceError(
            t("数据区中的合并单元格 {ref}：数值属于哪一行（列）无法确定，被遮住的单元格也无法核对",
              "merged cells {ref} in the data: which row (column) the value belongs to is unknown, and cells under it are hidden",
              ref=ref),
            Location(book.display, sheet, ref),
            t("取消合并，在每个单元格中填写各自的数值", "unmerge the cells and fill in each cell's own value")))
        cells.update((r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1))
    return frozenset(cells)


_SLOW = object()  # marks a cell the fast path leaves to _cell_value
_FLOAT_ONLY = {float}


def _emit_block(rows_at: list[int], codes: list[str], origin: str, fields: list[tuple[FieldDef, Column, int]],
                book: Book, sheet: str | None, grid: Grid, ctx: _Ctx,
                skip: frozenset[tuple[int, int]] = frozenset()) -> None:
    """The observations of some data (or 合计) rows, a field at a time: plain numbers go through
    one list comprehension; text, blanks, error cells and the rest through :func:`_cell_value`."""
    if not rows_at:
        return
    rows = ctx.out.rows(rows_at, codes)
    grid_columns = list(zip_longest(*(grid.rows[r] for r in rows_at), fillvalue=""))
    special = set(skip) | set(grid.error_cells) | set(grid.uncached)
    for f, col, shift in fields:
        c = col.index
        raws = grid_columns[c] if c < len(grid_columns) else ("",) * len(rows_at)
        values: list[Any]
        if set(map(type, raws)) == _FLOAT_ONLY and all(map(float.is_integer, raws)) and max(map(abs, raws)) < 1e15:
            # whole numbers: exact, and all in C; through int() is twice as fast, but would make -0.0 a 0
            values = list(map(Decimal, raws if 0.0 in raws else map(int, raws)))
            slow: list[int] = []
        else:
            values = [(Decimal(x) if x.is_integer() else Decimal(format(x, ".15g")))
                      if type(x) is float and -1e15 < x < 1e15 else _SLOW for x in raws]
            slow = [i for i, value in enumerate(values) if value is _SLOW]
        bad = {r for r, cc in special if cc == c} if special else ()
        if bad:
            slow = sorted({*slow, *(i for i, r in enumerate(rows_at) if r in bad)})
        dropped = []
        for i in slow:
            r = rows_at[i]
            if (r, c) in skip:
                ok, value = False, None
            else:
                ok, value = _cell_value(raws[i], r, c, f, grid, book, sheet, a1(r, c), ctx)
            if not ok:
                dropped.append(i)
            elif value is None:
                ctx.summary.missing_cells += 1  # only the slow path meets blanks and "—"
            values[i] = value
        kept = None
        if dropped:
            gone = set(dropped)
            kept = [i for i in range(len(values)) if i not in gone]
            values = [values[i] for i in kept]
        if shift:
            values = [_scale(v, shift) if v is not None else None for v in values]
        ctx.out.add(rows, kept, c, values, field=f.id, period=ctx.period, unit=f.unit, file=book.display,
                    sheet=sheet, origin=origin)


def _scale(value: Decimal, shift: int) -> Decimal:
    value = value.scaleb(shift)
    return value.quantize(ONE) if value == value.to_integral_value() else value.normalize()


def _cell_value(raw: Any, r: int, c: int, f: FieldDef, grid: Grid, book: Book, sheet: str | None, cell: str,
                ctx: _Ctx) -> tuple[bool, Decimal | None]:
    """(True, value) or (False, None) after recording the error that names the cell."""
    if grid.error_cells and (r, c) in grid.error_cells:
        ctx.errors.append(SourceError(
            t("单元格是错误值 {v}", "the cell holds the error value {v}", v=grid.error_cells[(r, c)]),
            Location(book.display, sheet, cell),
            t("改正该单元格的公式或数值；若未上报，请填 “—” 表示缺失",
              "correct the formula or value; write \"—\" if the value is not reported")))
        return False, None
    if grid.uncached and (r, c) in grid.uncached:
        ctx.errors.append(SourceError(
            t("单元格是公式但没有计算结果", "the cell is a formula without a calculated value"),
            Location(book.display, sheet, cell),
            t("在 Excel/WPS 中打开该文件并保存一次（让公式算出结果），再重新运行",
              "open the file in Excel/WPS and save it once (so formulas are calculated), then rerun")))
        return False, None
    if isinstance(raw, _dt.date | _dt.time | _dt.timedelta):
        ctx.errors.append(SourceError(
            t("单元格是日期/时间 {v}，不是数字（{field}）", "the cell holds a date/time {v}, not a number ({field_en})",
              v=str(raw), field=f.name, field_en=f.name_en or f.name),
            Location(book.display, sheet, cell),
            t("把该单元格的格式改为“常规”或“数值”并核对数值", "set the cell's format to General/Number and check the value")))
        return False, None
    try:
        return True, to_value(raw)
    except PrecisionLost:
        ctx.errors.append(SourceError(
            t("单元格中的数字 {v} 超过15位有效数字，Excel 保存时精度已丢失（{field}）",
              "the number {v} has more than 15 significant digits; Excel already lost its precision ({field_en})",
              v=f"{raw:.0f}", field=f.name, field_en=f.name_en or f.name),
            Location(book.display, sheet, cell),
            t("核对原始数据；长数字（如代码、证件号）请以文本格式录入",
              "check the source data; enter long numbers (codes, ID numbers) as text")))
    except NotANumber:
        text = cell_text(raw) or str(raw)
        unit = re.fullmatch(r"\s*[-+]?\d[\d,，.]*\s*([^\d\s.,，]{1,4})\s*", text)  # 140户, 12人, 3.5万元
        ctx.errors.append(SourceError(
            t("单元格不是数字 {v!r}（{field}）", "cell is not a number {v!r} ({field_en})", v=text, field=f.name,
              field_en=f.name_en or f.name),
            Location(book.display, sheet, cell),
            t("去掉数字后的“{u}”，只填数字（单位在表头或单位行中说明）", "remove “{u}” after the number and write the "
              "number only (the unit belongs in the header or the unit row)", u=unit[1]) if unit else
            t("改正该单元格；若该地区未上报，请填 “—” 表示缺失", "correct the cell; write \"—\" if the value is not reported")))
    return False, None


def _check_duplicates(df: Any, errors: list[RevstatError]) -> None:
    """The same field, region and period read from two places (e.g. two workbooks)."""
    if not len(df):
        return
    data = df[df["origin"] == "source"]
    dup = data[data.duplicated(["field", "region_code", "period"], keep=False)]
    if not len(dup):
        return
    for (_code, period), grp in dup.groupby(["region_code", "period"], sort=True):
        files = sorted(set(grp["file"]))
        first = grp.iloc[0]
        same = grp[grp["field"] == first["field"]]
        places = "；".join(str(Location(f, s, c)) for f, s, c in zip(same["file"], same["sheet"], same["cell"], strict=True))
        errors.append(SourceError(
            t("{name} 在 {period} 的数据出现在多处（{n} 个字段重复，如 {places}）：{files}",
              "{name} ({period}) is read from several places ({n} fields, e.g. {places}): {files}",
              name=first["region_name"], period=period, n=int(grp["field"].nunique()), places=places,
              files="、".join(files)),
            Location(first["file"], first["sheet"], first["cell"]),
            t("只保留一处（删除重复的文件或行）", "keep one (remove the duplicate file or row)")))
        if len(errors) > 500:
            break
