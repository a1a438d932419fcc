"""The template context and the sandboxed environment: lookups by id and Chinese name, ranks
among siblings, errors that name the template file and line with a did-you-mean."""

from __future__ import annotations

import os
import re
from decimal import Decimal as D

import pandas as pd
import pytest

from revstat.errors import RenderError
from revstat.regions import make_tree
from revstat.render import build_context, render_template, template_candidates
from revstat.textfmt import strip_marks
from revstat.tidy import RESULT_COLUMNS

CITY, A, B, C = "990100000000", "990121000000", "990122000000", "990123000000"
TREE = make_tree([(CITY, "示范市", "city", None), (A, "东山县", "county", CITY),
                  (B, "西河县", "county", CITY), (C, "北川县", "county", CITY)])
DEFS = [
    {"id": "sanitary_toilet_rate", "name": "农村卫生厕所普及率", "unit": "%", "decimals": 2,
     "formula": "sanitary_toilet_households / rural_households * 100"},
    {"id": "remaining_households_total", "name": "未消除风险户数", "unit": "户", "decimals": 0,
     "formula": "remaining_households", "direction": "lower"},
]


def row(ind, code, name, level, value, display, prev=None, target="", met=None, change=None, chd="", chu=""):
    unit = "%" if ind == "sanitary_toilet_rate" else "户"
    names = {"sanitary_toilet_rate": "农村卫生厕所普及率", "remaining_households_total": "未消除风险户数"}
    return {"indicator": ind, "name": names[ind], "theme": "", "region_code": code, "region_name": name,
            "level": level, "period": "2024Q4", "value": None if value is None else D(value), "display": display,
            "unit": unit, "numerator": None, "denominator": None, "target": target, "target_met": met,
            "note": "" if value is not None else "西河县未报送", "previous": None if prev is None else D(prev),
            "change": None if change is None else D(change), "change_display": chd, "change_unit": chu,
            "incomplete": False, "previous_incomplete": False}


def results() -> pd.DataFrame:
    rows = [
        row("sanitary_toilet_rate", CITY, "示范市", "city", "72.5", "72.50", "70", ">= 65", True, "2.5", "2.50", "个百分点"),
        row("sanitary_toilet_rate", A, "东山县", "county", "80.1", "80.10", "75", ">= 65", True),
        row("sanitary_toilet_rate", B, "西河县", "county", "80.1", "80.10", "79", ">= 65", True),
        row("sanitary_toilet_rate", C, "北川县", "county", "61.444", "61.44", "76", ">= 65", False),
        row("remaining_households_total", CITY, "示范市", "city", "600", "600"),
        row("remaining_households_total", A, "东山县", "county", "100", "100", "300"),
        row("remaining_households_total", B, "西河县", "county", None, ""),
        row("remaining_households_total", C, "北川县", "county", "500", "500", "200"),
    ]
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


@pytest.fixture
def ctx():
    return build_context(results(), DEFS, TREE, [], "2024Q4")


def render(tmp_path, source, context, name="t.md.j2"):
    (tmp_path / name).write_text(source, encoding="utf-8")
    return render_template([tmp_path], name, context)


def test_indicators_by_id_and_chinese_name_at_every_region(tmp_path, ctx):
    out = render(tmp_path, "{{ region.sanitary_toilet_rate|level }}/{{ regions['北川县']['农村卫生厕所普及率']|level }}"
                           "/{{ regions['990121000000'].sanitary_toilet_rate.display }}", ctx)
    assert out.plain == "72.50%/61.44%/80.10"


