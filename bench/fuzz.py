"""Fuzz the workbook reader and the YAML loader: every failure must be a clean RevstatError.

Mutates good inputs — the bytes of an .xlsx, the XML members inside its zip, the cells of a
sheet, the bytes of an .xls and of a CSV file, and source/revstat YAML text — and runs ``read_sources`` / ``load_workspace`` on each
mutant for a given number of minutes. Anything else that escapes (an internal exception, a
hang past ``--timeout`` seconds, memory beyond ``--memory-mb``) is a crash: its input and
traceback are saved to ``bench/fuzz-crashes/`` (one file pair per distinct crash site).

Usage::

    python bench/fuzz.py --minutes 12                # all mutators
    python bench/fuzz.py --minutes 1 --only yaml     # one family: bytes | xml | cells | yaml | xls | csv
    python bench/fuzz.py --replay bench/fuzz-crashes/<id>.xlsx   # rerun one saved input

The seeds are the good workbook of tests/badinputs (甲县/乙县) and, when present, the sample
city's workbooks and YAML files. Runs are reproducible with ``--seed``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
import traceback
import zipfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.badinputs.make_corpus builds the fuzz workspace

from tests.badinputs import make_corpus as mc  # noqa: E402

CRASHES = REPO / "bench" / "fuzz-crashes"
FAMILIES = ("bytes", "xml", "cells", "yaml", "xls", "csv")

HOSTILE_VALUES: list[object] = [
    "=HYPERLINK(\"http://x\",\"点我\")", "#DIV/0!", "#REF!", "1,2,3", "１２３", "−12.5", "1e400",
    "NaN", "inf", "—", "…", "合计", "总计", "填表人：", "单位：元", "单位：人", "\u200b", "a" * 40000,
    123456789012345678, 1e308, -1e-308, 0.1 + 0.2, 2**63, -0.0, True, "乡镇", "监测户数", "河口镇",
    "9.9E+11", "990122101000", "\x00\x01", "<xml>&amp;</xml>", "{{ ''.__class__ }}",
]
XML_SNIPPETS = [
    b'<c r="B5" t="e"><v>#N/A</v></c>', b'<c r="C5"><f>1/0</f></c>', b'<c r="ZZZZ99999999"><v>1</v></c>',
    b'<row r="0">', b'<row r="1048577"/>', b'<mergeCell ref="A1:XFD1048576"/>', b'<v>1e999</v>',
    b'<c r="A1" t="s"><v>999999</v></c>', b'<c r="A1" t="s"><v>-1</v></c>', b"&lol;", b"<!DOCTYPE x>",
    b'<dimension ref="A1:XFD1048576"/>', b'<c r="D4" t="d"><v>2024-13-45</v></c>', b"\xff\xfe",
    b'<c r="B4" t="n"><v>abc</v></c>', b'<row r="5" hidden="1">', b'<sheetPr><outlinePr/></sheetPr>',
]
YAML_SNIPPETS = [
    "!!python/object/apply:os.system ['echo x']", "&a [*a]", "*undefined", "{", "]", "? complex key",
    "010", "no", "1e400", ".inf", "~", "'unterminated", "\t", "- -", "<<: *b", "!!binary aGk=",
    "data/{period}/../../*.xlsx", "/etc/passwd", "乡镇", "x" * 5000, "{period}{period}", "[*]",
]


# ---- mutators ---------------------------------------------------------------------------------
def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.random()
        if not buf:
            break
        i = rng.randrange(len(buf))
        if op < 0.5:
            buf[i] = rng.randrange(256)
        elif op < 0.7:
            del buf[i:i + rng.randint(1, 64)]
        elif op < 0.85:
            buf[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        else:
            buf = buf[: max(i, 1)]
    return bytes(buf)


def _rezip(data: bytes, change: dict[str, bytes | None], extra: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in change:
                new = change[info.filename]
                if new is not None:
                    zout.writestr(info.filename, new)
            else:
                zout.writestr(info.filename, zin.read(info.filename))
        for name, body in (extra or {}).items():
            zout.writestr(name, body)
    return out.getvalue()


def mutate_xml(rng: random.Random, data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = [n for n in zf.namelist() if n.endswith((".xml", ".rels"))]
        weights = [8 if "worksheets" in n else 4 if "sharedStrings" in n or "workbook.xml" in n else 1 for n in names]
        name = rng.choices(names, weights)[0]
        xml = bytearray(zf.read(name))
    if rng.random() < 0.05:
        return _rezip(data, {name: None})  # drop a member
    for _ in range(rng.randint(1, 4)):
        if not xml:
            break
        i = rng.randrange(len(xml))
        op = rng.random()
        if op < 0.3:
            xml[i:i] = rng.choice(XML_SNIPPETS)
        elif op < 0.5:
            j = min(len(xml), i + rng.randint(1, 200))
            del xml[i:j]
        elif op < 0.65:
            j = min(len(xml), i + rng.randint(1, 200))
            xml[i:i] = xml[i:j]  # duplicate a span (duplicate cells, rows, tags)
        elif op < 0.8:
            for old, new in ((b't="s"', b't="n"'), (b't="n"', b't="e"'), (b'r="', b'r="Z'), (b"<v>", b"<v>-"),
                             (b'state="visible"', b'state="hidden"'), (b"<row ", b'<row hidden="1" ')):
                if old in xml and rng.random() < 0.5:
                    k = xml.find(old, rng.randrange(len(xml)))
                    if k >= 0:
                        xml[k:k + len(old)] = new
        else:
            digits = [k for k in range(len(xml)) if 48 <= xml[k] <= 57]
            if digits:
                k = rng.choice(digits)
                xml[k:k + 1] = str(rng.choice([0, 9, 99999999999, 10**20])).encode()
    return _rezip(data, {name: bytes(xml)})


def mutate_cells(rng: random.Random, data: bytes) -> bytes:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = rng.choice(wb.worksheets)
    max_row, max_col = max(ws.max_row, 1), max(ws.max_column, 1)
    for _ in range(rng.randint(1, 6)):
        r, c = rng.randint(1, max_row + 2), rng.randint(1, max_col + 2)
        op = rng.random()
        cell = ws.cell(r, c)
        if type(cell).__name__ == "MergedCell":
            continue
        if op < 0.6:
            cell.value = rng.choice(HOSTILE_VALUES)
        elif op < 0.7:
            cell.value = f"=B{rng.randint(1, 9)}*{rng.randint(0, 3)}"  # a formula with no cached value
        elif op < 0.8:
            r2, c2 = min(r + rng.randint(0, 2), max_row + 2), min(c + rng.randint(0, 2), max_col + 2)
            if (r2, c2) != (r, c):
                with contextlib.suppress(ValueError):
                    ws.merge_cells(start_row=r, start_column=c, end_row=r2, end_column=c2)
        elif op < 0.9:
            ws.row_dimensions[r].hidden = True
        elif op < 0.95:
            ws.delete_rows(r, rng.randint(1, 3))
        else:
            ws.insert_rows(r, rng.randint(1, 3))
    if rng.random() < 0.1 and len(wb.worksheets) > 0:
        extra = wb.create_sheet(rng.choice(["监测表（2）", "监测表", "Sheet1", "监测*"]))
        extra["A1"] = "乡镇"
        if rng.random() < 0.5:
            extra.sheet_state = "hidden"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def mutate_yaml(rng: random.Random, text: str) -> str:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 4)):
        if not lines:
            lines = [""]
        i = rng.randrange(len(lines))
        op = rng.random()
        if op < 0.2:
            del lines[i]
        elif op < 0.35:
            lines.insert(i, lines[i])
        elif op < 0.55:
            line = lines[i]
            k = rng.randrange(len(line) + 1)
            lines[i] = line[:k] + rng.choice(YAML_SNIPPETS) + line[k:]
        elif op < 0.7 and ":" in lines[i]:
            key, _, _ = lines[i].partition(":")
            lines[i] = f"{key}: {rng.choice(YAML_SNIPPETS)}"
        elif op < 0.85:
            lines[i] = (" " * rng.randint(0, 6)) + lines[i].lstrip()
        else:
            chars = list(lines[i])
            if chars:
                chars[rng.randrange(len(chars))] = rng.choice(["\u3000", "：", "\t", "\"", "'", "{", "#", "\u200b"])
            lines[i] = "".join(chars)
    return "\n".join(lines) + "\n"


# ---- running ----------------------------------------------------------------------------------
class Hang(Exception):
    pass


def _xls_seeds(workdir: Path) -> list[bytes]:
    """The corpus's .xls case as a seed (needs xlwt, from the test extra)."""
    try:
        import xlwt  # noqa: F401
    except ImportError:
        return []
    folder = workdir / "xls-seed"
    folder.mkdir(parents=True, exist_ok=True)
    mc.CASE_BY_ID["xls_file"].build(folder)
    return [p.read_bytes() for p in folder.glob("*.xls")]


