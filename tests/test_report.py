"""`revstat report` end to end on the sample city: the Markdown matches the golden files, every
printed figure is a display value of indicators.csv, the Word file reads back with its official
styles, and the command compiles first when out/P/ is missing or stale."""

from __future__ import annotations

import json
import os
import re
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revstat.cli import app
from revstat.i18n import set_lang
from revstat.periods import Period
from revstat.report import is_stale, make_report, read_results
from revstat.textfmt import iter_marks, split_key
from revstat.workspace import load_workspace

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data"
GOLDEN = Path(__file__).parent / "golden"
TOTALS = json.loads((SAMPLE / "expected_totals.json").read_text(encoding="utf-8"))


def city(period: str, fld: str) -> Decimal:
    return Decimal(TOTALS["periods"][period]["city"]["fields"][fld])


def half_up(value: Decimal, places: int) -> str:
    return str(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


@pytest.fixture(scope="module")
def ws_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("city") / "sample"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("out", "__pycache__", "generate.py"))
    return root


@pytest.fixture(scope="module")
def reports(ws_dir):
    ws = load_workspace(ws_dir)
    out = {}
    out["quarterly_brief"] = make_report(ws, "2024Q4", fmt="md")
    out["county_comparison"] = make_report(ws, "2024Q4", fmt="md", template="county_comparison")
    out["county_brief_北川县"] = make_report(ws, "2024Q4", fmt="md", region="北川县")
    set_lang("en")  # revstat --lang en report …: the English templates, beside the Chinese drafts
    try:
        out["quarterly_brief.en"] = make_report(ws, "2024Q4", fmt="md")
        out["county_comparison.en"] = make_report(ws, "2024Q4", fmt="md", template="county_comparison")
        out["county_brief_北川县.en"] = make_report(ws, "2024Q4", fmt="md", region="北川县")
    finally:
        set_lang("zh")
    return out


@pytest.mark.parametrize("name", ["quarterly_brief", "county_comparison", "county_brief_北川县",
                                  "quarterly_brief.en", "county_comparison.en", "county_brief_北川县.en"])
def test_markdown_matches_the_golden_file(reports, name, update_golden):
    text = reports[name].path.read_text(encoding="utf-8")
    golden = GOLDEN / f"{name}.md"
    if update_golden:
        golden.write_text(text, encoding="utf-8")
    assert golden.is_file(), "run pytest --update-golden once and review the files"
    assert text == golden.read_text(encoding="utf-8")


def test_key_sentences_carry_the_hand_computed_figures(reports):
    text = reports["quarterly_brief"].path.read_text(encoding="utf-8")
    households, persons = city("2024Q4", "monitored_households"), city("2024Q4", "monitored_persons")
    assert f"累计纳入防返贫监测对象{households}户{persons}人" in text
    rate = city("2024Q4", "sanitary_toilet_households") / city("2024Q4", "rural_households") * 100
    before = city("2023Q4", "sanitary_toilet_households") / city("2023Q4", "rural_households") * 100
    assert f"农村卫生厕所普及率为{half_up(rate, 2)}%，比上年同期提高{half_up(rate - before, 2)}个百分点" in text
    # 102226.61万元 ≥ 1亿元 → 亿元, two decimals, half-up
    yi = half_up(city("2024Q4", "linkage_funds") / 10000, 2)
    assert f"补助资金{yi}亿元" in text
    spent = city("2024Q4", "funds_spent") / city("2024Q4", "linkage_funds") * 100
    assert f"资金支出进度为{half_up(spent, 2)}%，慢于序时进度{half_up(100 - spent, 2)}个百分点" in text
    assert "北川县未达到65%的目标" in text
    assert "【待分析人员撰写】" in text
    assert not re.search(r"\d,\d{3}", text)  # no thousands separators in running text


