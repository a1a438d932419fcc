"""The background writer: a job runs in a forked child (or here), and its errors still surface."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from revstat.writers.background import Background, can_fork

needs_fork = pytest.mark.skipif(not can_fork(), reason="fork is not available here (Windows or one core)")


def _write_pid(path: Path) -> None:
    path.write_text(str(os.getpid()), encoding="utf-8")


@needs_fork
def test_job_runs_in_a_child_process(tmp_path: Path) -> None:
    out = tmp_path / "pid.txt"
    with Background(lambda: _write_pid(out)) as bg:
        bg.join()
    assert out.read_text(encoding="utf-8") != str(os.getpid())


def test_jobs_1_runs_the_job_here_at_join(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVSTAT_JOBS", "1")
    out = tmp_path / "pid.txt"
    with Background(lambda: _write_pid(out)) as bg:
        assert not out.exists()  # nothing ran yet: the job waits for join
        bg.join()
    assert out.read_text(encoding="utf-8") == str(os.getpid())


@needs_fork
def test_a_failing_job_is_run_again_here_so_its_error_is_raised(tmp_path: Path) -> None:
    calls = tmp_path / "calls.txt"

    def job() -> None:
        with calls.open("a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()}\n")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"), Background(job) as bg:
        bg.join()
    pids = calls.read_text(encoding="utf-8").split()
    assert len(pids) == 2 and pids[0] != str(os.getpid()) and pids[1] == str(os.getpid())


@needs_fork
def test_an_error_in_the_parent_stops_the_child(tmp_path: Path) -> None:
    started = tmp_path / "started"

    def slow() -> None:
        started.write_text("x", encoding="utf-8")
        import time

        time.sleep(60)
        (tmp_path / "finished").write_text("x", encoding="utf-8")

    with pytest.raises(RuntimeError), Background(slow) as bg:
        raise RuntimeError("checks failed")
    assert bg.pid is None  # killed and reaped: no zombie left behind
    assert not (tmp_path / "finished").exists()


def test_fork_false_runs_the_job_here_at_join(tmp_path: Path) -> None:
    out = tmp_path / "pid.txt"
    with Background(lambda: _write_pid(out), fork=False) as bg:
        assert not out.exists()
        bg.join()
    assert out.read_text(encoding="utf-8") == str(os.getpid())