def test_ranks_are_among_siblings_with_ties_and_direction(ctx):
    east, west, north = (ctx["regions"][c] for c in (A, B, C))
    # equal values share a rank (competition ranking), the next one skips
    assert (east.sanitary_toilet_rate.rank, west.sanitary_toilet_rate.rank, north.sanitary_toilet_rate.rank) == (1, 1, 3)
    # last year: 西河县 79, 北川县 76, 东山县 75
    assert (west.sanitary_toilet_rate.prev_rank, north.sanitary_toilet_rate.prev_rank, east.sanitary_toilet_rate.prev_rank) == (1, 2, 3)
    # fewer remaining households is better; a missing value has no rank
    assert east.remaining_households_total.rank == 1 and north.remaining_households_total.rank == 2
    assert west.remaining_households_total.rank is None
    assert ctx["region"].sanitary_toilet_rate.rank is None  # the city has no siblings here


def test_context_variables_are_the_ones_lint_knows(ctx):
    from revstat.render import CONTEXT_VARIABLES

    assert sorted(ctx) == sorted(CONTEXT_VARIABLES)


def test_period_wording(ctx):
    assert ctx["period"]["label"] == "2024年1—12月"
    q3 = build_context(results().assign(period="2024Q3"), DEFS, TREE, [], "2024Q3")
    assert q3["period"]["label"] == "2024年1—9月" and q3["period"]["compare"] == "比上年同期"
    assert q3["period"]["end"] == "2024年9月底"


def test_children_targets_and_lists(tmp_path, ctx):
    src = "{{ children|figs_of('sanitary_toilet_rate')|target }}；{{ regions['北川县'].sanitary_toilet_rate|rank }}"
    assert render(tmp_path, src, ctx).plain == "北川县未达到65%的目标（61.44%）；居全市第3位"


def test_missing_value_renders_a_dash_and_a_warning(tmp_path, ctx):
    out = render(tmp_path, "西河县{{ regions['西河县'].remaining_households_total|level }}", ctx)
    assert out.plain == "西河县—"
    assert any("西河县未报送" in w for w in out.warnings)


def test_change_without_base_is_left_out_of_text_but_a_dash_in_tables(tmp_path, ctx):
    # the city's 未消除风险户数 has no figure last year (change_display ""); 卫生厕所普及率 has one
    src = ("全市未消除风险{{ region.remaining_households_total|level }}，"
           "{{ region.remaining_households_total|change(compare=true) }}；"
           "卫生厕所普及率为{{ region.sanitary_toilet_rate|level }}，{{ region.sanitary_toilet_rate|change(compare=true) }}。\n"
           "| 示范市 | {{ region.remaining_households_total|num }} | {{ region.remaining_households_total|change }} |\n")
    out = render(tmp_path, src, ctx)
    assert out.plain == ("全市未消除风险600户；卫生厕所普及率为72.50%，比上年同期提高2.50个百分点。\n"
                         "| 示范市 | 600 | — |\n")
    assert "\ue004" not in out.text and "\ue005" not in out.text
    assert any("示范市未消除风险户数（2024Q4）无上年同期数" in w for w in out.warnings)  # still warned


def test_incomplete_figures_are_flagged_and_named_in_a_closing_note(tmp_path):
    df = results()
    toilet = df.indicator == "sanitary_toilet_rate"
    df.loc[toilet & df.region_code.isin([CITY, C]), "incomplete"] = True  # 北川县 lacks a township
    at_a = toilet & (df.region_code == A)  # 东山县: complete, but last year's total was not
    df.loc[at_a, ["change", "change_display", "change_unit", "previous_incomplete"]] = [D("5.1"), "5.10", "个百分点", True]
    context = build_context(df, DEFS, TREE, [], "2024Q4")
    src = ("全市卫生厕所普及率为{{ region.sanitary_toilet_rate|level }}，{{ region.sanitary_toilet_rate|change(compare=true) }}；"
           "东山县为{{ regions['东山县'].sanitary_toilet_rate|level }}，"
           "{{ regions['东山县'].sanitary_toilet_rate|change(compare=true) }}；未消除风险{{ region.remaining_households_total|level }}。\n")
    out = render(tmp_path, src, context)
    assert out.plain == (
        "全市卫生厕所普及率为72.50%＊，比上年同期提高2.50个百分点＊；东山县为80.10%，比上年同期提高5.10个百分点＊；"
        "未消除风险600户。\n\n"
        "注：带“＊”的数字不完整：示范市农村卫生厕所普及率（北川县数据不全）；"
        "东山县农村卫生厕所普及率（上年同期部分下级地区缺数，同比不是同口径）。发布前请补齐数据，或在文中说明口径。\n")
    assert any("报告中有 2 处数字不完整" in w for w in out.warnings)
    # the same figures complete: no flag, no note, no warning
    out = render(tmp_path, src, build_context(results(), DEFS, TREE, [], "2024Q4"))
    assert "＊" not in out.plain and "注：" not in out.plain and not any("不完整" in w for w in out.warnings)


