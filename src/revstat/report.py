"""`revstat report` as a library: make sure ``out/<period>/`` is current (compile it when it is
missing or older than its inputs), read the results back from ``indicators.csv`` (so the report
prints exactly the display values of the published table), render a template and write it as
Markdown, HTML or Word.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from revstat import render
from revstat.errors import ConfigError, RenderError
from revstat.i18n import t
from revstat.model import Location
from revstat.periods import Period

FORMATS = ("md", "html", "docx")
EXTENSIONS = {"md": ".md", "html": ".html", "docx": ".docx"}


@dataclass
class ReportOutcome:
    path: Path
    template: str
    warnings: list[str] = field(default_factory=list)
    compiled: bool = False
    errors: int = 0  # unwaived check errors (强制性) of the period: the report's figures need correcting


def input_files(ws: Any, period: Period) -> list[Path]:
    """Files whose change makes ``out/<period>/`` stale: configuration, definitions, and the data
    of the periods a compile and its checks read — the period, the previous period (cumulative
    rules, ``not_an_old_report``), the same period last year and the year before (growth's
    change) — found under ``data/<period>/`` and by the sources' file patterns."""
    from revstat.workspace import std_dir

    root = ws.root
    files = [root / "revstat.yaml", root / "regions.csv"]
    for folder in ("sources", "indicators", "checks"):
        files += sorted((root / folder).glob("*.yaml"))
    for kind in ("indicators", "checks"):
        files += sorted(std_dir(kind).glob("*.yaml"))
    periods = dict.fromkeys(str(p) for p in (period, period.prev_period(), period.prev_year(),
                                             period.prev_year().prev_year()))
    for p in periods:
        data = root / "data" / p
        if data.is_dir():
            files += [f for f in data.rglob("*") if f.is_file()]
    for source in getattr(ws, "sources", []):
        if "://" in source.files:
            continue
        for pattern in dict.fromkeys(source.files.replace("{period}", p) for p in periods):
            try:
                files += root.glob(pattern)
            except (ValueError, NotImplementedError):  # a pattern glob refuses: lint reports it
                continue
    return [f for f in dict.fromkeys(files) if f.is_file()]


def is_stale(ws: Any, period: Period) -> bool:
    out = ws.out_dir(str(period)) / "indicators.csv"
    if not out.is_file():
        return True
    built = out.stat().st_mtime
    return any(f.stat().st_mtime > built for f in input_files(ws, period))


def compile_outputs(ws: Any, period: Period, out_dir: Path | None = None) -> Any:
    """Compile and check one period and write out/<period>/ (the engine's own functions), or
    ``out_dir`` when given."""
    from revstat.pipeline import compile_workspace, write_outputs

    compiled = compile_workspace(ws, str(period))
    if compiled.read_errors:  # as `revstat compile`: input errors stop it, nothing is written
        from revstat.errors import ErrorGroup

        raise ErrorGroup.of(list(compiled.read_errors))
    try:
        from revstat.check_run import check_workspace
    except ImportError:  # pragma: no cover - the checks are part of the package
        check_workspace = None
    if check_workspace is not None:
        compiled.findings = check_workspace(ws, str(period), today=dt.date.today(), compiled=compiled).issues
    write_outputs(compiled, out_dir)
    return compiled


