"""`revstat extract` and `revstat inspect` through typer's CliRunner."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from test_read import ROWS, make_ws, write_book
from typer.testing import CliRunner

from revstat.cli import app

P = "data/2024Q4/东山县_2024Q4.xlsx"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM for Excel
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def test_extract_writes_observations_and_a_summary(tmp_path: Path, runner: CliRunner) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, ROWS, total=["合计", 90, 120, 6])
    res = runner.invoke(app, ["extract", str(root), "--period", "2024Q4"], env={"COLUMNS": "120", "NO_COLOR": "1"})
    assert res.exit_code == 0, res.output
    assert "合计行" in res.output and "observations.csv" in res.output
    rows = _csv(root / "out/2024Q4/observations.csv")
    assert list(rows[0]) == ["field", "region_code", "region_name", "level", "period", "value", "unit",
                             "file", "sheet", "cell", "origin"]
    assert len(rows) == 12
    first = rows[0]
    assert (first["field"], first["region_code"], first["region_name"], first["value"], first["cell"], first["file"]) == (
        "households", "990121101000", "城关镇", "10", "B7", P)
    total = [r for r in rows if r["origin"] == "total"]
    assert {(r["field"], r["region_code"], r["value"]) for r in total} == {
        ("households", "990121000000", "90"), ("persons", "990121000000", "120"), ("funds", "990121000000", "6")}


def test_extract_writes_what_it_could_and_exits_2(tmp_path: Path, runner: CliRunner) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, ROWS)
    (root / "data/2024Q4/青山区_2024Q4.xlsx").write_bytes(b"PK\x03\x04broken")
    res = runner.invoke(app, ["extract", str(root), "--period", "2024Q4"], env={"COLUMNS": "120", "NO_COLOR": "1"})
    assert res.exit_code == 2
    assert "青山区_2024Q4.xlsx" in res.output and "损坏" in res.output and "已写出" in res.output
    assert "Traceback" not in res.output
    assert len(_csv(root / "out/2024Q4/observations.csv")) == 9


def test_extract_in_english(tmp_path: Path, runner: CliRunner) -> None:
    root = make_ws(tmp_path)
    rows = [list(r) for r in ROWS]
    rows[0][1] = "12,3O4"
    write_book(root / P, rows)
    res = runner.invoke(app, ["--lang", "en", "extract", str(root), "--period", "2024Q4"],
                        env={"COLUMNS": "120", "NO_COLOR": "1"})
    assert res.exit_code == 2
    assert "cell is not a number '12,3O4'" in res.output
    assert "where: data/2024Q4/东山县_2024Q4.xlsx › 1-监测情况 › B7" in res.output


def test_extract_rejects_a_bad_period(tmp_path: Path, runner: CliRunner) -> None:
    root = make_ws(tmp_path)
    res = runner.invoke(app, ["extract", str(root), "--period", "2024-4"])
    assert res.exit_code == 2 and "2024-4" in res.output


def test_inspect_shows_header_rows_and_field_mapping(tmp_path: Path, runner: CliRunner) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, ROWS)
    res = runner.invoke(app, ["inspect", str(root / P), "--workspace", str(root)],
                        env={"COLUMNS": "160", "NO_COLOR": "1"})
    assert res.exit_code == 0, res.output
    assert "1-监测情况" in res.output
    assert "表头行: 5, 6" in res.output
    assert "累计纳入监测对象/人数" in res.output and "persons" in res.output
    assert "数据从第7行开始" in res.output


def test_inspect_shows_the_unit_conversion_the_reader_applies(tmp_path: Path, runner: CliRunner) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, ROWS, unit="单位：户、人、元")  # 衔接资金 is declared in 万元
    res = runner.invoke(app, ["inspect", str(root / P), "--workspace", str(root)],
                        env={"COLUMNS": "160", "NO_COLOR": "1"})
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if "衔接资金" in x and "funds" in x)
    assert "元→万元" in line


def test_inspect_a_damaged_file(tmp_path: Path, runner: CliRunner) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"")
    res = runner.invoke(app, ["inspect", str(path)])
    assert res.exit_code == 2 and "空" in res.output


def test_inspect_says_what_a_misnamed_file_really_is(tmp_path: Path, runner: CliRunner) -> None:
    path = tmp_path / "东山县.xlsx"
    path.write_bytes("东山县监测情况表\n乡镇,户数\n城关镇,3\n".encode("gb18030"))
    res = runner.invoke(app, ["inspect", str(path)], env={"COLUMNS": "120", "NO_COLOR": "1"})
    assert res.exit_code == 0, res.output
    assert "CSV" in res.output and "gb18030" in res.output and ".xlsx" in res.output
    assert "表头行: 2" in res.output


def test_text_that_excel_would_run_as_a_formula_is_neutralised(tmp_path: Path, runner: CliRunner) -> None:
    from test_read import SOURCE

    root = make_ws(tmp_path, source=SOURCE.replace('sheet: "1-监测*"', 'sheet: "=1-监测*"'))
    write_book(root / P, ROWS, sheet="=1-监测")
    res = runner.invoke(app, ["extract", str(root), "--period", "2024Q4"], env={"COLUMNS": "120", "NO_COLOR": "1"})
    assert res.exit_code == 0, res.output
    rows = _csv(root / "out/2024Q4/observations.csv")
    assert {r["sheet"] for r in rows} == {"'=1-监测"}
    assert rows[0]["value"] == "10"


def test_extract_lists_the_household_records_with_their_aggregation(tmp_path: Path, runner: CliRunner) -> None:
    # "every value with its file › sheet › cell": the records' village values were missing
    import csv
    import shutil

    import duckdb

    sample = Path(__file__).resolve().parents[1] / "sample_data"
    ws = tmp_path / "ws"
    shutil.copytree(sample, ws, ignore=shutil.ignore_patterns("out", "__pycache__"))
    res = runner.invoke(app, ["extract", str(ws), "--period", "2024Q4"])
    assert res.exit_code == 0, res.output
    with open(ws / "out" / "2024Q4" / "observations.csv", encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["field"] == "hh_households"]
    parquet = ws / "data" / "2024Q4" / "records" / "households.parquet"
    [(n,)] = duckdb.execute(f"SELECT count(DISTINCT 户编号) FROM read_parquet('{parquet}') "
                            "WHERE 村代码 = '990102001201'").fetchall()
    [hongqi] = [r for r in rows if r["region_code"] == "990102001201"]
    assert (hongqi["value"], hongqi["cell"], hongqi["origin"]) == (str(n), "count_distinct(household_id)", "records")
    assert hongqi["file"] == "data/2024Q4/records/households.parquet"


def test_extract_counts_the_household_records_apart(tmp_path: Path, runner: CliRunner) -> None:
    # the sample's records source: 14 fields at its 300 villages (regions.csv) = 4200 values
    import shutil

    sample = Path(__file__).resolve().parents[1] / "sample_data"
    root = tmp_path / "ws"
    shutil.copytree(sample, root, ignore=shutil.ignore_patterns("out"))
    with open(root / "regions.csv", encoding="utf-8-sig") as fh:
        villages = sum(1 for r in csv.DictReader(fh) if r["level"] == "village")
    assert villages == 300
    res = runner.invoke(app, ["extract", str(root), "--period", "2024Q4"], env={"COLUMNS": "160", "NO_COLOR": "1"})
    assert res.exit_code == 0, res.output
    assert "户级数据：4200 个值（14 个字段 × 300 个地区），来自 data/2024Q4/records/households.parquet" in res.output
