"""`revstat report DIR --period P`: draft report sections in Chinese as Word, Markdown or HTML."""

from __future__ import annotations

from pathlib import Path

import typer

from revstat.cli import common
from revstat.i18n import t


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report(
        workspace: Path = typer.Argument(..., help="工作区文件夹 / workspace folder"),
        period: str = typer.Option(..., "--period", "-p", help="报告期，如 2024Q4 / period"),
        template: str = typer.Option(None, "--template", "-t", help="模板名（默认 quarterly_brief；县级 county_brief）/ template"),
        region: str = typer.Option(None, "--region", "-r", help="报告地区（代码或名称，默认为 revstat.yaml 的地区）/ region"),
        fmt: str = typer.Option("docx", "--format", "-f", help="docx | md | html"),
        output: Path = typer.Option(None, "--output", "-o", help="输出文件（默认 out/<期>/<模板>.<格式>）/ output file"),
    ) -> None:
        """起草报告：汇总结果 → 中文统计报告（Word / Markdown / HTML，含图表）。

        Draft a report from the compiled results; compiles first when out/P/ is missing or stale.

        Example: revstat report sample_data --period 2024Q4 --format docx
        """
        with common.guarded():
            from revstat.report import make_report
            from revstat.workspace import load_workspace

            console = common.err_console()
            ws = load_workspace(workspace)
            outcome = make_report(ws, period, fmt=fmt.lower(), template=template, region=region, output=output,
                                  progress=lambda msg: console.print(msg, markup=False))
            for message in outcome.warnings:
                console.print(t("提示：{m}", "note: {m}", m=message).render(), markup=False)
            console.print(t("已写入 {p}", "wrote {p}", p=str(outcome.path)).render(), markup=False)
            if outcome.errors:  # data that fails checks: the draft is written, the exit code says so
                console.print(t("审核有 {n} 条错误（强制性）未改正，报告中的相关数字在发布前须更正（退出码 1）；"
                                "`revstat check` 显示详情",
                                "{n} check {errors} (blocking) {are} not corrected: the figures involved must be "
                                "corrected before publishing (exit 1); `revstat check` shows them", n=outcome.errors,
                                errors="error" if outcome.errors == 1 else "errors",
                                are="is" if outcome.errors == 1 else "are").render(),
                              markup=False)
                raise typer.Exit(common.EXIT_FINDINGS)
