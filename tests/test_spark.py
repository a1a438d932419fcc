"""The Spark engine gives the same aggregated rows as DuckDB, from the same SQL text.

The Spark tests are marked ``spark``. Without pyspark or Java they skip locally, but FAIL when
the environment variable CI is set: in CI this proof must never silently disappear. One Spark
session (local[2], ~6 s) serves the whole module.
"""

from __future__ import annotations

import csv
import os
import random
import sys
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from revstat.errors import SourceError
from revstat.records import spark as sp

ROWS = 10_000
MASTER = "local[2]"
TYPES = ("脱贫不稳定户", "边缘易致贫户", "突发严重困难户")
RISKS = ("因病", "因残", "因学", "因灾", "就业不稳定")
HEADER = ["户编号", "村代码", "人数", "监测类型", "风险类型", "纳入日期", "是否消除风险", "家庭纯收入", "备注"]

# The aggregation as the records builder writes it: DuckDB's dialect, Chinese column names in
# double quotes, FILTER clauses, COUNT(DISTINCT), DECIMAL money, GROUP BY a code prefix, and
# values as parameters. The file reader in FROM becomes the registered view on Spark.
AGG_SQL = """
SELECT substr("村代码", 1, 12) AS region_code,
       count(*) AS households,
       count(*) FILTER (WHERE "监测类型" = $2) AS unstable_households,
       sum(CAST("人数" AS BIGINT)) AS persons,
       sum(CAST("人数" AS BIGINT)) FILTER (WHERE "是否消除风险" = '否') AS remaining_persons,
       count(DISTINCT "户编号") FILTER (WHERE "风险类型" LIKE '%' || $3 || '%') AS illness_households,
       count(*) FILTER (WHERE CAST("纳入日期" AS DATE) >= $4) AS new_households,
       sum(CAST("家庭纯收入" AS DECIMAL(18, 2))) AS income,
       sum(CAST("家庭纯收入" AS DECIMAL(18, 2))) FILTER (WHERE "备注" = $5) AS income_quoted
FROM read_csv($1, header = true, all_varchar = true) AS r
WHERE "村代码" IS NOT NULL
GROUP BY 1
ORDER BY 1
"""
NOTE = "O'Neil \\ 说明"  # a quote and a backslash: both dialects must quote it correctly


def _params(path: str) -> list[object]:
    return [path, "脱贫不稳定户", "因病", date(2024, 1, 1), NOTE]


def _generate(rows: int, seed: int = 8) -> list[list[str]]:
    rnd = random.Random(seed)
    villages = [f"3301{c:02d}{t:03d}{v:03d}" for c in (2, 5) for t in (1, 2, 101) for v in range(1, 9)]
    out = []
    for i in range(rows):
        risks = rnd.sample(RISKS, rnd.randint(1, 2))
        out.append([
            f"H{rnd.randint(0, rows * 9 // 10):06d}",  # some households appear twice (distinct counts)
            rnd.choice(villages),
            str(rnd.randint(1, 7)),
            rnd.choice(TYPES),
            "、".join(risks),
            (date(2022, 1, 1) + timedelta(days=rnd.randint(0, 1000))).isoformat(),
            rnd.choice(("是", "否")),
            f"{rnd.randint(0, 9_000_000) / 100:.2f}" if i % 37 else "",  # some income missing
            NOTE if i % 11 == 0 else rnd.choice(("", "外出务工", '含"引号"')),
        ])
    return out


def _expected(rows: list[list[str]]) -> dict[str, dict[str, object]]:
    """The aggregation computed by hand in Python, independently of both engines."""
    acc: dict[str, dict[str, object]] = defaultdict(lambda: {
        "households": 0, "unstable_households": 0, "persons": 0, "remaining_persons": None,
        "illness": set(), "new_households": 0, "income": None, "income_quoted": None})
    for hh, village, persons, kind, risks, entered, eliminated, income, note in rows:
        a = acc[village]
        a["households"] += 1
        a["unstable_households"] += kind == "脱贫不稳定户"
        a["persons"] += int(persons)
        if eliminated == "否":
            a["remaining_persons"] = (a["remaining_persons"] or 0) + int(persons)
        if "因病" in risks:
            a["illness"].add(hh)
        a["new_households"] += date.fromisoformat(entered) >= date(2024, 1, 1)
        if income:
            a["income"] = (a["income"] or Decimal(0)) + Decimal(income)
            if note == NOTE:
                a["income_quoted"] = (a["income_quoted"] or Decimal(0)) + Decimal(income)
    return {k: {**v, "illness_households": len(v.pop("illness"))} for k, v in acc.items()}