def test_english_brief_carries_the_hand_computed_figures(reports):
    outcome = reports["quarterly_brief.en"]
    assert outcome.path.name == "quarterly_brief.en.md"  # beside the Chinese draft, not over it
    text = outcome.path.read_text(encoding="utf-8")
    households, persons = city("2024Q4", "monitored_households"), city("2024Q4", "monitored_persons")
    assert f"the city had {households} households ({persons} persons) under monitoring" in text
    rate = city("2024Q4", "sanitary_toilet_households") / city("2024Q4", "rural_households") * 100
    before = city("2023Q4", "sanitary_toilet_households") / city("2023Q4", "rural_households") * 100
    assert (f"Sanitary toilets reached {half_up(rate, 2)}% of rural households in the city, up "
            f"{half_up(rate - before, 2)} percentage points year on year") in text
    # 102226.61万元 = 1022.2661 million yuan → 1022.27, rounded once from the exact value
    million = half_up(city("2024Q4", "linkage_funds") / 100, 2)
    assert f"allocated {million} million yuan of linkage funds" in text
    spent = city("2024Q4", "funds_spent") / city("2024Q4", "linkage_funds") * 100
    assert f"Spending reached {half_up(spent, 2)}% of the funds, {half_up(100 - spent, 2)} percentage points behind schedule" in text
    assert "北川县 short of the 65% target (63.62%)" in text
    assert not re.search(r"[，。；：、（）]|个百分点|万元", text)  # no Chinese sentence punctuation or units
    assert text.rstrip().endswith("before publishing.")  # the note on the incomplete figures, in English


def test_locale_en_in_revstat_yaml_writes_english_reports_and_a_missing_english_template_says_so(tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("out", "__pycache__", "generate.py"))
    config = root / "revstat.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("locale: zh", "locale: en"), encoding="utf-8")
    assert "locale: en" in config.read_text(encoding="utf-8")
    ws = load_workspace(root)
    assert make_report(ws, "2024Q4", fmt="md").path.name == "quarterly_brief.en.md"
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates" / "mine.md.j2").write_text("{{ region.sanitary_toilet_rate|level }}\n", encoding="utf-8")
    mine = make_report(ws, "2024Q4", fmt="md", template="mine")
    assert mine.path.read_text(encoding="utf-8") == "77.56%\n"  # English filters, the only template there is
    assert any("no English template mine.en.md.j2" in w for w in mine.warnings)


def test_first_period_leaves_the_comparison_out_of_the_text(ws_dir):
    """2023Q1 is the sample's first period: no 2022Q1 figures, so no 比上年同期 clause (and no
    bare "，—"); the render warnings still say which changes were missing."""
    ws = load_workspace(ws_dir)
    brief = make_report(ws, "2023Q1", fmt="md")
    text = brief.path.read_text(encoding="utf-8")
    # 5699 of 8691 households: 65.574…% → 65.57
    assert (city("2023Q1", "eliminated_households"), city("2023Q1", "monitored_households")) == (5699, 8691)
    assert "风险消除率（按户计）为65.57%；尚未消除风险的" in text
    # 55963.40万元 → 5.5963…亿元 → 5.60亿元
    assert "补助资金5.60亿元，其中用于产业发展的比重为" in text
    assert "，—" not in text and "—；" not in text and "比上年同期" not in text
    assert any("无上年同期数" in w for w in brief.warnings)
    table = make_report(ws, "2023Q1", fmt="md", template="county_comparison").path.read_text(encoding="utf-8")
    assert "（—）" not in table and "\ue004" not in table
    assert re.search(r"农村居民人均可支配收入：东山县\d+元、", table)


