"""The household rows behind a records-fed value (`revstat explain`): the first n, all of them,
or all of them written to a CSV file.

Expected numbers are counted here straight from the parquet file with DuckDB and from
regions.csv, independently of revstat's query builder.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import duckdb
import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
PARQUET = "data/2024Q4/records/households.parquet"
COUNTY, TOWNSHIP = "990121000000", "990121101000"  # 东山县, its 城关镇
UNSTABLE = "count where monitor_type == '脱贫不稳定户'"


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    return Path(shutil.copytree(SAMPLE, tmp_path_factory.mktemp("explain") / "ws",
                                ignore=shutil.ignore_patterns("out", "__pycache__")))


def villages_under(ws: Path, prefix: str) -> list[str]:
    with open(ws / "regions.csv", encoding="utf-8-sig", newline="") as fh:
        return [r["code"] for r in csv.DictReader(fh) if r["level"] == "village" and r["code"].startswith(prefix)]


def households(ws: Path, prefix: str, monitor_type: str | None = "脱贫不稳定户") -> list[str]:
    """户编号 of the households of the villages whose code starts with ``prefix``, in file order."""
    sql = f"SELECT CAST(户编号 AS VARCHAR), CAST(村代码 AS VARCHAR), 监测类型 FROM read_parquet('{ws / PARQUET}')"
    return [h for h, code, kind in duckdb.execute(sql).fetchall()
            if code.startswith(prefix) and (monitor_type is None or kind == monitor_type)]


def read_rows_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "a CSV for Excel/WPS needs a BOM"
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


# ---- the library: sample_rows(n=None), sample_rows(out=…) ---------------------------------------


def test_sample_rows_all_and_to_csv(ws, tmp_path):
    from revstat.records import sample_rows
    from revstat.workspace import load_workspace

    workspace = load_workspace(ws)
    want = households(ws, "990121")
    every = sample_rows(workspace, "hh_unstable_households", COUNTY, "2024Q4", n=None)
    assert list(every["户编号"]) == want
    assert len(sample_rows(workspace, "hh_unstable_households", COUNTY, "2024Q4", n=3)) == 3
    out = tmp_path / "rows.csv"
    assert sample_rows(workspace, "hh_unstable_households", TOWNSHIP, "2024Q4", out=out, n=None) == \
        len(households(ws, "990121101"))
    assert sample_rows(workspace, "hh_unstable_households", TOWNSHIP, "2024Q4", out=out, n=4) == 4
    assert [r["户编号"] for r in read_rows_csv(out)] == households(ws, "990121101")[:4]


RECORDS_SOURCE = """id: households
name: 户级数据
kind: records
files: "data/{period}/records/*.csv"
region: {column: 村代码, by: code, level: village}
fields:
  - {id: n, name: 户数, unit: 户, measure: count}
  - {id: odd, name: 备注户数, unit: 户, measure: count, where: "备注 != '普通'"}
"""
REGIONS = """code,name,level,parent
990100000000,示范市,city,
990101000000,甲县,county,990100000000
990101001000,一镇,township,990101000000
990101001201,一村,village,990101001000
990101001202,二村,village,990101001000
"""


def test_rows_out_guards_text_against_formulas_and_keeps_numbers(tmp_path):
    from revstat.records import sample_rows
    from revstat.workspace import load_workspace

    root = tmp_path / "w"
    (root / "sources").mkdir(parents=True)
    (root / "revstat.yaml").write_text('name: 测试\nregion: "990100000000"\n', encoding="utf-8")
    (root / "regions.csv").write_text(REGIONS, encoding="utf-8")
    (root / "sources" / "households.yaml").write_text(RECORDS_SOURCE, encoding="utf-8")
    folder = root / "data" / "2024Q4" / "records"
    folder.mkdir(parents=True)
    rows = [["H1", "990101001201", "-3.5", '=HYPERLINK("http://x","点我")'],
            ["H2", "990101001202", "12", "@SUM(A1)"],
            ["H3", "990101001201", "", "普通"],
            ["H4", "990101001202", "7", "a,\"b\"\nc"]]
    with open(folder / "h.csv", "w", encoding="gb18030", newline="") as fh:  # saved by Chinese Windows
        writer = csv.writer(fh)
        writer.writerow(["户编号", "村代码", "收入", "备注"])
        writer.writerows(rows)
    out = tmp_path / "rows.csv"
    assert sample_rows(load_workspace(root), "odd", "990101000000", "2024Q4", n=None, out=out) == 3
    got = read_rows_csv(out)
    assert [r["户编号"] for r in got] == ["H1", "H2", "H4"]
    assert got[0]["备注"] == '\'=HYPERLINK("http://x","点我")' and got[1]["备注"] == "'@SUM(A1)"
    assert got[0]["收入"] == "-3.5" and got[2]["备注"] == 'a,"b"\nc'  # a number, and quoting, as written
    assert b"\r\n" in out.read_bytes()