def _rows(frame) -> list[tuple]:
    return [tuple(r) for r in frame.itertuples(index=False)]


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("records")
    rows = _generate(ROWS)
    path = folder / "households.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return {"csv": path, "rows": rows}


def _duckdb(sql: str, params: list[object]):
    import duckdb

    con = duckdb.connect()
    try:
        return _frame(con.execute(sql, params))
    finally:
        con.close()


def _frame(cursor):
    import pandas as pd

    columns = [d[0] for d in cursor.description]
    return pd.DataFrame(cursor.fetchall(), columns=columns, dtype=object)


# ----------------------------------------------------------------- transpiling (no Spark needed)

def _need(module: str) -> None:
    """Skip locally when an optional module is missing; fail in CI (it must be installed)."""
    try:
        __import__(module)
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {module} is missing: pip install -e '.[test]'")
        pytest.skip(f"{module} is not installed")


@pytest.fixture(autouse=True)
def _sqlglot() -> None:
    _need("sqlglot")


def test_chinese_names_become_backticks_and_strings_stay_strings():
    out = sp.to_spark_sql('SELECT count(*) FILTER (WHERE "监测类型" = \'脱贫不稳定户\') AS "户 数" FROM t')
    assert "`监测类型` = '脱贫不稳定户'" in out
    assert "AS `户 数`" in out
    assert '"' not in out


def test_values_are_bound_as_quoted_literals_not_spliced():
    out = sp.to_spark_sql("SELECT count(*) FILTER (WHERE a = ? AND b = ?) AS n FROM t WHERE c = ?",
                          ["x' OR 1=1 --", "a\\b", 3])
    # Spark strings escape with a backslash: the quote stays inside the literal
    assert r"a = 'x\' OR 1=1 --'" in out
    assert r"b = 'a\\b'" in out
    assert "c = 3" in out


def test_question_marks_bind_in_text_order_and_quoted_ones_are_left_alone():
    out = sp.to_spark_sql(
        "WITH x AS (SELECT * FROM t WHERE a = ?) SELECT '?' AS \"?\", count(*) FILTER (WHERE b = ?) AS n "
        "FROM x GROUP BY substr(\"村代码\", 1, ?)", ["A", "B", 9])
    assert "a = 'A'" in out and "b = 'B'" in out and "SUBSTRING(`村代码`, 1, 9)" in out
    assert "'?' AS `?`" in out


def test_duckdb_file_readers_become_the_registered_view():
    for source in ("read_csv('data/a.csv', header = true) AS r", "read_parquet(['a.parquet', 'b.parquet'])",
                   "'data/2024Q3/*.csv'", "read_csv_auto('x.csv')"):
        out = sp.to_spark_sql(f"SELECT count(*) AS n FROM {source} GROUP BY 1", relation="hh_view")
        assert "FROM hh_view" in out, out
    assert "FROM db.households" in sp.to_spark_sql("SELECT count(*) FROM db.households")


def test_duckdb_types_map_to_spark_types():
    assert sp.spark_type("DECIMAL(18,2)") == "DECIMAL(18, 2)"
    assert sp.spark_type("VARCHAR") == "STRING"
    assert sp.spark_type("BIGINT") == "BIGINT"


# ----------------------------------------------------------------- missing extra


def test_missing_pyspark_says_what_to_install_in_both_languages(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)  # makes `import pyspark` fail
    with pytest.raises(sp.SparkUnavailableError) as info:
        sp.require_spark(MASTER)
    assert "pip install 'revstat[spark]'" in info.value.render("zh")
    assert "没有安装" in info.value.render("zh")
    assert "not installed" in info.value.render("en")
    assert "Java 17" in info.value.render("en")


