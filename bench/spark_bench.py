"""Benchmark: the records aggregation on Spark (local mode) beside DuckDB, same SQL text.

Generates seeded household records (1M and 5M rows by default) as Parquet and CSV with DuckDB,
then, interleaved and repeated, runs the same aggregation (DuckDB dialect; transpiled with
sqlglot for Spark) on DuckDB and on a Spark session. The Spark session start-up (a JVM, 6–15 s)
is measured once and shown apart from the query times; ratios are given both without and with it.

Run (needs pip install -e '.[spark]' and Java 17):

    python bench/spark_bench.py                       # 1M and 5M rows, parquet + csv, local[2]
    python bench/spark_bench.py --rows 1000000 --repeat 3 --formats parquet
    python bench/spark_bench.py --out bench/results-spark.md

Every Spark and DuckDB result is compared row by row before any time is reported.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from revstat.records import spark as sp  # noqa: E402

#: An aggregation of the shape the records builder generates (DuckDB dialect, values as parameters),
#: written out by hand: it measures what Spark costs beside DuckDB on the same SQL text, not
#: revstat's own query (tests/test_spark.py runs that one on Spark and compares the results).
AGG_SQL = """
SELECT substr("村代码", 1, 12) AS region_code,
       count(*) AS households,
       sum(CAST("人数" AS BIGINT)) AS persons,
       count(*) FILTER (WHERE "监测类型" = $2) AS unstable_households,
       count(*) FILTER (WHERE "监测类型" = $3) AS marginal_households,
       count(*) FILTER (WHERE "是否消除风险" = '否') AS remaining_households,
       sum(CAST("人数" AS BIGINT)) FILTER (WHERE "是否消除风险" = '否') AS remaining_persons,
       count(*) FILTER (WHERE "风险类型" LIKE '%因病%') AS illness_households,
       count(*) FILTER (WHERE "风险类型" LIKE '%因残%') AS disability_households,
       count(DISTINCT "户编号") FILTER (WHERE "风险类型" LIKE '%就业不稳定%') AS employment_households,
       count(*) FILTER (WHERE CAST("纳入日期" AS DATE) >= $4) AS new_households,
       sum(CAST("家庭纯收入" AS DECIMAL(18, 2))) AS income
FROM {reader} AS r
GROUP BY 1
"""
READERS = {"parquet": "read_parquet($1)", "csv": "read_csv($1, header = true, all_varchar = true)"}


def sql_for(fmt: str) -> str:
    return AGG_SQL.format(reader=READERS[fmt])


def params_for(path: Path) -> list[object]:
    from datetime import date

    return [str(path), "脱贫不稳定户", "边缘易致贫户", date(2024, 1, 1)]


def generate(rows: int, folder: Path) -> dict[str, Path]:
    """Seeded records (deterministic hashes of the row number), written by DuckDB."""
    import duckdb

    paths = {"parquet": folder / f"households_{rows}.parquet", "csv": folder / f"households_{rows}.csv"}
    if all(p.exists() for p in paths.values()):
        return paths
    def h(k: int, n: int) -> str:  # a seeded pseudo-random integer in [0, n)
        return f"CAST(hash(i, {k}) % {n} AS BIGINT)"

    query = f"""
        SELECT printf('H%08d', i) AS "户编号",
               '3301' || lpad(CAST(2 + {h(1, 8)} AS VARCHAR), 2, '0')
                      || lpad(CAST(1 + {h(2, 20)} AS VARCHAR), 3, '0')
                      || lpad(CAST(1 + {h(3, 15)} AS VARCHAR), 3, '0') AS "村代码",
               CAST(1 + {h(4, 7)} AS VARCHAR) AS "人数",
               ['脱贫不稳定户', '边缘易致贫户', '突发严重困难户'][1 + {h(5, 3)}] AS "监测类型",
               ['因病', '因残', '因学', '因灾', '就业不稳定', '因病、因残', '因学、就业不稳定'][1 + {h(6, 7)}] AS "风险类型",
               CAST(DATE '2021-01-01' + CAST({h(7, 1400)} AS INTEGER) AS VARCHAR) AS "纳入日期",
               CASE WHEN {h(8, 3)} = 0 THEN '否' ELSE '是' END AS "是否消除风险",
               printf('%.2f', ({h(9, 9000000)}) / 100.0) AS "家庭纯收入",
               ['', '外出务工', '公益岗位', '产业帮扶'][1 + {h(10, 4)}] AS "帮扶措施"
        FROM range({rows}) t(i)"""
    con = duckdb.connect()
    con.execute(f"COPY ({query}) TO '{paths['parquet']}' (FORMAT parquet)")
    con.execute(f"COPY (SELECT * FROM read_parquet('{paths['parquet']}')) TO '{paths['csv']}' (HEADER)")
    con.close()
    return paths


def run_duckdb(sql: str, params: list[object]) -> list[tuple]:
    import duckdb

    con = duckdb.connect()
    try:
        return sorted(con.execute(sql, params).fetchall())
    finally:
        con.close()


def run_spark(sql: str, path: Path, fmt: str, params: list[object], master: str) -> list[tuple]:
    frame = sp.run_spark(sql, sp.SparkInput(paths=(str(path),), format=fmt), master, params)
    return sorted(tuple(r) for r in frame.itertuples(index=False))


def timed(fn, *args) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--formats", nargs="+", default=["parquet", "csv"], choices=sorted(READERS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="4g", help="spark.driver.memory (local mode: all of Spark)")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "revstat-spark-bench")
    parser.add_argument("--out", type=Path, help="write the Markdown table here as well")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)

    startup, _ = timed(sp.spark_session, args.master, "revstat-bench", {"spark.driver.memory": args.driver_memory})
    load = os.getloadavg()[0]
    lines = [
        f"load average at start {load:.1f}; machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{_versions()}; Spark master `{args.master}`, driver memory {args.driver_memory}; median of {args.repeat} runs (min–max), "
        "each engine warm (first run discarded)",
        "",
        f"Spark session start-up (JVM, once per process): **{startup:.1f} s**",
        "",
        "| rows | format | DuckDB s | Spark s (query) | Spark / DuckDB | Spark incl. start-up / DuckDB |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    print("\n".join(lines), flush=True)
    for rows in args.rows:
        paths = generate(rows, args.data)
        for fmt in args.formats:
            sql, params = sql_for(fmt), params_for(paths[fmt])
            expected = run_duckdb(sql, params)  # warm-up, and the reference result
            if run_spark(sql, paths[fmt], fmt, params, args.master) != expected:
                raise SystemExit(f"Spark and DuckDB disagree on {rows} rows ({fmt})")
            duck, spark = [], []
            for _ in range(args.repeat):  # interleaved
                duck.append(timed(run_duckdb, sql, params)[0])
                spark.append(timed(run_spark, sql, paths[fmt], fmt, params, args.master)[0])
            d, s = statistics.median(duck), statistics.median(spark)
            line = (f"| {rows:,} | {fmt} | {d:.2f} ({min(duck):.2f}–{max(duck):.2f}) | "
                    f"{s:.2f} ({min(spark):.2f}–{max(spark):.2f}) | {s / d:.1f}× | {(s + startup) / d:.1f}× |")
            lines.append(line)
            print(line, flush=True)
    sp.stop_session()
    lines += ["", f"load average at the end: {os.getloadavg()[0]:.1f}"]
    print(lines[-1])
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _versions() -> str:
    import duckdb
    import pyspark
    import sqlglot

    return f"DuckDB {duckdb.__version__}, pyspark {pyspark.__version__}, sqlglot {sqlglot.__version__}"


if __name__ == "__main__":
    main()
