"""`revstat compile`: read, roll up and compute one period; write out/<period>/."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path, PurePath
from typing import Any

import typer

from revstat.cli import common
from revstat.cli.cmd_extract import count_files
from revstat.i18n import Text, join, name_in, t, unit_text


def register(app: typer.Typer) -> None:
    app.command("compile")(compile_)


def compile_(
    workspace: Path = typer.Argument(..., help="工作区文件夹 / workspace folder"),
    period: str = typer.Option(..., "--period", "-p", help="报告期，如 2024Q4 / period, e.g. 2024Q4"),
    strict: bool = typer.Option(False, "--strict", help="有缺数、跳过的指标或审核错误时退出码为 1 / exit 1 on incomplete "
                                                        "figures, skipped indicators or check errors"),
    engine: str = typer.Option("auto", "--engine", help="户级数据的汇总引擎 auto|duckdb|pandas|spark / engine for records"),
    spark_master: str = typer.Option(None, "--spark-master", help="Spark：local[N]、spark://…、yarn 或 Spark Connect 的 "
                                                                  "sc://主机:端口 / Spark master or sc:// URL (docs/scale.md)"),
) -> None:
    """汇总计算一期的全部指标，写出 out/<期>/indicators.csv|json|xlsx 和 findings.json。

    Read the period's workbooks, roll every field up the region hierarchy, compute every
    indicator at every level and write the outputs. Input errors are all shown (错误/位置/处理)
    and nothing is replaced (exit 2).

    Example: revstat compile sample_data --period 2024Q4

    Records on Spark: revstat compile ws --period 2024Q4 --engine spark --spark-master 'local[4]'
    """
    with common.guarded(), fewer_collections():
        from revstat.definitions import load_indicators
        from revstat.errors import ErrorGroup
        from revstat.periods import parse_period
        from revstat.pipeline import compile_workspace, read_periods, write_outputs
        from revstat.workspace import load_workspace

        if engine not in ("auto", "duckdb", "pandas", "spark"):
            from revstat.errors import ConfigError

            raise ConfigError(t("未知的引擎 {e}", "unknown engine {e}", e=engine), None,
                              t("--engine 取 auto、duckdb、pandas 或 spark", "--engine is auto, duckdb, pandas or spark"))
        period = str(parse_period(period))
        ws = load_workspace(workspace)
        if spark_master:  # the command line wins over revstat.yaml's spark_master
            ws.config = ws.config.model_copy(update={"spark_master": spark_master})
        defs = load_indicators(ws)
        periods = read_periods(ws, period, defs)
        from revstat.sources.read import start_prefetch

        ahead = start_prefetch(ws, periods)  # workbooks parsed on another core while pandas is imported
        try:
            with progress_bar(count_files(ws, periods)) as step:
                compiled = compile_workspace(ws, period, progress=step, engine=engine, defs=defs, prefetched=ahead)
        finally:
            ahead.close()
        if compiled.read_errors:
            errors = list(compiled.read_errors)
            common.show_error(ErrorGroup.of(errors))
            common.err_console().print(t(
                "\n有输入错误，未写出结果（out/{p}/ 保持不变）。改正后重新运行。",
                "\nInput errors: nothing was written (out/{p}/ is unchanged). Correct them and run again.",
                p=period).render(), markup=False)
            raise typer.Exit(common.EXIT_INPUT)
        rules = checked_rules_of(compiled)  # a broken rule file stops here, before anything is written
        target = write_outputs(compiled, checks=lambda c: run_checks_into(c, rules), fork=True)  # beside the CSV/JSON
        starred = show_headlines(compiled)
        show_footer(compiled, target, starred)
        if strict:
            reasons = strict_failures(compiled)
            if reasons:
                console = common.err_console()
                console.print(t("--strict：未通过（退出码 1），原因：", "--strict: failed (exit 1) because:").render(), markup=False)
                for reason in reasons:
                    console.print(f"  - {reason.render()}", markup=False)
                raise typer.Exit(common.EXIT_FINDINGS)
        elif unwaived_errors(compiled):  # data that fails checks: outputs written, exit 1 says so
            common.err_console().print(t(
                "有强制性审核错误（退出码 1）：结果已写出，相关数字须更正后才能使用",
                "blocking check errors (exit 1): the outputs are written, but the figures involved must be corrected "
                "before use").render(), markup=False)
            raise typer.Exit(common.EXIT_FINDINGS)


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the garbage collector's full passes less often while compiling: a city quarter
    allocates millions of short-lived objects (cells, Decimals, strings) and almost no reference
    cycles, so the default thresholds spend ~5% of the run re-scanning live data for nothing.
    Reference counting still frees everything as usual; the old thresholds are restored after."""
    import gc

    old = gc.get_threshold()
    gc.set_threshold(max(old[0], 50_000), max(old[1], 20), max(old[2], 50))
    try:
        yield
    finally:
        gc.set_threshold(*old)