def test_spark_connect_without_its_client_packages_names_them(monkeypatch):
    _need("pyspark")
    monkeypatch.setitem(sys.modules, "grpc", None)  # find_spec of a None module raises: missing
    with pytest.raises(sp.SparkUnavailableError) as info:
        sp.spark_session("sc://spark.example:15002")
    assert "pyspark[connect]" in info.value.render("en") and "grpc" in info.value.render("en")


def test_missing_java_is_named_for_a_local_master_only(monkeypatch, tmp_path):
    _need("pyspark")
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on PATH
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(sp.SparkUnavailableError, match="Java"):
        sp.require_spark("local[2]")
    sp.require_spark("sc://spark.example:15002")  # Spark Connect: the server runs Java


# ----------------------------------------------------------------- DuckDB and Spark agree


def test_hand_computed_totals_match_duckdb(records):
    expected = _expected(records["rows"])
    got = _duckdb(AGG_SQL, _params(str(records["csv"])))
    assert len(got) == len(expected) == 48
    for row in got.to_dict("records"):
        want = expected[row["region_code"]]
        for column in ("households", "unstable_households", "persons", "remaining_persons",
                       "illness_households", "new_households", "income", "income_quoted"):
            assert row[column] == want[column], (row["region_code"], column)


@pytest.mark.spark
def test_spark_gives_the_same_rows_as_duckdb_on_csv(spark, records):
    params = _params(str(records["csv"]))
    on_duckdb = _duckdb(AGG_SQL, params)
    on_spark = sp.run_spark(AGG_SQL, sp.SparkInput(paths=(str(records["csv"]),)), MASTER, params)
    assert list(on_spark.columns) == list(on_duckdb.columns)
    assert _rows(on_spark) == _rows(on_duckdb)  # exact: ints and Decimals, None for no rows
    incomes = [v for v in on_spark["income"] if v is not None]
    assert incomes and all(isinstance(v, Decimal) for v in incomes)
    assert sum(on_spark["households"]) == ROWS


# ----------------------------------------------------------------- the records source, end to end

REPO = Path(__file__).resolve().parents[1]
WS_HEADER = ["户编号", "村代码", "家庭人口数", "监测类型", "风险类型", "纳入监测日期", "是否消除风险",
             "风险消除日期", "家庭年纯收入", "帮扶措施", "是否落实帮扶", "备注"]
NOTES = ("", "O'Brien", '张"三', "'; DROP TABLE x; --", "反斜杠\\n", "普通", "两行\n备注")
# the sample workspace's households source, plus fields with quotes, a backslash and a
# distinct count under a condition
EXTRA_FIELDS = r"""
  - {id: hh_quote1, name: 单引号, unit: 户, measure: count, where: "备注 == \"O'Brien\""}
  - {id: hh_quote2, name: 双引号, unit: 户, measure: count, where: "备注 == '张\"三'"}
  - {id: hh_injection, name: 注入, unit: 户, measure: count, where: "备注 == \"'; DROP TABLE x; --\""}
  - {id: hh_backslash, name: 反斜杠, unit: 人, measure: sum, of: persons, where: "备注 == '反斜杠\\\\n'"}
  - {id: hh_two_lines, name: 两行, unit: 户, measure: count, where: "备注 == '两行\\n备注'"}
  - {id: hh_unstable_distinct, name: 脱贫不稳定不重复户, unit: 户, measure: count_distinct, of: household_id, where: "monitor_type == '脱贫不稳定户' and persons >= 3"}
"""


def _village_codes() -> list[str]:
    with open(REPO / "sample_data" / "regions.csv", encoding="utf-8-sig", newline="") as fh:
        return [r["code"] for r in csv.DictReader(fh) if r["level"] == "village"]


