"""Word (.docx) laid out as Chinese official documents (GB/T 9704-2012) are: a 小标宋 title,
黑体 "一、" headings, 楷体 "（一）" headings, 仿宋 body, Arabic digits in Times New Roman, a fixed
28 pt line spacing, tables of county figures, and page numbers (a PAGE field) in the footer.

python-docx's ``font.name`` sets only the Western font; the East Asian font (``w:eastAsia``) is
set here in each style's ``w:rFonts``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from revstat import textfmt
from revstat.writers.atomic import atomic_file
from revstat.writers.markdown import parse_blocks

#: style name → (East Asian font, size in pt, bold, alignment)
STYLES = {
    "公文标题": ("方正小标宋简体", 22, False, "center"),
    "一级标题": ("黑体", 16, False, "left"),
    "二级标题": ("楷体_GB2312", 16, False, "left"),
    "公文正文": ("仿宋_GB2312", 16, False, "justify"),
    "表格文字": ("仿宋_GB2312", 10.5, False, "center"),
    "批注提示": ("楷体_GB2312", 14, False, "left"),
}
WESTERN_FONT = "Times New Roman"
LINE_SPACING_PT = 28


def set_fonts(style_or_run: Any, east_asia: str, western: str = WESTERN_FONT) -> None:
    """Set ascii/hAnsi to ``western`` and w:eastAsia to ``east_asia`` on a style or run."""
    from docx.oxml.ns import qn

    style_or_run.font.name = western
    rpr = style_or_run.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(qn(attr), western)
    rfonts.set(qn("w:eastAsia"), east_asia)


def _styles(document: Any) -> None:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Pt

    align = {"center": WD_ALIGN_PARAGRAPH.CENTER, "left": WD_ALIGN_PARAGRAPH.LEFT,
             "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}
    normal = document.styles["Normal"]
    set_fonts(normal, STYLES["公文正文"][0])
    normal.font.size = Pt(16)
    for name, (east, size, bold, alignment) in STYLES.items():
        style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        set_fonts(style, east)
        style.font.size = Pt(size)
        style.font.bold = bold
        fmt = style.paragraph_format
        fmt.alignment = align[alignment]
        if name != "表格文字":
            fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            fmt.line_spacing = Pt(LINE_SPACING_PT if name != "公文标题" else 36)
        fmt.space_before = Pt(0)
        fmt.space_after = Pt(0)
        if name in ("公文正文", "一级标题", "二级标题", "批注提示"):
            fmt.first_line_indent = Pt(32)  # two characters of 三号
    bullet = document.styles["List Bullet"]  # a template's "- " items: the body text's font and spacing
    set_fonts(bullet, STYLES["公文正文"][0])
    bullet.font.size = Pt(STYLES["公文正文"][1])
    bullet.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    bullet.paragraph_format.line_spacing = Pt(LINE_SPACING_PT)


def _page_number_footer(section: Any) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER

    def add(text: str | None = None, field: str | None = None) -> None:
        run = paragraph.add_run(text or "")
        set_fonts(run, "宋体")
        if field:
            for kind, instr in (("begin", None), (None, field), ("separate", None), ("end", None)):
                if kind:
                    el = OxmlElement("w:fldChar")
                    el.set(qn("w:fldCharType"), kind)
                else:
                    el = OxmlElement("w:instrText")
                    el.set(qn("xml:space"), "preserve")
                    el.text = instr
                r = paragraph.add_run()
                r._r.append(el)
                if kind == "separate":
                    paragraph.add_run("1")

    add("— ")
    add(field=" PAGE ")
    add(" —")


def build_docx(text: str, context: dict[str, Any], *, font: Path | None = None,
               warnings: list[str] | None = None, warn: Callable[[str], None] | None = None) -> bytes:
    """The .docx bytes of report Markdown (figure markers are dropped)."""
    from docx import Document
    from docx.shared import Cm, Pt

    from revstat.writers.html import chart_skipped, chart_svg

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    _styles(document)
    _page_number_footer(section)
    style_of = {"title": "公文标题", "h1": "一级标题", "h2": "二级标题", "para": "公文正文", "note": "批注提示"}
    for block in parse_blocks(text):
        plain = textfmt.strip_marks(block.text)
        if block.kind == "item":  # a bullet item: its own paragraph, in the body text's font
            document.add_paragraph(plain, style="List Bullet")
        elif block.kind in style_of:
            paragraph = document.add_paragraph(plain, style=style_of[block.kind])
            if block.kind == "title":
                paragraph.paragraph_format.space_after = Pt(28)
        elif block.kind == "table" and block.rows:
            rows = [[textfmt.strip_marks(c) for c in r] for r in block.rows]
            width = max(len(r) for r in rows)
            table = document.add_table(rows=len(rows), cols=width)
            table.style = "Table Grid"
            for i, row in enumerate(rows):
                for j in range(width):
                    cell = table.cell(i, j)
                    cell.text = ""
                    para = cell.paragraphs[0]
                    para.style = document.styles["表格文字"]
                    run = para.add_run(row[j] if j < len(row) else "")
                    run.bold = i == 0
        elif block.kind == "chart":
            made = chart_svg(block, context, font, fmt="png")
            if made is None:
                if warn is not None:
                    warn(chart_skipped(block, font))
                continue
            png, caption = made
            document.add_picture(io.BytesIO(png), width=Cm(15))
            document.add_paragraph(caption, style="表格文字")
    if warnings:
        document.add_paragraph("生成报告时的提示：" + "；".join(warnings), style="批注提示")
    props = document.core_properties
    props.author = "revstat"
    props.title = next((textfmt.strip_marks(b.text) for b in parse_blocks(text) if b.kind == "title"), "")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def write_docx(data: bytes, target: Path) -> Path:
    with atomic_file(Path(target)) as tmp:
        tmp.write_bytes(data)
    return Path(target)
