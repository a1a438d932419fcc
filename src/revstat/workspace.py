"""A workspace folder (like a dbt project): revstat.yaml, regions.csv, sources/, indicators/,
checks/, templates/, data/ and out/. Loading one validates everything but the data.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from revstat.config import FieldDef, SourceDef, WorkspaceConfig, load_model
from revstat.errors import ConfigError, DefinitionError, ErrorGroup, RevstatError, collect
from revstat.i18n import t
from revstat.model import Location
from revstat.regions import RegionTree, load_regions

_STD_PACKAGES = {"indicators": "revstat.std_indicators", "checks": "revstat.std_checks",
                 "templates": "revstat.std_templates", "workspace": "revstat.std_workspace"}


def std_dir(kind: str) -> Path:
    """Folder of a standard set shipped with the package (indicators, checks, templates)."""
    spec = importlib.util.find_spec(_STD_PACKAGES[kind])
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if Path(location).is_dir():
                return Path(location)
    repo = Path(__file__).resolve().parents[2]  # source checkout: <repo>/src/revstat
    return repo / ("src/revstat/std_workspace" if kind == "workspace" else kind)


@dataclass
class Workspace:
    root: Path
    config: WorkspaceConfig
    regions: RegionTree
    sources: list[SourceDef] = field(default_factory=list)
    source_files: dict[str, str] = field(default_factory=dict)  # source id → display path

    def rel(self, path: Path) -> str:
        """A path as users see it: relative to the workspace when inside it."""
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)

    def out_dir(self, period: str) -> Path:
        return self.root / "out" / period

    def fields(self) -> dict[str, FieldDef]:
        return {f.id: f for s in self.sources for f in s.fields}

    def field_sources(self) -> dict[str, SourceDef]:
        return {f.id: s for s in self.sources for f in s.fields}

    def definition_files(self, kind: str) -> list[tuple[Path, str]]:
        """YAML files of ``indicators`` or ``checks``: the standard set first (unless turned
        off in revstat.yaml), then the workspace's, which add to or override it by id."""
        files: list[tuple[Path, str]] = []
        use_std = self.config.standard_indicators if kind == "indicators" else self.config.standard_checks
        if use_std:
            std = std_dir(kind)
            files += [(p, f"<revstat>/{kind}/{p.name}") for p in sorted(std.glob("*.yaml"))]
        local = self.root / kind
        if local.is_dir():
            files += [(p, self.rel(p)) for p in yaml_files(local)
                      if not (kind == "checks" and p.name in ("waivers.yaml", "waivers.yml"))]
        return files

    def region_option(self, text: str, option: str = "--region") -> str:
        """The code of a region given on the command line (a 12-digit code or a name). An unknown
        or ambiguous one is an error of that option, which says to correct the option."""
        try:
            return self.regions.match(text)
        except RevstatError as err:
            children = self.regions.children.get(self.config.region, [])
            example = children[0] if children else self.config.region
            name = self.regions.name(example)
            if str(text).strip().isdigit():
                fix = t("改正 {opt} 选项：写 regions.csv 中已有的12位区划代码或地区名称（如 {code} 或 {name}）；"
                        "新设的地区先加入 regions.csv",
                        "correct the {opt} option: give a 12-digit code or a region name of regions.csv "
                        "(e.g. {code} or {name}); add a new region to regions.csv first",
                        opt=option, code=example, name=name)
            else:
                hint = err.fix or t("", "")
                fix = t("改正 {opt} 选项。{h}", "correct the {opt} option. {h_en}", opt=option,
                        h=hint.render("zh"), h_en=hint.render("en"))
            raise ConfigError(err.what, Location(f"{option} {text}"), fix) from None

    def template_dirs(self) -> list[Path]:
        """Where templates are looked up: the workspace's templates/ first, then the package's."""
        dirs = [self.root / "templates"] if (self.root / "templates").is_dir() else []
        return [*dirs, std_dir("templates")]