def _households(rows: int, seed: int = 6) -> list[list[str]]:
    rnd = random.Random(seed)
    villages = _village_codes()
    out = []
    for i in range(rows):
        entered = date(2021, 1, 1) + timedelta(days=rnd.randint(0, 1400))
        eliminated = rnd.choice(("是", "否", "是 ", "Y", ""))
        out.append([
            f"H{rnd.randint(0, rows * 9 // 10):07d}",
            rnd.choice(villages),
            str(rnd.randint(1, 6)),
            rnd.choice(TYPES),
            rnd.choice(RISKS),
            entered.isoformat(),
            eliminated,
            (entered + timedelta(days=rnd.randint(30, 400))).isoformat() if eliminated.strip() == "是" else "",
            f"{rnd.randint(300_000, 9_000_000) / 100:.2f}" if i % 41 else "",
            rnd.choice(("产业帮扶", "就业帮扶", "产业帮扶、就业帮扶")),
            rnd.choice(("是", "否")),
            rnd.choice(NOTES),
        ])
    return out


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """The sample city's revstat.yaml, regions and households source over a 10k-row CSV; the
    same rows as Parquet in a second workspace."""
    import duckdb

    rows = _households(ROWS)
    roots = {}
    for fmt in ("csv", "parquet"):
        root = tmp_path_factory.mktemp(f"ws_{fmt}")
        config = (REPO / "sample_data" / "revstat.yaml").read_text(encoding="utf-8")
        (root / "revstat.yaml").write_text(config + f"\nspark_master: {MASTER}\n", encoding="utf-8")
        (root / "regions.csv").write_bytes((REPO / "sample_data" / "regions.csv").read_bytes())
        (root / "sources").mkdir()
        source = (REPO / "sample_data" / "sources" / "7_households.yaml").read_text(encoding="utf-8")
        # the rows repeat household ids on purpose (count against count_distinct), so without `key:`
        source = source.replace("*.parquet", f"*.{fmt}").replace("\nkey: household_id", "\n# key: household_id")
        source = source.rstrip("\n") + EXTRA_FIELDS
        (root / "sources" / "7_households.yaml").write_text(source, encoding="utf-8")
        folder = root / "data" / "2024Q4" / "records"
        folder.mkdir(parents=True)
        roots[fmt] = root
    csv_path = roots["csv"] / "data" / "2024Q4" / "records" / "households.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(WS_HEADER)
        writer.writerows(rows)
    parquet_path = roots["parquet"] / "data" / "2024Q4" / "records" / "households.parquet"
    duckdb.execute(f"COPY (SELECT * REPLACE (CAST(\"家庭人口数\" AS INTEGER) AS \"家庭人口数\", "
                   f"CAST(\"家庭年纯收入\" AS DECIMAL(12, 2)) AS \"家庭年纯收入\") "
                   f"FROM read_csv('{csv_path}', header = true, all_varchar = true)) TO '{parquet_path}' (FORMAT parquet)")
    return {"rows": rows, **roots}


def _observations(root: Path, engine: str) -> list[tuple]:
    from revstat.records import read_records
    from revstat.workspace import load_workspace

    frame = read_records(load_workspace(root), ["2024Q4"], engine=engine)
    return sorted(tuple(r) for r in frame.itertuples(index=False))


def _total(observations: list[tuple], field: str) -> Decimal:
    return sum((r[5] for r in observations if r[0] == field and r[5] is not None), Decimal(0))


@pytest.mark.spark
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_the_records_source_gives_identical_observations_on_duckdb_and_spark(spark, workspace, fmt):
    on_duckdb = _observations(workspace[fmt], "duckdb")
    on_spark = _observations(workspace[fmt], "spark")
    assert len(on_duckdb) == 300 * 20  # every village × every field of the source
    assert on_spark == on_duckdb  # every column: field, region, value (Decimal), unit, provenance
    rows = workspace["rows"]
    assert _total(on_spark, "hh_persons") == sum(int(r[2]) for r in rows)
    assert _total(on_spark, "hh_income") == sum((Decimal(r[8]) for r in rows if r[8]), Decimal(0))
    assert _total(on_spark, "hh_unstable_households") == sum(r[3] == "脱贫不稳定户" for r in rows)
    assert _total(on_spark, "hh_quote1") == sum(r[11] == "O'Brien" for r in rows) > 0
    assert _total(on_spark, "hh_quote2") == sum(r[11] == '张"三' for r in rows) > 0
    assert _total(on_spark, "hh_injection") == sum(r[11] == "'; DROP TABLE x; --" for r in rows) > 0
    assert _total(on_spark, "hh_backslash") == sum(int(r[2]) for r in rows if r[11] == "反斜杠\\n") > 0
    assert _total(on_spark, "hh_two_lines") == sum(r[11] == "两行\n备注" for r in rows) > 0
    assert _total(on_spark, "hh_eliminated_households") == sum(r[6].strip() in ("是", "Y") for r in rows)
    by_village: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if r[3] == "脱贫不稳定户" and int(r[2]) >= 3:
            by_village[r[1]].add(r[0])
    assert _total(on_spark, "hh_unstable_distinct") == sum(len(v) for v in by_village.values())


