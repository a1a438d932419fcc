"""What the console entry point sets up before a command's body runs (revstat.cli.main):
pydantic's plugins off unless the environment says otherwise; every command reachable.

Fresh interpreters (subprocesses); no timing here (bench/ measures it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import SAMPLE

#: stops at the command's body (common.guarded) and reports what is imported by then
PROBE = """
import json, os, sys
import revstat.cli.common as common
def stop():
    print("@@" + json.dumps({
        "commands": sorted(m for m in sys.modules if m.startswith("revstat.cli.cmd_")),
        "metadata": "importlib.metadata" in sys.modules,
        "pydantic": "pydantic" in sys.modules,
        "env": os.environ.get("PYDANTIC_DISABLE_PLUGINS"),
    }), flush=True)
    os._exit(0)
common.guarded = stop
sys.argv = ["revstat", *json.loads(sys.argv[1])]
from revstat.cli import main
main()
"""


def _probe(args: list[str], **env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True,
                          encoding="utf-8", env={**environ, **env}, check=False)
    assert "@@" in proc.stdout, proc.stderr
    return json.loads(proc.stdout.rsplit("@@", 1)[1])


def test_pydantic_plugins_are_off_unless_the_environment_names_some():
    assert _probe(["compile", str(SAMPLE), "--period", "2024Q4"])["env"] == "1"
    got = _probe(["compile", str(SAMPLE), "--period", "2024Q4"], PYDANTIC_DISABLE_PLUGINS="some_plugin")
    assert got["env"] == "some_plugin"


def test_help_and_a_mistyped_command_still_see_every_command():
    environ = dict(os.environ)
    helped = subprocess.run([sys.executable, "-m", "revstat", "--help"], capture_output=True, text=True,
                            encoding="utf-8", env=environ, check=False)
    assert helped.returncode == 0 and all(c in helped.stdout for c in ("compile", "check", "report", "lint", "explain"))
    typo = subprocess.run([sys.executable, "-m", "revstat", "compil"], capture_output=True, text=True,
                          encoding="utf-8", env=environ, check=False)
    assert typo.returncode == 2 and "compile" in typo.stdout + typo.stderr
