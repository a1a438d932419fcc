"""What the console entry point loads before a command's body runs (revstat.cli.main): only that
command's module, and not pydantic's plugin discovery (importlib.metadata) while plugins are off.

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


def test_a_command_imports_only_its_own_module():
    got = _probe(["compile", str(SAMPLE), "--period", "2024Q4"])
    assert got["commands"] == ["revstat.cli.cmd_compile", "revstat.cli.cmd_extract"]  # compile uses count_files
    assert _probe(["lint", str(SAMPLE)])["commands"] == ["revstat.cli.cmd_lint"]


def test_pydantic_plugins_are_off_without_importlib_metadata():
    got = _probe(["compile", str(SAMPLE), "--period", "2024Q4"])
    assert got["pydantic"]  # typer has built the parameters' validators by now
    assert got["env"] == "1" and not got["metadata"]


def test_a_list_of_plugins_to_disable_is_left_to_pydantic():
    got = _probe(["compile", str(SAMPLE), "--period", "2024Q4"], PYDANTIC_DISABLE_PLUGINS="some_plugin")
    assert got["env"] == "some_plugin" and got["metadata"]  # pydantic's own loader, which reads entry points


def test_the_stand_in_loader_answers_like_pydantics_and_hands_over_the_rest():
    code = """
import sys
import revstat.cli as cli
cli._without_plugin_discovery()
loader = sys.modules["pydantic.plugin._loader"]
from pydantic import BaseModel
class M(BaseModel):
    x: int
assert M(x="1").x == 1 and tuple(loader.get_plugins()) == ()
assert "importlib.metadata" not in sys.modules
print(loader.PYDANTIC_ENTRY_POINT_GROUP)  # anything else: the real loader, imported then
print(type(sys.modules["pydantic.plugin._loader"].get_plugins()).__name__, tuple(sys.modules["pydantic.plugin._loader"].get_plugins()))
"""
    environ = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["pydantic", "tuple", "()"]