def _with_input(base: Path, target: Path, line: str) -> Path:
    """A copy of a workspace whose households source reads ``line`` instead of its files."""
    import re
    import shutil

    shutil.copytree(base, target)
    source = target / "sources" / "7_households.yaml"
    text = source.read_text(encoding="utf-8")
    source.write_text(re.sub(r"^files:.*$", line, text, count=1, flags=re.M), encoding="utf-8")
    return target


@pytest.mark.spark
def test_files_as_uris_and_a_catalog_table_give_the_same_observations(spark, workspace, tmp_path):
    from revstat.errors import ConfigError
    from revstat.records import read_records
    from revstat.workspace import load_workspace

    base = workspace["parquet"]
    expected = [r[:7] + r[8:] for r in _observations(base, "duckdb")]  # all but the file label
    uri = _with_input(base, tmp_path / "uri", f'files: "file://{base.resolve()}/data/{{period}}/records/*.parquet"')
    ws = load_workspace(uri)
    # 2023Q4 (an optional period) has no files there: no rows, no error
    got = sorted(tuple(r) for r in read_records(ws, ["2024Q4", "2023Q4"], engine="spark").itertuples(index=False))
    assert [r[:7] + r[8:] for r in got] == expected
    assert got[0][7].startswith("file://")
    with pytest.raises(ConfigError, match="Spark"):
        read_records(ws, ["2024Q4"], engine="duckdb")  # only Spark sees such paths

    parquet = base / "data" / "2024Q4" / "records" / "households.parquet"
    spark.read.parquet(str(parquet)).write.mode("overwrite").saveAsTable("households_2024Q4")
    table = _with_input(base, tmp_path / "table", "table: households_{period}")
    got = _observations(table, "spark")
    assert [r[:7] + r[8:] for r in got] == expected
    assert got[0][7] == "households_2024Q4"

    # the households behind a count, as revstat explain lists them: only n rows come back
    from revstat.records.engine import plan_source

    ws = load_workspace(table)
    source = next(s for s in ws.sources if s.kind == "records")
    plan = plan_source(source, "sources/7_households.yaml")
    village = next(r[1] for r in got if r[0] == "hh_unstable_households" and r[5] >= 2)
    sample = sp.sample_remote(ws, plan, "hh_unstable_households", village, "2024Q4", n=2)
    assert len(sample) == 2
    assert set(sample["村代码"]) == {village} and set(sample["监测类型"]) == {"脱贫不稳定户"}


@pytest.mark.spark
def test_csv_files_with_columns_in_another_order_are_matched_by_name(spark, tmp_path):
    """DuckDB's union_by_name; Spark alone would map the second file's columns by position."""
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("村代码,人数,监测类型\n330102001001,3,脱贫不稳定户\n", encoding="utf-8")
    second.write_text("\ufeff人数,监测类型,村代码,备注\n5,边缘易致贫户,330102001001,x\n"
                      "2,脱贫不稳定户,330102001002,\n", encoding="utf-8")
    sql = ('SELECT CAST("村代码" AS VARCHAR) AS region_code, sum(CAST("人数" AS DECIMAL(18,4))) AS persons, '
           "count(*) FILTER (WHERE \"监测类型\" = ?) AS unstable "
           "FROM read_csv(?, header = true, all_varchar = true, union_by_name = true) GROUP BY 1 ORDER BY 1")
    paths = [str(first), str(second)]
    on_spark = sp.run_spark(sql, sp.SparkInput(paths=tuple(paths)), MASTER, ["脱贫不稳定户", paths])
    assert _rows(on_spark) == [("330102001001", Decimal("8.0000"), 1), ("330102001002", Decimal("2.0000"), 1)]
    assert _rows(on_spark) == _rows(_duckdb(sql, ["脱贫不稳定户", paths]))


