"""Errors of the records engines as a user can act on them: on Spark as on DuckDB, a value that
is not a number is named by column, value and row, a DATE column used as a number by its type,
and the JVM's log never reaches the terminal.

The Spark tests are marked ``spark``: without pyspark or Java they skip locally and fail in CI
(as in tests/test_spark.py). The workspaces are the small ones of tests/test_records.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from revstat.errors import SourceError
from revstat.model import Location
from revstat.records import read_records
from revstat.records import spark as sp
from revstat.records import spark_errors as se
from revstat.workspace import load_workspace
from tests.test_records import _rows, _workspace

MASTER = "local[2]"
BAD_PERSONS = ["H1", "990101001201", "3人", "脱贫不稳定户", "否", "1234.00", ""]  # line 52 after 50 rows


def _error(root: Path, engine: str) -> SourceError:
    with pytest.raises(SourceError) as info:
        read_records(load_workspace(root), ["2024Q4"], engine=engine)
    return info.value


def _parquet(root: Path, select: str) -> Path:
    """The workspace's h.csv as h.parquet, its columns as ``select`` makes them; the source reads Parquet."""
    import duckdb

    folder = root / "data" / "2024Q4" / "records"
    duckdb.execute(f"COPY (SELECT {select} FROM read_csv('{folder / 'h.csv'}', header = true, all_varchar = true)) "
                   f"TO '{folder / 'h.parquet'}' (FORMAT parquet)")
    (folder / "h.csv").unlink()
    source = root / "sources" / "households.yaml"
    source.write_text(source.read_text(encoding="utf-8").replace("*.csv", "*.parquet"), encoding="utf-8")
    return folder / "h.parquet"


def _date_persons(tmp_path: Path, file_type: str = "DATE") -> Path:
    root = _workspace(tmp_path / f"typed_{file_type}", _rows(20, seed=4))
    _parquet(root, f"* REPLACE (CAST(DATE '2024-01-01' + CAST(\"人数\" AS INTEGER) AS {file_type}) AS \"人数\")")
    return root


# ----------------------------------------------------------------------------- DuckDB, no Spark


@pytest.mark.parametrize(("file_type", "said"), [("DATE", "日期类型（DATE）"), ("TIMESTAMP", "日期时间类型（TIMESTAMP）")])
def test_a_date_column_used_as_a_number_is_named_with_its_type(tmp_path, file_type, said):
    err = _error(_date_persons(tmp_path, file_type), "duckdb")
    assert err.what.render("zh") == f"列 人数 在文件中是{said}，不能作数字汇总或计算（这里需要数字）"
    assert err.where == Location("data/2024Q4/records/h.parquet", note="人数")
    assert "columns 的对应关系" in err.fix.render("zh")
    english = err.render("en")
    assert f"column 人数 is of {file_type.lower().replace('timestamp', 'date-time')} type ({file_type})" in english
    assert "Unimplemented" not in english and "Conversion Error" not in english


@pytest.mark.parametrize(("file_type", "said"), [
    ("INTEGER[]", "列表类型（INTEGER[]）"), ("ARRAY<INT>", "列表类型（ARRAY<INT>）"),
    ("STRUCT(a INTEGER)", "结构类型（STRUCT(a INTEGER)）"), ("TIME", "时间类型（TIME）"), ("GEOMETRY", "GEOMETRY 类型（GEOMETRY）")])
def test_each_kind_of_column_type_is_named_in_chinese(file_type, said):
    err = se.typed_column_error("人数", file_type, Location("h.parquet", note="人数"))
    assert err.what.render("zh").startswith(f"列 人数 在文件中是{said}，")


@pytest.mark.parametrize(("params", "text", "value"), [
    ({"expression": "'3人'"}, "", "3人"),
    ({"expression": "'O\\'Brien \\\\ 3'"}, "", "O'Brien \\ 3"),  # Spark's SQL literal: \' and \\
    ({}, "[CAST_INVALID_INPUT] The value '1,234.5' of the type \"STRING\" cannot be cast to", "1,234.5"),  # 3.5
    ({"value": "123456789012345678"}, "", "123456789012345678"),  # NUMERIC_VALUE_OUT_OF_RANGE
])
def test_the_value_spark_could_not_cast_is_read_from_its_error(params, text, value):
    assert se._spark_value(params, text) == value


def test_the_cast_that_failed_is_found_by_its_position_in_the_sql():
    """pyspark without query contexts: Spark's message names the line and position of the CAST."""
    pytest.importorskip("sqlglot")
    spark_sql = sp.to_spark_sql('SELECT sum(CAST("收入" AS DECIMAL(18,4))) AS a, '
                                'sum(CAST("人数" AS DECIMAL(18,4))) AS b FROM read_csv(?)', ["h.csv"])
    at = spark_sql.index("CAST(`人数`") + 1
    err = RuntimeError(f"[CAST_INVALID_INPUT] The value '3人' …\n== SQL (line 1, position {at}) ==\n…")
    assert se._cast_column(err, spark_sql) == "人数"
    assert se._cast_column(RuntimeError("[CAST_INVALID_INPUT] …"), spark_sql) is None
    assert se._number_columns(spark_sql) == ["收入", "人数"]  # then every column cast to a number is searched


