"""Benchmarks: revstat against its floor, in the same run, interleaved (A B, B A, …).

    python bench/run.py                                  # everything, writes bench/results.md
    python bench/run.py --only help,records --repeat 7   # a subset: printed, written only with --out
    python bench/run.py --only records --sizes 100000,1000000 --out /tmp/records.md
    python bench/run.py --src /tmp/revstat-head/src      # benchmark another checkout's code

Pairs (``--only`` takes their names; each side a fresh process under bench/peak.py, which
records the process's peak resident memory, VmHWM; CPU time is the ``RUSAGE_CHILDREN`` usage of
the process and any child it forked and waited for):

* ``help``    — ``python -m revstat --help`` vs ``python bench/bare_typer.py --help``;
* ``compile`` — ``python -m revstat compile bench/data/city --period 2024Q4`` vs
  ``python bench/floor_read.py`` (import pandas + read every sheet with python-calamine);
* ``records`` — ``read_records`` (DuckDB engine) vs the same aggregations hand-written for DuckDB
  (bench/records_job.py), at 100k, 1M and 5M household rows of Parquet and 1M of CSV (bare:
  DuckDB's own CSV type detection, the code and income columns typed; revstat: text, typed by its
  casts); the aggregation time is measured inside each process (imports excluded, on both sides),
  memory is the process's peak RSS. The two sides' field totals must agree, or the run stops.

Goals (issue 6): compile ≤ 1.5× floor; 5M records ≤ 1.5× bare DuckDB and ≤ 1 GB; --help ≤ 1.5×
bare typer; 10× the rows ≤ 10× the time. Data are generated (seeded) under bench/data/ when missing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = HERE / "data"
PY = sys.executable
PAIRS = ("help", "records", "compile")


# ---- data ----------------------------------------------------------------------------------

def city() -> Path:
    target = DATA / "city"
    if not (target / "data" / "2024Q4").is_dir():  # generated in a child: the runner stays small
        subprocess.run([PY, str(HERE / "gen_city.py"), "--out", str(target)], check=True, cwd=REPO)
    return target


def records_workspace(rows: int, fmt: str = "parquet") -> Path:
    """bench/data/records/<rows>[-csv]/: the city's regions, the sample's households source, the file."""
    target = DATA / "records" / (str(rows) if fmt == "parquet" else f"{rows}-{fmt}")
    data = target / "data" / "2024Q4" / "records" / f"households.{fmt}"
    (target / "sources").mkdir(parents=True, exist_ok=True)
    source = (REPO / "sample_data" / "sources" / "7_households.yaml").read_text(encoding="utf-8")
    # the sample's source as it is now, every run (the data file is kept once generated)
    (target / "sources" / "7_households.yaml").write_text(source.replace("*.parquet", f"*.{fmt}"), encoding="utf-8")
    if data.is_file():
        return target
    regions = city() / "regions.csv"
    shutil.copy(regions, target / "regions.csv")
    (target / "revstat.yaml").write_text('name: 基准测试\nregion: "990100000000"\n', encoding="utf-8")
    subprocess.run([PY, str(HERE / "gen_records.py"), "--rows", str(rows), "--out", str(data),
                    "--regions", str(regions)], check=True, cwd=REPO)
    return target


# ---- measuring -----------------------------------------------------------------------------

def measure(cmd: list[str], env: dict[str, str]) -> dict[str, object]:
    """Run ``python <args>`` once under bench/peak.py: wall seconds, CPU seconds (user + system,
    of the process and of any child it forked and waited for), peak memory (VmHWM, MB) of that
    process, exit code, stdout. ``cmd`` starts with the interpreter."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(suffix=".peak") as peak:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run([cmd[0], str(HERE / "peak.py"), peak.name, *cmd[1:]], stdout=out, stderr=err,
                              env=env, cwd=REPO, check=False)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the process and every child it waited for
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        out.seek(0)
        err.seek(0)
        text = out.read().decode("utf-8", "replace")
        if proc.returncode not in (0, 1):  # compile exits 1 when checks find errors: still a run
            sys.stderr.write(err.read().decode("utf-8", "replace")[-2000:])
        peak_kb = Path(peak.name).read_text(encoding="ascii").strip()
    return {"wall": wall, "cpu": cpu, "rss_mb": int(peak_kb) / 1024 if peak_kb else float("nan"),
            "code": proc.returncode, "out": text}


def interleaved(a: list[str], b: list[str], repeat: int, env: dict[str, str], label: str) -> tuple[list, list]:
    """A and B alternately (A B, B A, …) after one unmeasured warm-up run of each."""
    measure(a, env), measure(b, env)
    runs_a, runs_b = [], []
    for i in range(repeat):
        pairs = [(a, runs_a), (b, runs_b)] if i % 2 == 0 else [(b, runs_b), (a, runs_a)]
        for cmd, bucket in pairs:
            bucket.append(measure(cmd, env))
        print(f"  {label} {i + 1}/{repeat}: A {runs_a[-1]['wall']:.2f}s  B {runs_b[-1]['wall']:.2f}s", flush=True)
    return runs_a, runs_b


