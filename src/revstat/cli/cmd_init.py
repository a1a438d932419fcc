"""`revstat init DIR`: create a workspace from the standard one shipped with the package."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer

from revstat.cli import common
from revstat.errors import ConfigError, OutputError
from revstat.i18n import t
from revstat.model import Location

#: What `revstat init` writes (relative paths), in the order it lists them.
LAYOUT = ("revstat.yaml", "regions.csv", "sources/", "indicators/", "checks/", "templates/", "data/")
_SKIP = shutil.ignore_patterns("__pycache__", "__init__.py", "*.pyc")


def init_workspace(target: Path, *, force: bool = False) -> list[Path]:
    """Copy the standard workspace into ``target``; return the files written.

    Refuses a folder that exists and is not empty unless ``force``: then only the standard files
    it lacks are added, and no file in it is overwritten (its revstat.yaml and regions.csv are the
    user's own, not the example's). A ``sources/`` folder that already holds source files is the
    user's choice of tables: the standard sources it lacks were removed on purpose, and are not
    added back (they would be read, and fail, at the next compile).
    """
    from revstat.workspace import std_dir

    target = Path(target)
    if target.exists() and not target.is_dir():
        raise ConfigError(t("{dir} 已存在且不是文件夹", "{dir} exists and is not a folder", dir=str(target)),
                          Location(str(target)), t("换一个文件夹名", "choose another folder name"))
    if target.is_dir() and any(target.iterdir()) and not force:
        raise ConfigError(
            t("文件夹 {dir} 不是空的，未写入任何文件", "folder {dir} is not empty; nothing was written", dir=str(target)),
            Location(str(target)),
            t("换一个新文件夹，或加 --force 补上其中缺少的标准文件（已有的文件一律保留）",
              "choose a new folder, or add --force to add the standard files it lacks (existing files are kept)"),
        )
    source = std_dir("workspace")
    if not (source / "revstat.yaml").is_file():  # pragma: no cover - a broken installation
        raise ConfigError(t("安装包中缺少标准工作区文件", "the standard workspace is missing from the installation"),
                          Location(str(source)), t("重新安装 revstat", "reinstall revstat"))
    written: list[Path] = []
    from revstat.workspace import yaml_files

    chosen = bool(yaml_files(target / "sources"))  # the user's own set of sources: kept as it is

    from revstat.i18n import get_lang

    def copy_new(src: str, dst: str) -> str:  # never over an existing file
        if chosen and Path(dst).parent == target / "sources":
            return dst
        if not Path(dst).exists():
            shutil.copy2(src, dst)
            written.append(Path(dst))
            if Path(dst).name == "revstat.yaml" and Path(dst).parent == Path(target) and get_lang() == "en":
                text = Path(dst).read_text(encoding="utf-8")  # `revstat --lang en init`: reports in English
                Path(dst).write_text(text.replace("\nlocale: zh ", "\nlocale: en ", 1), encoding="utf-8")
        return dst

    try:
        shutil.copytree(source, target, ignore=_SKIP, dirs_exist_ok=True, copy_function=copy_new)
    except OSError as exc:
        raise OutputError(t("无法写入 {dir}：{e}", "cannot write {dir}: {e}", dir=str(target), e=exc.strerror or str(exc)),
                          Location(str(exc.filename or target)),
                          t("检查该位置的写入权限", "check that you may write there")) from None
    return sorted(written)


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init(
        directory: Path = typer.Argument(..., help="新工作区的文件夹 / folder of the new workspace"),
        force: bool = typer.Option(False, "--force", help="文件夹不为空时补上缺少的标准文件（不覆盖已有文件）/ add the missing standard files to a non-empty folder"),
    ) -> None:
        """新建一个工作区（revstat.yaml、regions.csv、sources/ 等）。

        Create a workspace with a commented revstat.yaml, an example regions.csv and the standard sources.

        Example: revstat init 示范市2024
        """
        with common.guarded():
            existed = directory.is_dir() and any(directory.iterdir())
            written = init_workspace(directory, force=force)
            console = common.out_console()
            if existed:  # --force on a folder in use: say what was added, not "created"
                added = [str(p.relative_to(directory)) for p in written]
                console.print(t("已在 {dir} 补上缺少的标准文件 {n} 个{files}（已有的文件未改动；sources/ 中已有来源时不补来源）",
                                "added {n} missing standard files to {dir}{files_en} (existing files untouched; no "
                                "source is added where sources/ already has some)", dir=str(directory), n=len(added),
                                files="：" + "、".join(added[:10]) + (" …" if len(added) > 10 else "") if added else "",
                                files_en=": " + ", ".join(added[:10]) + (" …" if len(added) > 10 else "") if added else "")
                              .render(), markup=False)
                return
            console.print(t("已在 {dir} 新建工作区：", "created a workspace in {dir}:", dir=str(directory)).render(),
                          markup=False)
            for item in LAYOUT:
                console.print(f"  {item}", markup=False)
            console.print(t(
                "\n下一步：\n"
                "  1. 在 revstat.yaml 中填写报告名称和本地区的12位区划代码（region）\n"
                "  2. 用本地的统计用区划代码替换 regions.csv（code,name,level,parent）\n"
                "  3. 把各县报送的工作簿放入 data/<报告期>/，如 data/2024Q4/\n"
                "  4. revstat inspect <工作簿> 查看表头与字段的对应；按需修改 sources/*.yaml\n"
                "  5. revstat extract {dir} --period 2024Q4 读取数据；revstat compile {dir} --period 2024Q4 汇总",
                "\nnext steps:\n"
                "  1. put the report's name and your region's 12-digit code (region) in revstat.yaml\n"
                "  2. replace regions.csv with your region codes (code,name,level,parent)\n"
                "  3. put the counties' workbooks in data/<period>/, e.g. data/2024Q4/\n"
                "  4. revstat inspect <workbook> shows how headers map to fields; adapt sources/*.yaml\n"
                "  5. revstat extract {dir} --period 2024Q4 reads the data; revstat compile {dir} --period 2024Q4 compiles it",
                dir=str(directory)).render(), markup=False)
