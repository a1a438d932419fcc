"""Report templates: a sandboxed Jinja environment and the context it renders.

``build_context(results, indicators, tree, findings, period, ...)`` turns the compiled results
table into plain lookups (pure: it never computes a figure, only picks display values and ranks
regions among their siblings). ``render_template(...)`` renders one template with
:mod:`revstat.textfmt` as filters; any error (syntax, an unknown indicator or region, a filter
misuse) becomes a :class:`revstat.errors.RenderError` naming the template file and line.

Templates are looked up only in the workspace's ``templates/`` and the package's
(``Workspace.template_dirs()``); ``..`` and symlinks that leave those folders are refused.
"""

from __future__ import annotations

import difflib
import functools
import html
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from revstat import textfmt
from revstat.errors import RenderError, RevstatError
from revstat.i18n import t, unit_text
from revstat.model import Issue, Location
from revstat.numbers import format_fixed, to_decimal
from revstat.periods import Period
from revstat.textfmt import Fig

#: The top-level variables of the report context (the keys of :func:`build_context`'s dict);
#: `revstat lint` warns about any other name a template uses without setting it.
CONTEXT_VARIABLES = ("region", "children", "regions", "indicators", "period", "report", "findings", "errors",
                     "warnings", "history", "provenance")

#: The note of a defined indicator that has no result at a region (see ``RegionView.known``).
NO_RESULT = t("没有结果：工作区缺少该指标所需的字段，或这一级地区没有数据",
              "no result: the workspace lacks the indicator's fields, or this level has no data")

SCOPE_WORD = {"province": "全省", "city": "全市", "county": "全县", "township": "全乡镇"}
CHILD_NOUN = {"province": "个市", "city": "个县（市、区）", "county": "个乡镇", "township": "个村"}
SCOPE_WORD_EN = {"province": "the province", "city": "the city", "county": "the county", "township": "the township"}
CHILD_NOUN_EN = {"province": "cities", "city": "counties", "county": "townships", "township": "villages"}
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")


# --------------------------------------------------------------------------- lookups
class Lookup:
    """Name → item, reachable as ``x.name`` or ``x["中文名"]`` in templates; an unknown name
    is an error with a did-you-mean (see :class:`ReportEnvironment`)."""

    def __init__(self, kind: str, items: dict[str, Any], aliases: dict[str, str] | None = None) -> None:
        self._kind = kind
        self._items = items
        self._aliases = aliases or {}

    def get(self, name: str, default: Any = None) -> Any:
        key = self._aliases.get(name, name)
        return self._items.get(key, default)

    def has(self, name: str) -> bool:
        return self._aliases.get(name, name) in self._items

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.has(name)

    def __getitem__(self, name: str) -> Any:
        key = self._aliases.get(name, name)
        return self._items[key]

    def __iter__(self) -> Any:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def suggest(self, name: str) -> list[str]:
        return difflib.get_close_matches(str(name), [*self._items, *self._aliases], n=3, cutoff=0.5)

    @property
    def kind(self) -> str:
        return self._kind


@dataclass
class RegionView:
    """One region with every indicator of the period as a :class:`Fig`."""

    code: str
    name: str
    level: str
    figs: Lookup
    parent: str | None = None
    children: list[RegionView] = field(default_factory=list)
    known: Mapping[str, Fig] = field(default_factory=dict)  # every defined indicator, by id and name: no value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("figs", "code", "name", "level", "parent", "children", "known"):
            raise AttributeError(name)
        figs = self.__dict__.get("figs")
        if figs is not None and figs.has(name):
            return figs[name]
        raise AttributeError(name)

    def __getitem__(self, name: str) -> Fig:
        return self.figs[name]

    @property
    def scope(self) -> str:
        if self.level == "township":  # 全镇, 全乡, 全街道 (全乡镇 when the name says neither)
            for suffix in ("街道", "镇", "乡"):
                if self.name.endswith(suffix):
                    return "全" + suffix
        return SCOPE_WORD.get(self.level, "全" + self.name[-1:])

    def __str__(self) -> str:
        return self.name


@dataclass
class RenderResult:
    text: str  # with figure markers (textfmt.strip_marks for plain text)
    warnings: list[str]
    template: str
    autoescaped: bool = False

    @property
    def plain(self) -> str:
        return textfmt.strip_marks(self.text)


