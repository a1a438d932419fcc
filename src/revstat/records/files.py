"""The record files of a source: which files, in which format and encoding, and their header.

Kept apart from the aggregation (:mod:`revstat.records.engine`) and its checks
(:mod:`revstat.records.validate`), which both read files through these.
"""

from __future__ import annotations

import codecs
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from revstat.config import SourceDef
from revstat.errors import SourceError
from revstat.i18n import t
from revstat.model import Location
from revstat.records import sql as rsql

if TYPE_CHECKING:
    from revstat.records.engine import SourcePlan


def files_of(ws: Any, source: SourceDef, period: str | None) -> list[Path]:
    pattern = source.files.replace("{period}", period) if period else source.files
    root = ws.root.resolve()
    return [p for p in sorted(ws.root.glob(pattern))
            if p.is_file() and not p.name.startswith("~$") and p.resolve().is_relative_to(root)]


def file_format(plan: SourcePlan, paths: Sequence[Path]) -> str:
    if plan.fmt:
        return plan.fmt
    return "parquet" if str(paths[0]).lower().endswith((".parquet", ".pq")) else "csv"


def encoding_of(path: Path) -> str:
    """``utf-8`` (BOM allowed), ``utf-16`` (Excel's “Unicode 文本”, with its BOM) or ``gb18030``
    (CSV saved by Chinese Windows), from the first 64 KB. A workbook saved under a CSV name is an
    input error here, before any engine tries to read it as text."""
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise SourceError(
            t("户级数据文件是 Excel 工作簿，不是 CSV 文本", "the household records file is an Excel workbook, not CSV text"),
            Location(str(path)),
            t("在 Excel/WPS 中另存为“CSV UTF-8（逗号分隔）”或导出为 Parquet，并让来源的 files 指向它",
              "save it as “CSV UTF-8 (comma delimited)” in Excel/WPS, or export Parquet, and point the source's "
              "`files` at it"))
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


@contextmanager
def utf8_paths(paths: Sequence[Path], fmt: str) -> Iterator[list[str]]:
    """Paths DuckDB can read: GB18030 and UTF-16 CSV files are transcoded (streaming) to
    temporary UTF-8."""
    if fmt != "csv" or all(encoding_of(p) == "utf-8" for p in paths):
        yield [str(p) for p in paths]
        return
    with tempfile.TemporaryDirectory(prefix="revstat-records-") as tmp:
        out = []
        for i, p in enumerate(paths):
            if encoding_of(p) == "utf-8":
                out.append(str(p))
                continue
            target = Path(tmp) / f"{i}.csv"
            with open(p, encoding=encoding_of(p), newline="") as src, open(target, "w", encoding="utf-8", newline="") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
            out.append(str(target))
        yield out


def file_header(path: Path, fmt: str) -> list[str]:
    """The column names of a records file: the CSV's first line (in its encoding), or the Parquet
    schema. Raises :class:`SourceError` for a workbook under a CSV name (see :func:`encoding_of`)."""
    if fmt == "parquet":
        import duckdb

        con = duckdb.connect(":memory:")
        try:
            cur = con.execute(f"SELECT * FROM {rsql.reader_sql('parquet')} LIMIT 0", [[str(path)]])
            return [d[0] for d in cur.description]
        finally:
            con.close()
    import csv

    enc = encoding_of(path)
    with open(path, encoding="utf-8-sig" if enc == "utf-8" else enc, newline="") as fh:
        return next(csv.reader(fh), [])
