"""Nothing lost (issue 7 §5): an interrupted write leaves the previous outputs intact."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from revstat.errors import OutputError
from revstat.writers.atomic import atomic_dir, atomic_file, clean_leftovers


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name != folder.name)


@pytest.fixture
def previous(tmp_path: Path) -> Path:
    """out/2024Q4 as a previous successful compile left it."""
    target = tmp_path / "out" / "2024Q4"
    target.mkdir(parents=True)
    (target / "indicators.csv").write_text("indicator,value\nx,1\n", encoding="utf-8-sig")
    (target / "report.md").write_text("# 旧报告\n", encoding="utf-8")
    return target


def test_successful_write_replaces_and_keeps_other_outputs(previous: Path) -> None:
    with atomic_dir(previous) as tmp:
        (tmp / "indicators.csv").write_text("indicator,value\nx,2\n", encoding="utf-8-sig")
    assert (previous / "indicators.csv").read_text(encoding="utf-8-sig") == "indicator,value\nx,2\n"
    assert (previous / "report.md").read_text(encoding="utf-8") == "# 旧报告\n"  # kept
    assert _siblings(previous) == []


def test_writer_raising_midway_leaves_previous_outputs(previous: Path) -> None:
    before = _snapshot(previous)
    with pytest.raises(RuntimeError, match="boom"), atomic_dir(previous) as tmp:
        (tmp / "indicators.csv").write_text("partial", encoding="utf-8")
        (tmp / "indicators.json").write_text("{", encoding="utf-8")
        raise RuntimeError("boom")
    assert _snapshot(previous) == before
    assert _siblings(previous) == []  # no temporary folder left behind


def test_full_disk_gives_a_clear_output_error(previous: Path) -> None:
    before = _snapshot(previous)
    with pytest.raises(OutputError) as info, atomic_dir(previous) as tmp:
        (tmp / "indicators.csv").write_text("partial", encoding="utf-8")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp / "indicators.xlsx"))
    text = info.value.render("zh")
    assert "无法写入输出" in text and "磁盘空间" in text and "indicators.xlsx" in text
    assert _snapshot(previous) == before
    assert _siblings(previous) == []


def test_excel_lock_file_is_refused_before_writing(previous: Path) -> None:
    (previous / "~$indicators.xlsx").write_bytes(b"\x00" * 165)
    before = _snapshot(previous)
    with pytest.raises(OutputError) as info, atomic_dir(previous) as tmp:
        (tmp / "never.csv").write_text("x", encoding="utf-8")
    text = info.value.render("zh")
    assert "indicators.xlsx" in text and "Excel/WPS" in text and "~$indicators.xlsx" in text
    assert _snapshot(previous) == before
    assert _siblings(previous) == []


def _chattr(flag: str, path: Path) -> bool:
    if shutil.which("chattr") is None:
        return False
    done = subprocess.run(["chattr", flag, str(path)], capture_output=True)
    return done.returncode == 0


@contextlib.contextmanager
def _immutable(path: Path) -> Iterator[None]:
    """``path`` immutable (``chattr +i``) for the block: not even root can write, rename or
    remove it or add to it; skipped where the file system cannot do it."""
    if not _chattr("+i", path):
        pytest.skip("chattr +i is not available on this file system (needs root and ext4/xfs)")
    try:
        yield
    finally:
        _chattr("-i", path)


def test_target_that_cannot_be_replaced_gives_a_clear_message(previous: Path) -> None:
    """An immutable folder cannot be renamed (like a file open in Excel on Windows)."""
    before = _snapshot(previous)
    with _immutable(previous):
        with pytest.raises(OutputError) as info, atomic_dir(previous) as tmp:
            (tmp / "indicators.csv").write_text("new", encoding="utf-8")
        assert "无法写入输出" in info.value.render("zh")
        assert "Excel/WPS" in info.value.render("zh")
        assert _snapshot(previous) == before
        assert _siblings(previous) == []


def test_file_target_that_cannot_be_replaced(tmp_path: Path) -> None:
    target = tmp_path / "indicators.xlsx"
    target.mkdir()  # a folder where the file should go: os.replace cannot overwrite it
    with pytest.raises(OutputError) as info, atomic_file(target) as tmp:
        tmp.write_bytes(b"PK")
    assert "indicators.xlsx" in info.value.render("zh")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["indicators.xlsx"]


def test_atomic_file_failure_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "indicators.json"
    target.write_text('{"old": 1}', encoding="utf-8")
    with pytest.raises(ValueError), atomic_file(target) as tmp:
        tmp.write_text('{"new": ', encoding="utf-8")
        raise ValueError("serialiser failed")
    assert target.read_text(encoding="utf-8") == '{"old": 1}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["indicators.json"]


_CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from revstat.writers.atomic import atomic_dir

    with atomic_dir(Path(sys.argv[1])) as tmp:
        (tmp / "indicators.csv").write_text("indicator,value\\nx,HALF", encoding="utf-8")
        print("written", flush=True)
        time.sleep(600)  # killed here, mid-compile
        (tmp / "indicators.json").write_text("{}", encoding="utf-8")
""")


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_kill_9_midway_leaves_previous_outputs(previous: Path) -> None:
    before = _snapshot(previous)
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(previous)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "written"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert _snapshot(previous) == before  # nothing partial inside out/2024Q4
    leftovers = _siblings(previous)
    assert len(leftovers) == 1 and leftovers[0].startswith(f".2024Q4.tmp-{proc.pid}-")
    # the next run cleans up what the killed process could not
    with atomic_dir(previous) as tmp:
        (tmp / "indicators.csv").write_text("indicator,value\nx,3\n", encoding="utf-8")
    assert _siblings(previous) == []
    assert (previous / "indicators.csv").read_text(encoding="utf-8") == "indicator,value\nx,3\n"


