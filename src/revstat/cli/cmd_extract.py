"""`revstat extract`: read a period's workbooks into out/<period>/observations.csv."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from revstat.cli import common
from revstat.i18n import t

if TYPE_CHECKING:  # no pandas at import time: `revstat --help` stays fast
    from revstat.sources.read import ReadResult, ReadSummary
    from revstat.workspace import Workspace


def register(app: typer.Typer) -> None:
    app.command("extract")(extract)


def extract(
    workspace: Path = typer.Argument(..., help="工作区文件夹 / workspace folder"),
    period: str = typer.Option(..., "--period", "-p", help="报告期，如 2024Q4 / period, e.g. 2024Q4"),
) -> None:
    """读取一期的报表（和户级数据），写出 out/<期>/observations.csv（带出处）。

    Read one period's workbooks into out/<period>/observations.csv, each value with its file,
    sheet and cell; household records aggregated to villages, with their file and aggregation.

    Example: revstat extract sample_data --period 2024Q4
    """
    with common.guarded():
        from revstat.periods import parse_period
        from revstat.workspace import load_workspace

        period = str(parse_period(period))
        ws = load_workspace(workspace)
        from revstat.errors import ErrorGroup

        result = read_with_progress(ws, [period])
        records = with_records(ws, period, result)
        target = ws.out_dir(period) / "observations.csv"
        if result.errors and not len(result.observations):  # nothing could be read: write nothing
            common.fail(ErrorGroup.of(result.errors))
        write_observations(result.observations, target)
        show_summary(result.summary, target, records)
        if result.errors:
            common.err_console().print()
            common.show_error(ErrorGroup.of(result.errors))
            common.err_console().print(t(
                "\n已写出能读取的数据，但有 {n} 个输入错误（退出码 2）。",
                "\nWhat could be read was written, but there are input errors: {n} (exit code 2).",
                n=len(result.errors)).render(), markup=False)
            raise typer.Exit(common.EXIT_INPUT)


def with_records(ws: Workspace, period: str, result: ReadResult) -> Any:
    """Household records aggregated to villages join the observations (file, and the aggregation
    in place of a cell: `count where monitor_type == '脱贫不稳定户'`), so that every value a compile
    uses is listed; their input errors join the read's. Returns the records' observations (or None)."""
    if not any(s.kind == "records" for s in ws.sources):
        return None
    import pandas as pd

    from revstat.errors import collect
    from revstat.records import read_records

    records = collect(result.errors, lambda: read_records(ws, [period]))
    if records is not None and len(records):
        result.observations = pd.concat([result.observations, records], ignore_index=True)
    return records


def read_with_progress(ws: Workspace, periods: list[str]) -> ReadResult:
    """read_sources with a rich progress bar on stderr (one step per file)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from revstat.sources import read_sources

    total = count_files(ws, periods)
    console = common.err_console()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[file]}"), console=console, transient=True,
                  disable=not console.is_terminal) as progress:
        task = progress.add_task(t("读取", "reading").render(), total=total or None, file="")

        def step(name: str) -> None:
            progress.update(task, advance=1, file=name)

        return read_sources(ws, periods, progress=step)


def count_files(ws: Any, periods: list[str]) -> int:
    """Workbooks the sheet sources of ``periods`` would read (for progress bars)."""
    files = set()
    for period in periods:
        for source in ws.sources:
            if source.kind != "records":
                files |= {p for p in ws.root.glob(source.files.replace("{period}", period))
                          if p.is_file() and not p.name.startswith("~$")}
    return len(files)


def write_observations(df: Any, target: Path) -> None:
    """observations.csv: UTF-8 with BOM (Excel opens it), written atomically.

    Column at a time: values as plain decimal digits, text through the formula guard of
    :mod:`revstat.writers.safe` (only text starting with = + - @ … can need it)."""
    import csv
    from decimal import Decimal

    from revstat.tidy import OBSERVATION_COLUMNS
    from revstat.writers.atomic import atomic_file
    from revstat.writers.safe import FORMULA_PREFIXES, csv_value, decimal_text, neutralize

    risky = frozenset(p[0] for p in FORMULA_PREFIXES)
    columns = []
    for name in OBSERVATION_COLUMNS:
        values = df[name].tolist()
        if name == "value":
            columns.append(["" if v is None else decimal_text(v) if isinstance(v, Decimal) and v.is_finite()
                            else csv_value(v) for v in values])
        else:
            columns.append(["" if v is None else (neutralize(v) if v[:1] in risky else v) if isinstance(v, str)
                            else csv_value(v) for v in values])
    with atomic_file(target) as tmp, open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(OBSERVATION_COLUMNS)
        writer.writerows(zip(*columns, strict=True))


def show_summary(summary: ReadSummary, target: Path, records: Any = None) -> None:
    from rich.table import Table

    s = summary
    table = Table(title=t("读取情况", "What was read").render(), show_header=False)
    table.add_column()
    table.add_column(justify="right")
    for label, value in (
        (t("文件", "files"), s.files),
        (t("工作表", "sheets"), s.sheets),
        (t("数据行", "data rows"), s.rows),
        (t("字段", "fields"), s.fields),
        (t("缺失单元格", "missing cells"), s.missing_cells),
        (t("合计行（另存待审核，不参与汇总）", "totals rows set aside (checked, never summed)"), s.totals_rows),
    ):
        table.add_row(label.render(), str(value))
    console = common.out_console()
    console.print(table)
    if records is not None and len(records):  # the table above counts the workbooks; the records apart
        files = sorted({str(f) for f in records["file"]})
        console.print(t("户级数据：{n} 个值（{k} 个字段 × {r} 个地区），来自 {f}",
                        "household records: {n} values ({k} fields × {r} regions) from {f}", n=len(records),
                        k=records["field"].nunique(), r=records["region_code"].nunique(),
                        f="、".join(files[:3]) + (" …" if len(files) > 3 else "")).render(), markup=False)
        for note in records.attrs.get("notes", []):
            console.print(t("注意：{x}", "note: {x}", x=note.message.render()).render(), markup=False)
    for line in s.conversions:
        console.print(t("单位换算：{x}", "unit converted: {x}", x=line).render(), markup=False)
    for file, enc in s.encodings.items():
        console.print(t("编码：{f} 为 {e}", "encoding: {f} is {e}", f=file, e=enc).render(), markup=False)
    for line in s.notes:
        console.print(t("注意：{x}", "note: {x}", x=line).render(), markup=False)
    for line in s.hidden:
        console.print(t("隐藏：{x}", "hidden: {x}", x=line).render(), markup=False)
    for line in s.skipped:
        console.print(t("已跳过：{x}", "skipped: {x}", x=line).render(), markup=False)
    console.print(t("已写出 {p}", "wrote {p}", p=str(target)).render(), markup=False)