def test_every_marked_figure_is_a_display_value_of_the_results(ws_dir):
    from revstat.render import build_context, render_template

    ws = load_workspace(ws_dir)
    make_report(ws, "2024Q4", fmt="md")  # makes sure out/2024Q4 exists
    table = read_results(ws.out_dir("2024Q4") / "indicators.csv")
    rows = {(r["indicator"], r["region_code"], r["period"]): r for r in table.to_dict("records")}
    from revstat.definitions import load_indicators

    defs = {d.id: d for d in load_indicators(ws)}
    for template, lang in (("quarterly_brief.md.j2", "zh"), ("county_comparison.md.j2", "zh"),
                           ("quarterly_brief.en.md.j2", "en"), ("county_comparison.en.md.j2", "en")):
        ctx = build_context(table, list(defs.values()), ws.regions, [], "2024Q4", focus=ws.config.region, lang=lang)
        text = render_template(ws.template_dirs(), template, ctx).text
        seen = 0
        for key, shown in iter_marks(text):
            indicator, code, period, part = split_key(key)
            row = rows[(indicator, code, period)]
            if part == "value":  # a sign may be said in words (慢于序时进度4.91个百分点)
                assert shown in (row["display"], row["display"].lstrip("-")), key
            elif part == "change":
                assert shown == row["change_display"].lstrip("-"), key
            elif part == "previous":
                expected = half_up(Decimal(row["previous"]), defs[indicator].decimals).lstrip("-")
                assert shown == expected, key
            elif part == "yi":
                assert shown == half_up(Decimal(row["value"]) / 10000, 2), key
            elif part == "million":  # 万元 → million yuan
                assert shown == half_up(Decimal(row["value"]) / 100, 2), key
            elif part == "yuan":  # the 万元 display in yuan
                assert shown == half_up(Decimal(row["display"]) * 10000, 0), key
            else:
                pytest.fail(f"unexpected figure part {part}")
            seen += 1
        assert seen > 40
        # numbers outside the marks: years, months, ranks, targets, names (5万元, 5G), counts of regions
        plain = re.sub("\ue000[^\ue001]*\ue001[^\ue002]*\ue002", "", text)
        loose = set(re.findall(r"\d+(?:\.\d+)?", plain))
        allowed = {"2024", "2023", "1", "12", "65", "60", "99", "100", "0", "5", "2", "3", "4", "6", "8"}
        if lang == "en":  # section numbers 1.1 … 2.3, "above 50,000 yuan", the unit "10k yuan"
            allowed |= {f"{a}.{b}" for a in (1, 2) for b in range(1, 7)} | {"50", "000", "10"}  # 10k yuan
        assert loose <= allowed, loose


def test_docx_reads_back_with_official_styles(ws_dir):
    import docx
    from docx.oxml.ns import qn

    ws = load_workspace(ws_dir)
    outcome = make_report(ws, "2024Q4", fmt="docx")
    assert outcome.path == ws_dir / "out" / "2024Q4" / "quarterly_brief.docx"
    document = docx.Document(str(outcome.path))
    texts = [p.text for p in document.paragraphs]
    households, persons = city("2024Q4", "monitored_households"), city("2024Q4", "monitored_persons")
    assert any(f"{households}户{persons}人" in t for t in texts)
    assert texts[0].startswith("示范市2024年1—12月")
    assert "一、工作开展情况" in texts and "（一）防返贫动态监测" in texts

    def east_asia(style_name):
        rfonts = document.styles[style_name].element.rPr.find(qn("w:rFonts"))
        return rfonts.get(qn("w:eastAsia")), rfonts.get(qn("w:ascii"))

    assert east_asia("公文标题") == ("方正小标宋简体", "Times New Roman")
    assert east_asia("一级标题") == ("黑体", "Times New Roman")
    assert east_asia("二级标题") == ("楷体_GB2312", "Times New Roman")
    assert east_asia("公文正文") == ("仿宋_GB2312", "Times New Roman")
    body = [p for p in document.paragraphs if p.style.name == "公文正文"]
    assert body and document.styles["公文正文"].paragraph_format.line_spacing.pt == 28
    assert document.paragraphs[0].style.name == "公文标题"
    footer_xml = document.sections[0].footer._element.xml
    assert "PAGE" in footer_xml and "fldChar" in footer_xml
    from revstat.writers.charts import find_cjk_font

    if find_cjk_font() is not None:  # the bar chart of 卫生厕所普及率 by county, as a picture
        assert len(document.inline_shapes) >= 1


def test_county_comparison_docx_has_county_tables(ws_dir):
    import docx

    ws = load_workspace(ws_dir)
    outcome = make_report(ws, "2024Q4", fmt="docx", template="county_comparison")
    document = docx.Document(str(outcome.path))
    assert len(document.tables) == 3
    first_column = [row.cells[0].text for row in document.tables[0].rows]
    assert first_column == ["地区", "示范市", "青山区", "东山县", "西河县", "南岭县", "北川县", "清水县"]
    expected = city("2024Q4", "monitored_households")
    assert document.tables[0].rows[1].cells[1].text == str(expected)


