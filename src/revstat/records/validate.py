"""Checks of household records that the aggregation cannot do without: columns present,
yes/no words and dates the conditions can read, numbers DuckDB could not cast (named by row),
households repeated within a village, codes missing or unknown.

Each check works on the grouped rows the one query already returns (counts computed in the same
pass); the files are read again only to name examples once a check has failed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from revstat.errors import ErrorGroup, RevstatError, SourceError
from revstat.i18n import Text, t
from revstat.model import Location
from revstat.records import sql as rsql
from revstat.records.files import file_format, file_header, parquet_types, utf8_paths

if TYPE_CHECKING:
    from revstat.records.engine import SourcePlan


_CONVERSION = re.compile(r'Could not convert string "(?P<value>.*?)" to ')


class MissingColumnsError(SourceError):
    """Columns a source reads that a records file lacks: the same message for every period's file
    is said once (a definition's mistake, such as an unquoted value in a condition, is in all of them)."""


def bad_numbers(err: SourceError, plan: SourcePlan, fmt: str, readable: Sequence[str], paths: Sequence[Path],
                ws: Any) -> RevstatError | None:
    """After DuckDB's “Could not convert string "12,345.50" to DECIMAL(18,4) … source column 收入”:
    every column the aggregation reads as numbers that holds something else, each named with its
    first rows and values and how many there are, as the pandas engine says it (one more pass over
    the files per column, on this error only) — so one export is corrected once, not once per
    column. None when it is another error or no such value can be found again."""
    if _CONVERSION.search(err.what.render("en")) is None:
        return None
    found = [e for column in rsql.numeric_columns(plan.query_aggregates)
             if (e := _locate(column, fmt, readable, paths, ws.rel)) is not None]
    return ErrorGroup.of(found) if found else None


def _locate(column: str, fmt: str, readable: Sequence[str], paths: Sequence[Path], rel: Callable[[Path], str], *,
            dates: bool = False) -> SourceError | None:
    """The first rows of ``column`` that are not numbers (``dates``: not dates), as an input error."""
    import duckdb

    query = rsql.bad_number_query(fmt, readable, column, 3, dates=dates)
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET threads = 1")  # rows numbered in the order of the file
        con.execute("SET preserve_insertion_order = true")
        found = con.execute(query.sql, list(query.params)).fetchall()
    except duckdb.Error:
        return None
    finally:
        con.close()
    if not found:
        return None
    name = found[0][0]
    original = {str(Path(r)): p for r, p in zip(readable, paths, strict=True)}.get(str(Path(name)), Path(name))
    rows = [(int(n) + 1 if fmt == "csv" else int(n), v) for f, n, v, _ in found if f == name]  # CSV: header is line 1
    where = Location(rel(original) if isinstance(original, Path) else str(original), note=column)
    return (not_dates if dates else not_numbers)(column, rows, int(found[0][3]), where, csv=fmt == "csv")


def _places(numbers: Sequence[int], csv: bool, more: bool = False) -> Text:
    """``第 11、25 行`` of a CSV (line 1 is the header), ``第 3 条记录`` of a Parquet file; ``more``:
    and others after them."""
    lines = "、".join(str(n) for n in numbers) + (" 等" if more else "")
    lines_en = ", ".join(str(n) for n in numbers) + (", …" if more else "")
    s = "s" * (len(numbers) > 1 or more)
    return (t("第 {l} 行", "row{s} {l_en}", l=lines, l_en=lines_en, s=s) if csv else
            t("第 {l} 条记录", "record{s} {l_en}", l=lines, l_en=lines_en, s=s))


def _rows_text(rows: Sequence[tuple[int, Any]], total: int, csv: bool) -> tuple[Text, Text]:
    """``第 11、25 行`` and ``'3人'、'1,234'`` (and how many in all when there are more)."""
    at = _places([n for n, _ in rows], csv)
    values = t("{v}{more}", "{v_en}{more_en}", v="、".join(repr(v) for _, v in rows),
               v_en=", ".join(repr(v) for _, v in rows),
               more=f"（该列共 {total} 个这样的值）" if total > len(rows) else "",
               more_en=f" ({total} such values in the column)" if total > len(rows) else "")
    return at, values


def not_numbers(column: str, rows: Sequence[tuple[int, Any]], total: int, where: Location, *,
                csv: bool = True) -> SourceError:
    """The input error of a column that should hold numbers, the same from every engine."""
    at, values = _rows_text(rows, total, csv)
    return SourceError(
        t("列 {c} {at}不是数字：{values}", "column {c} is not a number at {at}: {values}", c=column, at=at,
          values=values), where, NUMBER_FIX)


#: how to correct a column that should hold numbers (every engine's message)
NUMBER_FIX = t("该列应为数字（不带千分位逗号、单位、全角数字）；改正后重新导出",
               "the column must hold plain numbers (no thousands commas, units or full-width digits); correct it "
               "and export again")


def not_dates(column: str, rows: Sequence[tuple[int, Any]], total: int, where: Location, *,
              csv: bool = True) -> SourceError:
    at, values = _rows_text(rows, total, csv)
    return SourceError(
        t("列 {c} {at}不是有效日期（应写成 2024-01-01 这样）：{values}，按日期比较会出错",
          "column {c} is not a valid date written like 2024-01-01 at {at}: {values}; comparing them as dates would "
          "go wrong",
          c=column, at=at, values=values), where, DATE_FIX)


#: how to correct a column compared with dates (every engine's message)
DATE_FIX = t("导出时把日期格式设为 yyyy-mm-dd（如 2024-05-01），月和日补足两位，并核对月份、日期是否存在",
             "export the dates as yyyy-mm-dd (e.g. 2024-05-01), month and day with two digits, and check that the "
             "month and day exist")


def code_fix(codes: list[str]) -> Text:
    """How to correct unknown codes, saying why when their form tells (Excel, full-width digits);
    each cause met is named."""
    fixes = []
    if any(re.fullmatch(r"\d(\.\d+)?[eE]\+?\d+|\d+\.0+", c) for c in codes):
        fixes.append(t("代码被 Excel 存成了数字（科学计数法或带“.0”），已丢失位数：把该列设为“文本”后重新导出",
                       "Excel stored the codes as numbers (scientific notation or “.0”), losing digits: format the "
                       "column as text and export again"))
    if any(not c.isascii() and c.isdigit() for c in codes):
        fixes.append(t("代码中有全角数字（如 ９９０１），改为半角数字", "the codes have full-width digits (９９０１): use ASCII digits"))
    if any(c.isascii() and c.isdigit() for c in codes) or not fixes:
        fixes.append(t("改正记录中的代码，或在 regions.csv 中补上这些地区",
                       "correct the codes in the records, or add the regions to regions.csv"))
    return t("{fix_zh}", "{fix_en}", fix_zh="；".join(f.render("zh") for f in fixes),
             fix_en="; ".join(f.render("en") for f in fixes))


def rows_column(plan: SourcePlan, pos: Mapping[str, int]) -> int | None:
    """The column of the grouped rows that counts every record of a group, when the query has
    one (``key:``'s count, or a ``count`` field without ``where``)."""
    if "key_n" in pos:
        return pos["key_n"]
    alias = next((a.alias for a in plan.query_aggregates if a.measure == "count" and a.where is None), None)
    return pos.get(alias) if alias is not None else None


def missing_columns(plan: SourcePlan, paths: Sequence[Path], fmt: str, ws: Any) -> None:
    """Every column the source reads that a file lacks, with the file's own headers and the
    likeliest match (a header with a line break, spaces or a unit in brackets: 家庭年\n纯收入,
    家庭年纯收入（元）); one input error per file. Unreadable headers are left to the engine."""
    import difflib

    import duckdb

    def bare(name: str) -> str:
        return re.sub(r"[（(][^）)]*[）)]|[\s\u3000\u200b\ufeff]", "", name)

    problems: list[RevstatError] = []
    for path in paths:
        where = Location(ws.rel(path))
        try:
            empty = path.stat().st_size == 0
        except OSError:
            empty = False
        if empty:  # an export that failed half-way, or a file made by hand
            problems.append(SourceError(t("户级数据文件是空的（0 字节）", "the household records file is empty (0 bytes)"),
                                        where, t("从监测信息系统重新导出该文件", "export the file again from the monitoring "
                                                 "system")))
            continue
        try:  # a Parquet file's schema: its header and its types in one look
            types = parquet_types(path) if fmt == "parquet" else {}
            header = list(types) if fmt == "parquet" else file_header(path, fmt)
        except SourceError as err:
            err.where = where
            problems.append(err)
            continue
        except (OSError, UnicodeError, duckdb.Error, StopIteration):
            continue
        if fmt == "parquet":  # a column summed or computed that the file types as no number: said now
            problems += _typed_columns(plan, types, where)
        missing = sorted(plan.columns - set(header))
        written = _written_in_conditions(plan, missing, ws, header)  # a name in a condition: a value unquoted?
        problems += [err for _, err in written]
        missing = [m for m in missing if m not in {name for name, _ in written}]
        if not missing:
            continue
        by_bare = {bare(h): h for h in header}
        hints = []
        for m in missing:
            close = by_bare.get(bare(m)) or next(iter(difflib.get_close_matches(m, header, n=1, cutoff=0.6)), None)
            if close is not None:
                hints.append(t("{m} 可能是文件中的 {h!r}", "{m} may be the file's {h!r}", m=m, h=close))
        more = " …" if len(header) > 20 else ""
        for sep, name_zh, name_en in (("\t", "制表符", "tabs"), (";", "分号", "semicolons")):
            if len(header) == 1 and sep in header[0]:  # Excel's 文本文件（制表符分隔）, or a European export
                hints.insert(0, t("文件似乎用{s}分隔，而不是逗号：另存为“CSV UTF-8（逗号分隔）”",
                                  "the file seems separated by {s_en}, not commas: save it as “CSV UTF-8 (comma "
                                  "delimited)”", s=name_zh, s_en=name_en))
        problems.append(MissingColumnsError(
            t("记录文件缺少列：{c_zh}（文件的表头有：{h_zh}）", "the records file lacks columns: {c_en} (its header has: {h_en})",
              c_zh="、".join(missing), c_en=", ".join(missing), h_zh="、".join(repr(h) for h in header[:20]) + more,
              h_en=", ".join(repr(h) for h in header[:20]) + more),
            Location(ws.rel(path)),
            t("{hints_zh}改正文件表头，或在 {src} 的 columns 中写明对应的表头", "{hints_en}correct the header, or map "
              "the names to the file's headers under `columns` in {src}",
              hints_zh="".join(h.render("zh") + "。" for h in hints),
              hints_en="".join(h.render("en") + ". " for h in hints), src=plan.display)))
    if problems:
        raise ErrorGroup.of(problems)


#: DuckDB types of a Parquet column that cannot be read as a number (a BOOLEAN would sum as 0/1
#: without a word; a DATE cast fails with DuckDB's own words)
_NOT_NUMBERS = ("BOOLEAN", "DATE", "TIME", "TIMESTAMP", "INTERVAL", "BLOB", "BINARY", "STRUCT", "MAP", "UUID", "BIT")


def _typed_columns(plan: SourcePlan, types: Mapping[str, str], where: Location) -> list[RevstatError]:
    out: list[RevstatError] = []
    for column in rsql.numeric_columns(plan.query_aggregates):
        ty = types.get(column, "").upper()
        if ty.startswith(_NOT_NUMBERS) or ty.endswith("]"):
            out.append(typed_column_error(column, types[column], Location(where.file, note=column)))
    return out


def _written_in_conditions(plan: SourcePlan, missing: Sequence[str], ws: Any, header: Sequence[str]
                           ) -> list[tuple[str, MissingColumnsError]]:
    """The missing columns a ``where`` compares with a column the file has, written as they are (no
    ``columns:`` name): a value without quotes (``监测类型 == 脱贫不稳定户``). Each an error at the
    condition's YAML line, said as what it likely is, with the file's headers. (A missing name
    compared with a number, ``人数 >= 3``, is a column: the file's check names its likely header.)"""
    from revstat.formula import Compare, Name, walk
    from revstat.records.engine import field_line

    mapped = set(plan.source.columns) | set(plan.source.columns.values())
    present = set(header)

    def unquoted(node: Any, m: str) -> bool:
        for c in walk(node):
            if isinstance(c, Compare) and len(c.comparators) == 1:
                sides = [c.left, c.comparators[0]]
                names = [s.id for s in sides if isinstance(s, Name)]
                if len(names) == 2 and m in names and any(n != m and n in present for n in names):
                    return True
        return False

    more = " …" if len(header) > 20 else ""
    out: list[tuple[str, MissingColumnsError]] = []
    for m in missing:
        if m in mapped:
            continue
        for index, f in enumerate(plan.source.fields):
            agg = next((a for a in plan.aggregates if plan.fields[a.alias].id == f.id), None)
            if agg is None or agg.where is None or not unquoted(agg.where, m):
                continue
            out.append((m, MissingColumnsError(
                t("字段 {id} 的条件中的 {m} 不是记录文件的列（文件的表头有：{h_zh}）",
                  "{m} in the condition of field {id} is no column of the records file (its header has: {h_en})",
                  id=f.id, m=m, h_zh="、".join(repr(h) for h in header[:20]) + more,
                  h_en=", ".join(repr(h) for h in header[:20]) + more),
                Location(plan.display, line=field_line(ws.root / plan.display, index, "where"), note=f.id),
                t("若 {m} 是一个值而不是列名，要加引号，如 … == '{m}'；若是列名，写成文件的表头或 columns 中的名称",
                  "if {m} is a value, not a column, quote it: … == '{m}'; if it is a column, write the file's header "
                  "or a name under columns", m=m))))
            break
    return out


def typed_column_error(column: str, file_type: str, where: Location) -> SourceError:
    """A column the source uses as a number that the file types otherwise (a Parquet ``DATE``,
    ``TIMESTAMP``, ``BOOLEAN``, a list …): named with its type and what was expected. Said before
    any engine runs (:func:`missing_columns`, from the Parquet schema), and by the DuckDB and Spark
    engines should a cast still fail."""
    upper = file_type.strip().upper()
    kinds = (("BOOLEAN", "是/否", "yes/no"), ("TIMESTAMP", "日期时间", "date-time"), ("DATE", "日期", "date"), ("TIME", "时间", "time"),
             ("INTERVAL", "时间间隔", "interval"), ("BLOB", "二进制", "binary"), ("BINARY", "二进制", "binary"),
             ("STRUCT", "结构", "struct"), ("MAP", "映射", "map"), ("ARRAY", "列表", "list"),
             ("LIST", "列表", "list"), ("UUID", "UUID ", "UUID"))
    kind = next(((zh, en) for prefix, zh, en in kinds if upper.startswith(prefix)),
                ("列表", "list") if upper.endswith("]") else (f"{file_type} ", file_type))
    return SourceError(
        t("列 {c} 在文件中是{k_zh}类型（{ty}），不能作数字汇总或计算（这里需要数字）",
          "column {c} is of {k_en} type ({ty}) in the file: it cannot be summed or computed as a number (a number "
          "is needed here)", c=column, k_zh=kind[0], k_en=kind[1], ty=file_type),
        where,
        t("检查 columns 的对应关系（该名称是否对应了另一列）或文件导出设置（该列应导出为数字）",
          "check the mapping under `columns` (does the name point at another column?) or how the file is "
          "exported (the column must be numeric)"))


def bad_values(plan: SourcePlan, names: Sequence[str], rows: Sequence[tuple[Any, ...]], label: str,
               paths: Sequence[Path] = (), rel: Callable[[Path], str] = str) -> None:
    """A yes/no column holding words that are neither yes nor no (已消除, 未消除), or a column
    compared with a date holding dates not written 2024-01-01 (2024/5/1): the conditions cannot
    read them, and every count over them would be silently wrong. Input errors naming the column,
    how many values, and (from the files, when given) the commonest of them."""
    pos = {n: i for i, n in enumerate(names)}
    problems: list[RevstatError] = []
    for check in plan.value_checks:
        if check.alias not in pos:
            continue
        count = sum(int(r[pos[check.alias]] or 0) for r in rows)
        if not count:
            continue
        column = check.of or ""
        located = _dates_located(plan, paths, column, rel) if check.measure == "not_date" else None
        if located is not None:  # a date column: its rows and values, from the files
            problems.append(located)
            continue
        seen = _examples_of(plan, paths, check)  # else (flags; files not at hand) the commonest values
        examples = t("，如 {e_zh}", ", e.g. {e_en}", e_zh="、".join(repr(v) for v in seen),
                     e_en=", ".join(repr(v) for v in seen)) if seen else t("", "")
        if check.measure == "not_flag":
            problems.append(SourceError(
                t("列 {c} 有 {n} 个值既不是“是”也不是“否”{e}，条件无法判断，相关户数会算错",
                  "column {c} has {n} values that are neither yes nor no{e}: the conditions cannot read them",
                  c=column, n=count, e=examples),
                Location(label, note=column),
                t("改为 是/否（也可写 1/0、Y/N、true/false），空白表示不详", "write 是/否 (or 1/0, Y/N, true/false); "
                  "leave it empty when unknown")))
        else:
            problems.append(SourceError(
                t("列 {c} 有 {n} 个日期不是 2024-01-01 这样的写法{e}，按日期比较会出错",
                  "column {c} has {n} {dates} not written like 2024-01-01{e}: comparing them as dates would go wrong",
                  c=column, n=count, e=examples, dates="date" if count == 1 else "dates"),
                Location(label, note=column), DATE_FIX))
    if problems:
        raise ErrorGroup.of(problems)


def _dates_located(plan: SourcePlan, paths: Sequence[Path], column: str, rel: Callable[[Path], str]
                   ) -> SourceError | None:
    """The first rows of a date column that are no dates, read again from the files (none when
    the files are not at hand, as on a cluster, or cannot be read)."""
    import duckdb

    if not paths or any("://" in str(p) for p in paths):
        return None
    fmt = file_format(plan, paths)
    try:
        with utf8_paths(paths, fmt) as readable:
            return _locate(column, fmt, readable, paths, rel, dates=True)
    except (duckdb.Error, OSError, UnicodeError, SourceError):
        return None


def _examples_of(plan: SourcePlan, paths: Sequence[Path], check: rsql.Aggregate, n: int = 3) -> list[str]:
    """The commonest values that ``check`` counts, read again from the files (DuckDB); none when
    the files are not at hand (Spark) or cannot be read."""
    if not paths:
        return []
    text = rsql.text_sql(check.of or "")
    cond = (f"{rsql.flag_sql(check.of or '')} IS NULL" if check.measure == "not_flag"
            else rsql.not_date_sql("v"))
    found = _ask_files(plan, paths, lambda reader: f"SELECT v FROM (SELECT {text} AS v, * FROM {reader}) "
                       f"WHERE v IS NOT NULL AND {cond} GROUP BY v ORDER BY count(*) DESC, v LIMIT {int(n)}")
    return [str(r[0]) for r in found or []]


def _ask_files(plan: SourcePlan, paths: Sequence[Path], sql_of: Callable[[str], str],
               params: Sequence[Any] = (), *, in_order: bool = False) -> list[tuple[Any, ...]] | None:
    """Rows of one DuckDB query over the record files, read again (``sql_of`` gets the table
    function that reads them; its first parameter is their list, then ``params``): the few
    lines behind a message. ``in_order``: one thread, so ``row_number() OVER ()`` is the place
    in the file. None when the files cannot be read again."""
    import duckdb

    fmt = file_format(plan, paths)
    try:
        with utf8_paths(paths, fmt) as readable:
            con = duckdb.connect(":memory:")
            try:
                if in_order:
                    con.execute("SET threads = 1")
                    con.execute("SET preserve_insertion_order = true")
                return con.execute(sql_of(rsql.reader_sql(fmt)), [list(readable), *params]).fetchall()
            finally:
                con.close()
    except (duckdb.Error, OSError, UnicodeError):
        return None


def repeated_keys(ws: Any, plan: SourcePlan, names: Sequence[str], rows: Sequence[tuple[Any, ...]],
                  label: str, paths: Sequence[Path] = ()) -> None:
    """With ``key:``, a region whose rows outnumber its distinct keys has a record twice, or one
    without a key: every count and sum of it would be off. Input errors naming the regions and
    (from the files) the repeated keys, and apart from them the rows without a key."""
    if not plan.key_column:
        return
    pos = {n: i for i, n in enumerate(names)}
    distinct = next((a.alias for a in plan.query_aggregates if a.measure == "count_distinct"
                     and a.of == plan.key_column and a.where is None), None)
    if distinct is None or "key_n" not in pos:
        return
    extra: dict[str, int] = {}
    for r in rows:
        n, d = r[pos["key_n"]] or 0, r[pos[distinct]] or 0
        code = str(r[pos["region_code"]] or "").strip(rsql.BLANKS)
        if n > d and code:  # records without a code: to_observations' error says it
            extra[code] = extra.get(code, 0) + int(n) - int(d)
    if not extra:
        return
    key = plan.source.columns.get(plan.source.key or "", plan.key_column)
    where = Location(label, note=plan.key_column)
    found = repeated_ids(plan, paths)
    if found is None:  # the files are not at hand (a cluster): both causes in one message
        raise SourceError(
            t("户级数据中有重复的{key}（或缺少{key}）的记录：{where_zh}{more}，这些户会被重复计数或无法核对",
              "records with a repeated (or missing) {key}: {where_en}{more}; they would be counted twice or "
              "cannot be checked", key=key, where_zh=_regions_zh(ws, extra), where_en=_regions_en(ws, extra),
              more=" 等" if len(extra) > 5 else ""),
            where, t("删除重复的记录、补全{key}后重新导出", "remove the duplicate records and fill in the {key}, then "
                     "export again", key=key))
    ids, blank, blank_rows = found
    csv = file_format(plan, paths) == "csv"
    problems: list[RevstatError] = []
    if ids:
        problems.append(SourceError(
            t("户级数据中有重复的{key}：{ids}（{where_zh}{more}），这些户会被重复计数",
              "records with a repeated {key}: {ids_en} ({where_en}{more}); they would be counted twice",
              key=key, ids="、".join(repr(k) for k in ids), ids_en=", ".join(repr(k) for k in ids),
              where_zh=_regions_zh(ws, extra), where_en=_regions_en(ws, extra), more=" 等" if len(extra) > 5 else ""),
            where, t("删除重复的记录后重新导出", "remove the duplicate records and export again")))
    if blank:  # CSV: by line, as every other message of a CSV (line 1 is the header); Parquet: by record
        at = _places([n + 1 if csv else n for n in blank_rows], csv, more=blank > len(blank_rows))
        problems.append(SourceError(
            t("户级数据中有 {n} 条记录缺少{key}（{at}）：无法核对这些户是否重复",
              "{n} {records} without a {key} ({at}): whether they repeat cannot be checked", n=blank,
              records="record" if blank == 1 else "records", key=key, at=at),
            where, t("补全{key}后重新导出（在 Excel/WPS 中按该列筛选“空白”即可找到）",
                     "fill in the {key} and export again (filter the column for blanks to find them)", key=key) if csv
            else t("在监测信息系统中补全{key}后重新导出", "fill in the {key} in the monitoring system and export again",
                   key=key)))
    if problems:
        raise ErrorGroup.of(problems)


def _regions_zh(ws: Any, extra: Mapping[str, int]) -> str:
    tree = ws.regions
    return "、".join(f"{tree.name(c) if c in tree else c}（{c}）多 {k} 条" for c, k in sorted(extra.items())[:5])


def _regions_en(ws: Any, extra: Mapping[str, int]) -> str:
    tree = ws.regions
    return ", ".join(f"{tree.name(c) if c in tree else c} ({c}): {k} more" for c, k in sorted(extra.items())[:5])


def keys_across_regions(plan: SourcePlan, paths: Sequence[Path], label: str, period: str | None = None,
                        n: int = 3) -> None:
    """With ``key_scope: file``: a key found in more than one region (the same 户编号 in two
    villages) is an input error naming a few of them, their regions and how many there are.
    One more pass of DuckDB over the files (the aggregation cannot see it: it groups by region)."""
    if plan.source.key_scope != "file" or not plan.key_column or not paths or any("://" in str(p) for p in paths):
        return  # (a catalog table or remote files on Spark: not read here)
    key, code = rsql.quote_ident(plan.key_column), rsql.text_sql(plan.region_column)
    where, params = f"{key} IS NOT NULL", []
    if plan.source.period_column and period:  # one file holds every period: this period's rows
        where += f" AND CAST({rsql.quote_ident(plan.source.period_column)} AS VARCHAR) = ?"
        params = [period]
    # min ≠ max: cheaper than a distinct count per key (5M keys), and the same test
    found = _ask_files(plan, paths, lambda reader: (
        f"SELECT k, lo, hi, count(*) OVER () FROM (SELECT CAST({key} AS VARCHAR) AS k, min({code}) AS lo, "
        f"max({code}) AS hi FROM {reader} WHERE {where} GROUP BY 1 HAVING min({code}) <> max({code})) "
        f"ORDER BY k LIMIT {int(n)}"), params)
    if found is None:  # the aggregation read these files a moment ago: say the check did not run
        raise SourceError(t("无法检查{key}是否跨村重复：文件读取失败", "could not check {key} across villages: the files "
                            "could not be read again", key=plan.key_column), Location(label, note=plan.key_column),
                          t("重新运行；若仍失败，去掉来源中的 key_scope: file", "run again; if it fails again, remove "
                            "key_scope: file from the source"))
    if not found:
        return
    name = plan.source.columns.get(plan.source.key or "", plan.key_column)
    shown = "；".join(f"{k!r}（{lo}、{hi}）" for k, lo, hi, _ in found)  # two of its villages
    shown_en = "; ".join(f"{k!r} ({lo}, {hi})" for k, lo, hi, _ in found)
    total = found[0][3]
    raise SourceError(
        t("共 {n} 个{key}出现在不止一个村：{shown}{more}；同一户会在两个村各计一次",
          "{n} values of {key} are in more than one village: {shown_en}{more_en}; such a household is counted "
          "in each", n=total, key=name, shown=shown, shown_en=shown_en,
          more="等" if total > len(found) else "", more_en=", …" if total > len(found) else ""),
        Location(label, note=plan.key_column),
        t("核实这些户的村代码后重新导出；若{key}本就按村编制、可在村间重复，删去来源中的 key_scope: file",
          "check those households' village codes and export again; if {key} is numbered per village, remove "
          "key_scope: file from the source", key=name))


def repeated_ids(plan: SourcePlan, paths: Sequence[Path], n: int = 3) -> tuple[list[str], int, list[int]] | None:
    """Read again from the files (DuckDB, on this error only): some keys that occur more than once
    in a village, how many records have no key (empty or blank), and the first of those by their
    place in the file (1 = the first record). None when the files are not at hand."""
    if not paths or not plan.key_column or any("://" in str(p) for p in paths):
        return None
    key, code = rsql.quote_ident(plan.key_column), rsql.text_sql(plan.region_column)
    text = f"NULLIF(trim(CAST({key} AS VARCHAR), '{rsql.BLANKS}'), '')"
    dups = _ask_files(plan, paths, lambda reader: (
        f"SELECT CAST({key} AS VARCHAR), count(*) FROM {reader} WHERE {text} IS NOT NULL "
        f"GROUP BY CAST({key} AS VARCHAR), {code} HAVING count(*) > 1 ORDER BY 2 DESC, 1 LIMIT {int(n)}"))
    # a CSV row empty in every column read is no record (rsql.build_query): not one without a key
    some = (f"coalesce({', '.join(rsql.quote_ident(c) for c in sorted(plan.columns))}) IS NOT NULL"
            if file_format(plan, paths) == "csv" else "TRUE")
    blanks = _ask_files(plan, paths, lambda reader: (
        f"SELECT r, count(*) OVER () FROM (SELECT row_number() OVER () AS r, {text} AS k, {some} AS has_data "
        f"FROM {reader}) WHERE k IS NULL AND has_data ORDER BY r LIMIT {int(n)}"), in_order=True)
    if dups is None or blanks is None:
        return None
    return [str(k) for k, _ in dups], int(blanks[0][1]) if blanks else 0, [int(r) for r, _ in blanks]
