"""`revstat lint`: check the definitions of a workspace (no data read)."""

from __future__ import annotations

from pathlib import Path

import typer

from revstat.cli import common
from revstat.i18n import t


def register(app: typer.Typer) -> None:
    @app.command()
    def lint(
        workspace: Path = typer.Argument(Path("."), help="工作区文件夹 / workspace folder"),
        fmt: str = typer.Option("text", "--format", "-f", help="text|json|github"),
        strict: bool = typer.Option(False, "--strict", help="警告也视为不通过 / warnings fail too"),
        path_prefix: str = typer.Option("", "--path-prefix",
                                        help="github 格式中文件路径的前缀（工作区相对仓库的位置）/ prefix of file paths "
                                             "in github annotations (the workspace folder in the repository)"),
    ) -> None:
        """检查定义文件（不读数据）：格式、未知名称、单位、循环引用、永不触发的规则。

        Lint sources, indicators and rules: schema, unknown names, units, cycles, dead rules.

        Example: revstat lint sample_data
        """
        with common.guarded():
            from revstat.lint import lint_workspace
            from revstat.model import Severity
            from revstat.waivers import fails
            from revstat.writers.findings import summary, to_github, to_json

            if fmt not in ("text", "json", "github"):
                from revstat.errors import ConfigError

                raise ConfigError(t("未知的输出格式 {f}", "unknown output format {f}", f=fmt), None,
                                  t("--format 取 text、json 或 github（JUnit、SARIF 见 revstat check）",
                                    "--format is text, json or github (JUnit and SARIF: revstat check)"))
            issues = lint_workspace(workspace)
            if fmt == "json":
                common.echo(to_json(issues), nl=False)
            elif fmt == "github":
                common.echo(to_github(issues, prefix=path_prefix), nl=False)
            else:
                console = common.out_console()
                labels = {Severity.ERROR: t("错误", "error"), Severity.WARNING: t("警告", "warning"),
                          Severity.INFO: t("提示", "info")}
                for issue in issues:
                    where = f"{issue.locations[0]}: " if issue.locations else ""
                    console.print(f"{where}{labels[issue.severity].render()} [{issue.rule}] {issue.message.render()}",
                                  markup=False)
                s = summary(issues)
                console.print(t("共 {errors} 个错误，{warnings} 个警告，{info} 条提示",
                                "errors: {errors}, warnings: {warnings}, notes: {info}", **s).render(), markup=False)
            raise typer.Exit(common.EXIT_FINDINGS if fails(issues, strict) else common.EXIT_OK)
