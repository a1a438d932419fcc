"""`revstat check`: run the consistency rules (审核) on one period of a workspace."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer

from revstat.cli import common
from revstat.i18n import t

FORMATS = ("table", "json", "junit", "github", "sarif")


def render_findings(report, fmt: str, *, prefix: str = "", strict: bool = False) -> str:  # noqa: ANN001
    """The text of a check report in one of FORMATS (table: plain text, for --output)."""
    from importlib.metadata import version as dist_version

    from revstat.writers import findings as w

    if fmt == "json":
        return w.to_json(report.issues, period=report.period, rules=report.rules_by_id)
    if fmt == "junit":
        return w.to_junit(report.issues, report.rules, period=report.period, not_run=report.not_run, strict=strict,
                          prefix=prefix)
    if fmt == "github":
        return w.to_github(report.issues, prefix=prefix)
    if fmt == "sarif":
        return w.to_sarif(report.issues, report.rules, prefix=prefix, version=dist_version("revstat"))
    import io

    from rich.console import Console

    buf = io.StringIO()
    show_table(report, Console(file=buf, width=160, color_system=None, highlight=False, emoji=False))
    return buf.getvalue()


def _input_errors_for_ci(err: Any, fmt: str, output: Path | None, prefix: str, period: str) -> None:
    """An input error as a finding in the CI formats (a GitHub annotation on the file, a failing
    JUnit test), so a pipeline shows why the step failed; the message on stderr and exit 2 follow."""
    from revstat.errors import ErrorGroup
    from revstat.model import Issue, Severity
    from revstat.writers import findings as w
    from revstat.writers.atomic import atomic_file

    if fmt not in ("github", "junit", "sarif", "json"):
        return
    errors = err.errors if isinstance(err, ErrorGroup) else [err]
    issues = [Issue(rule="input", severity=Severity.ERROR,
                    message=e.what if e.fix is None else t("{w}（处理：{f}）", "{w} (fix: {f})", w=e.what, f=e.fix),
                    locations=(e.where,) if e.where is not None else ()) for e in errors]
    if fmt == "github":
        common.echo(w.to_github(issues, prefix=prefix), nl=False)
        return
    # a file (or JSON on stdout) that says why, so an upload step after a failed check finds one
    text = {"junit": lambda: w.to_junit(issues, [], period=period, prefix=prefix),
            "sarif": lambda: w.to_sarif(issues, [], prefix=prefix),
            "json": lambda: w.to_json(issues, period=period)}[fmt]()
    if output is not None:
        with atomic_file(output) as tmp:
            tmp.write_text(text, encoding="utf-8")
    elif fmt == "json":
        common.echo(text, nl=False)


def _county(report, code: str | None) -> str:  # noqa: ANN001
    tree = report.data.tree if report.data is not None else None
    if tree is None or code is None or code not in tree:
        return "—"
    for c in [code, *tree.ancestors(code)]:
        if tree.level(c) == "county":
            return tree.name(c)
    return tree.name(code)


def show_table(report, console) -> None:  # noqa: ANN001
    """A rich table per severity, rows grouped by county, then a one-line summary."""
    from rich.table import Table

    from revstat.model import Severity
    from revstat.writers.findings import summary

    heads = {Severity.ERROR: t("错误（强制性）", "Errors"), Severity.WARNING: t("警告（提示性，请核实）", "Warnings (verify)"),
             Severity.INFO: t("提示", "Notes")}
    for severity in (Severity.ERROR, Severity.WARNING, Severity.INFO):
        rows = [i for i in report.issues if i.severity is severity]
        if not rows:
            continue
        table = Table(title=f"{heads[severity].render()} ({len(rows)})", title_justify="left", show_lines=False)
        for col in (t("县（区）", "County"), t("地区", "Region"), t("规则", "Rule"), t("说明", "Message"),
                    t("位置", "Where")):
            table.add_column(col.render(), overflow="fold")
        rows.sort(key=lambda i: (_county(report, i.region_code), i.region_code or "", i.rule))
        last = None
        for issue in rows:
            county = _county(report, issue.region_code)
            if last is not None and county != last:
                table.add_section()
            last = county
            where = str(issue.locations[0]) if issue.locations else ""
            if len(issue.locations) > 1:
                # 等N处 counts every place (the one shown included); "and N more" the others
                where += t(" 等{n}处", " and {more} more", n=len(issue.locations), more=len(issue.locations) - 1).render()
            message = issue.message.render()
            if issue.waived is not None:
                message = t("[已豁免：{r}] ", "[waived: {r}] ", r=issue.waived).render() + message
            table.add_row(county, issue.region_name or "", issue.rule, message, where)
        console.print(table)
    s = summary(report.issues)
    console.print(t("{period}：共 {total} 条审核结果 — 错误 {errors}，警告 {warnings}，提示 {info}，已豁免 {waived}",
                    "{period}: {total} findings — errors: {errors}, warnings: {warnings}, notes: {info}, waived: {waived}",
                    period=report.period, **s).render(), markup=False)
    show_shared_cells(report.issues, console)


def show_shared_cells(issues, console, most: int = 5) -> None:  # noqa: ANN001
    """The cells that several errors and warnings point at (`shared_cells`): one wrong figure
    breaks every rule that reads it, so it is named once, to be checked first."""
    from revstat.writers.findings import shared_cell_text, shared_cells

    shared = shared_cells(issues)
    if not shared:
        return
    console.print(t("同一单元格牵涉多条问题，多半是这一处填报有误，请先核对：",
                    "one cell behind several findings, most likely a single wrong figure; check it first:").render(),
                  markup=False)
    for loc, found in shared[:most]:
        console.print("  " + shared_cell_text(loc, found), markup=False)
    if len(shared) > most:
        console.print(t("  …另有 {n} 处", "  … {n} more", n=len(shared) - most).render(), markup=False)


def register(app: typer.Typer) -> None:
    @app.command()
    def check(
        workspace: Path = typer.Argument(..., help="工作区文件夹 / workspace folder"),
        period: str = typer.Option(..., "--period", "-p", help="报告期，如 2024Q4 / period"),
        fmt: str = typer.Option("table", "--format", "-f", help="table|json|junit|github|sarif"),
        strict: bool = typer.Option(False, "--strict", help="警告也视为不通过 / warnings fail too"),
        output: Path | None = typer.Option(None, "--output", "-o", help="写入文件而不是屏幕 / write to a file"),
        path_prefix: str = typer.Option("", "--path-prefix",
                                        help="github/sarif/junit 中文件路径的前缀（工作区相对仓库的位置）/ prefix of file paths "
                                             "in github, sarif and junit output (the workspace folder in the repository)"),
        today: str | None = typer.Option(None, "--today", help="豁免到期判断用的日期 YYYY-MM-DD（默认今天）"),
    ) -> None:
        """审核一期数据：按审核规则检查，有错误（强制性）时退出码为 1。

        Check one period against the consistency rules; exit 1 when errors are found.

        Example: revstat check sample_data --period 2024Q4 --format junit -o findings.xml
        """
        with common.guarded():
            from revstat.check_run import check_workspace
            from revstat.errors import ConfigError, RevstatError
            from revstat.model import Severity
            from revstat.periods import Period
            from revstat.waivers import fails
            from revstat.workspace import load_workspace
            from revstat.writers.atomic import atomic_file

            if fmt not in FORMATS:
                raise ConfigError(t("未知的输出格式 {f}", "unknown format {f}", f=fmt),
                                  fix=t("可选：{all}", "choose one of {all}", all=", ".join(FORMATS)))
            period = str(Period.parse(period))
            try:
                day = dt.date.fromisoformat(today) if today else dt.date.today()
            except ValueError:
                raise ConfigError(t("--today 不是有效日期：{d}", "--today is not a valid date: {d}", d=today),
                                  fix=t("写成 YYYY-MM-DD，如 --today 2025-01-15",
                                        "write it YYYY-MM-DD, e.g. --today 2025-01-15")) from None
            try:
                ws = load_workspace(workspace)
                report = check_workspace(ws, period, today=day)
            except RevstatError as err:  # unusable input: CI formats carry it too, then exit 2
                _input_errors_for_ci(err, fmt, output, path_prefix, period)
                raise
            if output is not None:
                with atomic_file(output) as tmp:
                    tmp.write_text(render_findings(report, fmt, prefix=path_prefix, strict=strict), encoding="utf-8")
                common.err_console().print(t("已写入 {p}", "wrote {p}", p=str(output)).render(), markup=False)
            elif fmt == "table":
                show_table(report, common.out_console())
            else:
                common.echo(render_findings(report, fmt, prefix=path_prefix, strict=strict), nl=False)
            failed = fails(report.issues, strict)
            if failed and strict and not fails(report.issues, False):  # only the warnings fail it: say so
                warned = sum(1 for i in report.issues if i.severity is Severity.WARNING and i.waived is None)
                common.err_console().print(t(
                    "--strict：有 {n} 条未豁免的警告，按 --strict 视为未通过（退出码 1）",
                    "--strict: {n} unwaived {warnings} count as failures under --strict (exit 1)", n=warned,
                    warnings="warning" if warned == 1 else "warnings").render(), markup=False)
            raise typer.Exit(common.EXIT_FINDINGS if failed else common.EXIT_OK)