def test_figures_incomplete_for_one_reason_share_one_clause_of_the_note(tmp_path, monkeypatch):
    # 北川县 lacks a township: both city figures are incomplete for that one reason
    df = results()
    df.loc[df.region_code.isin([CITY, C]), "incomplete"] = True
    reported = (df.indicator == "remaining_households_total") & (df.region_code == B)  # 西河县 reported here
    df.loc[reported, ["value", "display", "note"]] = [D(0), "0", ""]
    context = build_context(df, DEFS, TREE, [], "2024Q4")
    src = "{{ region.sanitary_toilet_rate|level }}；{{ region.remaining_households_total|level }}。\n"
    out = render(tmp_path, src, context)
    assert out.plain.endswith("注：带“＊”的数字不完整：示范市农村卫生厕所普及率、未消除风险户数（北川县数据不全）。"
                              "发布前请补齐数据，或在文中说明口径。\n")
    assert any("报告中有 2 处数字不完整" in w for w in out.warnings)
    import revstat.render

    monkeypatch.setattr(revstat.render, "_NAMED", 1)  # beyond the figures named, the rest are counted
    out = render(tmp_path, src, context)
    assert "注：带“＊”的数字不完整：示范市农村卫生厕所普及率等2项（北川县数据不全）。" in out.plain


def test_annual_figures_compare_with_last_year_quarters_with_the_same_period(tmp_path):
    # CONVENTIONS.md: annual figures say 比上年; quarterly or 1—N月 figures (2024Q4 = 1—12月 too)
    # say 比上年同期
    src = "{{ period.compare }}：{{ region.sanitary_toilet_rate|change(compare=true) }}"
    year = build_context(results().assign(period="2024"), DEFS, TREE, [], "2024")
    assert render(tmp_path, src, year).plain == "比上年：比上年提高2.50个百分点"
    q4 = build_context(results(), DEFS, TREE, [], "2024Q4")
    assert render(tmp_path, src, q4).plain == "比上年同期：比上年同期提高2.50个百分点"


def test_unknown_indicator_names_file_line_and_suggests(tmp_path, ctx):
    with pytest.raises(RenderError) as info:
        render(tmp_path, "第一行\n第二行\n{{ region.sanitary_toilet_rat|level }}\n", ctx, "brief.md.j2")
    err = info.value
    assert err.where.line == 3 and err.where.file.endswith("brief.md.j2")
    assert "sanitary_toilet_rate" in str(err)


def test_unclosed_block_points_at_its_opening_line(tmp_path, ctx):
    with pytest.raises(RenderError) as info:
        render(tmp_path, "第一行\n{% if region %}\n第三行\n第四行\n", ctx, "brief.md.j2")
    err = info.value
    assert err.where.line == 2 and err.where.file.endswith("brief.md.j2")
    assert "第2行的 {% if %} 没有对应的 {% endif %}（模板在第4行结束）" in str(err)


def test_unknown_region_suggests_the_close_name(tmp_path, ctx):
    with pytest.raises(RenderError, match="北川县"):
        render(tmp_path, "{{ regions['北川'].sanitary_toilet_rate }}", ctx)


