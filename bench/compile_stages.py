"""Where a real `revstat compile` spends its wall time, by step (no profiler: each step's
function is wrapped with a timer as its module is imported, and nothing is imported ahead of
the compile, so the figures are the run's own: the reading-ahead thread started before pandas
is imported overlaps as it does in a real run).

    python bench/compile_stages.py                       # the benchmark city (bench/data/city)
    python bench/compile_stages.py sample_data --repeat 3
    REVSTAT_JOBS=1 python bench/compile_stages.py        # every output written in this process

Each run is a fresh process (imports included, as in bench/run.py); the table gives the
minimum over the runs of each step. Steps nest: ``write_outputs`` includes the checks (they
run while a forked child writes the CSV/JSON) and the workbook.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: (module, function, label) of the steps timed, in the order they run.
STEPS = [
    ("revstat.workspace", "load_workspace", "load revstat.yaml, sources, regions"),
    ("revstat.definitions", "load_indicators", "load the indicator definitions"),
    ("revstat.sources.read", "read_sources", "read the workbooks"),
    ("revstat.hierarchy", "roll_up", "roll every field up the hierarchy"),
    ("revstat.indicators", "compute_indicators", "compute every indicator at every region"),
    ("revstat.pipeline", "write_outputs", "checks + write the four files"),
    ("revstat.check_run", "check_workspace", "  of which: the checks"),
    ("revstat.writers.tables", "write_indicators_xlsx", "  of which: indicators.xlsx"),
    ("revstat.writers.tables", "write_findings_json", "  of which: findings.json"),
]

_CHILD = r'''
import functools, importlib.abc, importlib.util, json, runpy, sys, time
t0 = time.perf_counter()
spent = {}
steps = json.loads(sys.argv[1])
wanted = {}
for mod, name, _ in steps:
    wanted.setdefault(mod, []).append(name)


def wrap(module, name):
    fn = getattr(module, name)
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        spent.setdefault("first step", start - t0)
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
    setattr(module, name, wrapper)


class Timed(importlib.abc.MetaPathFinder):
    # Wraps each timed function as soon as its module has run, so the compile imports what it
    # imports, when it imports it (nothing is imported ahead: the reading-ahead thread that
    # `revstat compile` starts before importing pandas overlaps as in a real run); and times
    # pandas' own import when the compile gets to it.
    def find_spec(self, fullname, path, target=None):
        if fullname not in wanted and fullname != "pandas":
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module, run=run, fullname=fullname):
            start = time.perf_counter()
            run(module)
            if fullname == "pandas":
                spent["import pandas"] = time.perf_counter() - start
            for name in wanted.get(fullname, ()):
                wrap(module, name)
        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, Timed())
import atexit


def report():  # at exit: revstat's entry point leaves through os._exit after the atexit handlers
    spent["total"] = time.perf_counter() - t0
    sys.stderr.write("STAGES " + json.dumps({"spent": spent}) + "\n")
    sys.stderr.flush()


atexit.register(report)
sys.argv = ["revstat", "compile", sys.argv[2], "--period", sys.argv[3]]
runpy.run_module("revstat", run_name="__main__", alter_sys=True)
'''


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workspace", nargs="?", default=str(HERE / "data" / "city"))
    ap.add_argument("--period", default="2024Q4")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from run import byte_compile  # bench/run.py: bytecode as an installed revstat has it

    byte_compile(HERE.parent / "src")
    best: dict[str, float] = {}
    for _ in range(args.repeat):
        proc = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(STEPS), args.workspace, args.period],
                              capture_output=True, text=True, env=dict(os.environ, NO_COLOR="1"), check=False)
        line = next((x for x in proc.stderr.splitlines() if x.startswith("STAGES ")), None)
        if line is None:
            sys.exit(f"compile failed:\n{proc.stderr[-2000:]}")
        result = json.loads(line[len("STAGES "):])
        for key, value in result["spent"].items():
            best[key] = min(best.get(key, float("inf")), value)
    print(f"`revstat compile {args.workspace} --period {args.period}`, min of {args.repeat} fresh processes"
          f" (REVSTAT_JOBS={os.environ.get('REVSTAT_JOBS', 'default')}):\n")
    print("| step | seconds |\n|---|---|")
    print(f"| import pandas (while the workbooks are read ahead on a thread) | {best['import pandas']:.3f} |")
    print(f"| start to the first step: start-up, imports, the command line | {best['first step']:.3f} |")
    for _, name, label in STEPS:
        if name in best:
            print(f"| {label} (`{name}`) | {best[name]:.3f} |")
    print(f"| **up to the exit** (the process adds its start-up) | **{best['total']:.3f}** |")


if __name__ == "__main__":
    main()