def test_without_a_cjk_font_charts_are_left_out_with_a_warning(ws_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("REVSTAT_CJK_FONT", "none")
    ws = load_workspace(ws_dir)
    outcome = make_report(ws, "2024Q4", fmt="html", output=tmp_path / "r.html")
    page = outcome.path.read_text(encoding="utf-8")
    assert "<svg" not in page and "农村卫生厕所普及率" in page
    assert any("中文字体" in w for w in outcome.warnings)


def test_report_compiles_first_when_out_is_missing_or_stale(ws_dir, reports, tmp_path):
    fresh = tmp_path / "ws"
    shutil.copytree(SAMPLE, fresh, ignore=shutil.ignore_patterns("out", "__pycache__", "generate.py"))
    period = Period.parse("2024Q4")
    assert is_stale(load_workspace(fresh), period)  # no out/2024Q4 yet
    assert reports["quarterly_brief"].compiled  # the first report of ws_dir compiled it
    ws = load_workspace(ws_dir)
    assert not is_stale(ws, period)
    make_report(ws, "2024Q4", fmt="md")  # compiles again if an English report left English notes
    assert not make_report(ws, "2024Q4", fmt="md").compiled
    # a workbook of last year's data edited after the outputs were built: make the outputs older
    # than it (moving the outputs back in time, not the data forward, so the fresh compile is newer)
    data = next((ws_dir / "data" / "2023Q4").glob("*.xlsx"))
    earlier = data.stat().st_mtime - 60
    os.utime(ws.out_dir("2024Q4") / "indicators.csv", (earlier, earlier))
    assert is_stale(ws, period)
    again = make_report(ws, "2024Q4", fmt="md")
    assert again.compiled and not is_stale(ws, period)
    assert again.path.read_text(encoding="utf-8") == reports["quarterly_brief"].path.read_text(encoding="utf-8")


def test_last_quarters_workbook_edited_makes_the_outputs_stale(tmp_path):
    # the checks compare with the previous period (cumulative figures, not_an_old_report)
    fresh = tmp_path / "ws"
    shutil.copytree(SAMPLE, fresh, ignore=shutil.ignore_patterns("out", "__pycache__", "generate.py"))
    ws = load_workspace(fresh)
    period = Period.parse("2024Q4")
    make_report(ws, "2024Q4", fmt="md")
    assert not is_stale(ws, period)
    out = ws.out_dir("2024Q4") / "indicators.csv"
    built = out.stat().st_mtime
    older = {"2023Q3": built + 5, "2024Q3": built + 10}  # after the outputs were built
    for folder, when in older.items():
        os.utime(next((fresh / "data" / folder).glob("*.xlsx")), (when, when))
    assert is_stale(ws, period)  # 2024Q3 is read; 2023Q3 is not, and alone would not count
    os.utime(next((fresh / "data" / "2024Q3").glob("*.xlsx")), (built - 10, built - 10))
    assert not is_stale(ws, period)


def test_cli_report_writes_the_file_and_reports_errors(ws_dir, reports, tmp_path):
    runner = CliRunner()
    target = tmp_path / "brief.md"
    result = runner.invoke(app, ["report", str(ws_dir), "--period", "2024Q4", "--format", "md", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8").startswith("# 示范市2024年1—12月")
    bad = runner.invoke(app, ["report", str(ws_dir), "--period", "2024Q4", "--format", "md", "--template", "quartrly_brief"])
    assert bad.exit_code == 2 and "quarterly_brief" in bad.output
    fmt = runner.invoke(app, ["report", str(ws_dir), "--period", "2024Q4", "--format", "pdf"])
    assert fmt.exit_code == 2
    region = runner.invoke(app, ["report", str(ws_dir), "--period", "2024Q4", "--format", "md", "--region", "不存在县"])
    assert region.exit_code == 2


def test_a_template_error_in_the_workspace_names_its_file_and_line(ws_dir, reports, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(ws_dir, root)
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates" / "mine.md.j2").write_text("# 标题\n\n{{ region.sanitary_toilet_rat|level }}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["report", str(root), "--period", "2024Q4", "--format", "md", "--template", "mine"])
    assert result.exit_code == 2
    assert "templates/mine.md.j2" in result.output and "第3行" in result.output
    assert "sanitary_toilet_rate" in result.output


def test_findings_in_the_report_are_chinese_after_an_english_compile(tmp_path):
    """`revstat --lang en compile`, then `revstat report`: the report reuses the compiled outputs,
    and its findings section is Chinese like the rest of the text (findings.json keeps both)."""
    ws_root = tmp_path / "ws"
    shutil.copytree(SAMPLE, ws_root, ignore=shutil.ignore_patterns("out", "__pycache__", "generate.py"))
    runner = CliRunner()
    compiled = runner.invoke(app, ["--lang", "en", "compile", str(ws_root), "--period", "2024Q4"])
    assert compiled.exit_code == 0, compiled.output
    findings = json.loads((ws_root / "out" / "2024Q4" / "findings.json").read_text(encoding="utf-8"))["findings"]
    assert findings and all(f["message"] == f["messages"]["en"] != f["messages"]["zh"] for f in findings)
    target = tmp_path / "brief.md"
    done = runner.invoke(app, ["report", str(ws_root), "--period", "2024Q4", "--format", "md", "--output", str(target)])
    assert done.exit_code == 0, done.output
    text = target.read_text(encoding="utf-8")
    section = text[text.index("审核"):]
    shown = [f["messages"]["zh"] for f in findings if f["messages"]["zh"][:12] in section]
    assert shown, "the report lists some findings"
    assert not any(f["messages"]["en"][:20] in section for f in findings)
    assert not re.search(r"is missing|coverage is|should be", section)


def test_report_that_compiles_first_stops_at_input_errors_like_compile(tmp_path):
    """`revstat report` compiles when out/P/ is missing or stale; an input error there must stop
    it as it stops `revstat compile` (exit 2, the error shown, nothing written) — not leave out the
    bad row and print a report whose figures are off."""
    import openpyxl

    root = tmp_path / "ws"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("out", "__pycache__", "generate.py"))
    book = root / "data" / "2024Q4" / "东山县_2024Q4.xlsx"
    wb = openpyxl.load_workbook(book)
    sheet = wb["5-人居环境和基础设施"]
    [cell] = [c for row in sheet.iter_rows() for c in row if c.value == "石桥镇"]
    cell.value = "石桥村"  # not a region of 东山县: the row cannot be placed
    wb.save(book)
    done = CliRunner().invoke(app, ["report", str(root), "--period", "2024Q4", "--format", "md"])
    assert done.exit_code == 2, done.output
    assert "未知的地区名称 '石桥村'" in done.output and f"› {cell.coordinate}" in done.output
    assert not (root / "out" / "2024Q4").exists()


def test_a_county_without_its_workbook_is_neither_ranked_nor_said_to_move(tmp_path):
    # 北川县's workbook missing: it was ranked last with no value (“最低的是北川县（—，—）”), listed
    # as lagging with “为—，—”, and the other counties were said to move up a place for it
    ws_root = tmp_path / "ws"
    shutil.copytree(SAMPLE, ws_root, ignore=shutil.ignore_patterns("out", "__pycache__", "generate.py"))
    (ws_root / "data" / "2024Q4" / "北川县_2024Q4.xlsx").unlink()
    text = make_report(load_workspace(ws_root), "2024Q4", fmt="md").path.read_text(encoding="utf-8")
    assert "（—" not in text and "为—" not in text
    assert "最低的是北川县" not in text
    assert "北川县无数据" in text  # said where targets are, as before
    lagging = text.split("工作相对滞后", 1)[1].split("##", 1)[0]
    assert "居全市第5位" in lagging and "较上年" not in lagging and "位次与上年" not in lagging


def test_a_township_brief_ranks_among_the_countys_townships(ws_dir, reports):
    ws = load_workspace(ws_dir)
    text = make_report(ws, "2024Q4", fmt="md", region="990121101000").path.read_text(encoding="utf-8")  # 东山县城关镇
    assert "居全县第" in text and "居全市第" not in text
    assert "全镇累计纳入防返贫监测对象" in text and "全乡镇" not in text
    assert "，—" not in text and "，；" not in text and "，。" not in text


def test_list_items_are_items_in_word_and_html_not_one_run_on_paragraph():
    import docx

    from revstat.writers.docx import build_docx
    from revstat.writers.html import render_html
    from revstat.writers.markdown import parse_blocks

    text = "# 简报\n\n审核发现：\n- 东山县合计行不符\n- 西河县缺数\n* 北川县重复填报\n1. 第一条\n（2）第二条\n"
    assert [(b.kind, b.text) for b in parse_blocks(text)] == [
        ("title", "简报"), ("para", "审核发现："), ("item", "东山县合计行不符"), ("item", "西河县缺数"),
        ("item", "北川县重复填报"), ("para", "1. 第一条"), ("para", "（2）第二条")]
    document = docx.Document(__import__("io").BytesIO(build_docx(text, {})))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    assert paragraphs[2:5] == [("List Bullet", "东山县合计行不符"), ("List Bullet", "西河县缺数"),
                               ("List Bullet", "北川县重复填报")]
    assert ("公文正文", "1. 第一条") in paragraphs
    page = render_html(text, {})
    assert "<ul><li>东山县合计行不符</li><li>西河县缺数</li><li>北川县重复填报</li></ul>" in page


def test_a_first_quarter_report_does_not_count_annual_tasks_as_missed(ws_dir):
    # 2023Q1: the city's 务工目标完成率 is 95.98 % and 住房安全问题整改率 33.93 %, both annual targets of
    # 100 %: the brief gives the figures without a verdict and without a dangling “分县（市、区）看。”
    ws = load_workspace(ws_dir)
    brief = make_report(ws, "2023Q1", fmt="md").path.read_text(encoding="utf-8")
    assert "完成目标任务的95.98%。" in brief and "住房安全问题整改率为33.93%。" in brief
    assert "看。" not in brief and "未达到100%的目标" not in brief
    comparison = make_report(ws, "2023Q1", fmt="md", template="county_comparison").path.read_text(encoding="utf-8")
    assert "脱贫劳动力务工目标完成率：" not in comparison and "住房安全问题整改率：" not in comparison
    assert "脱贫人口基本医疗保险参保率：" in comparison  # a target of every quarter is still judged
    set_lang("en")
    try:
        english = make_report(ws, "2023Q1", fmt="md").path.read_text(encoding="utf-8")
    finally:
        set_lang("zh")
    assert "95.98% of the target. " in english and "short of the 100% target" not in english


def test_a_report_in_the_other_language_compiles_again_for_its_notes(tmp_path):
    # a compile in Chinese, a report in English: the notes it quotes were Chinese (“新建5G基站数 …”);
    # it compiles again in English for itself, and leaves out/2024Q4/'s Chinese tables as they were
    ws_path = tmp_path / "ws"
    shutil.copytree(SAMPLE, ws_path, ignore=shutil.ignore_patterns("out", "__pycache__", "generate.py"))
    res = CliRunner().invoke(app, ["compile", str(ws_path), "--period", "2024Q4"])
    assert res.exit_code == 0, res.output
    ws = load_workspace(ws_path)
    findings = json.loads((ws.out_dir("2024Q4") / "findings.json").read_text(encoding="utf-8"))
    assert findings["lang"] == "zh"
    tables = {name: (ws.out_dir("2024Q4") / name).read_bytes()
              for name in ("indicators.csv", "indicators.json", "findings.json")}
    set_lang("en")
    try:
        english = make_report(ws, "2024Q4", fmt="md")
        assert english.compiled
    finally:
        set_lang("zh")
    text = english.path.read_text(encoding="utf-8")
    assert "New 5G base stations" in text  # its notes in English
    assert not re.search(r"(missing|incomplete)[^\n]*[\u4e00-\u9fff]{4}数", text)
    for name, before in tables.items():  # the user's Chinese tables untouched
        assert (ws.out_dir("2024Q4") / name).read_bytes() == before, name
    assert not make_report(ws, "2024Q4", fmt="md").compiled  # in Chinese: out/ is Chinese, read as it is