@pytest.mark.spark
def test_untranspiled_duckdb_text_would_be_silently_wrong_on_spark(spark, records):
    """Why transpiling is not optional: Spark reads "监测类型" as a string literal."""
    sp.register_records(spark, sp.SparkInput(paths=(str(records["csv"]),)), "raw_view")
    raw = 'SELECT count(*) FILTER (WHERE "监测类型" = \'脱贫不稳定户\') AS n FROM raw_view'
    assert spark.sql(raw).collect()[0][0] == 0  # wrong, and no error
    transpiled = sp.to_spark_sql(raw)
    expected = sum(1 for r in records["rows"] if r[3] == "脱贫不稳定户")
    assert spark.sql(transpiled).collect()[0][0] == expected > 0


@pytest.mark.spark
def test_typed_csv_columns_and_a_catalog_table(spark, records):
    typed = sp.SparkInput(paths=(str(records["csv"]),), types={"人数": "BIGINT", "家庭纯收入": "DECIMAL(18,2)"})
    sp.register_records(spark, typed, "typed_view")
    spark.table("typed_view").write.mode("overwrite").saveAsTable("revstat_test_households")
    try:
        sql = 'SELECT sum("人数") AS p, sum("家庭纯收入") AS inc FROM households_file'
        by_table = sp.run_spark(sql, sp.SparkInput(table="revstat_test_households"), MASTER,
                                view="households_file")
        rows = records["rows"]
        assert by_table["p"][0] == sum(int(r[2]) for r in rows)
        assert by_table["inc"][0] == sum((Decimal(r[7]) for r in rows if r[7]), Decimal(0))
    finally:
        spark.sql("DROP TABLE IF EXISTS revstat_test_households")


@pytest.mark.spark
def test_a_missing_column_is_a_source_error_not_a_crash(spark, records):
    with pytest.raises(SourceError, match="Spark"):
        sp.run_spark('SELECT count(*) FILTER (WHERE "不存在的列" = 1) AS n FROM read_csv($1)',
                     sp.SparkInput(paths=(str(records["csv"]),)), MASTER, [str(records["csv"])])


@pytest.mark.spark
def test_paths_to_nowhere_are_a_source_error(spark, tmp_path: Path):
    with pytest.raises(SourceError, match="Spark"):
        sp.run_spark("SELECT count(*) AS n FROM read_csv('x')",
                     sp.SparkInput(paths=(str(tmp_path / "none.csv"),)), MASTER)


def test_compile_with_engine_spark_but_no_pyspark_exits_2_saying_what_to_install(workspace, monkeypatch):
    from typer.testing import CliRunner

    from revstat.cli import app

    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if the extra were not installed
    for lang, words in (("zh", "没有安装"), ("en", "not installed")):
        res = CliRunner().invoke(app, ["--lang", lang, "compile", str(workspace["csv"]), "--period", "2024Q4",
                                       "--engine", "spark", "--spark-master", "local[2]"])
        assert res.exit_code == 2, res.output
        assert words in res.output
        assert "pip install 'revstat[spark]'" in res.output


@pytest.mark.spark
def test_text_in_a_summed_column_fails_on_spark_as_on_duckdb(spark, workspace, tmp_path):
    import shutil

    from revstat.records import read_records
    from revstat.workspace import load_workspace

    root = tmp_path / "bad"
    shutil.copytree(workspace["csv"], root)
    data = root / "data" / "2024Q4" / "records" / "households.csv"
    with data.open("a", newline="", encoding="utf-8") as fh:
        row = workspace["rows"][0][:]
        row[8] = "1,234.00"  # a thousands comma: not a number, never silently NULL or 1
        csv.writer(fh).writerow(row)
    ws = load_workspace(root)
    for engine in ("duckdb", "spark"):
        with pytest.raises(SourceError) as info:
            read_records(ws, ["2024Q4"], engine=engine)
        assert "数字" in info.value.render("zh"), engine