def test_syntax_error_names_the_line(tmp_path, ctx):
    with pytest.raises(RenderError) as info:
        render(tmp_path, "a\n\n{% if %}\n", ctx)
    assert info.value.where.line == 3


@pytest.mark.parametrize(("source", "zh"), [
    ("a\n{% endif %}\n", "多余的 {% endif %}：前面没有与它对应的开始标签"),
    ("{% if a %}\n{% for x in y %}\n{% endif %}\n", "{% endif %} 的位置不对：里面的 {% for %} 还没有用 {% endfor %} 结束"),
    ("{{ region.name }", "多了一个“}”"),
    ("{{ region.name|levle }}", "没有名为 levle 的过滤器"),
    ("{{ region name }}", "{{ … }} 里多了“name”"),
])
def test_syntax_errors_are_explained_in_chinese_with_jinjas_words_beside(tmp_path, ctx, source, zh):
    with pytest.raises(RenderError) as info:
        render(tmp_path, source, ctx)
    text = info.value.render("zh")
    assert f"模板语法错误：{zh}" in text and "（" in text  # Jinja's own message follows in brackets
    assert zh not in info.value.render("en")


@pytest.mark.parametrize("source", [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ region.sanitary_toilet_rate.value.__class__ }}",
    "{{ cycler.__init__.__globals__ }}",
])
def test_the_sandbox_refuses_python_internals(tmp_path, ctx, source):
    with pytest.raises(RenderError):
        render(tmp_path, source, ctx)


def test_templates_cannot_reach_outside_their_folders(tmp_path, ctx):
    inside = tmp_path / "templates"
    inside.mkdir()
    (tmp_path / "secret.md.j2").write_text("SECRET", encoding="utf-8")
    (inside / "inc.md.j2").write_text("{% include '../secret.md.j2' %}", encoding="utf-8")
    with pytest.raises(RenderError):
        render_template([inside], "inc.md.j2", ctx)
    if hasattr(os, "symlink"):
        os.symlink(tmp_path / "secret.md.j2", inside / "link.md.j2")
        with pytest.raises(RenderError):
            render_template([inside], "link.md.j2", ctx)


def test_html_templates_are_autoescaped(tmp_path):
    rows = results()
    rows.loc[rows.region_code == A, "region_name"] = "<b>东山县</b>"
    context = build_context(rows, DEFS, TREE, [], "2024Q4")
    out = render(tmp_path, "{{ regions['990121000000'].sanitary_toilet_rate.region_name }}", context, "x.html.j2")
    assert out.autoescaped and "&lt;b&gt;" in out.text
    out_md = render(tmp_path, "{{ regions['990121000000'].sanitary_toilet_rate.region_name }}", context, "x.md.j2")
    assert not out_md.autoescaped


def test_workspace_templates_override_the_package_ones(tmp_path, ctx):
    ws_dir, std = tmp_path / "ws", tmp_path / "std"
    ws_dir.mkdir()
    std.mkdir()
    (std / "brief.md.j2").write_text("standard", encoding="utf-8")
    (ws_dir / "brief.md.j2").write_text("local", encoding="utf-8")
    assert render_template([ws_dir, std], template_candidates("brief", "md"), ctx).plain == "local"


def test_unknown_template_lists_the_available_ones(tmp_path, ctx):
    (tmp_path / "quarterly_brief.md.j2").write_text("x", encoding="utf-8")
    with pytest.raises(RenderError, match="quarterly_brief"):
        render_template([tmp_path], template_candidates("quartrly_brief", "md"), ctx)


def test_context_never_computes_figures(ctx):
    # the display strings are those of the results table, untouched
    assert strip_marks(str(ctx["regions"][C].sanitary_toilet_rate)) == "61.44%"
    assert ctx["regions"][C].sanitary_toilet_rate.value == D("61.444")