# --------------------------------------------------------------------------- context
def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, float) and value != value:
        return ""
    try:
        import pandas as pd

        if value is pd.NA or (not isinstance(value, str | Decimal) and pd.isna(value)):
            return ""
    except (TypeError, ValueError, ImportError):
        pass
    return str(value)


def _dec(value: Any) -> Decimal | None:
    text = _text(value)
    if text == "":
        return None
    if isinstance(value, Decimal | int | float):
        return to_decimal(value)
    try:
        return to_decimal(Decimal(text))
    except ArithmeticError:
        return None


def _bool(value: Any) -> bool | None:
    text = _text(value).strip().lower()
    if text in ("true", "1", "yes", "是"):
        return True
    if text in ("false", "0", "no", "否"):
        return False
    return None


def _ranks(values: dict[str, Decimal | None], lower_is_better: bool) -> dict[str, int]:
    """Competition ranks (1, 2, 2, 4) of the regions that have a value."""
    present = [(v, c) for c, v in values.items() if v is not None]
    ranks: dict[str, int] = {}
    for code, v in ((c, v) for v, c in present):
        better = sum(1 for w, _ in present if (w < v if lower_is_better else w > v))
        ranks[code] = better + 1
    return ranks


def _indicator_defs(indicators: Any) -> dict[str, Any]:
    if indicators is None:
        return {}
    if isinstance(indicators, dict):
        return dict(indicators)
    return {_get(d, "id"): d for d in indicators}