def checked_rules_of(compiled: Any) -> Any:
    """The rules the checks will run (see :func:`revstat.check_run.checked_rules`); None when
    the checks are not installed."""
    try:
        from revstat.check_run import checked_rules
    except ImportError:
        return None
    return checked_rules(compiled.workspace, list(compiled.indicators or []))


def run_checks_into(compiled: Any, rules: Any = None) -> None:
    """The place where the consistency checks fill ``compiled.findings`` (findings.json).

    Uses ``revstat.check_run.check_workspace`` (rules of checks/*.yaml and the standard set,
    waivers applied) on the tables just compiled; an unusable rule file is an input error
    (exit 2) like any other. Findings never change the exit code unless ``--strict``."""
    try:
        from revstat.check_run import check_workspace
    except ImportError:
        return
    import datetime as dt

    report = check_workspace(compiled.workspace, compiled.period, today=dt.date.today(), compiled=compiled, rules=rules)
    compiled.findings = list(getattr(report, "issues", None) or getattr(report, "findings", None) or [])
    compiled.check_periods = list(getattr(report, "compared", None) or [])


def unwaived_errors(compiled: Any) -> int:
    """The check errors (强制性) of a compile that no waiver covers."""
    return sum(1 for f in compiled.findings
               if getattr(getattr(f, "severity", None), "value", None) == "error" and not getattr(f, "waived", None))


def strict_failures(compiled: Any) -> list[Text]:
    """Why ``--strict`` fails, one reason per condition (empty: it passes): figures of the report
    region that are incomplete (a lower-level region missing), indicators skipped for want of
    fields, unwaived check errors."""
    results = compiled.results
    region = compiled.workspace.config.region
    top = results[results["region_code"] == region]
    by_id = {d.id: d for d in compiled.indicators}
    name = compiled.workspace.regions.name(region)

    def listed(ids: Any) -> dict[str, Any]:
        ids = [str(i) for i in ids]
        names = [by_id[i].name if i in by_id else i for i in ids]
        more = len(ids) > 5
        return {"region": name, "n": len(ids), "names": "、".join(names[:5]) + ("等" if more else ""),
                "names_en": ", ".join(ids[:5]) + (", …" if more else "")}

    reasons: list[Text] = []
    incomplete = top[top["incomplete"].astype(bool)]
    if len(incomplete):
        reasons.append(t("{region}有 {n} 个指标合计不完整（下级地区缺数）：{names}；见 indicators.csv 的 note 列",
                         "{n} {indicators} of {region} {are} incomplete (lower-level regions missing): {names_en}; "
                         "see the note column of indicators.csv", **listed(incomplete["indicator"]),
                         indicators="indicator" if len(incomplete) == 1 else "indicators",
                         are="is" if len(incomplete) == 1 else "are"))
    unlike = top[top["previous_incomplete"].astype(bool)]
    if len(unlike):
        reasons.append(t("{region}有 {n} 个指标的同比以不完整的上年同期数为基数：{names}；见 indicators.csv 的 note 列",
                         "{n} {changes} of {region} {are} against an incomplete last-year total: {names_en}; "
                         "see the note column of indicators.csv", **listed(unlike["indicator"]),
                         changes="change" if len(unlike) == 1 else "changes", are="is" if len(unlike) == 1 else "are"))
    if any(s.why == "no_file" for s in compiled.skipped):
        reasons.append(t("户级数据在本期没有文件（{p}），跳过了 {n} 个指标", "no household records file for the period "
                         "({p}): {n} indicators skipped", p="、".join(compiled.records_missing),
                         n=sum(s.why == "no_file" for s in compiled.skipped)))
    if compiled.records_missing_before:
        reasons.append(t("户级数据在上年同期没有文件（{p}），相关指标没有同比", "no household records file for the same "
                         "period last year ({p}): those indicators have no year-on-year change",
                         p="、".join(compiled.records_missing_before)))
    if any(s.why != "no_file" for s in compiled.skipped):
        reasons.append(t("跳过了 {n} 个指标（工作区没有所需字段）", "indicators skipped (fields not in the workspace): {n}",
                         n=sum(s.why != "no_file" for s in compiled.skipped)))
    errors = unwaived_errors(compiled)
    if errors:
        reasons.append(t("审核发现 {n} 条错误（强制性）；`revstat check` 显示详情",
                         "check errors (blocking): {n}; `revstat check` shows them", n=errors))
    return reasons