def load_workspace(root: Path) -> Workspace:
    """Load and validate a workspace; all source files are validated and errors collected."""
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(t("找不到工作区文件夹 {root}", "workspace folder {root} not found", root=str(root)),
                          Location(str(root)), t("用 revstat init DIR 新建一个工作区", "create one with revstat init DIR"))
    cfg_path = root / "revstat.yaml"
    if not cfg_path.is_file():
        raise ConfigError(t("工作区中没有 revstat.yaml", "no revstat.yaml in the workspace"), Location(str(cfg_path)),
                          t("用 revstat init 生成，或指定正确的工作区文件夹", "run revstat init, or point at the right folder"))
    config = load_model(WorkspaceConfig, cfg_path, "revstat.yaml")
    regions = load_regions(root / "regions.csv")
    if config.region not in regions:
        raise ConfigError(t("revstat.yaml 中的 region {code} 不在 regions.csv 中", "region {code} of revstat.yaml is not in regions.csv",
                            code=config.region), Location("revstat.yaml"),
                          t("填写报告地区的12位代码", "give the 12-digit code of the report's region"))
    ws = Workspace(root=root, config=config, regions=regions)
    errors: list[RevstatError] = []
    seen_fields: dict[str, str] = {}
    for path in yaml_files(root / "sources"):
        display = ws.rel(path)
        source = collect(errors, lambda path=path, display=display: load_model(SourceDef, path, display))
        if source is None:
            continue
        if source.id in ws.source_files:
            errors.append(DefinitionError(t("重复的来源 id {id}", "duplicate source id {id}", id=source.id),
                                          Location(display), t("每个来源用不同的 id", "give each source its own id")))
            continue
        for f in source.fields:
            if f.id in seen_fields:
                errors.append(DefinitionError(
                    t("字段 {id} 已在 {other} 中定义", "field {id} is already defined in {other}", id=f.id, other=seen_fields[f.id]),
                    Location(display), t("一个字段只由一个来源提供；改名或删除其一", "a field comes from one source; rename or drop one")))
            seen_fields[f.id] = display
        ws.sources.append(source)
        ws.source_files[source.id] = display
    fields = ws.fields()
    for source in ws.sources:
        for f in source.fields:
            if f.weight and f.weight not in fields:
                errors.append(DefinitionError(
                    t("字段 {id} 的权重 {w} 不是已知字段", "weight {w} of field {id} is not a known field", id=f.id, w=f.weight),
                    Location(ws.source_files[source.id]), t("weight 写成某个来源中的字段 id", "weight must be a field id")))
        if source.kind == "records":  # conditions parsed now, so `lint` and every command see their errors
            from revstat.records.engine import plan_source

            display = ws.source_files[source.id]
            collect(errors, lambda source=source, display=display: plan_source(source, display, root / display))
    if errors:
        raise ErrorGroup.of(errors)
    return ws


def yaml_files(folder: Path) -> list[Path]:
    """The definition files of a folder: ``*.yaml`` and ``*.yml`` (any case) — a file saved as
    local.yml was left out without a word — in name order; none when there is no such folder."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".yaml", ".yml") and p.is_file()
                  and not p.name.startswith("."))


def likely_pattern(ws: Workspace, pattern: str) -> str:
    """The pattern a ``files`` matching nothing was likely meant to be: where files of its name are
    in the workspace (``data/{period}/records/*.parquet`` for ``data/{period}/record/*.parquet``),
    a period's folder written ``{period}``; "" when there are none."""
    from pathlib import PurePosixPath

    name = PurePosixPath(pattern).name
    elsewhere = sorted(p for p in ws.root.glob("**/" + any_case_extension(name))
                       if p.is_file() and "out" not in p.relative_to(ws.root).parts[:1])
    if not elsewhere:
        return ""
    import re

    period = re.compile(r"^\d{4}(Q[1-4]|M\d{2}|H[12])?$")
    parts = PurePosixPath(ws.rel(elsewhere[0])).parts
    return "/".join("{period}" if period.match(x) else x for x in parts[:-1]) + "/" + name


def any_case_extension(pattern: str) -> str:
    """``data/2024Q4/*.xlsx`` → ``data/2024Q4/*.[xX][lL][sS][xX]``: Windows writes ``.XLSX`` as
    often as ``.xlsx``, and a county's file must not be skipped for it."""
    head, dot, ext = pattern.rpartition(".")
    if not dot or not ext.replace("*", "").replace("?", "").isalnum() or "/" in ext:  # *.xlsx, *.xls*
        return pattern
    return head + "." + "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in ext)