def build_context(results: Any, indicators: Any, tree: Any, findings: Sequence[Issue] | None,
                  period: str, *, focus: str | None = None, report_name: str = "",
                  provenance: dict[str, str] | None = None, rounding: str = "half_up",
                  lang: str = "zh") -> dict[str, Any]:
    """The template context: every indicator at every region of ``period``, by id and by name.

    ``results``: a DataFrame with :data:`revstat.tidy.RESULT_COLUMNS`; ``indicators``: definitions
    (objects or dicts with id, name, unit, decimals, formula, direction, theme); ``tree``: the
    :class:`revstat.regions.RegionTree`; ``focus``: the report's region code (default: the highest
    region in the results). Nothing is computed but ranks among siblings.
    """
    per = Period.parse(period)
    defs = _indicator_defs(indicators)
    if focus is not None and tree is not None and focus in tree and "region_code" in results.columns:
        parent = tree[focus].parent
        keep = {focus, *tree.children.get(focus, [])}
        if parent is not None:
            keep |= {parent, *tree.children.get(parent, [])}
        results = results[results["region_code"].astype(str).isin(keep)]  # the rest is never printed
    all_rows = results.to_dict("records")
    rows = [r for r in all_rows if str(r.get("period")) == str(per)]
    by_region: dict[str, dict[str, Fig]] = {}
    region_meta: dict[str, tuple[str, str]] = {}
    for r in rows:
        code = str(r["region_code"])
        ind = str(r["indicator"])
        d = defs.get(ind)
        fig = Fig(
            indicator=ind, name=_text(r.get("name")) or _text(_get(d, "name")) or ind,
            unit=_text(r.get("unit")) or _text(_get(d, "unit")), region_code=code,
            region_name=_text(r.get("region_name")), period=str(per), value=_dec(r.get("value")),
            display=_text(r.get("display")), change=_dec(r.get("change")),
            change_display=_text(r.get("change_display")), change_unit=_text(r.get("change_unit")),
            previous=_dec(r.get("previous")),
            previous_display=format_fixed(_dec(r.get("previous")), int(_get(d, "decimals", 2) or 0), rounding)
            if _dec(r.get("previous")) is not None else "",
            numerator=_dec(r.get("numerator")),
            denominator=_dec(r.get("denominator")), target=_text(r.get("target")),
            target_met=_bool(r.get("target_met")), note=_text(r.get("note")),
            level=_text(r.get("level")), decimals=int(_get(d, "decimals", 2) or 0),
            formula=_text(_get(d, "formula")), name_en=_text(_get(d, "name_en")),
            incomplete=bool(_bool(r.get("incomplete"))),
            previous_incomplete=bool(_bool(r.get("previous_incomplete"))),
        )
        by_region.setdefault(code, {})[ind] = fig
        region_meta[code] = (fig.region_name, fig.level)
    # ranks among siblings (children of the same parent in the tree)
    parents: dict[str | None, list[str]] = {}
    for code in by_region:
        parent = tree[code].parent if tree is not None and code in tree else None
        parents.setdefault(parent, []).append(code)
    for siblings in parents.values():
        if len(siblings) < 2:
            continue
        inds = {i for c in siblings for i in by_region[c]}
        for ind in inds:
            lower = str(_get(defs.get(ind), "direction", "") or "") in ("lower", "down", "lower_is_better", "-")
            now = _ranks({c: by_region[c][ind].value for c in siblings if ind in by_region[c]}, lower)
            before = _ranks({c: by_region[c][ind].previous for c in siblings if ind in by_region[c]}, lower)
            if set(before) != set(now):  # a county missing one year: its rank move is no like-for-like move
                before = {}
            for c in siblings:
                if ind in by_region[c]:
                    f = by_region[c][ind]
                    by_region[c][ind] = _replace(f, rank=now.get(c), rank_of=len(now) or None,
                                                 prev_rank=before.get(c))
    names = {i: (_text(_get(d, "name")) or i) for i, d in defs.items()}
    for figs in by_region.values():
        for f in figs.values():
            names.setdefault(f.indicator, f.name)
    aliases = {n: i for i, n in names.items() if n and n != i}
    why = NO_RESULT.render(lang)
    known = {i: Fig(indicator=i, name=names.get(i, i), unit=_text(_get(d, "unit")), region_code="", region_name="",
                    period=str(per), note=why, name_en=_text(_get(d, "name_en")), decimals=int(_get(d, "decimals", 2) or 0),
                    extra={"absent": True})
             for i, d in defs.items()}
    known |= {n: known[i] for n, i in aliases.items() if i in known}
    views: dict[str, RegionView] = {}
    for code, figs in by_region.items():
        name, lvl = region_meta[code]
        parent = tree[code].parent if tree is not None and code in tree else None
        if tree is not None and code in tree:
            name, lvl = name or tree[code].name, lvl or tree[code].level
        views[code] = RegionView(code, name, lvl, Lookup("indicator", figs, aliases), parent, known=known)
    for view in views.values():
        if view.parent in views:
            views[view.parent].children.append(view)
    for view in views.values():
        view.children.sort(key=lambda v: v.code)
    if focus is None:
        roots = [v for v in views.values() if v.parent not in views]
        focus = min(roots, key=lambda v: v.code).code if roots else None
    if focus is not None and focus not in views:
        raise RenderError(t("结果中没有地区 {code}", "region {code} is not in the results", code=focus),
                          fix=t("检查 --region，或先运行 revstat compile", "check --region, or run revstat compile first"))
    region = views[focus] if focus else None
    history: dict[str, list[Fig]] = {}
    for r in all_rows:  # the focus region in other periods of the table (for trend charts)
        if str(r["region_code"]) != focus:
            continue
        p = str(r.get("period"))
        try:
            if Period.parse(p) > per:
                continue
        except RevstatError:
            continue
        history.setdefault(str(r["indicator"]), []).append(Fig(
            indicator=str(r["indicator"]), name=_text(r.get("name")), unit=_text(r.get("unit")),
            region_code=focus, region_name=_text(r.get("region_name")), period=p,
            value=_dec(r.get("value")), display=_text(r.get("display"))))
    for figs in history.values():
        figs.sort(key=lambda f: Period.parse(f.period))
    region_aliases = {v.name: c for c, v in views.items()}
    issues = list(findings or [])
    finding_rows = [_finding(i, lang) for i in issues]
    for row in finding_rows:  # 安乐镇 … → 南岭县安乐镇 …: township names repeat across counties
        name, code = row.get("region_name"), row.get("region_code")
        if tree is not None and name and code in tree and str(row.get("message") or "").startswith(name):
            chain, at = [], code
            while at is not None and at in tree and at != focus and tree.level(at) != "city":
                chain.append(tree[at].name)
                at = tree[at].parent
            full = ("" if lang == "zh" else " ").join(reversed(chain))
            if full and full != name:
                row["message"] = full + str(row["message"])[len(name):]
    info = {i: {"id": i, "name": names.get(i, i), "name_en": _text(_get(d, "name_en")) or names.get(i, i),
                "unit": _text(_get(d, "unit")), "unit_en": unit_text(_text(_get(d, "unit")), "en"),
                "formula": _text(_get(d, "formula")), "theme": _text(_get(d, "theme")),
                "decimals": _get(d, "decimals"), "target": _target_in(_get(d, "target"), per),
                "headline": bool(_get(d, "headline", False)), "direction": _text(_get(d, "direction"))}
            for i, d in defs.items()}
    if lang == "en":
        from revstat import textfmt_en

        parent = views.get(region.parent) if region is not None and region.parent else None
        report = {"name": report_name, "region": region, "lang": "en",
                  "scope": SCOPE_WORD_EN.get(region.level, region.name) if region else "",
                  "up": SCOPE_WORD_EN.get(parent.level, parent.name) if parent is not None else "",
                  "child_noun": CHILD_NOUN_EN.get(region.level, "regions") if region else ""}
        months = per.months or 12
        label = str(per.year) if per.kind == "Y" else (
            f"January {per.year}" if months == 1 else f"January–{MONTHS_EN[months - 1]} {per.year}")
        period_words = {"label": label, "compare": textfmt_en.compare_word(str(per)), "last_year": str(per.year - 1),
                        "end": f"the end of {per.year}" if per.kind == "Y" else f"the end of {MONTHS_EN[months - 1]} {per.year}"}
    else:
        parent = views.get(region.parent) if region is not None and region.parent else None
        report = {"name": report_name, "region": region, "lang": "zh", "scope": region.scope if region else "",
                  "up": parent.scope if parent is not None else "",  # where ranks are among: 全市 for a county
                  "child_noun": CHILD_NOUN.get(region.level, "个地区") if region else ""}
        period_words = {"label": per.label_zh(), "compare": textfmt.compare_word(str(per)), "last_year": f"{per.year - 1}年",
                        "end": f"{per.year}年底" if per.kind == "Y" else f"{per.year}年{per.months}月底"}
    return {
        "report": report,
        "period": {"code": str(per), "year": per.year, "annual": per.kind == "Y",
                   "quarter": per.number if per.kind == "Q" else None, "months": per.months, **period_words},
        "region": region,
        "children": list(region.children) if region else [],
        "regions": Lookup("region", views, region_aliases),
        "indicators": Lookup("indicator", info, aliases),
        "findings": finding_rows,
        "errors": [f for f in finding_rows if f["severity"] == "error" and not f["waived"]],
        "warnings": [f for f in finding_rows if f["severity"] == "warning" and not f["waived"]],
        "provenance": dict(provenance or {}),
        "history": history,
    }


