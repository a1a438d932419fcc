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
from revstat.workspace import any_case_extension

if TYPE_CHECKING:
    from revstat.records.engine import SourcePlan


def files_of(ws: Any, source: SourceDef, period: str | None) -> list[Path]:
    """The record files of ``source`` for ``period`` (any case of the extension, as for workbooks;
    lock files and files outside the workspace left out)."""
    pattern = source.files.replace("{period}", period) if period else source.files
    root = ws.root.resolve()
    return [p for p in sorted(ws.root.glob(any_case_extension(pattern)))
            if p.is_file() and not p.name.startswith("~$") and p.resolve().is_relative_to(root)]


def file_format(plan: SourcePlan, paths: Sequence[Path]) -> str:
    if plan.fmt:
        return plan.fmt
    return "parquet" if str(paths[0]).lower().endswith((".parquet", ".pq")) else "csv"


def encoding_of(path: Path) -> str:
    """``utf-8`` (BOM allowed), ``utf-16`` (with its BOM) or ``gb18030``
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
    reached = {}
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            return encoding
        except UnicodeDecodeError as exc:
            reached[encoding] = exc.start
    # neither reads the start: name the place where the likelier one (it reads further) fails
    encoding = max(reached, key=lambda e: reached[e])
    raise undecodable(path, encoding, reached[encoding], head)


def undecodable(path: Path, encoding: str, offset: int, head: bytes | None = None) -> SourceError:
    """An input error for the byte at ``offset`` that ``encoding`` cannot decode, with its line."""
    if head is None:
        with open(path, "rb") as fh:
            head = fh.read(offset + 1)
    line = head[:offset].count(b"\n") + 1
    return SourceError(
        t("文件第 {line} 行有无法解码的字符（按 {enc} 读取，第 {pos} 字节）：不是 UTF-8 或 GB18030 编码的 CSV",
          "undecodable bytes on line {line} (read as {enc}, byte {pos}): not a UTF-8 or GB18030 CSV file",
          line=line, enc=encoding.upper(), pos=offset), Location(str(path)),
        t("在 Excel/WPS 中打开，另存为“CSV UTF-8（逗号分隔）”后重新运行；或改正该行",
          "open it in Excel/WPS and save it as “CSV UTF-8 (comma delimited)”, then run again; or correct that line"))


def first_undecodable(path: Path) -> SourceError | None:
    """The first byte of ``path`` its detected encoding cannot decode, as an input error (read
    in blocks, on the error path only: the start of a file decides the encoding)."""
    encoding = encoding_of(path)
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            try:
                decoder.decode(block, final=False)
            except UnicodeDecodeError as exc:
                return undecodable(path, encoding, offset + exc.start)
            offset += len(block)
    return None


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


def parquet_types(path: Path) -> dict[str, str]:
    """Column → DuckDB type name (``BIGINT``, ``DATE``, ``DECIMAL(18,2)``) of a Parquet file's schema."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {rsql.reader_sql('parquet')}", [[str(path)]]).fetchall()
        return {str(r[0]): str(r[1]) for r in rows}
    finally:
        con.close()


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
