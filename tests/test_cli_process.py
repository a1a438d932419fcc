"""The console entry point as a real process: exit codes, and every line of output flushed
although the process leaves without tearing the interpreter down (revstat.cli.common.leave)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import SAMPLE


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONIOENCODING="utf-8", NO_COLOR="1", COLUMNS="120")
    return subprocess.run([sys.executable, "-m", "revstat", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, check=False)


def test_compile_in_a_process_writes_everything_and_says_so(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(SAMPLE, ws, ignore=shutil.ignore_patterns("out"))
    done = run("compile", str(ws), "--period", "2024Q4", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (ws / "out" / "2024Q4").iterdir()) == [
        "findings.json", "indicators.csv", "indicators.json", "indicators.xlsx"]
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("示范市 2024Q4")  # the headline table's title
    assert lines[-1].startswith("审核发现") and "findings.json" in lines[-1]  # the last line, flushed
    # no headline figure of the sample is incomplete, so no "*" footnote; other regions' totals are
    starred = [line for line in lines if line.startswith("│") and " * " in line]
    assert not starred and not any(line.startswith("* ") for line in lines)
    assert "部分地区的合计不完整（下级地区缺数），见 indicators.csv 的 note 列" in lines
    assert not list(tmp_path.glob("ws/out/.*"))  # no temporary folder left behind


def test_bad_input_in_a_process_exits_2_with_the_message_on_stderr(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(SAMPLE, ws, ignore=shutil.ignore_patterns("out"))
    (ws / "data" / "2024Q4" / "坏文件_2024Q4.xlsx").write_text("name,value\n1,2\n", encoding="utf-8")
    done = run("compile", str(ws), "--period", "2024Q4", cwd=tmp_path)
    assert done.returncode == 2
    assert "错误" in done.stderr and "坏文件_2024Q4.xlsx" in done.stderr and "处理" in done.stderr
    assert done.stderr.rstrip().endswith("改正后重新运行。")
    assert "Traceback" not in done.stderr
    assert not (ws / "out" / "2024Q4").exists()


def test_usage_errors_keep_click_exit_code_2(tmp_path: Path) -> None:
    done = run("compile", cwd=tmp_path)
    assert done.returncode == 2 and "workspace" in done.stderr


def test_usage_errors_are_told_in_the_users_language(tmp_path: Path) -> None:
    ws = str(SAMPLE)
    missing = run("compile", ws, cwd=tmp_path)
    assert missing.returncode == 2 and missing.stdout == ""
    usage, what, fix = missing.stderr.splitlines()  # run as `python -m revstat`, so named so
    assert usage.startswith("用法：") and usage.endswith("revstat compile [OPTIONS] {workspace}")
    assert what == "错误: 缺少选项 --period / -p" and fix.startswith("  处理: 运行 `") and fix.endswith("compile --help` 查看用法")
    unknown = run("compile", ws, "-p", "2024Q4", "--forma", "md", cwd=tmp_path)
    assert unknown.returncode == 2 and "错误: 没有选项 --forma" in unknown.stderr
    assert run("nosuchcmd", cwd=tmp_path).stderr.splitlines()[1] == "错误: 没有命令 nosuchcmd"
    # an unknown command is found before --lang is applied; it is still honoured, with a suggestion
    typo = run("--lang", "en", "compil", ws, cwd=tmp_path)
    assert typo.returncode == 2 and typo.stderr.splitlines()[1] == "Error: no such command compil (did you mean compile?)"
    english = run("--lang", "en", "compile", ws, cwd=tmp_path)
    assert english.returncode == 2 and "Error: missing option --period / -p" in english.stderr
    assert "Traceback" not in missing.stderr + unknown.stderr + english.stderr
    assert run("--help", cwd=tmp_path).returncode == 0  # help still leaves with 0


def run_with_stdout_closed(*args: str, cwd: Path) -> tuple[int, str]:
    """Run revstat with its standard output's reader gone before the first line (like `| head -0`)."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8", NO_COLOR="1", COLUMNS="120")
    proc = subprocess.Popen([sys.executable, "-m", "revstat", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=cwd)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode("utf-8")
    return proc.wait(), err


def test_a_closed_stdout_ends_quietly_with_the_commands_own_exit_code(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(SAMPLE, ws, ignore=shutil.ignore_patterns("out", "2023Q[123]", "2024Q[123]"))
    # explain (rich console): 0, as when the whole output was read; not rich's exit 1 ("findings")
    code, err = run_with_stdout_closed("explain", "农村卫生厕所普及率", "--region", "东山县", "--period", "2024Q4",
                                       "--workspace", str(ws), cwd=tmp_path)
    assert (code, err) == (0, "")
    # schema (typer.echo): 0, no "内部错误"
    assert run_with_stdout_closed("schema", "indicators", cwd=tmp_path) == (0, "")
    # lint finding an error keeps exit 1: a closed pipe never hides findings
    (ws / "checks").mkdir(exist_ok=True)
    (ws / "checks" / "bad.yaml").write_text("rules:\n  - {id: a, name: A, rule: admin_villagez >= 1}\n",
                                             encoding="utf-8")
    assert run_with_stdout_closed("lint", str(ws), cwd=tmp_path) == (1, "")


def test_consoles_print_what_a_cell_says_not_emoji(capsys) -> None:
    """rich would turn ":x:" in a note or a region name into ❌; revstat prints what was typed
    (and does not load rich's emoji table)."""
    from revstat.cli import common

    common.out_console().print("备注 :x: 已核实 :warning:")
    common.err_console().print("说明 :+1:")
    out, err = capsys.readouterr()
    assert "备注 :x: 已核实 :warning:" in out and "说明 :+1:" in err