def _target_in(target: Any, period: Period) -> str:
    """An indicator's target as the report's period sees it: none before the year's end for an
    annual one (a task of the year is not missed in its first quarter), else its text."""
    annual = target.get("annual") if isinstance(target, dict) else getattr(target, "annual", False)
    if annual and not period.ends_year:
        return ""
    return _text(target)


def _replace(fig: Fig, **changes: Any) -> Fig:
    import dataclasses

    return dataclasses.replace(fig, **changes)


def _finding(issue: Issue | dict[str, Any], lang: str = "zh") -> dict[str, Any]:
    """A finding for the report text: from findings.json, the message in the report's language
    whatever language the compile spoke (``messages``)."""
    if isinstance(issue, dict):
        row = dict(issue)
        row["message"] = (row.get("messages") or {}).get(lang, row.get("message"))
    else:
        row = issue.to_dict(lang)
    row.setdefault("waived", None)
    row.setdefault("region_name", None)
    return row


# --------------------------------------------------------------------------- helpers for templates
def figs_of(regions: Iterable[RegionView], indicator: str) -> list[Fig]:
    """The same indicator at several regions (skips regions without it)."""
    return [r.figs[indicator] for r in regions if r.figs.has(indicator)]


def best_first(figs: Iterable[Fig]) -> list[Fig]:
    """Figs with a value, ordered by rank (best first; unranked last). A region without a value
    (its workbook missing) is left out: ranked last it read “最低的是北川县（—，—）”."""
    return sorted((f for f in figs if not f.missing), key=lambda f: (f.rank is None, f.rank or 0, f.region_code))


