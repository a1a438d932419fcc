"""Run a module or script in this process and record its peak memory (VmHWM) when it exits.

    python bench/peak.py OUT.txt -m revstat --help
    python bench/peak.py OUT.txt bench/floor_read.py bench/data/city/data/2024Q4

VmHWM (the high-water mark of resident memory) belongs to the address space created at exec,
so unlike ``ru_maxrss`` it does not inherit the parent's peak: bench/run.py reads OUT.txt.
The wrapper costs the same on both sides of a pair (runpy and atexit are already loaded).
"""

from __future__ import annotations

import atexit
import runpy
import sys


def _write_peak(path: str) -> None:
    with open("/proc/self/status", encoding="ascii") as fh:
        kb = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    with open(path, "w", encoding="ascii") as fh:
        fh.write(str(kb))


def main() -> None:
    out, rest = sys.argv[1], sys.argv[2:]
    atexit.register(_write_peak, out)
    if rest[0] == "-m":
        sys.argv = [rest[1], *rest[2:]]
        runpy.run_module(rest[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = rest
        sys.path.insert(0, str(__import__("pathlib").Path(rest[0]).resolve().parent))
        runpy.run_path(rest[0], run_name="__main__")


if __name__ == "__main__":
    main()
