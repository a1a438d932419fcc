"""Seeded generator of household monitoring records (防返贫监测, one household per row).

The rows are a pure function of (seed, row number): DuckDB's ``hash`` of both picks every value,
so the same seed gives the same file on any machine with the same DuckDB. A household enters
monitoring on a date in 2021–2024; a file for a period holds the households entered by the end
of that period, and the risk is eliminated when its elimination date has passed by then.

    python bench/gen_records.py --rows 1000000 --regions bench/data/city/regions.csv \\
        --out /tmp/households.parquet                # any size, any place (.parquet or .csv)
    python bench/gen_records.py --sample           # sample_data/data/{2023Q4,2024Q4}/records/

``bench/run.py`` calls it itself for the sizes it measures (``--sizes``, ``--csv-sizes``), for the
benchmark city's 3,000 villages, into ``bench/data/records/<rows>[-csv]/`` — a workspace with the
city's regions, the sample's households source and ``data/2024Q4/records/households.<fmt>`` — and
keeps the files for later runs. ``--regions`` defaults to the sample's 300 villages.

Columns (headers as a bureau's export has them): 户编号, 村代码, 家庭人口数, 监测类型, 风险类型,
纳入监测日期, 是否消除风险, 风险消除日期, 家庭年纯收入, 帮扶措施, 是否落实帮扶.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MONITOR_TYPES = ["脱贫不稳定户", "边缘易致贫户", "突发严重困难户"]
RISK_TYPES = ["因病", "因残", "因学", "因灾", "就业不稳定"]
MEASURES = ["产业帮扶", "就业帮扶", "健康帮扶", "教育帮扶", "综合保障", "产业帮扶、就业帮扶"]


def villages_of(regions_csv: Path) -> list[str]:
    with open(regions_csv, encoding="utf-8-sig", newline="") as fh:
        return [r["code"] for r in csv.DictReader(fh) if r["level"] == "village"]


def period_end(period: str) -> str:
    year, q = int(period[:4]), int(period[5]) if "Q" in period else 4
    return {1: f"{year}-03-31", 2: f"{year}-06-30", 3: f"{year}-09-30", 4: f"{year}-12-31"}[q]


def records_sql(rows: int, seed: int, as_of: str | None) -> str:
    """A SELECT producing the records (``$villages`` is the list of village codes)."""

    def h(k: int, n: int) -> str:  # a seeded integer in [0, n)
        return f"CAST(hash(i, {seed}, {k}) % {n} AS BIGINT)"

    flt = f"WHERE entry <= DATE '{as_of}'" if as_of else ""
    elim = f"CASE WHEN elim_date <= DATE '{as_of}' THEN '是' ELSE '否' END" if as_of else \
        "CASE WHEN elim_date <= DATE '2024-12-31' THEN '是' ELSE '否' END"
    year_of = f"year(DATE '{as_of}')" if as_of else "2024"
    return f"""
    WITH base AS (
      SELECT i,
             $villages[1 + {h(1, "len($villages)")}] AS village,
             CAST(1 + {h(2, 6)} AS INTEGER) AS persons,
             {h(3, 100)} AS t, {h(4, 100)} AS r,
             DATE '2021-01-01' + CAST({h(5, 1461)} AS INTEGER) AS entry,
             CAST({h(6, 900)} AS INTEGER) AS days_to_eliminate,
             CAST(3000 + {h(7, 5200000)} / 100.0 AS DECIMAL(12, 2)) AS income0,
             {h(8, 6)} AS m, {h(9, 10)} AS a
      FROM range({int(rows)}) t(i)
    ), dated AS (
      SELECT *, entry + days_to_eliminate AS elim_date FROM base
    )
    SELECT printf('H%09d', i) AS "户编号",
           village AS "村代码",
           persons AS "家庭人口数",
           CASE WHEN t < 45 THEN '{MONITOR_TYPES[0]}' WHEN t < 85 THEN '{MONITOR_TYPES[1]}'
                ELSE '{MONITOR_TYPES[2]}' END AS "监测类型",
           CASE WHEN r < 38 THEN '因病' WHEN r < 55 THEN '因残' WHEN r < 65 THEN '因学'
                WHEN r < 75 THEN '因灾' ELSE '就业不稳定' END AS "风险类型",
           entry AS "纳入监测日期",
           {elim} AS "是否消除风险",
           CASE WHEN {elim} = '是' THEN elim_date END AS "风险消除日期",
           CAST(income0 * (1 + 0.06 * ({year_of} - 2021)) AS DECIMAL(12, 2)) AS "家庭年纯收入",
           {_pick(MEASURES, 'm')} AS "帮扶措施",
           CASE WHEN a < 9 THEN '是' ELSE '否' END AS "是否落实帮扶"
    FROM dated {flt}
    ORDER BY i
    """


def _pick(options: list[str], var: str) -> str:
    whens = " ".join(f"WHEN {var} = {k} THEN '{v}'" for k, v in enumerate(options))
    return f"CASE {whens} END"


def generate(out: Path, rows: int, villages: list[str], *, seed: int = 20241231,
             period: str | None = None, fmt: str | None = None) -> Path:
    """Write ``rows`` households (fewer when ``period`` drops those entered later) to ``out``."""
    import duckdb

    fmt = fmt or ("parquet" if out.suffix == ".parquet" else "csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    select = records_sql(rows, seed, period_end(period) if period else None)
    options = "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT csv, HEADER true"
    con.execute(f"COPY ({select}) TO '{out}' ({options})", {"villages": villages})
    con.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--out", type=Path, help="the file to write: .parquet or .csv")
    ap.add_argument("--regions", type=Path, default=REPO / "sample_data" / "regions.csv")
    ap.add_argument("--seed", type=int, default=20241231)
    ap.add_argument("--period")
    ap.add_argument("--sample", action="store_true", help="write the sample workspace's records")
    args = ap.parse_args()
    if not args.sample and args.out is None:
        ap.error("--out FILE (.parquet or .csv) is needed, or --sample for the sample workspace's records")
    if args.sample:
        villages = villages_of(REPO / "sample_data" / "regions.csv")
        for period in ("2023Q4", "2024Q4"):
            path = generate(REPO / "sample_data" / "data" / period / "records" / "households.parquet",
                            12_000, villages, period=period)
            print(path.relative_to(REPO), path.stat().st_size, "bytes")
        return
    path = generate(args.out, args.rows, villages_of(args.regions), seed=args.seed, period=args.period)
    print(path, path.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