def one_per_rule(findings: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first finding of each rule, in order, with ``more`` (how many others the rule found)
    and ``others`` (their regions' names, in order): six counties whose household records
    disagree with table 1 read as one sentence and five “同类问题”, not six near-identical lines."""
    first: dict[str, dict[str, Any]] = {}
    for f in findings:
        rule = str(f.get("rule") or "")
        if rule not in first:
            first[rule] = {**f, "more": 0, "others": []}
            continue
        first[rule]["more"] += 1
        name = f.get("region_name")
        if name and name not in first[rule]["others"]:
            first[rule]["others"].append(name)
    return list(first.values())


def missed(figs: Iterable[Fig]) -> list[Fig]:
    return [f for f in figs if f.target_met is False and not f.missing]


def negative(figs: Iterable[Fig]) -> list[Fig]:
    """Figs whose printed value is below zero (e.g. behind the time schedule)."""
    return [f for f in figs if not f.missing and textfmt._sign(f.value, f.display) < 0]


def has(region: RegionView | None, indicator: str) -> bool:
    """Whether a region has a non-missing value of an indicator (for optional sentences)."""
    return region is not None and region.figs.has(indicator) and not region.figs[indicator].missing


# --------------------------------------------------------------------------- environment
def _sandbox() -> Any:
    from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound, select_autoescape
    from jinja2.sandbox import SandboxedEnvironment

    class ContainedLoader(FileSystemLoader):
        """FileSystemLoader that refuses files whose real path leaves the search folders."""

        def get_source(self, environment: Any, template: str) -> Any:
            source, filename, uptodate = super().get_source(environment, template)
            real = Path(os.path.realpath(filename))
            roots = [Path(os.path.realpath(p)) for p in self.searchpath]
            if not any(real.is_relative_to(r) for r in roots):
                raise TemplateNotFound(template)
            return source, filename, uptodate

    class ReportEnvironment(SandboxedEnvironment):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.absent: dict[str, tuple[str, str]] = {}  # indicators used without a result: (name, name_en)

        def getattr(self, obj: Any, attribute: str) -> Any:
            if isinstance(obj, Lookup) and not attribute.startswith("_") and not obj.has(attribute) \
                    and not hasattr(type(obj), attribute):
                return self._unknown(obj.kind, attribute, obj.suggest(attribute))
            if isinstance(obj, RegionView) and not attribute.startswith("_") \
                    and not hasattr(RegionView, attribute) and attribute not in obj.__dict__ \
                    and not obj.figs.has(attribute):
                return self._absent(obj, attribute)
            return super().getattr(obj, attribute)

        def getitem(self, obj: Any, argument: Any) -> Any:
            if isinstance(obj, Lookup) and isinstance(argument, str) and not obj.has(argument):
                return self._unknown(obj.kind, argument, obj.suggest(argument))
            if isinstance(obj, RegionView) and isinstance(argument, str) and not obj.figs.has(argument):
                return self._absent(obj, argument)
            return super().getitem(obj, argument)

        def _absent(self, region: RegionView, name: str) -> Any:
            """A defined indicator without a result here (its fields are not in the workspace, or
            this level has no data) prints as a missing value with a warning, like any missing
            value; a name that is no indicator at all is a template error."""
            fig = region.known.get(name)
            if fig is not None:
                self.absent.setdefault(fig.indicator, (fig.name, fig.name_en or fig.name))
                return _replace(fig, region_code=region.code, region_name=region.name, level=region.level)
            return self._unknown("indicator", name, region.figs.suggest(name), region.name)

        def _unknown(self, kind: str, name: str, close: list[str], where: str = "") -> Any:
            what = {"indicator": "指标", "region": "地区"}.get(kind, kind)
            hint = f"未知{what} `{name}`" + (f"（{where}）" if where else "")
            if close:
                hint += "；是否应为 " + "、".join(f"`{c}`" for c in close) + "？"
            return self.undefined(hint=hint, name=name)

    return ContainedLoader, ReportEnvironment, StrictUndefined, select_autoescape


def make_environment(template_dirs: Sequence[Path], warnings: list[str] | None = None,
                     extra_globals: dict[str, Any] | None = None, lang: str = "zh") -> Any:
    """A sandboxed Jinja environment over ``template_dirs`` with the textfmt filters; filters that
    meet a missing value append a message to ``warnings``."""
    loader_cls, env_cls, strict, select_autoescape = _sandbox()
    env = env_cls(
        loader=loader_cls([str(d) for d in template_dirs]),
        undefined=strict,
        autoescape=select_autoescape(enabled_extensions=("html", "htm", "html.j2", "htm.j2", "xml"),
                                     default_for_string=False, default=False),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    sink = warnings if warnings is not None else []

    def warn(message: str) -> None:
        if message not in sink:
            sink.append(message)

    words: Any = textfmt
    if lang == "en":
        from revstat import textfmt_en as words
    for name, fn in words.FILTERS.items():
        env.filters[name] = functools.partial(fn, warn=warn) if name in textfmt.WARNING_FILTERS else fn
    for name, fn in words.GLOBALS.items():
        env.globals[name] = functools.partial(fn, warn=warn) if name in textfmt.WARNING_GLOBALS else fn
    env.globals.update(figs_of=figs_of, best_first=best_first, missed=missed, negative=negative, has=has,
                       one_per_rule=one_per_rule)
    env.filters.update(figs_of=figs_of, best_first=best_first, missed=missed, negative=negative,
                       one_per_rule=one_per_rule)
    env.globals.update(extra_globals or {})
    return env


def template_candidates(name: str, fmt: str, lang: str = "zh") -> list[str]:
    """File names tried for ``--template NAME``: NAME as given, then NAME.<fmt>.j2, NAME.md.j2;
    in English NAME.en.<fmt>.j2 and NAME.en.md.j2 first."""
    if name.endswith(".j2"):
        return [name]
    names = [f"{name}.html.j2"] if fmt == "html" else []
    if lang == "en":
        names = [n.replace(f"{name}.", f"{name}.en.", 1) for n in [*names, f"{name}.md.j2"]] + names
    return [*names, f"{name}.md.j2", name]


def render_template(template_dirs: Sequence[Path], name: str | Sequence[str], context: dict[str, Any]) -> RenderResult:
    """Render one template; every failure becomes a RenderError naming the file and line."""
    from jinja2 import TemplateNotFound, TemplatesNotFound, TemplateSyntaxError

    warnings: list[str] = []
    lang = (context.get("report") or {}).get("lang", "zh")
    env = make_environment(template_dirs, warnings, lang=lang)
    names = [name] if isinstance(name, str) else list(name)
    try:
        template = env.select_template(names)
    except TemplateSyntaxError as exc:
        what = syntax_error_text(exc.message or str(exc))
        line: int | None = exc.lineno
        block = _unclosed_block(env, exc)
        if block is not None:  # point at the block's opening line, not at the end of the file (as lint does)
            tag, line, end = block
            what = t("模板语法错误：第{line}行的 {{% {tag} %}} 没有对应的 {{% end{tag} %}}（模板在第{end}行结束）",
                     "template syntax error: {{% {tag} %}} on line {line} has no {{% end{tag} %}} "
                     "(the template ends on line {end})", tag=tag, line=line, end=end)
        raise RenderError(what, Location(_display(exc.filename or exc.name or names[0], template_dirs), line=line),
                          t("改正该行的 Jinja 语法", "fix the Jinja syntax on that line")) from None
    except (TemplateNotFound, TemplatesNotFound):
        available = sorted({p.name.split(".")[0] for d in template_dirs if Path(d).is_dir()
                            for p in Path(d).glob("*.j2")})
        close = difflib.get_close_matches(names[0].split(".")[0], available, n=3, cutoff=0.4)
        raise RenderError(
            t("找不到模板 {name}", "template {name} not found", name=names[0]),
            Location(", ".join(_display(str(d), template_dirs) for d in template_dirs)),
            t("可用的模板：{a}{c}", "available templates: {a_en}{c_en}", a="、".join(available) or "—",
              a_en=", ".join(available) or "—", c=f"；是否应为 {'、'.join(close)}？" if close else "",
              c_en=f"; did you mean {', '.join(close)}?" if close else ""),
        ) from None
    filename = template.filename or template.name
    try:
        text = template.render(context)
    except Exception as exc:  # any failure inside a template is the template's: name file and line
        line = _template_line(exc, filename)
        raise RenderError(
            t("模板出错：{e}", "template failed: {e}", e=_message(exc)),
            Location(_display(filename, template_dirs), line=line),
            t("检查该行用到的指标 id、地区名和过滤器（revstat report 文档列出可用的名称）",
              "check the indicator ids, region names and filters used on that line (see docs/templates.md)"),
        ) from None
    text = textfmt.resolve_clauses(text)  # comparisons without a base: left out of running text
    if env.absent:  # one warning for the indicators without results, not one per region and figure
        names = [zh for zh, _ in env.absent.values()]
        names_en = [en for _, en in env.absent.values()]
        warnings.append(t("模板用到的 {n} 个指标没有结果，印为“—”：{names}（工作区缺少其字段，或这一级地区没有数据）；"
                          "可用 --template 选择只用现有指标的模板",
                          "{n} indicators the template uses have no result and print as “—”: {names_en} (the workspace "
                          "lacks their fields, or this level has no data); --template picks a template of your own",
                          n=len(names), names="、".join(names[:6]) + ("等" if len(names) > 6 else ""),
                          names_en=", ".join(names_en[:6]) + (", …" if len(names) > 6 else "")).render())
    autoescaped = bool(env.autoescape(template.name)) if callable(env.autoescape) else bool(env.autoescape)
    note = incomplete_note(text, context, lang)
    if note:
        warnings.append(t("报告中有 {n} 处数字不完整（带＊），文末的“注”列出了它们；发布前请补齐数据或加以说明",
                          "{n} {figures} in the report {are} incomplete (marked ＊), listed in the closing note; "
                          "complete the data or explain them before publishing", n=note[0],
                          figures="figure" if note[0] == 1 else "figures", are="is" if note[0] == 1 else "are").render())  # the CLI's language
        text = text.rstrip("\n") + "\n\n" + (f"<p>{html.escape(note[1])}</p>" if autoescaped else note[1]) + "\n"
    return RenderResult(text=text, warnings=warnings, template=template.name or names[0],
                        autoescaped=autoescaped)


def incomplete_note(text: str, context: dict[str, Any], lang: str = "zh") -> tuple[int, str] | None:
    """The closing note on the figures printed with :data:`revstat.textfmt.FLAG`: how many, and
    a paragraph naming each (a value whose total lacks lower-level regions, with the children that
    are incomplete or have no value when the report shows them; a change against an incomplete
    last-year total). ``None`` when every printed figure is complete."""
    regions = context.get("regions")
    if regions is None:
        return None
    seen: dict[tuple[str, str], set[str]] = {}
    for key, _ in textfmt.iter_marks(text):
        indicator, code, period, *part = textfmt.split_key(key)
        view = regions.get(code)
        fig = view.figs.get(indicator) if view is not None else None
        if fig is None or fig.period != period:
            continue
        kind = "change" if (part or ["value"])[0] == "change" else "value"
        if textfmt.flag(fig, kind):
            seen.setdefault((code, indicator), set()).add(kind)
    if not seen:
        return None
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}  # (region, reasons) → figures, in order
    en = lang == "en"
    for (code, indicator), kinds in seen.items():
        view = regions.get(code)
        fig = view.figs.get(indicator)
        why = []
        if fig.incomplete:
            short = [c.name for c in view.children
                     if not c.figs.has(indicator) or c.figs[indicator].incomplete or c.figs[indicator].missing]
            if en:
                why.append(f"incomplete data from {', '.join(short[:5])}{' and others' if len(short) > 5 else ''}"
                           if short else "some lower-level regions missing")
            else:
                why.append(f"{'、'.join(short[:5])}{'等' if len(short) > 5 else ''}数据不全" if short else "部分下级地区缺数")
        if fig.previous_incomplete and "change" in kinds:
            why.append("last year's total incomplete, the change is not like for like" if en
                       else "上年同期部分下级地区缺数，同比不是同口径")
        elif textfmt.like_for_like(fig) and "change" in kinds and not fig.incomplete:
            why.append("last year's total incomplete, the change taken like for like" if en
                       else "上年同期部分下级地区缺数，同比按可比口径计算")
        name_en = fig.name_en[:1].lower() + fig.name_en[1:] if fig.name_en else fig.name
        groups.setdefault((view.name, tuple(why)), []).append(name_en if en else fig.name)
    # one clause per region and reason: a county's workbook missing makes most city figures
    # incomplete for the same reason, said once with the first few figures named
    items = []
    for (region, why), names in groups.items():
        if en:
            more = f" and {len(names) - _NAMED} more" if len(names) > _NAMED else ""
            items.append(f"{region} {', '.join(names[:_NAMED])}{more} ({'; '.join(why)})")
        else:
            more = f"等{len(names)}项" if len(names) > _NAMED else ""
            items.append(f"{region}{'、'.join(names[:_NAMED])}{more}（{'；'.join(why)}）")
    count = sum(len(names) for names in groups.values())
    if en:
        return count, ("Note: figures marked “＊” are incomplete: " + "; ".join(items)
                       + ". Complete the data, or explain the coverage in the text, before publishing.")
    return count, "注：带“＊”的数字不完整：" + "；".join(items) + "。发布前请补齐数据，或在文中说明口径。"


#: Figures named in the closing note for one region and reason; the others are counted (等48项).
_NAMED = 3


def _unclosed_block(env: Any, exc: Any) -> tuple[str, int, int] | None:
    """For "Unexpected end of template": the block left open, the line of its opening tag and
    the template's last line."""
    if not (exc.message or "").startswith("Unexpected end of template") or not exc.name:
        return None
    from revstat.template_lint import last_line, unclosed_block

    try:
        source = env.loader.get_source(env, exc.name)[0]
    except (OSError, LookupError):  # TemplateNotFound: keep Jinja's line
        return None
    block = unclosed_block(env, source)
    return None if block is None else (*block, last_line(source))


def _message(exc: Exception) -> str:
    from jinja2.exceptions import SecurityError

    if isinstance(exc, SecurityError):
        return f"不允许的操作（沙箱）：{exc}"
    return str(exc) or type(exc).__name__


def _template_line(exc: BaseException, filename: str | None) -> int | None:
    line = getattr(exc, "lineno", None)
    tb = exc.__traceback__
    found = None
    while tb is not None:
        if filename and tb.tb_frame.f_code.co_filename == filename:
            found = tb.tb_lineno
        tb = tb.tb_next
    return found or line


def _display(filename: str, template_dirs: Sequence[Path]) -> str:
    for d in template_dirs:
        try:
            return str(Path(filename).resolve().relative_to(Path(d).resolve().parent))
        except ValueError:
            continue
    return str(filename)


def render_string(source: str, context: dict[str, Any], name: str = "<string>") -> RenderResult:
    """Render template text (tests, docs): same sandbox, filters and errors as files."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, name).write_text(source, encoding="utf-8")
        return render_template([Path(tmp)], name, context)


Callback = Callable[[str], None]


#: Jinja's syntax messages, as a template's author would understand them (Jinja's words stay
#: beside them, for searching).
_JINJA_PROBLEMS_ZH: tuple[tuple[str, str], ...] = (
    (r"Encountered unknown tag '(\w+)'\. You probably made a nesting mistake.*block that needs to be closed is '(\w+)'",
     "{{% {0} %}} 的位置不对：里面的 {{% {1} %}} 还没有用 {{% end{1} %}} 结束（嵌套错误）"),
    (r"Encountered unknown tag '(end\w+)'", "多余的 {{% {0} %}}：前面没有与它对应的开始标签"),
    (r"Encountered unknown tag '(\w+)'", "未知的标签 {{% {0} %}}"),
    (r"[Uu]nexpected end of template, expected 'end of print statement'", "{{{{ … }}}} 没有闭合"),
    (r"[Uu]nexpected end of template", "模板意外结束：有标签或括号没有闭合"),
    (r"expected token 'end of print statement', got '(.+)'", "{{{{ … }}}} 里多了“{0}”（是否漏了运算符或过滤器前的“|”？）"),
    (r"[Ee]xpected an expression, got", "这里缺少表达式"),
    (r"unexpected '(.+)'", "多了一个“{0}”"),
    (r"No filter named '(\w+)'", "没有名为 {0} 的过滤器"),
    (r"No test named '(\w+)'", "没有名为 {0} 的判断"),
)


def syntax_error_text(message: str) -> Any:
    """A Jinja syntax error as revstat's message: explained in Chinese, Jinja's words beside it."""
    import re

    for pattern, zh in _JINJA_PROBLEMS_ZH:
        m = re.search(pattern, message, re.S)
        if m:
            return t("模板语法错误：{why}（{e}）", "template syntax error: {e}", why=zh.format(*m.groups()), e=message)
    return t("模板语法错误：{e}", "template syntax error: {e}", e=message)