def stats(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def fmt(s: dict[str, float], unit: str = "s") -> str:
    digits = 3 if s["median"] < 1 else 2
    return f"{s['median']:.{digits}f} {unit} ({s['min']:.{digits}f}–{s['max']:.{digits}f})"


# ---- machine -------------------------------------------------------------------------------

def machine() -> list[str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GB"
    except (OSError, StopIteration):
        pass
    from importlib.metadata import PackageNotFoundError, version

    versions = []
    for dist in ("pandas", "duckdb", "typer", "python-calamine"):
        try:
            versions.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            versions.append(f"{dist} ?")
    return [f"- CPU: {cpu}, {os.cpu_count()} logical cores; RAM {mem}",
            f"- {platform.platform()}; Python {platform.python_version()}; " + ", ".join(versions)]


def commit(src: str | None) -> str:
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        head = "?"
    return f"{head} ({'code from ' + src if src else 'working tree'})"


# ---- the benchmarks ------------------------------------------------------------------------

def bench_help(repeat: int, env: dict[str, str]) -> list[dict[str, object]]:
    a, b = interleaved([PY, "-m", "revstat", "--help"], [PY, str(HERE / "bare_typer.py"), "--help"], repeat, env, "help")
    return [_row("`revstat --help` vs bare typer app `--help`", a, b, "wall", goal=1.5)]


def bench_compile(repeat: int, env: dict[str, str]) -> list[dict[str, object]]:
    ws = city()
    a_cmd = [PY, "-m", "revstat", "compile", str(ws), "--period", "2024Q4"]
    b_cmd = [PY, str(HERE / "floor_read.py"), str(ws / "data" / "2024Q4")]
    a, b = interleaved(a_cmd, b_cmd, repeat, env, "compile")
    floor_failed = [r for r in b if r["code"] != 0 or not r["out"].strip().isdigit()]
    if floor_failed:  # a floor that read nothing would make any ratio meaningless
        raise SystemExit(f"the floor failed (exit {floor_failed[0]['code']}): {floor_failed[0]['out'][-500:]}")
    failed = [r["code"] for r in a if r["code"] not in (0, 1)]
    row = _row("`revstat compile` city quarter (10 counties × 300 villages × 5 sheets) vs import pandas + "
               "python-calamine read", a, b, "wall", goal=1.5)
    if failed:
        row["note"] = f"revstat compile failed (exit {failed[0]}): the time is of a crash, not a compile"
    else:  # compile writes indicators.csv/.json in a forked child on multi-core machines: show the CPU too
        row["note"] = (f"CPU time (user + system, child processes included): revstat {fmt(stats([r['cpu'] for r in a]))}, "
                       f"floor {fmt(stats([r['cpu'] for r in b]))}")
    rows = [row]
    if (os.cpu_count() or 1) > 1:  # the same job in one process, for the single-core reading
        a1, b1 = interleaved(a_cmd, b_cmd, repeat, dict(env, REVSTAT_JOBS="1"), "compile REVSTAT_JOBS=1")
        rows.append(_row("`revstat compile` city quarter in one process (`REVSTAT_JOBS=1`) vs the same floor",
                         a1, b1, "wall", goal=None))
    return rows


def bench_records(repeat: int, env: dict[str, str], sizes: list[int], csv_sizes: list[int]) -> list[dict[str, object]]:
    rows = []
    for fmt, ns in (("parquet", sizes), ("csv", csv_sizes)):
        for n in ns:
            ws = records_workspace(n, fmt)
            a, b = interleaved([PY, str(HERE / "records_job.py"), "revstat", str(ws)],
                               [PY, str(HERE / "records_job.py"), "bare", str(ws)], repeat, env, f"records {fmt} {n:,}")
            for r in (*a, *b):
                if r["code"] != 0:
                    raise SystemExit(f"records {fmt} {n:,}: a side failed (exit {r['code']})")
                r.update(json.loads(r["out"].strip().splitlines()[-1]))
                r["agg"] = r["seconds"]
            if {tuple(r["totals"]) for r in (*a, *b)} != {tuple(a[0]["totals"])}:  # the same figures, or no ratio
                raise SystemExit(f"records {fmt} {n:,}: revstat and the bare query disagree: "
                                 f"{a[0]['totals']} against {b[0]['totals']}")
            row = _row(f"records aggregation, {n:,} households ({'Parquet' if fmt == 'parquet' else 'CSV'}, 14 fields) "
                       "vs bare DuckDB GROUP BY", a, b, "agg", goal=1.5 if n >= 5_000_000 and fmt == "parquet" else None)  # the goal is at 5M
            if fmt == "parquet":
                row["rows"] = n
                row["mem_goal"] = 1024 if n >= 5_000_000 else None
            rows.append(row)
    return rows


def _row(name: str, a: list[dict], b: list[dict], key: str, goal: float | None) -> dict[str, object]:
    sa, sb = stats([float(r[key]) for r in a]), stats([float(r[key]) for r in b])
    return {"name": name, "a": sa, "b": sb, "ratio": sa["median"] / sb["median"], "goal": goal,
            "rss_a": max(float(r["rss_mb"]) for r in a), "rss_b": max(float(r["rss_mb"]) for r in b),
            "wall_a": stats([float(r["wall"]) for r in a]), "wall_b": stats([float(r["wall"]) for r in b])}


def linear(rows: list[dict[str, object]]) -> list[str]:
    rec = sorted((r for r in rows if "rows" in r), key=lambda r: r["rows"])
    out = []
    for small, big in zip(rec, rec[1:], strict=False):
        k = big["rows"] / small["rows"]
        t = big["a"]["median"] / small["a"]["median"]
        out.append(f"| {small['rows']:,} → {big['rows']:,} | ×{k:g} | ×{t:.2f} | "
                   f"{'yes' if t <= k else 'NO'} |")
    return out


def write(path: Path | None, rows: list[dict[str, object]], header: list[str], repeats: str,
          load: tuple[str, str]) -> str:
    lines = ["# Benchmark results", "", "Written by `python bench/run.py`; see docs/performance.md for the reading.", "",
             *header, f"- load average before / after: {load[0]} / {load[1]} (other work on the machine "
             "inflates wall times; A and B are interleaved so both see the same load)",
             f"- {repeats} after one warm-up run of each side; median (min–max)", "",
             "| benchmark | revstat | floor | ratio | goal | peak memory revstat / floor |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        goal = f"≤ {r['goal']}×" if r["goal"] else "—"
        if r["goal"]:
            goal += " ✓" if r["ratio"] <= r["goal"] else " ✗"
        mem = f"{r['rss_a']:.0f} MB / {r['rss_b']:.0f} MB"
        if r.get("mem_goal"):
            mem += " (goal ≤ 1 GB " + ("✓" if r["rss_a"] <= r["mem_goal"] else "✗") + ")"
        lines.append(f"| {r['name']} | {fmt(r['a'])} | {fmt(r['b'])} | {r['ratio']:.2f}× | {goal} | {mem} |")
        if r.get("note"):
            lines.append(f"| ↳ {r['note']} | | | | | |")
    rec = [r for r in rows if "rows" in r]
    if rec:
        lines += ["", "Records: process wall time including imports (revstat / bare):", ""]
        lines += [f"- {r['rows']:,} rows: {fmt(r['wall_a'])} / {fmt(r['wall_b'])}" for r in rec]
        lines += ["", "Linear growth of the revstat aggregation (median times):", "",
                  "| rows | rows × | time × | ≤ rows × |", "|---|---|---|---|", *linear(rows)]
    text = "\n".join(lines) + "\n"
    if path is not None:
        path.write_text(text, encoding="utf-8")
    return text


def byte_compile(src: Path) -> None:
    """Compile revstat's modules to bytecode first, as ``pip install .`` does: with
    ``PYTHONDONTWRITEBYTECODE`` set (as on this project's build machine) an editable checkout is
    otherwise compiled from source in every measured process (≈ 0.1 s), which no installed
    revstat pays — and the floor's pandas, installed by pip, never does."""
    subprocess.run([PY, "-m", "compileall", "-q", str(src / "revstat")], check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(PAIRS), help=f"pairs to run, of {', '.join(PAIRS)}")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--compile-repeat", type=int, default=3)
    ap.add_argument("--sizes", default="100000,1000000,5000000", help="Parquet record counts")
    ap.add_argument("--csv-sizes", default="1000000", help="CSV record counts ('' for none)")
    ap.add_argument("--src", help="PYTHONPATH for revstat (another checkout's src/)")
    ap.add_argument("--out", type=Path, help="the results page (default: bench/results.md when every pair runs; "
                                             "a subset is only printed)")
    args = ap.parse_args()
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    if not only or only - set(PAIRS):
        ap.error(f"--only: unknown pair {', '.join(sorted(only - set(PAIRS))) or '(none)'}; "
                 f"the pairs are {', '.join(PAIRS)}")
    out = args.out if args.out is not None else (HERE / "results.md" if only == set(PAIRS) else None)
    env = dict(os.environ, PYTHONIOENCODING="utf-8", NO_COLOR="1", COLUMNS="120")
    if args.src:
        env["PYTHONPATH"] = str(Path(args.src).resolve())
    byte_compile(Path(args.src) if args.src else REPO / "src")
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    rows: list[dict[str, object]] = []
    if "help" in only:
        rows += bench_help(args.repeat, env)
    if "records" in only:
        rows += bench_records(args.repeat, env, [int(s) for s in args.sizes.split(",") if s],
                              [int(s) for s in args.csv_sizes.split(",") if s])
    if "compile" in only:
        rows += bench_compile(args.compile_repeat, env)
    load_after = " ".join(f"{x:.1f}" for x in os.getloadavg())
    header = [f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; revstat {commit(args.src)}", *machine()]
    repeats = [f"{args.repeat} interleaved repeats per pair"] if only - {"compile"} else []
    if "compile" in only:
        repeats.append(f"{args.compile_repeat} for compile")
    print(write(out, rows, header, "; ".join(repeats),
                (load_before, load_after)))
    if out is not None:
        print(f"written to {out}")


if __name__ == "__main__":
    main()
