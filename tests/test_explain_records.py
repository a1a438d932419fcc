"""`revstat explain` on values fed by household records: one provenance line (file, aggregation,
villages, records) instead of one identical "cell" per village; `--rows N`; `--rows-out FILE.csv`
with every household behind a figure; did-you-mean over indicators and fields.

Expected numbers are counted here straight from the parquet file with DuckDB and from
regions.csv, independently of revstat's query builder.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from revstat.cli import app

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
PARQUET = "data/2024Q4/records/households.parquet"
COUNTY, TOWNSHIP = "990121000000", "990121101000"  # 东山县, its 城关镇
UNSTABLE = "count where monitor_type == '脱贫不稳定户'"


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


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


def explain(ws: Path, what: str, region: str, *extra: str):
    return invoke(*extra[:2] if extra[:1] == ("--lang",) else (), "explain", what, "--region", region,
                  "--period", "2024Q4", "--workspace", str(ws), *(extra[2:] if extra[:1] == ("--lang",) else extra))


# ---- 1. provenance: one line per records file and aggregation ---------------------------------


def test_records_provenance_is_one_line_with_the_villages_and_records_counted(ws):
    villages = len(villages_under(ws, "990121"))
    unstable = len(households(ws, "990121"))
    res = explain(ws, "脱贫不稳定户占监测户比重", "东山县")
    assert res.exit_code == 0, res.output
    line = f"    来源：户级数据 {PARQUET} › {UNSTABLE}（{villages} 个村，{unstable} 行）\n"
    assert line in res.output
    assert res.output.count(UNSTABLE) == 1  # once, not once per village
    assert f"    来源：户级数据 {PARQUET} › count_distinct(household_id)（{villages} 个村）\n" in res.output
    assert "来源单元格" not in res.output and "另有" not in res.output
    assert villages == 50 and f"分子 {unstable} ÷" in res.output  # the sample's 50 villages; the count is the value


def test_records_provenance_in_english(ws):
    villages = len(villages_under(ws, "990121"))
    unstable = len(households(ws, "990121"))
    res = explain(ws, "unstable_households_share", "东山县", "--lang", "en")
    assert res.exit_code == 0, res.output
    assert (f"    source: household records {PARQUET} › {UNSTABLE} ({villages} villages, {unstable} rows)\n"
            in res.output)
    assert "source cells" not in res.output and not re.search(r"[个村行]）", res.output)
    village = villages_under(ws, "990121203")[0]  # one village: singular
    res = explain(ws, "hh_unstable_households", village, "--lang", "en")
    assert f"(1 village, {len(households(ws, village))} rows)" in res.output


def test_workbook_cells_are_still_listed_cell_by_cell(ws):
    res = explain(ws, "农村卫生厕所普及率", "东山县")
    assert res.exit_code == 0, res.output
    assert "来源单元格（" in res.output and "data/2024Q4/东山县_2024Q4.xlsx › 5-人居环境和基础设施 › " in res.output
    assert "来源：户级数据" not in res.output and "明细户" not in res.output


def test_a_value_fed_by_cells_and_records_shows_both(capsys):
    """Unlikely (one field from a workbook and from records), but both kinds are then listed."""
    from revstat.cli.cmd_explain import show
    from revstat.definitions import IndicatorDef
    from revstat.model import Location
    from revstat.pipeline import Explanation, RecordsOrigin, Term

    d = IndicatorDef(id="x__field", name="某户数", unit="户", formula="x", decimals=0)
    term = Term("x", "某户数", "field", "2024Q4", 12, "rollup", False, [],
                [Location("data/2024Q4/甲县.xlsx", "表1", "D7")],
                records=[RecordsOrigin("data/2024Q4/records/h.csv", "count", 3, "village", 9)])
    show(Explanation(d, COUNTY, "东山县", "2024Q4", {"value": 12, "display": "12"}, [term]), None)
    out = capsys.readouterr().out
    assert "    来源单元格（1 个）：\n      data/2024Q4/甲县.xlsx › 表1 › D7\n" in out
    assert "    来源：户级数据 data/2024Q4/records/h.csv › count（3 个村，9 行）\n" in out


# ---- 2. --rows and --rows-out -----------------------------------------------------------------


def listed_rows(output: str, header: str = "户编号 | 村代码") -> list[str]:
    """The 户编号 of the household rows listed under the first 明细户 block."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(header))
    out = []
    for line in lines[start + 1:]:
        if not line.startswith("      H"):
            break
        out.append(line.split(" | ")[0].strip())
    return out