class progress_bar:  # noqa: N801 - used as a context manager
    """A rich progress bar on stderr (one step per workbook); silent when not a terminal."""

    def __init__(self, total: int) -> None:
        console = common.err_console()
        self.progress = None
        if console.is_terminal:  # rich.progress is only imported for a bar someone will see
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("{task.fields[file]}"), console=console, transient=True)
        self.total = total

    def __enter__(self) -> Any:
        if self.progress is None:
            return lambda name: None
        self.progress.__enter__()
        task = self.progress.add_task(t("读取", "reading").render(), total=self.total or None, file="")

        def step(name: str) -> None:
            self.progress.update(task, advance=1, file=str(name))

        return step

    def __exit__(self, *exc: Any) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)


def show_headlines(compiled: Any) -> bool:
    """A short table of the headline indicators at the report region; targets missed marked, and
    figures whose total is incomplete starred. Returns whether any row was starred."""
    from rich.table import Table

    from revstat.textfmt import like_for_like

    region = compiled.workspace.config.region
    results = compiled.results
    rows = results[results["region_code"] == region]
    heads = [d for d in compiled.indicators if d.headline] or compiled.indicators[:8]
    by_id = {r["indicator"]: r for r in rows.to_dict("records")}
    starred = False
    name = compiled.workspace.regions.name(region)
    table = Table(title=f"{name} {compiled.period}", title_justify="left")
    for col in (t("指标", "indicator"), t("数值", "value"), t("同比", "vs last year"), t("目标", "target")):
        table.add_column(col.render(), justify="left" if col.zh == "指标" else "right")
    for d in heads:
        r = by_id.get(d.id)
        if r is None:
            continue
        value = f"{r['display']} {unit_text(d.unit)}".rstrip() if r["display"] else f"— ({r['note'] or ''})"
        change = f"{r['change_display']} {unit_text(r['change_unit'])}".rstrip() if r["change_display"] else ""
        if change and (r.get("previous_incomplete") or like_for_like(str(r.get("note") or ""))):  # either year
            change += " *"
            starred = True
        mark = ""
        if r["target_met"] is False:
            mark = "✗ " + (t("未达标", "missed").render())
        elif r["target_met"] is True:
            mark = "✓"
        target = f"{r['target']} {mark}".strip() if r["target"] else ""
        label = name_in(d)
        if r["incomplete"]:
            label += " *"
            starred = True
        table.add_row(label, value, change, f"[red]{target}[/red]" if r["target_met"] is False else target)
    common.out_console().print(table)
    return starred


def _records_counted(compiled: Any) -> tuple[str, Any, str, str, str] | None:
    """(name, total, unit, files, name in the run's language) of the period's household records: the sum over the villages of a
    records field that counts every record (``count`` or ``count_distinct`` without ``where``)."""
    obs = compiled.observations
    if obs is None or not len(obs):
        return None
    for source in compiled.workspace.sources:
        if source.kind != "records":
            continue
        field = next((f for f in source.fields if f.measure in ("count", "count_distinct") and not f.where), None)
        if field is None:
            continue
        rows = obs[(obs["field"] == field.id) & (obs["period"] == compiled.period) & (obs["origin"] == "records")]
        if len(rows):
            files = join(sorted({str(f) for f in rows["file"]})[:3])
            return (field.name or field.id, sum(v for v in rows["value"] if v is not None), field.unit or "", files,
                    name_in(field))
    return None


