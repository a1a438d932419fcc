"""One records aggregation in a fresh process; prints JSON {"seconds": …, "groups": …, "totals": […]}.

    python bench/records_job.py revstat bench/data/records/1000000        # read_records (DuckDB)
    python bench/records_job.py bare bench/data/records/1000000           # hand-written DuckDB SQL

``seconds`` is the aggregation alone (imports and workspace loading before the clock starts);
the runner measures the process's wall time and peak memory around it. ``totals`` is each of
the 14 fields summed over the villages (exact, as text), which the runner compares between the
two sides: the floor must compute the same figures.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

#: The same 14 aggregations as sample_data/sources/7_households.yaml, written by hand against
#: the Parquet file's own types: the floor revstat's generated SQL is measured against.
BARE_SQL = """
SELECT "村代码",
       count(DISTINCT "户编号"),
       sum("家庭人口数"),
       count(*) FILTER (WHERE "监测类型" = '脱贫不稳定户'),
       count(*) FILTER (WHERE "监测类型" = '边缘易致贫户'),
       count(*) FILTER (WHERE "监测类型" = '突发严重困难户'),
       count(*) FILTER (WHERE "是否消除风险" = '是'),
       sum("家庭人口数") FILTER (WHERE "是否消除风险" = '是'),
       count(*) FILTER (WHERE "是否消除风险" = '否'),
       sum("家庭人口数") FILTER (WHERE "是否消除风险" = '否'),
       count(*) FILTER (WHERE "是否消除风险" = '否' AND "是否落实帮扶" = '是'),
       count(*) FILTER (WHERE "风险类型" = '因病'),
       count(*) FILTER (WHERE "风险类型" = '就业不稳定'),
       sum("家庭年纯收入"),
       count(*) FILTER (WHERE "家庭年纯收入" / "家庭人口数" < 10000)
FROM {reader}
GROUP BY 1
"""
#: CSV: DuckDB's own type detection, but for the two columns it would guess wrong for this job (the
#: village code as a number, the income as a binary DOUBLE): given as text and exact decimal
READERS = {"parquet": "read_parquet(?)",
           "csv": "read_csv(?, types = {'村代码': 'VARCHAR', '家庭年纯收入': 'DECIMAL(18,2)'})"}


def main() -> None:
    kind, folder = sys.argv[1], Path(sys.argv[2])
    if kind == "bare":
        import duckdb

        files = sorted(str(p) for p in (folder / "data" / "2024Q4" / "records").glob("households.*"))
        fmt = "csv" if files[0].endswith(".csv") else "parquet"
        start = time.perf_counter()
        con = duckdb.connect()
        rows = con.execute(BARE_SQL.format(reader=READERS[fmt]), [files]).fetchall()
        seconds = time.perf_counter() - start
        groups = len(rows)
        totals = [str(sum((r[i] for r in rows if r[i] is not None), 0)) for i in range(1, len(rows[0]))]
    else:
        engine = sys.argv[3] if len(sys.argv) > 3 else "duckdb"
        import duckdb  # noqa: F401  (imports outside the clock on both sides)
        import pandas  # noqa: F401

        from revstat.records import read_records
        from revstat.workspace import load_workspace

        ws = load_workspace(folder)
        start = time.perf_counter()
        df = read_records(ws, ["2024Q4"], engine=engine)
        seconds = time.perf_counter() - start
        groups = int(df["region_code"].nunique())
        fields = [f.id for s in ws.sources if s.kind == "records" for f in s.fields]
        totals = [str(sum((v for v in df.loc[df["field"] == f, "value"] if v is not None), 0)) for f in fields]
    print(json.dumps({"seconds": seconds, "groups": groups, "totals": totals}))


if __name__ == "__main__":
    main()