def test_rows_sets_how_many_households_are_listed(ws):
    res = explain(ws, "脱贫不稳定户数", "东山县", "--rows", "7")
    assert res.exit_code == 0, res.output
    assert "明细户（前 7 行；全部明细用 --rows-out 文件.csv 导出）：" in res.output
    assert listed_rows(res.output) == households(ws, "990121")[:7]  # the first seven, in file order
    res = explain(ws, "脱贫不稳定户数", "东山县", "--rows", "0")
    assert res.exit_code == 0 and "明细户" not in res.output
    village = villages_under(ws, "990121203")[0]
    want = households(ws, village)
    res = explain(ws, "脱贫不稳定户数", village, "--rows", str(len(want)))  # exactly all of them
    assert f"明细户（共 {len(want)} 行）：" in res.output and listed_rows(res.output) == want
    res = explain(ws, "脱贫不稳定户数", village)  # default: 5
    assert "明细户（前 5 行；" in res.output and listed_rows(res.output) == want[:5]


def read_rows_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "a CSV for Excel/WPS needs a BOM"
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_rows_out_writes_every_household_behind_the_count(ws, tmp_path):
    target = tmp_path / "导出" / "城关镇脱贫不稳定户.csv"  # the folder is made
    res = explain(ws, "脱贫不稳定户数", TOWNSHIP, "--rows-out", str(target))
    assert res.exit_code == 0, res.output
    want = households(ws, "990121101")
    rows = read_rows_csv(target)
    assert [r["户编号"] for r in rows] == want  # all of them, in the order of the file
    assert len(want) > 5 and {r["监测类型"] for r in rows} == {"脱贫不稳定户"}
    assert {r["村代码"][:9] for r in rows} == {"990121101"}
    assert f"已写入 {target}：{len(want)} 行明细户（hh_unstable_households，城关镇，2024Q4）" in res.output
    assert "城关镇 990121101000" in res.output  # the explanation is still shown
    # the county, into the same file: replaced whole, nothing temporary left beside it
    res = explain(ws, "hh_unstable_households", "东山县", "--rows-out", str(target))
    assert res.exit_code == 0, res.output
    county = households(ws, "990121")
    assert [r["户编号"] for r in read_rows_csv(target)] == county
    assert f"（50 个村，{len(county)} 行）" in res.output
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]


def test_rows_out_of_a_field_without_condition_writes_all_its_households(ws, tmp_path):
    target = tmp_path / "all.csv"
    res = explain(ws, "监测户数（户级数据）", "东山县", "--rows-out", str(target))
    assert res.exit_code == 0, res.output
    want = households(ws, "990121", monitor_type=None)
    assert [r["户编号"] for r in read_rows_csv(target)] == want
    assert f"：{len(want)} 行明细户" in res.output and f"= {len(set(want))}，" in res.output


@pytest.mark.parametrize(("what", "args", "said"), [
    ("脱贫不稳定户占监测户比重", ("--rows-out", "{tmp}/a.csv"),
     ["由 2 个户级数据字段算出", "hh_unstable_households", "hh_households", "一次只导出一个字段",
      "位置: --rows-out {tmp}/a.csv", "处理: 逐个字段导出，如 revstat explain hh_unstable_households"]),
    ("农村卫生厕所普及率", ("--rows-out", "{tmp}/a.csv"),
     ["不是由户级数据汇总的，没有明细户可导出", "位置: --rows-out", "处理: --rows-out 用于由户级数据"]),
    ("脱贫不稳定户数", ("--rows-out", "{tmp}"), ["--rows-out 指向一个文件夹", "处理: 写一个 CSV 文件名"]),
    ("脱贫不稳定户数", ("--rows-out", "{ws}/data/2024Q4/records/明细.parquet"),
     ["--rows-out 写出的是 CSV 文件，文件名应以 .csv 结尾"]),
    # a county's workbook: it was replaced by CSV text, and the next compile failed on it
    ("脱贫不稳定户数", ("--rows-out", "{ws}/data/2024Q4/东山县_2024Q4.xlsx"),
     ["--rows-out 写出的是 CSV 文件，文件名应以 .csv 结尾"]),
    ("脱贫不稳定户数", ("--rows", "-1"), ["--rows 不能是负数：-1", "位置: --rows -1", "处理: 写 0 或正整数"]),
    # a file where a folder should be: said before the explanation, not after it
    ("脱贫不稳定户数", ("--rows-out", "{ws}/revstat.yaml/a.csv"),
     ["--rows-out 的文件无法写入：{ws}/revstat.yaml 不可写", "处理: 换一个有写入权限的位置"]),
])
def test_wrong_rows_options_are_exit_2_in_chinese_before_compiling(ws, tmp_path, what, args, said):
    fill = {"tmp": str(tmp_path), "ws": str(ws)}
    res = explain(ws, what, "东山县", *(a.format(**fill) for a in args))
    assert res.exit_code == 2, res.output
    assert res.output.startswith("错误: ")  # nothing explained (nothing compiled) before the error
    for text in said:
        assert text.format(**fill) in res.output
    assert "Traceback" not in res.output
    assert not (ws / "data" / "2024Q4" / "records" / "明细.parquet").exists()
    assert not (tmp_path / "a.csv").exists()
    assert (ws / "data" / "2024Q4" / "东山县_2024Q4.xlsx").read_bytes()[:2] == b"PK"  # still the workbook