def _shown(path: Path) -> str:
    """Where the outputs are, as the user can open it from where they ran the command: relative
    to the current folder when inside it (sample_data/out/2024Q4), else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path.resolve())


def show_footer(compiled: Any, target: Path, starred: bool = False) -> None:
    console = common.out_console()
    results = compiled.results
    summary = compiled.read_summary
    if summary is not None and getattr(summary, "files", None) is not None:
        also = compiled.check_periods
        console.print(t("读取 {f} 个文件、{r} 行数据（{p}{also}）", "read {f} files, {r} data rows ({p}{also_en})",
                        f=summary.files, r=summary.rows, p=join(compiled.periods),
                        also=f"；审核另读取 {join(also)}" if also else "",
                        also_en=f"; the checks also read {join(also)}" if also else "").render(), markup=False)
    counted = _records_counted(compiled)
    if counted is not None:  # the household records read, as the workbooks' rows are counted above
        console.print(t("户级数据：{name}{n}{unit}（{files}）", "household records: {n} {unit} ({field}; {files})",
                        name=counted[0], field=counted[4], n=counted[1], unit=unit_text(counted[2]),
                        files=counted[3]).render(),
                      markup=False)
    for note in (getattr(compiled, "records_notes", None) or [])[:5]:  # records left out, a value no record has
        console.print(note.message.render(), markup=False)
    unmatched = list(getattr(summary, "unmatched", None) or []) if summary is not None else []
    excel = [f for f in unmatched if PurePath(f).suffix.lower().startswith(".xls")]
    other = [f for f in unmatched if f not in excel]

    def few(files: list[str]) -> str:
        return join(files[:5]) + (" …" if len(files) > 5 else "")

    if excel:  # a county's .xls beside the others' .xlsx: a wider pattern reads it
        console.print(t("未读取：{f}（没有来源的 files 模式与它相符；若是本期报表，把来源的 files 改为如 "
                        "data/{{period}}/*.xls*，或另存为 .xlsx）",
                        "not read: {f} (no source's files pattern matches it; if it is one of this period's "
                        "workbooks, change the sources' files to e.g. data/{{period}}/*.xls*, or save it as .xlsx)",
                        f=few(excel)).render(), markup=False)
    if other:  # a .csv, .ods or .et sent instead of the workbook: it has to be saved as one
        console.print(t("未读取：{f}（不是 Excel 工作簿；若是本期报表，请在 Excel/WPS 中打开并另存为 .xlsx，"
                        "或请报送单位重新报送 .xlsx）",
                        "not read: {f} (not an Excel workbook; if it is one of this period's workbooks, open it in "
                        "Excel/WPS and save it as .xlsx, or ask the county to send the .xlsx again)",
                        f=few(other)).render(), markup=False)
    locks = [s for s in getattr(summary, "skipped", []) if PurePath(s).name.startswith("~$")]
    from revstat.sources.read import lock_owner

    owners = {lock: lock_owner(compiled.workspace.root / lock) for lock in locks}
    open_books = [owner.name for owner in owners.values() if owner is not None]
    if open_books:  # Excel/WPS holds a lock file beside an open workbook: what was read is its last save
        console.print(t("{f} 正在 Excel/WPS 中打开（有锁文件），读取的是它上次保存的内容；保存并关闭后重新运行",
                        "{f} is open in Excel/WPS (a lock file is beside it): its last saved contents were read; save "
                        "and close it, then run again", f=join(dict.fromkeys(open_books))).render(),
                      markup=False)
    hidden = list(dict.fromkeys(getattr(summary, "hidden", None) or []))
    if hidden:  # hidden rows and sheets, read or skipped by the hidden: setting: a total may then differ
        more = len(hidden) > 5
        console.print(t("隐藏的行或工作表（按 hidden 设置处理）：{h}", "hidden rows or sheets (as the hidden setting says): {h_en}",
                        h="；".join(hidden[:5]) + (f" …（共 {len(hidden)} 处）" if more else ""),
                        h_en="; ".join(hidden[:5]) + (f" … ({len(hidden)} in all)" if more else "")).render(),
                      markup=False)
    stray = [lock for lock, owner in owners.items() if owner is None]
    if stray:  # left by a crash or a copy: no workbook of that name beside it
        console.print(t("{f} 是 Excel/WPS 的锁文件，找不到与它对应的工作簿（可能是异常退出留下的），已跳过；"
                        "若有工作簿正在打开，保存并关闭后重新运行",
                        "{f} is an Excel/WPS lock file matching no workbook beside it (left by a crash?): skipped; "
                        "if a workbook is open, save and close it, then run again", f=join(stray)).render(),
                      markup=False)
    missed = results[results["target_met"] == False]  # noqa: E712 - object column of True/False/None
    console.print(t("已写出 {d}：indicators.csv、indicators.json、indicators.xlsx、findings.json（{n} 个指标、{r} 个地区，"
                    "共 {rows} 行结果）",
                    "wrote {d}: indicators.csv, indicators.json, indicators.xlsx, findings.json ({n} indicators, {r} regions, "
                    "{rows} result rows)",
                    d=_shown(target), n=len(compiled.indicators),
                    r=results["region_code"].nunique(), rows=len(results)).render(), markup=False)
    if len(missed):
        console.print(t("未达到目标：{n} 处（在 indicators.xlsx 中标红）", "targets missed: {n} (highlighted in indicators.xlsx)",
                        n=len(missed)).render(), markup=False)
    absent = [f.region_name or f.region_code for f in compiled.findings or ()
              if getattr(f, "tag", None) == "no_report" and f.period == compiled.period]
    if absent:  # a county's workbook not received: the most common gap of a quarter, named here first
        console.print(t("没有数据：{r}（下级地区全部缺数，没有收到或没有读取其报表；合计不含这些地区）",
                        "no data from {r} (none of the regions below has data: the workbook was not received or not "
                        "read; the totals leave it out)", r=join(absent)).render(), markup=False)
    if starred:  # the footnote of the starred rows above
        console.print(t("* 部分下级地区缺数，合计或上年同期数不完整（见 indicators.csv 的 note 列）",
                        "* some lower-level regions are missing: the total or last year's total is incomplete (see the "
                        "note column of indicators.csv)").render(), markup=False)
    elif results["incomplete"].any():
        console.print(t("部分地区的合计不完整（下级地区缺数），见 indicators.csv 的 note 列",
                        "some regions' totals are incomplete (lower-level regions missing): see the note column of "
                        "indicators.csv").render(), markup=False)
    no_file = [s for s in compiled.skipped if s.why == "no_file"]
    if no_file:  # a household export missing for the period: said, not silently left out
        names = join(name_in(s.indicator) for s in no_file[:10])
        more = t("等", ", …").render() if len(no_file) > 10 else ""
        console.print(t("户级数据在本期没有文件（{p}），跳过依赖它的 {n} 个指标：{names}{more}",
                        "no household records file for the period ({p}): {n} indicators that need it skipped: "
                        "{names}{more}", p=join(compiled.records_missing), n=len(no_file), names=names,
                        more=more).render(), markup=False)
        from revstat.workspace import likely_pattern

        for pattern in compiled.records_missing:  # the export is there under another extension (CSV, not Parquet)
            folder = compiled.workspace.root / PurePath(pattern).parent
            others = sorted(p.name for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []
            if others:
                console.print(t("  该文件夹中有 {f}：若这就是户级数据，把来源的 files 改为与之相符（如 {g}）",
                                "  the folder holds {f}: if that is the export, change the source's files to match it "
                                "(e.g. {g})", f=join(others[:5]),
                                g=str(PurePath(pattern).parent / ("*" + PurePath(others[0]).suffix))).render(),
                              markup=False)
            elif (guess := likely_pattern(compiled.workspace, pattern)) and \
                    guess.replace("{period}", compiled.period) != pattern:  # a folder misspelt: record/ for records/
                console.print(t("  工作区中别处有这样的文件：来源的 files 是否应为 {g}？",
                                "  the workspace has files like it elsewhere: should the source's files be {g}?",
                                g=guess).render(), markup=False)
    if compiled.records_missing_before:  # last year's export missing: no year-on-year change for its indicators
        console.print(t("户级数据在上年同期没有文件（{p}）：依赖它的指标没有同比",
                        "no household records file for the same period last year ({p}): the indicators that need "
                        "it have no year-on-year change", p=join(compiled.records_missing_before)).render(),
                      markup=False)
    lacking = [s for s in compiled.skipped if s.why != "no_file"]
    if lacking:
        names = join(t("{n}（缺 {m}）", "{n} (needs {m})", n=name_in(s.indicator),
                       m=", ".join(s.missing)).render() for s in lacking[:10])
        more = t("等", ", …").render() if len(lacking) > 10 else ""
        console.print(t("跳过 {n} 个指标（工作区没有所需字段）：{names}{more}", "skipped {n} indicators (fields not in the "
                        "workspace): {names}{more}", n=len(lacking), names=names, more=more).render(), markup=False)
    if compiled.findings:
        from revstat.writers.findings import summary

        s = summary(compiled.findings)
        waived = t("，已豁免 {waived} 条", ", {waived} waived", **s).render() if s["waived"] else ""
        console.print(t("审核发现 {total} 条问题（错误 {errors}，警告 {warnings}，提示 {info}{w}），见 findings.json；"
                        "`revstat check` 显示详情",
                        "{total} check findings (errors: {errors}, warnings: {warnings}, notes: {info}{w}) in findings.json; "
                        "`revstat check` shows them", w=waived, **s).render(), markup=False)
        from revstat.cli.cmd_check import show_shared_cells

        show_shared_cells(compiled.findings, console, most=3)