def test_report_markdown_blocks():
    from revstat.writers.markdown import parse_blocks, to_markdown

    text = ("# 标题\n\n## 一、情况\n\n### （一）监测\n\n第一行\n第二行\n\n| 地区 | 值 |\n|---|---:|\n| 东山县 | 1 |\n\n"
            "[[chart:bar:sanitary_toilet_rate:普及率]]\n\n> 【待分析人员撰写】\n")
    kinds = [(b.kind, b.text) for b in parse_blocks(text)]
    assert kinds == [("title", "标题"), ("h1", "一、情况"), ("h2", "（一）监测"), ("para", "第一行第二行"),
                     ("table", ""), ("chart", ""), ("note", "【待分析人员撰写】")]
    table = parse_blocks(text)[4]
    assert table.rows == [["地区", "值"], ["东山县", "1"]]
    assert "*（图：普及率）*" in to_markdown(text)


def test_html_writer_escapes_text_from_markdown_templates(ctx):
    from revstat.writers.html import render_html

    page = render_html("# 报告\n\n<script>alert(1)</script> & 村\n", ctx, font=None)
    assert "<script>alert" not in page and "&lt;script&gt;" in page and "&amp; 村" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_an_english_page_is_english_down_to_the_hover_titles(tmp_path):
    from revstat.writers.html import render_html

    defs = [dict(d, name_en="Rural sanitary toilet coverage") if d["id"] == "sanitary_toilet_rate" else d for d in DEFS]
    context = build_context(results(), defs, TREE, [], "2024Q4", lang="en")
    out = render(tmp_path, "{{ region.sanitary_toilet_rate|level }}, {{ region.sanitary_toilet_rate|change }}\n", context)
    page = render_html(out.text, context, font=None)
    assert '<html lang="en">' in page
    titles = re.findall(r'<span class="fig" title="([^"]*)">([^<]*)</span>', page)
    assert titles[0] == ("Rural sanitary toilet coverage (sanitary_toilet_rate) · formula: sanitary_toilet_households / "
                         "rural_households * 100 · 示范市 · 2024Q4 · source: summed from the lower-level regions of 示范市",
                         "72.50")
    assert titles[1][0].startswith("Rural sanitary toilet coverage (sanitary_toilet_rate) change on the same period")
    assert not re.search(r"[公式来源分子母上年同期]", " ".join(t for t, _ in titles))


def test_a_defined_indicator_without_results_prints_a_dash_with_one_warning(tmp_path):
    # 自来水普及率 is defined but the workspace has no fields for it (skipped): the template still
    # renders, "—" where it is printed, and one warning names it; an undefined name stays an error
    defs = [*DEFS, {"id": "tap_water_rate", "name": "农村自来水普及率", "unit": "%", "decimals": 2,
                    "formula": "tap_water_population / rural_population * 100"}]
    context = build_context(results(), defs, TREE, [], "2024Q4")
    out = render(tmp_path, "全市{{ region.tap_water_rate|level }}，{{ region.tap_water_rate|change(compare=true) }}；"
                           "东山县{{ regions['东山县']['农村自来水普及率']|level }}。\n", context)
    assert out.plain == "全市—；东山县—。\n"
    assert out.warnings == ["模板用到的 1 个指标没有结果，印为“—”：农村自来水普及率（工作区缺少其字段，或这一级地区没有数据）；"
                            "可用 --template 选择只用现有指标的模板"]
    with pytest.raises(RenderError, match="tap_water_rat"):
        render(tmp_path, "{{ region.tap_water_rat|level }}\n", context)