def test_rows_out_never_writes_where_any_period_of_a_source_is_read(tmp_path):
    # a CSV records export: a --rows-out file beside it (any period's folder) would be read as data
    root = Path(shutil.copytree(SAMPLE, tmp_path / "ws", ignore=shutil.ignore_patterns("out")))
    source = root / "sources" / "7_households.yaml"
    source.write_text(source.read_text(encoding="utf-8").replace("*.parquet", "*.csv"), encoding="utf-8")
    res = explain(root, "脱贫不稳定户数", "东山县", "--rows-out", str(root / "data" / "2023Q4" / "records" / "明细.csv"))
    assert res.exit_code == 2, res.output
    assert "在报表或户级数据的位置（来源 households 的 files: data/{period}/records/*.csv）" in res.output
    assert "处理: 写到 data/ 以外" in res.output
    assert not (root / "data" / "2023Q4" / "records" / "明细.csv").exists()


# ---- the library: sample_rows(n=None), sample_rows(out=…) ---------------------------------------


def test_sample_rows_all_and_to_csv(ws, tmp_path):
    from revstat.records import sample_rows
    from revstat.workspace import load_workspace

    workspace = load_workspace(ws)
    want = households(ws, "990121")
    every = sample_rows(workspace, "hh_unstable_households", COUNTY, "2024Q4", n=None)
    assert list(every["户编号"]) == want
    # by its name, as the command line takes it (it returned no row, without a word)
    assert list(sample_rows(workspace, "hh_unstable_households", "东山县", "2024Q4", n=None)["户编号"]) == want
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


# ---- 3. did you mean: indicators and fields ---------------------------------------------------


def test_unknown_name_suggests_fields_too(ws):
    res = explain(ws, "监测户数", "东山县")
    assert res.exit_code == 2, res.output
    assert "错误: 未知的指标或字段 '监测户数'" in res.output
    # the records field whose name without its qualifier is what was typed comes first
    assert "处理: 可能是：字段 监测户数（户级数据）、" in res.output
    # a field named like an indicator is suggested by its id (its name finds the indicator)
    assert "字段 monitored_households（累计纳入监测对象户数）" in res.output
    assert "Traceback" not in res.output
    res = explain(ws, "hh_househ", "东山县")
    assert res.exit_code == 2 and "可能是：字段 监测户数（户级数据）" in res.output


def test_unknown_name_in_english_suggests_english_names_which_are_accepted(ws):
    res = explain(ws, "monitored households", "东山县", "--lang", "en")
    assert res.exit_code == 2, res.output
    assert "Error: unknown indicator or field 'monitored households'" in res.output
    assert "field Monitored households (household records)" in res.output
    assert "indicator Monitored households (cumulative)" in res.output
    assert not re.search(r"[\u4e00-\u9fff]", res.output.split("fix:")[1].split("(")[0])
    res = explain(ws, "Monitored households (household records)", "东山县", "--lang", "en")
    assert res.exit_code == 0, res.output
    assert res.output.startswith("Monitored households (household records) (field hh_households) — 东山县")
