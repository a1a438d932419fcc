"""`revstat indicators`: the indicator set by theme, with units and targets."""

from __future__ import annotations

from pathlib import Path

import typer

from revstat.cli import common
from revstat.i18n import name_in, t, unit_text


def register(app: typer.Typer) -> None:
    app.command("indicators")(indicators)


def indicators(
    workspace: Path | None = typer.Option(None, "--workspace", "-w",
                                          help="工作区文件夹（缺省只列标准指标集）/ workspace (default: the standard set)"),
    formulas: bool = typer.Option(False, "--formulas", help="同时显示公式 / show formulas"),
) -> None:
    """按主题列出指标：名称、id、单位、小数位、目标（和公式）。

    List the indicators by theme with their units and targets; with --workspace, the
    workspace's set (the standard set plus its own indicators/*.yaml).

    Example: revstat indicators --workspace sample_data --formulas
    """
    with common.guarded():
        from rich.table import Table

        from revstat.definitions import (
            THEMES,
            catalogue_fields,
            load_indicator_files,
            load_indicators,
        )
        from revstat.workspace import load_workspace, std_dir

        if workspace is not None:
            defs = load_indicators(load_workspace(workspace))
        else:
            files = [(p, f"<revstat>/indicators/{p.name}") for p in sorted(std_dir("indicators").glob("*.yaml"))]
            defs = load_indicator_files(files, catalogue_fields())
        en = common.en()
        console = common.out_console()
        themes: dict[str, list] = {}
        for d in defs:
            themes.setdefault(d.theme or "other", []).append(d)
        order = [k for k in THEMES if k in themes] + [k for k in themes if k not in THEMES]
        for theme in order:
            zh, en_name = THEMES.get(theme, (theme, theme))
            table = Table(title=f"{en_name if en else zh} ({theme}, {len(themes[theme])})", title_justify="left")
            for col in (t("指标", "indicator"), "id", t("单位", "unit"), t("小数", "decimals"), t("目标", "target")):
                table.add_column(str(col), overflow="fold", no_wrap=col == "id")  # ids are copied: keep them whole
            if formulas:
                table.add_column(t("公式", "formula").render(), overflow="fold")  # wrapped, never cut
            for d in themes[theme]:
                row = [name_in(d), d.id, unit_text(d.unit), str(d.decimals),
                       str(d.target) if d.target else ""]
                if formulas:
                    row.append(d.formula)
                table.add_row(*row)
            console.print(table)
        console.print(t("共 {n} 个指标", "{n} indicators", n=len(defs)).render(), markup=False)