def test_the_hover_title_of_an_incomplete_figure_says_so(tmp_path):
    from revstat.writers.html import render_html

    df = results()
    df.loc[(df.indicator == "sanitary_toilet_rate") & (df.region_code == CITY), ["incomplete", "note"]] = \
        [True, "部分下级地区缺数，比率按分子、分母都齐全的下级地区计算"]
    context = build_context(df, DEFS, TREE, [], "2024Q4")
    out = render(tmp_path, "{{ region.sanitary_toilet_rate|level }}\n", context)
    [(title, shown)] = re.findall(r'<span class="fig" title="([^"]*)">([^<]*)</span>', render_html(out.text, context))
    assert shown == "72.50" and "不完整：部分下级地区缺数，比率按分子、分母都齐全的下级地区计算" in title
    assert "由示范市各下级地区数据汇总计算" in title


def test_a_rank_or_target_that_cannot_be_said_leaves_its_clause_out(tmp_path, ctx):
    # the city has no sibling to be ranked among; 西河县 has no 未消除风险户数 (a target needs a value)
    src = "全市为{{ region.sanitary_toilet_rate|level }}，{{ region.sanitary_toilet_rate|rank }}；完。\n"
    assert render(tmp_path, src, ctx).plain == "全市为72.50%；完。\n"
    df = results()
    west = (df.indicator == "sanitary_toilet_rate") & (df.region_code == B)
    df.loc[west, ["value", "display", "target_met", "note"]] = [None, "", None, "西河县未报送"]
    src = "西河县为{{ regions['西河县'].sanitary_toilet_rate|level }}，{{ regions['西河县'].sanitary_toilet_rate|target }}；完。\n"
    out = render(tmp_path, src, build_context(df, DEFS, TREE, [], "2024Q4"))
    assert out.plain == "西河县为—；完。\n"
    assert any("西河县未报送" in w for w in out.warnings)  # still warned
    # a county's rank is among the city's counties; the words for where come with the report
    src = "{{ report.up }}：{{ regions['东山县'].sanitary_toilet_rate|rank(report.up or '全市') }}\n"
    assert render(tmp_path, src, ctx).plain == "：居全市第1位\n"  # the report region is the city: no parent


def test_a_townships_scope_word_follows_its_name():
    from revstat.render import Lookup, RegionView

    def scope(name):
        return RegionView("990121101000", name, "township", Lookup("indicator", {}, {})).scope

    assert [scope(n) for n in ("城关镇", "新华乡", "城东街道", "草原苏木")] == ["全镇", "全乡", "全街道", "全乡镇"]


def test_a_change_taken_like_for_like_is_starred_and_said_so(tmp_path):
    # last year's total of the city lacked a county; the change was taken over the parts both years
    # have (the engine's note says so), so the figure is flagged without previous_incomplete
    df = results()
    city = (df.indicator == "sanitary_toilet_rate") & (df.region_code == CITY)
    df.loc[city, "note"] = "上年同期部分下级地区缺数；同比按两年都有数的下级地区计算（可比口径）"
    out = render(tmp_path, "全市为{{ region.sanitary_toilet_rate|level }}，{{ region.sanitary_toilet_rate|change(compare=true) }}。\n",
                 build_context(df, DEFS, TREE, [], "2024Q4"))
    assert out.plain == ("全市为72.50%，比上年同期提高2.50个百分点＊。\n\n"
                         "注：带“＊”的数字不完整：示范市农村卫生厕所普及率（上年同期部分下级地区缺数，同比按可比口径计算）。"
                         "发布前请补齐数据，或在文中说明口径。\n")


def test_one_incomplete_figure_is_said_in_the_singular(tmp_path):
    from revstat.i18n import set_lang

    df = results()
    df.loc[(df.indicator == "sanitary_toilet_rate") & (df.region_code == CITY), "incomplete"] = True
    set_lang("en")
    try:
        out = render(tmp_path, "{{ region.sanitary_toilet_rate|level }}\n", build_context(df, DEFS, TREE, [], "2024Q4"))
    finally:
        set_lang("zh")
    assert any(w.startswith("1 figure in the report is incomplete") for w in out.warnings), out.warnings