def notes_language(ws: Any, period: Period) -> str | None:
    """The language out/<period>/ was compiled in (the notes of indicators.csv are written in
    it), from its findings.json; ``None`` when unknown (none yet, or written before it said)."""
    try:
        data = json.loads((ws.out_dir(str(period)) / "findings.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    lang = data.get("lang") if isinstance(data, dict) else None
    return lang if lang in ("zh", "en") else None


def compile_in(lang: str, ws: Any, period: Period, out_dir: Path | None = None) -> Any:
    """:func:`compile_outputs` with its notes and messages in ``lang`` (the report's language,
    which ``locale: en`` can make English when the command ran without ``--lang en``)."""
    from revstat.i18n import get_lang, set_lang

    before = get_lang()
    set_lang(lang)
    try:
        return compile_outputs(ws, period, out_dir)
    finally:
        set_lang(before)


def read_results(path: Path) -> Any:
    """indicators.csv as strings (empty = missing); build_context parses the exact values."""
    import pandas as pd

    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def read_findings(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return list(data.get("findings", [])) if isinstance(data, dict) else list(data)


def history_results(ws: Any, period: Period, focus: str) -> list[Any]:
    """The focus region's rows of earlier compiled periods (same kind, this year and last)."""
    frames = []
    out = ws.root / "out"
    if not out.is_dir():
        return frames
    for folder in sorted(out.iterdir()):
        try:
            p = Period.parse(folder.name)
        except ConfigError:
            continue
        if p.kind != period.kind or p >= period or p.year < period.year - 1:
            continue
        csv = folder / "indicators.csv"
        if csv.is_file():
            df = read_results(csv)
            frames.append(df[df["region_code"] == focus])
    return frames


def default_template(ws: Any, focus: str) -> str:
    level = ws.regions.level(focus) if focus in ws.regions else "city"
    return "quarterly_brief" if level in ("city", "province") else "county_brief"


def provenance_from(compiled: Any, tree: Any) -> dict[str, str]:
    """indicator|region → the source cells of the fields it uses (first few), when compiled now."""
    if compiled is None or compiled.observations is None or not len(compiled.observations):
        return {}
    import re

    obs = compiled.observations
    obs = obs[obs["origin"] == "source"]
    obs = obs[obs["period"] == compiled.period]
    cells: dict[tuple[str, str], list[str]] = {}
    for fld, code, file, sheet, cell in obs[["field", "region_code", "file", "sheet", "cell"]].itertuples(index=False):
        ref = f"{Path(str(file)).name}›{sheet}›{cell}"
        for anc in [code, *tree.ancestors(code)] if code in tree else [code]:
            lst = cells.setdefault((fld, anc), [])
            if len(lst) < 4:
                lst.append(ref)
            elif len(lst) == 4:
                lst.append("…")
    result: dict[str, str] = {}
    known = {f for f, _ in cells}
    for d in compiled.indicators:
        used = [w for w in re.findall(r"[a-z_][a-z0-9_]*", d.formula) if w in known]
        for code in tree.regions:
            refs = [f"{u}: {'、'.join(cells[(u, code)])}" for u in used if (u, code) in cells]
            if refs:
                result[f"{d.id}|{code}"] = "；".join(refs)
    return result


def report_language(ws: Any) -> str:
    """The language of the report text: English with ``--lang en`` or ``locale: en`` in
    revstat.yaml, Chinese otherwise."""
    from revstat.i18n import get_lang

    return "en" if get_lang() == "en" or getattr(ws.config, "locale", "zh") == "en" else "zh"


def make_report(ws: Any, period: str, *, fmt: str = "md", template: str | None = None,
                region: str | None = None, output: Path | None = None,
                progress: Callable[[str], None] | None = None) -> ReportOutcome:
    """Render and write one report; returns where it went and the render warnings."""
    from revstat.definitions import load_indicators
    from revstat.writers import charts

    if fmt not in FORMATS:
        raise ConfigError(t("未知的报告格式 {f}", "unknown report format {f}", f=fmt),
                          fix=t("可选：md、html、docx", "choose md, html or docx"))
    per = Period.parse(period)
    lang = report_language(ws)
    focus = ws.region_option(region) if region else ws.config.region
    compiled = None
    out_dir = ws.out_dir(str(per))
    written_in = notes_language(ws, per)
    stale = is_stale(ws, per)
    if written_in is not None and written_in != lang and not stale:
        # the notes the report quotes are in the other language: compiled again in the report's
        # language for the report only, in a temporary folder; out/<period>/ keeps the user's tables
        if progress:
            # in the report's language: it names the other one as the language the outputs are in
            progress(t("out/{p}/ 是用英文汇总的：按中文另行汇总一次供报告引用（out/{p}/ 中的表不变）…",
                       "out/{p}/ was compiled in Chinese: compiling it again in English for the report only (the "
                       "tables in out/{p}/ are left as they are)…", p=str(per)).render(lang))
        with tempfile.TemporaryDirectory(prefix="revstat-report-") as scratch:
            compiled = compile_in(lang, ws, per, Path(scratch))
            results = read_results(Path(scratch) / "indicators.csv")
            findings = read_findings(Path(scratch) / "findings.json")
    else:
        if stale:
            if progress:
                progress(str(t("out/{p}/ 不存在或早于输入文件，先汇总计算…",
                               "out/{p}/ is missing or older than its inputs; compiling first…", p=str(per))))
            compiled = compile_in(lang, ws, per)
        results = read_results(out_dir / "indicators.csv")
        findings = read_findings(out_dir / "findings.json")
    import pandas as pd

    frames = [results, *history_results(ws, per, focus)]
    table = pd.concat(frames, ignore_index=True) if len(frames) > 1 else results
    context = render.build_context(table, load_indicators(ws), ws.regions, findings, str(per), focus=focus,
                                   report_name=ws.config.name, provenance=provenance_from(compiled, ws.regions),
                                   rounding=ws.config.rounding, lang=lang)
    name = template or default_template(ws, focus)
    rendered = render.render_template(ws.template_dirs(), render.template_candidates(name, fmt, lang), context)
    if lang == "en" and ".en." not in Path(rendered.template).name and not str(name).endswith(".j2"):
        rendered.warnings.append(f"no English template {name}.en.md.j2: the report is written with the Chinese one")
    warnings = list(rendered.warnings)

    def warn(message: str) -> None:
        if message not in warnings:
            warnings.append(message)

    stem = Path(rendered.template).name.split(".")[0]
    if region:
        stem += f"_{ws.regions.name(focus)}"
    if lang == "en":
        stem += ".en"  # beside the Chinese draft, not over it
    target = Path(output) if output is not None else out_dir / (stem + EXTENSIONS[fmt])
    font = charts.find_cjk_font() if fmt in ("html", "docx") else None
    if fmt == "md":
        from revstat.writers.markdown import write_markdown

        write_markdown(rendered.text, target, lang)
    elif fmt == "html":
        from revstat.writers.html import render_html, write_html

        page = render_html(rendered.text, context, warnings=None, autoescaped=rendered.autoescaped, font=font, warn=warn)
        write_html(page, target)
    else:
        if rendered.autoescaped:
            raise RenderError(t("HTML 模板不能输出为 Word", "an HTML template cannot be written as Word"),
                              Location(rendered.template), t("用 .md.j2 模板，或 --format html", "use a .md.j2 template, or --format html"))
        from revstat.writers.docx import build_docx, write_docx

        write_docx(build_docx(rendered.text, context, font=font, warn=warn), target)
    return ReportOutcome(target, rendered.template, warnings, compiled is not None, len(context["errors"]))
