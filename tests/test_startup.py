"""`revstat --help` answers at once: nothing heavier than typer is imported (lazy imports).

Run in a fresh interpreter (a subprocess), since this test process has pandas loaded already.
No timing here (no wall-clock limits in tests); bench/run.py measures the time.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ["pandas", "numpy", "duckdb", "openpyxl", "pyarrow", "pyspark", "sqlglot", "matplotlib",
         "docx", "jinja2", "xlsxwriter", "python_calamine", "fastexcel", "rich"]  # pydantic: typer 0.29 imports it itself

PROBE = """
import json, sys
heavy = json.loads(sys.argv[2])
sys.argv = ["revstat", *json.loads(sys.argv[1])]
from revstat.cli import app
try:
    app()
except SystemExit as exit:
    code = exit.code
else:
    code = 0
print("\\n@@" + json.dumps({"code": code, "loaded": [m for m in heavy if m in sys.modules]}))
"""


def _probe(args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)],
                          capture_output=True, text=True, encoding="utf-8", check=False)
    assert "@@" in proc.stdout, proc.stderr
    return json.loads(proc.stdout.rsplit("@@", 1)[1])


@pytest.mark.parametrize("args", [["--help"], ["compile", "--help"], ["report", "--help"], []])
def test_help_imports_nothing_heavy(args):
    got = _probe(args)
    assert got["code"] in (0, 2, None)  # no_args_is_help exits 2 in click
    assert got["loaded"] == [], f"revstat {' '.join(args)} imported {got['loaded']}"


def test_the_probe_would_see_a_heavy_import():
    proc = subprocess.run([sys.executable, "-c", "import sys, revstat.records.engine; "
                           "import revstat.records.engine as e; e.run_duckdb; import duckdb; "
                           "print('duckdb' in sys.modules)"], capture_output=True, text=True, check=False)
    assert proc.stdout.strip() == "True"


def test_importing_the_records_package_is_light():
    proc = subprocess.run([sys.executable, "-c", "import sys, json, revstat.records, revstat.records.sql; "
                           f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"],
                          capture_output=True, text=True, check=False)
    assert json.loads(proc.stdout) == [], proc.stderr


def test_python_dash_m_revstat_help_lists_the_commands():
    proc = subprocess.run([sys.executable, "-m", "revstat", "--help"], capture_output=True, text=True,
                          encoding="utf-8", check=False)
    assert proc.returncode == 0, proc.stderr
    assert "compile" in proc.stdout
