"""Report Markdown: the text a template renders, and the small block structure the Word and HTML
writers lay out from it.

The standard templates write a deliberately small Markdown: ``#`` title, ``##`` 一、 headings,
``###`` （一） headings, paragraphs, pipe tables, ``>`` notes (the analyst's placeholder), list
items (``- `` or ``* ``: one block each, kind ``item``; ``1. `` items stay paragraphs of their own,
their number written by the template), and
chart directives on a line of their own: ``[[chart:bar:sanitary_toilet_rate]]`` (a rate by
region with its target line) or ``[[chart:trend:rural_income_per_capita]]`` (over quarters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from revstat.textfmt import strip_marks
from revstat.writers.atomic import atomic_file

CHART_RE = re.compile(r"^\[\[chart:(?P<kind>[a-z_]+):(?P<indicator>[A-Za-z0-9_]+)(?::(?P<title>[^\]]*))?\]\]$")


_BULLET = re.compile(r"^[-*+]\s+")
_NUMBERED = re.compile(r"^(\d+[.、]|[（(]\d+[)）])\s*\S")


@dataclass
class Block:
    kind: str  # title | h1 | h2 | para | item | table | note | chart | subtitle
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)  # table: header first
    chart: dict[str, str] = field(default_factory=dict)


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") else inner
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", inner)]


def parse_blocks(text: str) -> list[Block]:
    """Split report Markdown into blocks (keeps figure markers in the text)."""
    blocks: list[Block] = []
    para: list[str] = []
    lines = text.splitlines()

    def flush() -> None:
        if para:
            blocks.append(Block("para", "".join(s.strip() for s in para)))
            para.clear()

    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        stripped = line.strip()
        m = CHART_RE.match(stripped)
        if not stripped:
            flush()
        elif m:
            flush()
            blocks.append(Block("chart", chart={k: v or "" for k, v in m.groupdict().items()}))
        elif stripped.startswith("#"):
            flush()
            hashes = len(stripped) - len(stripped.lstrip("#"))
            kind = {1: "title", 2: "h1"}.get(hashes, "h2")
            blocks.append(Block(kind, stripped[hashes:].strip()))
        elif stripped.startswith("|"):
            flush()
            rows: list[list[str]] = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                cells = _cells(lines[i])
                if not all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
                    rows.append(cells)
                i += 1
            blocks.append(Block("table", rows=rows))
            continue
        elif stripped.startswith(">"):
            flush()
            note = [stripped.lstrip(">").strip()]
            while i + 1 < len(lines) and lines[i + 1].strip().startswith(">"):
                i += 1
                note.append(lines[i].strip().lstrip(">").strip())
            blocks.append(Block("note", "".join(note)))
        elif stripped.startswith("<!--"):
            flush()
        elif _BULLET.match(stripped):  # a list item: its own block, not run into the paragraph
            flush()
            blocks.append(Block("item", _BULLET.sub("", stripped, count=1)))
        elif _NUMBERED.match(stripped):  # 1. / 1、 / （1）: its own paragraph, the number kept
            flush()
            blocks.append(Block("para", stripped))
        else:
            para.append(stripped)
        i += 1
    flush()
    return blocks


def to_markdown(text: str, lang: str = "zh") -> str:
    """The reviewable Markdown: figure markers removed, chart directives kept as a caption
    line, trailing blanks tidied."""
    out = []
    for line in strip_marks(text).splitlines():
        m = CHART_RE.match(line.strip())
        if m:
            title = m.group("title") or m.group("indicator")
            out.append(f"*(Figure: {title})*" if lang == "en" else f"*（图：{title}）*")
        else:
            out.append(line.rstrip())
    cleaned = "\n".join(out)
    cleaned = re.sub(r"\n{3,}", "\n\n", cleaned).strip("\n")
    return cleaned + "\n"


def write_markdown(text: str, target: Path, lang: str = "zh") -> Path:
    target = Path(target)
    with atomic_file(target) as tmp:
        tmp.write_text(to_markdown(text, lang), encoding="utf-8")
    return target
