"""`revstat explain`: how one indicator (or field) got its value at one region — terms, children,
cells or household records (a few listed, all of them written with --rows-out)."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any

import typer

from revstat.cli import common
from revstat.i18n import get_lang, name_in, t, unit_text

MAX_CELLS = 12
ROWS = 5  # household rows listed per records field (--rows)
MAX_SUGGESTIONS = 5


def register(app: typer.Typer) -> None:
    app.command("explain")(explain)


def explain(
    indicator: str = typer.Argument(..., help="指标或字段的 id 或名称 / indicator or field: id or name"),
    region: str = typer.Option(..., "--region", "-r", help="地区代码或名称 / region code or name"),
    period: str = typer.Option(..., "--period", "-p", help="报告期，如 2024Q4 / period"),
    workspace: Path = typer.Option(Path("."), "--workspace", "-w", help="工作区文件夹 / workspace folder"),
    rows: int = typer.Option(ROWS, "--rows", help="户级数据字段列出的明细户行数（0 不列出）/ household rows listed per "
                             "records field (0: none)"),
    rows_out: Path | None = typer.Option(None, "--rows-out", help="把数值背后的全部明细户写入该 CSV 文件 / write every "
                                         "household row behind the value to this CSV file"),
) -> None:
    """说明一个指标在某地区的数值从何而来：公式、各项的值、由哪些下级汇总、来自哪些单元格或户级数据。

    Show the formula, the value of each term at the region, the child regions a rolled-up
    term was summed from, and the cells (file › sheet › cell) or household records behind it.
    For a value counted from household records, the first --rows rows are listed, and
    --rows-out FILE.csv writes all of them (UTF-8 with BOM, for Excel/WPS).

    Example: revstat explain 农村卫生厕所普及率 --region 东山县 --period 2024Q4 --workspace sample_data

    Households: revstat explain 脱贫不稳定户数 -r 东山县 -p 2024Q4 -w sample_data --rows-out 明细.csv
    """
    with common.guarded():
        from revstat.definitions import load_indicators
        from revstat.errors import ErrorGroup
        from revstat.periods import parse_period
        from revstat.pipeline import compile_workspace
        from revstat.pipeline import explain as explain_value
        from revstat.workspace import load_workspace

        _check_rows(rows)
        period = str(parse_period(period))
        ws = load_workspace(workspace)
        d, defs = find_target(ws, load_indicators(ws), indicator)
        code = ws.region_option(region)
        export = _export_field(ws, d, defs, rows_out, period) if rows_out is not None else None
        compiled = compile_workspace(ws, period, defs=defs)
        if compiled.read_errors:
            errors = list(compiled.read_errors)
            common.show_error(ErrorGroup.of(errors))
            raise typer.Exit(common.EXIT_INPUT)
        if d.id not in {x.id for x in compiled.indicators}:
            missing = next((s.missing for s in compiled.skipped if s.indicator.id == d.id), ())
            common.err_console().print(t("指标 {n} 未计算：工作区没有字段 {f}", "{n} was not computed: the workspace lacks {f}",
                                         n=d.name, f=", ".join(missing)).render(), markup=False)
            raise typer.Exit(common.EXIT_INPUT)
        show(explain_value(compiled, d, code), ws, rows=rows)
        if export is not None and rows_out is not None:
            _write_rows(ws, export, code, period, rows_out)


def _num(value: Any) -> str:
    from revstat.writers.safe import csv_value

    text = csv_value(value)
    return text if text else "—"


#: The id of the stand-in indicator that explains a field ends so (an id a definition cannot clash with).
FIELD_SUFFIX = "__field"


def find_target(ws: Any, defs: list[Any], text: str) -> tuple[Any, list[Any]]:
    """What ``explain`` was asked about, and the definitions to compile: an indicator (by id,
    name, a unique part of its name, or its English name), else a field as an indicator of it.
    Neither is an error suggesting the closest indicators and fields."""
    from revstat.definitions import find_indicator
    from revstat.errors import DefinitionError

    try:
        return find_indicator(defs, text), defs
    except DefinitionError:
        d = _by_name_en(defs, text)
        if d is not None:
            return d, defs
        d = field_as_indicator(ws, text)  # a field (卫生厕所户数) explained like an indicator of it
        if d is not None:
            return d, [*defs, d]
        if sum(text.strip() in x.name for x in defs) > 1:  # several indicators' names hold it: as said
            raise
        raise _unknown_name(ws, defs, text) from None


def _by_name_en(items: Any, text: str) -> Any:
    key = text.strip().casefold()
    return next((x for x in items if x.name_en and x.name_en.strip().casefold() == key), None) if key else None


def _base_name(name: str) -> str:
    """A name without its parenthesised qualifier: 监测户数（户级数据） → 监测户数."""
    return re.sub(r"\s*[（(][^（）()]*[）)]\s*$", "", name.strip())


def suggestions(ws: Any, defs: list[Any], text: str, n: int = MAX_SUGGESTIONS) -> list[tuple[str, Any]]:
    """The indicators and fields (kind, definition) closest to ``text``: those whose name without
    its qualifier is ``text`` (监测户数 → 监测户数（户级数据）) first, then those whose name or id
    contains it, then the close ones by spelling; English names too under ``--lang en``."""
    text = text.strip()
    key = text.casefold()
    items = [("indicator", d) for d in defs] + [("field", f) for f in ws.fields().values()]
    english = get_lang() == "en"
    ranked: list[tuple[int, float, int, tuple[str, Any]]] = []
    for i, (kind, item) in enumerate(items):
        names = [item.id, item.name] + ([item.name_en] if english and item.name_en else [])
        folded = [x.casefold() for x in names]
        ratio = max(difflib.SequenceMatcher(None, key, x).ratio() for x in folded)
        if any(_base_name(x) == key for x in folded[1:]):
            rank = 0
        elif any(key in x for x in folded):
            rank = 1
        elif ratio >= 0.4:
            rank = 2
        else:
            continue
        ranked.append((rank, -ratio, i, (kind, item)))
    return [hit for *_, hit in sorted(ranked)[:n]] if key else []


def _unknown_name(ws: Any, defs: list[Any], text: str) -> Exception:
    from revstat.errors import DefinitionError

    close = suggestions(ws, defs, text)
    lists = t("`revstat indicators` 列出全部指标，字段见工作区 sources/*.yaml 的 fields",
              "`revstat indicators` lists the indicators; the fields are under fields: in the workspace's sources/*.yaml")
    if close:
        zh = "、".join(f"{'指标' if k == 'indicator' else '字段'} {_typed(k, x, defs, 'zh')}" for k, x in close)
        en = ", ".join(f"{k} {_typed(k, x, defs, 'en')}" for k, x in close)
        fix = t("可能是：{c}；{more}", "perhaps: {c_en}; {more}", c=zh, c_en=en, more=lists)
    else:
        fix = t("用指标或字段的 id 或名称；{more}", "use the id or name of an indicator or field; {more}", more=lists)
    return DefinitionError(t("未知的指标或字段 {x!r}", "unknown indicator or field {x!r}", x=text.strip()), None, fix)


def _typed(kind: str, item: Any, defs: list[Any], lang: str) -> str:
    """What to type for a suggestion: its name (English under ``--lang en``), or the id of a field
    named like an indicator (the name finds the indicator: 累计纳入监测对象户数 is both)."""
    name = name_in(item, lang)
    if kind == "field" and name.casefold() in {name_in(d, lang).casefold() for d in defs}:
        return f"{item.id} ({name})" if lang == "en" else f"{item.id}（{name}）"
    return name


def field_as_indicator(ws: Any, text: str) -> Any:
    """A field given by id, name or English name, as an indicator whose formula is the field (so
    its value, its children and its cells are shown like an indicator's); ``None`` when no field
    matches."""
    from revstat.definitions import IndicatorDef

    text = text.strip()
    fields = ws.fields()
    f = fields.get(text) or next((x for x in fields.values() if x.name == text), None) or \
        _by_name_en(fields.values(), text)
    if f is None:
        return None
    return IndicatorDef(id=f"{f.id}{FIELD_SUFFIX}", name=f.name, name_en=f.name_en, unit=f.unit, formula=f.id,
                        decimals=2 if f.unit in ("万元", "亿元", "%", "公里", "千米", "公顷") else 0, change="growth")


def show(ex: Any, ws: Any = None, rows: int = ROWS) -> None:
    console = common.out_console()
    d = ex.indicator
    r = ex.result or {}
    name = name_in(d)
    field = d.id.endswith(FIELD_SUFFIX)
    ident = t("字段 {f}", "field {f}", f=d.formula).render() if field else d.id
    console.print(t("{name}（{id}） — {region} {code} — {p}", "{name} ({id}) — {region} {code} — {p}", name=name, id=ident,
                    region=ex.region_name, code=ex.region_code, p=ex.period).render(), markup=False)
    if not field:
        console.print(t("  公式：{f}", "  formula: {f}", f=d.formula).render(), markup=False)
    if d.basis:
        console.print(t("  口径：{b}", "  basis: {b_en}", b=d.basis, b_en=d.basis_en or d.basis).render(), markup=False)
    shown = f"{r.get('display')} {unit_text(d.unit)}".rstrip() if r.get("display") else "—"
    console.print(t("  数值：{v}（精确值 {x}）", "  value: {v} (exact {x})", v=shown, x=_num(r.get("value"))).render(),
                  markup=False)
    if r.get("numerator") is not None:
        console.print(t("  分子 {n} ÷ 分母 {m}", "  numerator {n} ÷ denominator {m}",
                        n=_num(r.get("numerator")), m=_num(r.get("denominator"))).render(), markup=False)
    if r.get("previous") is not None:
        from revstat.numbers import format_fixed

        prev = format_fixed(r.get("previous"), d.decimals, ws.config.rounding if ws is not None else "half_up")
        from revstat.textfmt import like_for_like

        basis = t("（可比口径，见说明）", " (like for like, see the note)") if like_for_like(str(r.get("note") or "")) \
            else t("", "")
        console.print(t("  上年同期：{p}（精确值 {x}）；变化 {c}{b}", "  same period last year: {p} (exact {x}); change {c}{b}",
                        p=f"{prev or '—'} {unit_text(d.unit)}".rstrip(), x=_num(r.get("previous")),
                        c=f"{r.get('change_display') or '—'} {unit_text(r.get('change_unit'))}".rstrip(),
                        b=basis).render(), markup=False)
    if r.get("target"):
        met = {True: t("达标", "met"), False: t("未达标", "missed"), None: t("无法判断", "unknown")}[r.get("target_met")]
        console.print(t("  目标：{x}（{m}）", "  target: {x} ({m})", x=r["target"], m=met.render()).render(), markup=False)
    if r.get("note"):
        console.print(t("  说明：{n}", "  note: {n}", n=r["note"]).render(), markup=False)
    for term in ex.terms:
        console.print()
        kind = t("指标", "indicator") if term.kind == "indicator" else t("字段", "field")
        origin = {"source": t("报表填报", "reported"), "records": t("由户级数据汇总", "from household records"),
                  "rollup": t("由下级汇总", "rolled up from below"), None: t("缺数", "missing")}.get(term.origin)
        extra = t("，{o}", ", {o}", o=origin).render() if term.kind == "field" and origin else ""
        inc = t("，下级不全", ", children incomplete").render() if term.incomplete else ""
        head = t("{n}（{k}：{label}）", "{n} ({k}: {label}) ", n=term.name, k=kind, label=term.label).render()
        console.print(f"{head}[{term.period}] = {_num(term.value)}{extra}{inc}", markup=False)
        if term.formula:
            console.print(t("    公式：{f}", "    formula: {f}", f=term.formula).render(), markup=False)
        if term.children:
            console.print(t("    由 {n} 个下级地区汇总：", "    summed from {n} child regions:", n=len(term.children)).render(),
                          markup=False)
            if term.weight:
                console.print(t("    （加权平均，权重为 {w}）", "    (weighted mean, weight {w})", w=term.weight).render(),
                              markup=False)
            weights = term.weights or [None] * len(term.children)
            for (code, name, value), w in zip(term.children, weights, strict=True):
                extra = t("（权重 {w}）", " (weight {w})", w=_num(w)).render() if term.weight else ""
                console.print(f"      {name} {code}: {_num(value)}{extra}", markup=False)
        if term.cells:
            console.print(t("    来源单元格（{n} 个）：", "    source cells ({n}):", n=len(term.cells)).render(), markup=False)
            for loc in term.cells[:MAX_CELLS]:
                console.print(f"      {loc}", markup=False)
            if len(term.cells) > MAX_CELLS:
                console.print(t("      …… 另有 {n} 个", "      … and {n} more", n=len(term.cells) - MAX_CELLS).render(),
                              markup=False)
        for origin in term.records:
            console.print(records_line(origin), markup=False)
        if rows and (term.origin == "records" or (term.kind == "field" and term.origin == "rollup"
                                                  and _is_records(ws, term.name))):
            _show_households(ws, term, ex.region_code, rows)


#: Regions a records source fed, in English (one, several)
_LEVELS_EN = {"village": ("village", "villages"), "township": ("township", "townships"),
              "county": ("county", "counties"), "city": ("city", "cities"), "province": ("province", "provinces")}


def records_line(origin: Any) -> str:
    """One line for the household records behind a term: the file and the aggregation once, and
    how many regions (villages) and, for a count, records it covers."""
    from revstat.config import LEVEL_ZH

    zh_noun = LEVEL_ZH.get(origin.level or "", "地区")
    one, many = _LEVELS_EN.get(origin.level or "", ("region", "regions"))
    zh = f"{origin.regions} 个{zh_noun}"
    en = f"{origin.regions} {one if origin.regions == 1 else many}"
    if origin.rows is not None:
        zh += f"，{origin.rows} 行"
        en += f", {origin.rows} {'row' if origin.rows == 1 else 'rows'}"
    what = " › ".join(x for x in (origin.file, origin.aggregation) if x)
    return t("    来源：户级数据 {w}（{c}）", "    source: household records {w} ({c_en})", w=what, c=zh, c_en=en).render()


def _is_records(ws: Any, field: str) -> bool:
    source = ws.field_sources().get(field) if ws is not None else None
    return source is not None and source.kind == "records"


def _show_households(ws: Any, term: Any, region: str, n: int = ROWS) -> None:
    """The first ``n`` household rows a records field counted (the cells behind a count)."""
    from revstat.records import sample_rows

    console = common.out_console()
    rows = sample_rows(ws, term.name, region, term.period, n=n + 1)  # one more: are there more than n?
    if rows is None or not len(rows):
        return
    more = len(rows) > n
    rows = rows.head(n)
    head = (t("    明细户（共 {n} 行）：", "    household rows (all {n}):", n=len(rows)) if not more else
            t("    明细户（前 {n} 行；全部明细用 --rows-out 文件.csv 导出）：",
              "    household rows (first {n} shown; --rows-out FILE.csv writes them all):", n=len(rows)))
    console.print(head.render(), markup=False)
    console.print("      " + " | ".join(str(c) for c in rows.columns), markup=False)
    for rec in rows.itertuples(index=False, name=None):
        console.print("      " + " | ".join("" if v is None else str(v) for v in rec), markup=False)


def _check_rows(rows: int) -> None:
    from revstat.errors import ConfigError
    from revstat.model import Location

    if rows < 0:
        raise ConfigError(t("--rows 不能是负数：{n}", "--rows cannot be negative: {n}", n=rows), Location(f"--rows {rows}"),
                          t("写 0 或正整数（0 表示不列出明细户）；全部明细用 --rows-out 文件.csv",
                            "give 0 or a positive number (0 lists no rows); --rows-out FILE.csv writes all of them"))


def _export_field(ws: Any, d: Any, defs: list[Any], target: Path, period: str) -> str:
    """The records field whose households ``--rows-out`` writes: the one records field of the
    formula (checked before the compile, so a wrong option costs nothing)."""
    import fnmatch

    from revstat.errors import ConfigError
    from revstat.formula import Name, walk
    from revstat.model import Location

    where = Location(f"--rows-out {target}")
    indicators = {x.id for x in defs}
    names = dict.fromkeys(n.id for n in walk(d.parsed.tree) if isinstance(n, Name))
    fields = [n for n in names if n not in indicators and _is_records(ws, n)]
    name = name_in(d)
    if not fields:
        raise ConfigError(t("{n} 不是由户级数据汇总的，没有明细户可导出", "{n} is not counted from household records: "
                            "there are no household rows to write", n=name), where,
                          t("--rows-out 用于由户级数据（kind: records 来源）汇总的指标或字段；去掉该选项",
                            "--rows-out is for indicators and fields counted from household records (kind: records "
                            "sources); leave the option out"))
    if len(fields) > 1:
        labels = {f.id: f for f in ws.fields().values()}
        listed = [f"{labels[f].name}（{f}）" for f in fields]
        listed_en = [f"{name_in(labels[f], 'en')} ({f})" for f in fields]
        raise ConfigError(t("{n} 由 {k} 个户级数据字段算出（{f}），--rows-out 一次只导出一个字段的明细户",
                            "{n} is computed from {k} household-records fields ({f_en}); --rows-out writes the rows of "
                            "one field at a time", n=name, k=len(fields), f="、".join(listed), f_en=", ".join(listed_en)),
                          where, t("逐个字段导出，如 revstat explain {f} --region … --period {p} --rows-out {f}.csv",
                                   "export one field at a time, e.g. revstat explain {f} --region … --period {p} "
                                   "--rows-out {f}.csv", f=fields[0], p=period))
    if target.is_dir():
        raise ConfigError(t("--rows-out 指向一个文件夹：{p}", "--rows-out names a folder: {p}", p=str(target)), where,
                          t("写一个 CSV 文件名，如 {p}/明细户.csv", "give a CSV file name, e.g. {p}/households.csv",
                            p=str(target)))
    if target.suffix.lower() != ".csv":  # never over a workbook, a Parquet export or a definition
        raise ConfigError(t("--rows-out 写出的是 CSV 文件，文件名应以 .csv 结尾：{p}", "--rows-out writes a CSV file: "
                            "its name must end in .csv: {p}", p=str(target)), where,
                          t("如 out/{p}/明细户.csv", "e.g. out/{p}/households.csv", p=period))
    folder = target.resolve().parent  # said now, not after the explanation has been printed
    while not folder.exists() and folder != folder.parent:  # (missing folders are made when writing)
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(t("--rows-out 的文件无法写入：{d} 不可写", "--rows-out cannot be written: {d} is not "
                            "writable", d=str(folder)), where,
                          t("换一个有写入权限的位置，如 out/{p}/明细户.csv", "choose a place you can write to, e.g. "
                            "out/{p}/households.csv", p=period))
    root = ws.root.resolve()
    resolved = target.resolve()
    if resolved.is_relative_to(root):
        rel = resolved.relative_to(root).as_posix().casefold()
        for s in ws.sources:  # any period's: a county's workbook or export would be replaced, or read next time
            if "://" not in s.files and fnmatch.fnmatchcase(rel, s.files.replace("{period}", "*").casefold()):
                raise ConfigError(
                    t("--rows-out 的文件 {p} 在报表或户级数据的位置（来源 {s} 的 files: {f}）：会覆盖报送的数据，"
                      "下次汇总也会把它当作数据读入",
                      "--rows-out {p} is where the workbooks or household records are read from (files: {f} of "
                      "source {s}): it would replace the data sent, and the next compile would read it",
                      p=str(target), s=s.id, f=s.files), where,
                    t("写到 data/ 以外，如 out/{p}/明细户.csv", "write it outside data/, e.g. out/{p}/households.csv",
                      p=period))
    return fields[0]


def _write_rows(ws: Any, field: str, region: str, period: str, target: Path) -> None:
    from revstat.records import sample_rows

    written = sample_rows(ws, field, region, period, n=None, out=target)
    common.err_console().print(t("已写入 {p}：{n} 行明细户（{f}，{r}，{period}）",
                                 "wrote {p}: {n} household rows ({f}, {r}, {period})", p=str(target), n=written, f=field,
                                 r=ws.regions.name(region), period=period).render(), markup=False)
