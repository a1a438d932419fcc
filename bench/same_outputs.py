"""Hold the outputs fixed while making compile faster: compile the benchmark city and
`sample_data` and compare every output file with a reference made before the change.

    python bench/same_outputs.py --save /tmp/ref     # before the change: keep the outputs
    python bench/same_outputs.py --against /tmp/ref  # after it: same bytes? (xlsx: same cells)

indicators.csv, indicators.json and findings.json must be byte-identical; indicators.xlsx must
hold the same sheets, cell values, number formats, fills, font colours and bold (its zip
timestamps differ run to run).
Both workspaces are compiled in a copy, so `out/` of the originals is untouched. Exit 1 on any
difference, naming the file and the first difference.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CASES = {  # name → (workspace, period)
    "city": (HERE / "data" / "city", "2024Q4"),
    "sample": (REPO / "sample_data", "2024Q4"),
}
FILES = ("indicators.csv", "indicators.json", "findings.json", "indicators.xlsx")


def compile_case(name: str, dest: Path, jobs: str | None) -> Path:
    ws, period = CASES[name]
    if name == "city" and not ws.exists():
        subprocess.run([sys.executable, str(HERE / "gen_city.py"), "--out", str(ws)], check=True)
    work = Path(tempfile.mkdtemp(prefix=f"same-{name}-"))
    shutil.copytree(ws, work / "ws", ignore=shutil.ignore_patterns("out"))
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    if jobs:
        env["REVSTAT_JOBS"] = jobs
    proc = subprocess.run([sys.executable, "-m", "revstat", "compile", str(work / "ws"), "--period", period],
                          capture_output=True, text=True, env=env, check=False)
    if proc.returncode not in (0, 1):
        sys.exit(f"{name}: compile exited {proc.returncode}\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}")
    target = dest / name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(work / "ws" / "out" / period, target)
    (target / "stdout.txt").write_text(proc.stdout, encoding="utf-8")
    shutil.rmtree(work)
    return target


def xlsx_cells(path: Path) -> dict[str, list[tuple[str, object, str]]]:
    import openpyxl

    book = openpyxl.load_workbook(path)
    def look(c) -> tuple[object, ...]:  # what a reader sees: the red of a missed target, bold totals
        return (c.fill.fill_type, c.fill.fgColor.rgb, c.font.color.rgb if c.font.color else None, c.font.b)

    return {ws.title: [(c.coordinate, c.value, c.number_format, look(c)) for row in ws.iter_rows() for c in row
                       if c.value is not None] for ws in book.worksheets}


def first_difference(a: Path, b: Path) -> str | None:
    if a.suffix == ".xlsx":
        ca, cb = xlsx_cells(a), xlsx_cells(b)
        if list(ca) != list(cb):
            return f"sheets {list(ca)} != {list(cb)}"
        for sheet in ca:
            for x, y in zip(ca[sheet], cb[sheet], strict=False):
                if x != y:
                    return f"{sheet}: {x} != {y}"
            if len(ca[sheet]) != len(cb[sheet]):
                return f"{sheet}: {len(ca[sheet])} cells != {len(cb[sheet])}"
        return None
    da, db = a.read_bytes(), b.read_bytes()
    if da == db:
        return None
    at = next((i for i, (x, y) in enumerate(zip(da, db, strict=False)) if x != y), min(len(da), len(db)))
    return f"byte {at}: {da[max(0, at - 60):at + 60]!r} != {db[max(0, at - 60):at + 60]!r}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path, help="write the reference outputs here")
    group.add_argument("--against", type=Path, help="compare with the reference outputs here")
    ap.add_argument("--jobs", help="REVSTAT_JOBS for the compiles (default: unset)")
    args = ap.parse_args()
    if args.save:
        for name in CASES:
            print(f"saved {compile_case(name, args.save, args.jobs)}")
        return
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for name in CASES:
            got = compile_case(name, Path(tmp), args.jobs)
            for file in FILES:
                diff = first_difference(args.against / name / file, got / file)
                print(f"{name}/{file}: {'same' if diff is None else 'DIFFERENT ' + diff}")
                failed |= diff is not None
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