def test_kill_between_the_two_renames_restores_previous_outputs(previous: Path) -> None:
    """Killed after the old folder was moved aside but before the new one moved in."""
    before = _snapshot(previous)
    pid = _dead_pid()
    previous.rename(previous.parent / f".2024Q4.old-{pid}")
    half = previous.parent / f".2024Q4.tmp-{pid}-abc"
    half.mkdir()
    (half / "indicators.csv").write_text("HALF", encoding="utf-8")
    clean_leftovers(previous)
    assert _snapshot(previous) == before
    assert _siblings(previous) == []


def test_leftovers_of_live_processes_are_not_touched(previous: Path) -> None:
    mine = previous.parent / f".2024Q4.tmp-{os.getpid()}-busy"
    mine.mkdir()
    clean_leftovers(previous)
    assert mine.is_dir()


# ---- a real `revstat compile` killed with SIGKILL while writing ------------------------------

_KILLED_COMPILE = textwrap.dedent("""
    import sys, time
    import revstat.writers.tables as tables

    original = tables.write_indicators_xlsx

    def slow(*args, **kwargs):
        original(*args, **kwargs)        # indicators.csv/json/xlsx are in the temporary folder
        print("writing", flush=True)
        time.sleep(600)                  # killed here, before findings.json and the swap

    tables.write_indicators_xlsx = slow
    sys.argv = ["revstat", "compile", sys.argv[1], "--period", "2024Q4"]
    from revstat.cli import main
    main()
""")


def test_kill_9_of_a_real_compile_leaves_previous_outputs(tmp_path: Path) -> None:
    from tests.conftest import SAMPLE

    root = tmp_path / "ws"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("out", "2023Q[123]", "2024Q[12]"))
    previous = root / "out" / "2024Q4"
    previous.mkdir(parents=True)
    (previous / "indicators.csv").write_text("indicator,value\nold,1\n", encoding="utf-8-sig")
    (previous / "report.docx").write_bytes(b"PK old report")
    before = _snapshot(previous)
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_COMPILE, str(root)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        while line and line.strip() != "writing":  # skip the compile's own output
            line = proc.stdout.readline()
        assert line.strip() == "writing", proc.stderr.read() if proc.stderr else ""
        tmp_dirs = [p for p in previous.parent.iterdir() if p.name.startswith(".2024Q4.tmp-")]
        assert len(tmp_dirs) == 1 and (tmp_dirs[0] / "indicators.xlsx").is_file()  # mid-write
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert _snapshot(previous) == before
    clean_leftovers(previous)  # what the next compile does first
    assert _siblings(previous) == []


def test_output_folder_that_cannot_be_created_is_an_output_error(tmp_path: Path) -> None:
    """``out`` is a file (a user's mistake): no temporary folder can be made beside the target."""
    (tmp_path / "out").write_text("not a folder", encoding="utf-8")
    with pytest.raises(OutputError) as info, atomic_dir(tmp_path / "out" / "2024Q4") as tmp:
        (tmp / "indicators.csv").write_text("x", encoding="utf-8")
    assert "无法写入输出" in info.value.render("zh") and "写入权限" in info.value.render("zh")
    assert (tmp_path / "out").read_text(encoding="utf-8") == "not a folder"
    with pytest.raises(OutputError), atomic_file(tmp_path / "out" / "report.md") as tmp:
        tmp.write_text("x", encoding="utf-8")


def test_read_only_output_parent_is_an_output_error(previous: Path) -> None:
    """The new user's case: ``out/`` itself read-only, so not even the temporary folder can be made."""
    before = _snapshot(previous)
    with _immutable(previous.parent):
        with pytest.raises(OutputError) as info, atomic_dir(previous) as tmp:
            (tmp / "indicators.csv").write_text("new", encoding="utf-8")
        assert "无法写入输出" in info.value.render("zh")
        with pytest.raises(OutputError), atomic_file(previous.parent / "report.md") as tmp:
            tmp.write_text("x", encoding="utf-8")
        assert _snapshot(previous) == before


def test_disk_full_while_writing_one_file_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    target.write_text("旧", encoding="utf-8")
    with pytest.raises(OutputError) as info, atomic_file(target) as tmp:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))
    assert "无法写入输出：磁盘空间不足（No space left on device）" in info.value.render("zh")
    assert "cannot write the outputs: No space left on device" in info.value.render("en")
    assert target.read_text(encoding="utf-8") == "旧"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


def test_compile_into_an_unusable_output_folder_exits_2_without_a_traceback(tmp_path: Path) -> None:
    from tests.conftest import SAMPLE

    ws = tmp_path / "ws"
    shutil.copytree(SAMPLE, ws, ignore=shutil.ignore_patterns("out"))
    (ws / "out").write_text("a file where the output folder should be", encoding="utf-8")
    env = dict(os.environ, PYTHONIOENCODING="utf-8", NO_COLOR="1")
    for args in (["compile", str(ws), "--period", "2024Q4"],
                 ["check", str(ws), "--period", "2024Q4", "--format", "json", "-o", str(ws / "out" / "f.json")]):
        done = subprocess.run([sys.executable, "-m", "revstat", *args], capture_output=True, text=True, env=env,
                              check=False)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "无法写入输出" in done.stderr and "Traceback" not in done.stderr
    assert (ws / "out").read_text(encoding="utf-8") == "a file where the output folder should be"
