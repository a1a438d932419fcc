"""One self-contained HTML file: inline CSS, charts as inline SVG, no external request.

Every printed figure becomes ``<span class="fig" title="指标 · 公式 · 地区 · 报告期 · 来源">``, so
hovering a number shows where it came from.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from revstat import textfmt
from revstat.writers import charts
from revstat.writers.atomic import atomic_file
from revstat.writers.markdown import Block, parse_blocks

CSS = """
body{font-family:"Noto Serif CJK SC","Source Han Serif SC","FangSong","STFangsong",serif;
 max-width:52em;margin:2em auto;padding:0 1em;line-height:1.9;color:#222;background:#fff}
h1{font-family:"Noto Serif CJK SC","Source Han Serif SC",serif;text-align:center;font-size:1.6em;margin:1em 0}
h2{font-family:"Noto Sans CJK SC","Source Han Sans SC","SimHei",sans-serif;font-size:1.2em;margin-top:1.6em}
h3{font-family:"KaiTi","STKaiti",serif;font-size:1.05em}
p{text-indent:2em;margin:.6em 0}
table{border-collapse:collapse;margin:1em auto;font-size:.9em}
th,td{border:1px solid #888;padding:.2em .6em;text-align:right}
th{background:#f0f0f0;text-align:center}
td:first-child{text-align:left}
.fig{border-bottom:1px dotted #2e6da4;cursor:help}
.note{border-left:4px solid #d4a017;background:#fff8e1;padding:.4em 1em;margin:1em 0}
figure{margin:1.2em auto;text-align:center}
figure svg{max-width:100%;height:auto}
figcaption{font-size:.9em;color:#555}
.warnings{font-size:.85em;color:#8a6d3b;border-top:1px solid #ccc;margin-top:2em}
"""


def figure_title(key: str, context: dict[str, Any]) -> str:
    """指标 · 公式 · 地区 · 报告期 · 来源 of a marked figure (key = indicator|region|period|part)."""
    parts = textfmt.split_key(key)
    indicator, region_code, period = (parts + ["", "", ""])[:3]
    part = parts[3] if len(parts) > 3 else "value"
    regions = context.get("regions")
    fig = None
    if regions is not None and regions.has(region_code) and regions[region_code].figs.has(indicator):
        fig = regions[region_code].figs[indicator]
    if fig is None:
        for f in context.get("history", {}).get(indicator, []):
            if f.region_code == region_code and f.period == period:
                fig = f
    en = (context.get("report") or {}).get("lang") == "en"
    name = ((fig.name_en or fig.name) if en else fig.name) if fig else indicator
    region = fig.region_name if fig else region_code
    formula = fig.formula if fig and fig.formula else "—"
    whats = ({"change": "change on the same period last year", "yi": "in 100 million yuan", "wan": "in 10k yuan",
              "million": "in million yuan", "yuan": "in yuan"} if en else
             {"change": "比上年同期变化", "yi": "按亿元表示", "wan": "按万元表示", "million": "按百万元表示", "yuan": "按元表示"})
    what = whats.get(part, "")
    source = context.get("provenance", {}).get(f"{indicator}|{region_code}") or (
        f"summed from the lower-level regions of {region}" if en else f"由{region}各下级地区数据汇总计算")
    head = f"{name} ({indicator})" if en else f"{name}（{indicator}）"
    bits = [head + (f" {what}" if what else ""), f"{'formula: ' if en else '公式：'}{formula}", region, period,
            f"{'source: ' if en else '来源：'}{source}"]
    if fig is not None and part == "change" and fig.previous is not None:
        bits.insert(4, f"{'same period last year: ' if en else '上年同期：'}{fig.previous}")
    if fig is not None and (fig.incomplete or (part == "change" and fig.previous_incomplete)):
        bits.append(("incomplete: " if en else "不完整：") + (fig.note or ("some lower-level regions are missing" if en
                                                                          else "部分下级地区缺数")))
    if fig is not None and fig.numerator is not None and fig.denominator is not None:
        bits.insert(4, f"numerator {fig.numerator} / denominator {fig.denominator}" if en
                    else f"分子 {fig.numerator} / 分母 {fig.denominator}")
    return " · ".join(bits)


def _inline(text: str, context: dict[str, Any], escape: bool = True) -> str:
    """Escape text and turn figure markers into spans (markers survive escaping)."""
    escaped = html.escape(text, quote=False) if escape else text

    def span(key: str, shown: str) -> str:
        title = html.escape(figure_title(key, context), quote=True)
        return f'<span class="fig" title="{title}">{shown}</span>'

    return textfmt.replace_marks(escaped, span)


def chart_svg(block: Block, context: dict[str, Any], font: Path | None, fmt: str = "svg") -> tuple[bytes, str] | None:
    """The chart of a directive as (image bytes, caption), or None (no font or no data)."""
    if font is None:
        return None
    kind, indicator = block.chart["kind"], block.chart["indicator"]
    if kind == "bar":
        figs = [c.figs[indicator] for c in context.get("children", []) if c.figs.has(indicator)]
        if not figs:
            return None
        series = charts.Series([f.region_name for f in figs], [f.value for f in figs], [f.display for f in figs])
        _op, goal = textfmt._target_text(figs[0].target)
        try:
            target = Decimal(goal) if figs[0].target else None
        except ArithmeticError:
            target = None
        title = block.chart.get("title") or f"{figs[0].name}（分{'县' if context['region'].level == 'city' else '地区'}）"
        lang = (context.get("report") or {}).get("lang", "zh")
        return charts.bar_chart(series, title, figs[0].unit, target, font, fmt, lang), title
    if kind == "trend":
        figs = context.get("history", {}).get(indicator, [])
        if len(figs) < 2:
            return None
        series = charts.Series([f.period for f in figs], [f.value for f in figs], [f.display for f in figs])
        title = block.chart.get("title") or f"{figs[-1].region_name}{figs[-1].name}（按季度累计）"
        return charts.trend_chart(series, title, figs[-1].unit, font, fmt), title
    return None


def chart_skipped(block: Block, font: Path | None) -> str:
    """Why a chart was left out (a render warning)."""
    from revstat.i18n import t

    if font is None:
        return t("未找到开源中文字体（如 Debian 的 fonts-noto-cjk），图表已省略，仅输出文字",
                 "no openly licensed CJK font found (e.g. Debian's fonts-noto-cjk): charts left out, text only").render()
    if block.chart["kind"] == "trend":
        return t("趋势图 {i} 已省略：out/ 中没有本年或上年更早报告期的汇总结果（data/ 中若有这些报告期的数据，先对它们运行 "
                 "revstat compile）", "trend chart {i} left out: out/ has no compiled results of earlier periods of this "
                 "year or last (if data/ has them, run revstat compile for them first)", i=block.chart["indicator"]).render()
    return t("图表 {i} 已省略：没有下级地区的数据", "chart {i} left out: no data for the lower-level regions",
             i=block.chart["indicator"]).render()


def render_html(text: str, context: dict[str, Any], *, warnings: list[str] | None = None,
                autoescaped: bool = False, font: Path | None = None,
                warn: Callable[[str], None] | None = None) -> str:
    """Lay out report Markdown (or an already-HTML template output) as one standalone page."""
    title = ""
    if autoescaped:  # an .html.j2 template: its output is HTML already
        body = _inline(text, context, escape=False)
    else:
        out: list[str] = []
        for block in parse_blocks(text):
            if block.kind == "title":
                title = textfmt.strip_marks(block.text)
                out.append(f"<h1>{_inline(block.text, context)}</h1>")
            elif block.kind == "h1":
                out.append(f"<h2>{_inline(block.text, context)}</h2>")
            elif block.kind == "h2":
                out.append(f"<h3>{_inline(block.text, context)}</h3>")
            elif block.kind == "para":
                out.append(f"<p>{_inline(block.text, context)}</p>")
            elif block.kind == "item":  # consecutive items make one list
                item = f"<li>{_inline(block.text, context)}</li>"
                if out and out[-1].endswith("</ul>"):
                    out[-1] = out[-1][:-len("</ul>")] + item + "</ul>"
                else:
                    out.append(f"<ul>{item}</ul>")
            elif block.kind == "note":
                out.append(f'<div class="note">{_inline(block.text, context)}</div>')
            elif block.kind == "table":
                rows = block.rows
                head = "".join(f"<th>{_inline(c, context)}</th>" for c in rows[0]) if rows else ""
                body_rows = "".join("<tr>" + "".join(f"<td>{_inline(c, context)}</td>" for c in r) + "</tr>"
                                    for r in rows[1:])
                out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body_rows}</tbody></table>")
            elif block.kind == "chart":
                made = chart_svg(block, context, font)
                if made is None:
                    if warn is not None:
                        warn(chart_skipped(block, font))
                    continue
                svg, caption = made
                svg_text = svg.decode("utf-8")
                svg_text = svg_text[svg_text.find("<svg"):]  # drop the XML prolog and DOCTYPE
                out.append(f'<figure class="chart" data-chart="{html.escape(block.chart["kind"])}">{svg_text}'
                           f"<figcaption>{html.escape(caption)}</figcaption></figure>")
        body = "\n".join(out)
    notes = ""
    if warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
        notes = f'<div class="warnings"><p>生成报告时的提示：</p><ul>{items}</ul></div>'
    return (
        f"<!DOCTYPE html>\n<html lang=\"{'en' if (context.get('report') or {}).get('lang') == 'en' else 'zh-CN'}\">\n"
        "<head>\n<meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{html.escape(title or 'revstat 报告')}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"{body}\n{notes}\n</body>\n</html>\n"
    )


def png_data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def write_html(page: str, target: Path) -> Path:
    with atomic_file(Path(target)) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return Path(target)