# ----------------------------------------------------------------------------- Spark


@pytest.mark.spark
def test_a_value_that_is_not_a_number_is_named_by_column_and_row_on_spark_as_on_duckdb(spark, tmp_path):
    root = _workspace(tmp_path / "csv", _rows(50, seed=2) + [BAD_PERSONS])
    on_duckdb, on_spark = _error(root, "duckdb"), _error(root, "spark")
    for lang in ("zh", "en"):
        assert on_spark.what.render(lang) == on_duckdb.what.render(lang)
        assert on_spark.fix.render(lang) == on_duckdb.fix.render(lang)
    assert on_spark.what.render("zh") == "列 人数 第 52 行不是数字：'3人'"
    assert on_spark.what.render("en") == "column 人数 is not a number at row 52: '3人'"
    assert on_spark.where.file.endswith("data/2024Q4/records/h.csv") and on_spark.where.note == "人数"
    assert "CAST_INVALID_INPUT" not in on_spark.render("zh")


@pytest.mark.spark
def test_a_parquet_value_that_is_not_a_number_is_named_by_its_record_on_spark(spark, tmp_path):
    rows = _rows(30, seed=3)
    rows[9][5] = "12,5"  # the 10th record's 收入; the columns stay text in the Parquet file
    root = _workspace(tmp_path / "pq", rows)
    _parquet(root, "*")
    err = _error(root, "spark")
    assert err.what.render("zh") == "列 收入 第 10 条记录不是数字：'12,5'"
    assert err.what.render("zh") == _error(root, "duckdb").what.render("zh")


@pytest.mark.spark
def test_a_date_column_used_as_a_number_is_named_with_its_type_on_spark(spark, tmp_path):
    root = _date_persons(tmp_path)
    on_spark = _error(root, "spark")
    assert on_spark.what.render("zh") == "列 人数 在文件中是日期类型（DATE），不能作数字汇总或计算（这里需要数字）"
    assert on_spark.what.render("en") == _error(root, "duckdb").what.render("en")
    assert on_spark.where.note == "人数"


@pytest.mark.spark
def test_without_local_files_the_column_and_value_come_from_spark(spark):
    """A catalog table: DuckDB cannot read the rows again, so no row, but still column and value."""
    spark.createDataFrame([("990101001201", "2"), ("990101001202", "3人")], ["村代码", "人数"]) \
        .createOrReplaceTempView("revstat_bad_households")
    sql = 'SELECT "村代码" AS region_code, sum(CAST("人数" AS DECIMAL(18,4))) AS p FROM households GROUP BY 1'
    with pytest.raises(SourceError) as info:
        sp.run_spark(sql, sp.SparkInput(table="revstat_bad_households"), MASTER, view="households")
    assert info.value.what.render("zh") == "列 人数 中有不是数字的值：'3人'"
    assert info.value.what.render("en") == "column 人数 holds a value that is not a number: '3人'"
    assert info.value.where == Location("revstat_bad_households", note="人数")


@pytest.mark.spark
def test_compile_on_spark_prints_the_message_and_no_jvm_log(spark, tmp_path):
    """In a new process (a new JVM): stderr holds revstat's message, and none of the JVM's start-up
    lines, the executors' stack traces or pyspark's JSON log line of the failed query."""
    root = _workspace(tmp_path / "ws", _rows(50, seed=2) + [BAD_PERSONS])
    env = dict(os.environ, PYTHONIOENCODING="utf-8", NO_COLOR="1", COLUMNS="120")
    env.pop("SPARK_HOME", None)
    done = subprocess.run([sys.executable, "-m", "revstat", "compile", str(root), "--period", "2024Q4",
                           "--engine", "spark", "--spark-master", MASTER],
                          capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("错误: 列 人数 第 52 行不是数字：'3人'\n"), done.stderr
    for noise in ("WARNING: Using incubator modules", "Setting default log level", "ERROR Executor",
                  "SparkNumberFormatException", "SQLQueryContextLogger", "\tat ", "FutureWarning"):
        assert noise not in done.stderr
    assert done.stderr.count("\n") <= 4, done.stderr  # 错误, 位置, 处理


@pytest.mark.spark
def test_a_jvm_that_does_not_start_is_explained_by_its_own_last_lines(tmp_path):
    """The JVM's stderr goes to a file; when it cannot start, its last lines are in the message."""
    if not sp.spark_available(MASTER):
        if os.environ.get("CI"):
            pytest.fail("CI is set but pyspark or Java is missing")
        pytest.skip("pyspark or Java is missing")
    script = ("from revstat.records import spark as sp\n"
              "try:\n    sp.spark_session('local[2]', conf={'spark.driver.memory': '12x'})\n"
              "except sp.SparkUnavailableError as err:\n    print(err.render('en'))\n")
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    env.pop("SPARK_HOME", None)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path,
                          check=False)
    assert done.stdout.startswith("Error: cannot start Spark (master local[2]): "), done.stdout + done.stderr
    assert "-Xmx12x" in done.stdout  # the JVM's own words: "Invalid maximum heap size: -Xmx12x"
    assert done.stderr == ""