def _alarm(signum: int, frame: object) -> None:
    raise Hang("no answer within the time limit")


def _site(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    inner = [f for f in tb if "revstat" in f.filename] or tb
    frame = inner[-1] if inner else None
    where = f"{Path(frame.filename).name}:{frame.lineno}" if frame else "?"
    return f"{type(exc).__name__}@{where}"


class Fuzzer:
    def __init__(self, workdir: Path, seed: int, timeout: int) -> None:
        from revstat.errors import RevstatError
        from revstat.sources.read import read_sources
        from revstat.workspace import load_workspace

        self.RevstatError = RevstatError
        self.read_sources = read_sources
        self.load_workspace = load_workspace
        self.rng = random.Random(seed)
        self.timeout = timeout
        self.root = workdir / "ws"
        mc.build_workspace(self.root, mc.CASE_BY_ID["excel_lock_file"])
        (self.root / mc.DATA / f"~${mc.BAD_FILE}").unlink()
        self.target = self.root / mc.DATA / mc.BAD_FILE
        self.source_yaml = self.root / "sources" / "monitoring.yaml"
        self.config_yaml = self.root / "revstat.yaml"
        self.seeds_xlsx = [self.target.read_bytes(), (self.root / mc.DATA / mc.GOOD_FILE).read_bytes()]
        sample = REPO / "sample_data" / "data" / mc.PERIOD
        self.seeds_xlsx += [p.read_bytes() for p in sorted(sample.glob("*.xlsx"))[:3]]
        self.seeds_yaml = [("source", mc.SHEET_SOURCE), ("source", mc.CSV_SOURCE),
                           ("config", self.config_yaml.read_text(encoding="utf-8"))]
        self.seeds_yaml += [("source", p.read_text(encoding="utf-8"))
                            for p in sorted((REPO / "sample_data" / "sources").glob("*.yaml"))]
        self.seeds_xls = _xls_seeds(workdir)
        self.csv_target = self.root / mc.DATA / "乙县.csv"
        self.seeds_csv = [(self.root / mc.DATA / "甲县.csv").read_bytes(),
                          "乡镇,人均可支配收入,备注\r\n河口镇,14001,㐀\r\n永宁镇,\"1,234\",—\r\n".encode("gb18030")]
        self.stats: Counter[str] = Counter()
        self.crashes: dict[str, dict[str, object]] = {}

    def one(self, family: str) -> None:
        rng = self.rng
        restore: list[tuple[Path, str]] = []
        if family == "yaml":
            kind, text = rng.choice(self.seeds_yaml)
            mutant = mutate_yaml(rng, text)
            path = self.source_yaml if kind == "source" else self.config_yaml
            restore.append((path, path.read_text(encoding="utf-8")))
            path.write_text(mutant, encoding="utf-8")
            payload, suffix = mutant.encode("utf-8"), ".yaml"
        elif family == "csv":  # the CSV source: bytes of 乙县.csv (encodings, quoting, delimiters)
            payload, suffix = mutate_bytes(rng, rng.choice(self.seeds_csv)), ".csv"
            self.csv_target.write_bytes(payload)
        elif family == "xls":  # an OLE2 .xls (calamine's other parser), under the .xlsx name
            if not self.seeds_xls:
                return
            payload, suffix = mutate_bytes(rng, rng.choice(self.seeds_xls)), ".xls"
            self.target.write_bytes(payload)
        else:
            seed = rng.choice(self.seeds_xlsx)
            try:
                mutant_bytes = {"bytes": mutate_bytes, "xml": mutate_xml, "cells": mutate_cells}[family](rng, seed)
            except Exception:  # the mutator itself failed (e.g. openpyxl on an odd seed): not a finding
                self.stats["mutator-failed"] += 1
                return
            self.target.write_bytes(mutant_bytes)
            payload, suffix = mutant_bytes, ".xlsx"
        self.stats[f"{family}-runs"] += 1
        # if the process dies outright (a native abort), the supervisor finds this file
        CRASHES.mkdir(parents=True, exist_ok=True)
        current = CRASHES / f".current-{os.getpid()}{suffix}"
        current.write_bytes(payload)
        signal.alarm(self.timeout)
        try:
            ws = self.load_workspace(self.root)
            if family != "yaml" or rng.random() < 0.3:
                result = self.read_sources(ws, [mc.PERIOD])
                bad = [e for e in result.errors if not isinstance(e, self.RevstatError)]
                if bad:
                    raise TypeError(f"read_sources returned a non-RevstatError: {bad[0]!r}")
                self.stats["clean-errors" if result.errors else "read-ok"] += 1
            else:
                self.stats["loaded-ok"] += 1
        except self.RevstatError:
            self.stats["clean-errors"] += 1
        except BaseException as exc:  # incl. pyo3's PanicException (a BaseException), Hang, MemoryError
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            self._record(family, exc, payload, suffix)
        finally:
            signal.alarm(0)
            current.unlink(missing_ok=True)
            self.csv_target.unlink(missing_ok=True)
            for path, text in restore:
                path.write_text(text, encoding="utf-8")

    def _record(self, family: str, exc: BaseException, payload: bytes, suffix: str) -> None:
        site = _site(exc)
        self.stats["crashes"] += 1
        if site in self.crashes:
            self.crashes[site]["count"] += 1  # type: ignore[operator]
            return
        CRASHES.mkdir(parents=True, exist_ok=True)
        ident = hashlib.sha1(site.encode()).hexdigest()[:10]
        (CRASHES / f"{ident}{suffix}").write_bytes(payload)
        (CRASHES / f"{ident}.txt").write_text(
            f"family: {family}\nsite: {site}\n\n" + "".join(traceback.format_exception(exc)), encoding="utf-8")
        self.crashes[site] = {"id": ident, "family": family, "count": 1, "message": str(exc)[:300]}
        print(f"CRASH {site}: {str(exc)[:120]} → bench/fuzz-crashes/{ident}{suffix}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fuzz the reader and the YAML loader.")
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", choices=FAMILIES, action="append")
    parser.add_argument("--timeout", type=int, default=20, help="seconds per input before it counts as a hang")
    parser.add_argument("--memory-mb", type=int, default=3072, help="address-space limit (MemoryError = crash)")
    parser.add_argument("--replay", type=Path, help="rerun one saved input and show what happens")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # internal: write stats here
    args = parser.parse_args(argv)
    if args.child or args.replay:
        return _run_child(args)
    return _supervise(args)


def _supervise(args: argparse.Namespace) -> int:
    """Run children until the time is up; a child killed by a native abort (e.g. a Rust
    allocation failure) is a crash too: its last input is kept and a new child goes on."""
    deadline = time.monotonic() + args.minutes * 60
    stats: Counter[str] = Counter()
    crashes: dict[str, dict[str, object]] = {}
    seed = args.seed
    while (left := deadline - time.monotonic()) > 5:
        out = Path(f"/tmp/revstat-fuzz-{os.getpid()}-{seed}.json")
        cmd = [sys.executable, __file__, "--child", str(out), "--minutes", f"{left / 60:.3f}", "--seed", str(seed),
               "--timeout", str(args.timeout), "--memory-mb", str(args.memory_mb)]
        for family in args.only or []:
            cmd += ["--only", family]
        proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, errors="replace")
        _, stderr = proc.communicate()
        if out.exists():
            part = json.loads(out.read_text(encoding="utf-8"))
            out.unlink()
            stats.update(part["stats"])
            for site, info in part["crashes"].items():
                if site in crashes:
                    crashes[site]["count"] += info["count"]  # type: ignore[operator]
                else:
                    crashes[site] = info
        else:  # the child died: a native abort (its input is still there) or an escaped exception
            leftovers = sorted(CRASHES.glob(f".current-{proc.pid}.*"))
            site = f"process-abort(rc={proc.returncode})"
            tail = "\n".join(line for line in stderr.splitlines() if not line.lstrip()[:1].isdigit()
                             and not line.strip().startswith("at "))[-600:]
            stats["crashes"] += 1
            if leftovers:
                ident = hashlib.sha1(f"{site}{seed}".encode()).hexdigest()[:10]
                kept = CRASHES / f"{ident}{leftovers[0].suffix}"
                leftovers[0].rename(kept)
                (CRASHES / f"{ident}.txt").write_text(f"site: {site}\n\n{tail}\n", encoding="utf-8")
                crashes.setdefault(f"{site}#{ident}", {"id": ident, "family": "?", "count": 1, "message": tail[-300:]})
                print(f"CRASH {site} → bench/fuzz-crashes/{kept.name}", flush=True)
            else:
                last = tail.strip().splitlines()[-1] if tail.strip() else "?"
                info = crashes.setdefault(f"{site}: {last[:120]}", {"id": "-", "family": "?", "count": 0, "message": tail[-300:]})
                info["count"] += 1  # type: ignore[operator]
                print(f"CHILD DIED {site}: {last[:200]}", flush=True)
        seed += 1000
    summary = {"minutes": args.minutes, "seed": args.seed, "stats": dict(stats), "crashes": crashes}
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    if crashes:
        CRASHES.mkdir(parents=True, exist_ok=True)
        (CRASHES / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return 1 if crashes else 0


def _run_child(args: argparse.Namespace) -> int:
    import tempfile

    limit = args.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGALRM, _alarm)
    with tempfile.TemporaryDirectory(prefix="revstat-fuzz-") as tmp:
        fuzzer = Fuzzer(Path(tmp), args.seed, args.timeout)
        if args.replay:
            return _replay(fuzzer, args.replay)
        families = args.only or list(FAMILIES)
        deadline = time.monotonic() + args.minutes * 60
        started, last = time.monotonic(), time.monotonic()
        abort_after = int(os.environ.get("REVSTAT_FUZZ_ABORT_AFTER", "0"))  # to test the supervisor
        runs = 0
        while time.monotonic() < deadline:
            runs += 1
            if runs == abort_after:
                CRASHES.mkdir(parents=True, exist_ok=True)
                (CRASHES / f".current-{os.getpid()}.xlsx").write_bytes(b"self-test")
                os.abort()
            fuzzer.one(fuzzer.rng.choice(families))
            if time.monotonic() - last > 60:
                last = time.monotonic()
                print(f"[{(last - started) / 60:.0f} min] {dict(fuzzer.stats)}", flush=True)
        args.child.write_text(json.dumps({"stats": dict(fuzzer.stats), "crashes": fuzzer.crashes},
                                         ensure_ascii=False), encoding="utf-8")
        return 0


def _replay(fuzzer: Fuzzer, path: Path) -> int:
    if path.suffix == ".yaml":
        fuzzer.source_yaml.write_bytes(path.read_bytes())
    else:
        fuzzer.target.write_bytes(path.read_bytes())
    try:
        result = fuzzer.read_sources(fuzzer.load_workspace(fuzzer.root), [mc.PERIOD])
    except fuzzer.RevstatError as err:
        print("clean error:\n" + err.render("zh"))
        return 0
    for err in result.errors:
        print(err.render("zh"), end="\n\n")
    print(f"{len(result.observations)} observations, {len(result.errors)} errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
