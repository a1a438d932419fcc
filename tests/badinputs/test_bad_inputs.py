"""The bad-input corpus (issue 7 §1–2): one clear message per bad file, everything else read.

Each case of :mod:`tests.badinputs.make_corpus` is built into its own workspace (a good
workbook and CSV for 甲县, the bad input for 乙县) and read with ``read_sources``; the test
asserts the exact error (class, key words of the Chinese message, file, sheet, cell), the
exact values still read — always all of 甲县's, and 乙县's where the case says so — and the exit
code of ``revstat extract``.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from revstat.errors import ErrorGroup, RevstatError
from tests.badinputs import make_corpus as mc

read_mod = pytest.importorskip("revstat.sources.read")

CODE_NAME = {code: name for code, name, _level, _parent in mc.REGIONS}
BAD_TOWNS = set(mc.BAD)


def _flat(errors: list[RevstatError]) -> list[RevstatError]:
    out: list[RevstatError] = []
    for err in errors:
        out.extend(_flat(err.errors) if isinstance(err, ErrorGroup) else [err])
    return out


def _read(root: Path) -> tuple[dict[tuple[str, str], Decimal | None], object, list[RevstatError], object]:
    from revstat.workspace import load_workspace

    ws = load_workspace(root)
    result = read_mod.read_sources(ws, [mc.PERIOD])
    obs = result.observations
    source = obs[obs["origin"] == "source"]
    values = {(f, CODE_NAME[c]): v for f, c, v in zip(source["field"], source["region_code"], source["value"], strict=True)}
    return values, obs, _flat(result.errors), result.summary


def _needs(case: mc.Case) -> None:
    if case.needs and importlib.util.find_spec(case.needs) is None:
        pytest.skip(f"generator needs {case.needs} (pip install -e '.[test]')")


def _describe(errors: list[RevstatError]) -> str:
    return "\n\n".join(f"{type(e).__name__}: {e.render('zh')}" for e in errors)


@pytest.mark.parametrize("case", mc.CASES, ids=[c.id for c in mc.CASES])
def test_bad_input(case: mc.Case, tmp_path: Path) -> None:
    _needs(case)
    root = tmp_path / "ws"
    mc.build_workspace(root, case)
    values, obs, errors, summary = _read(root)
    expect = case.expect

    # 1. the good county is always read, exactly
    for key, text in mc.good_values().items():
        assert values.get(key) == Decimal(text), f"good value {key} not read: {values.get(key)!r}\n{_describe(errors)}"

    # 2. the expected error, and only it
    if expect.outcome == "read":
        assert errors == [], _describe(errors)
    else:
        assert len(errors) == 1, _describe(errors)
        [err] = errors
        assert expect.error in {c.__name__ for c in type(err).__mro__}, type(err)  # (a MissingColumn is a SourceError)
        text = err.render("zh")
        for word in expect.words:
            assert word in text, f"{word!r} not in:\n{text}"
        assert err.where is not None
        if expect.file is not None:
            assert Path(err.where.file).name == expect.file, text
        if expect.sheet is not None:
            assert err.where.sheet == expect.sheet, text
        if expect.cell is not None:
            assert err.where.cell == expect.cell, text
        assert "Traceback" not in text

    # 3. the values of the bad county that must (or must not) be read
    for key, text in expect.values.items():
        want = None if text is None else Decimal(text)
        assert key in values, f"{key} not read\n{_describe(errors)}"
        assert values[key] == want, f"{key}: {values[key]!r} != {want!r}"
    for town in expect.absent:
        assert not [k for k in values if k[1] == town], f"{town} should not have been read"
    reported = [*summary.notes, *summary.hidden, *summary.skipped, *summary.conversions]
    for word in expect.notes:
        assert any(word in note for note in reported), f"{word!r} not reported in {reported}"
    if expect.totals:
        totals = obs[(obs["origin"] == "total") & (obs["region_code"] == mc.CODE["乙县"])]
        got = dict(zip(totals["field"], totals["value"], strict=True))
        assert got == {f: Decimal(v) for f, v in expect.totals.items()}


def test_corpus_has_at_least_30_cases_with_both_outcomes() -> None:
    assert len(mc.CASES) >= 30
    assert len({c.id for c in mc.CASES}) == len(mc.CASES)
    outcomes = {c.expect.outcome for c in mc.CASES}
    assert outcomes == {"read", "error"}


@pytest.mark.parametrize("case", mc.CASES, ids=[c.id for c in mc.CASES])
def test_extract_exit_code_and_message(case: mc.Case, tmp_path: Path) -> None:
    """`revstat extract` gives the documented exit code, names the bad file, no traceback,
    and still writes what could be read."""
    _needs(case)
    from typer.testing import CliRunner

    from revstat.cli import app

    root = tmp_path / "ws"
    mc.build_workspace(root, case)
    result = CliRunner().invoke(app, ["extract", str(root), "--period", mc.PERIOD])
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code == case.expect.exit_code, output
    assert "Traceback" not in output
    if case.expect.outcome == "error" and case.expect.file is not None:
        assert case.expect.file in output
    written = (root / "out" / mc.PERIOD / "observations.csv").read_text(encoding="utf-8-sig")
    assert "城关镇" in written and "15000" in written  # 甲县's workbook and CSV were still read


def _peak_rss_mb(code: str) -> float:
    """Run ``code`` in a fresh interpreter and return its peak resident memory in MB."""
    probe = code + "\nimport resource\nprint(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], env={**os.environ, "PYTHONPATH": "."})
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1]) / 1024


def test_zip_bomb_is_refused_before_inflating(tmp_path: Path) -> None:
    """The bomb inflates to 300 MB; reading the workspace stays far below that."""
    root = tmp_path / "ws"
    mc.build_workspace(root, mc.CASE_BY_ID["zip_bomb"])
    bomb = root / mc.DATA / mc.BAD_FILE
    assert bomb.stat().st_size < mc.BOMB_EXPANDED / 500  # small on disk
    code = ("from revstat.workspace import load_workspace\n"
            "from revstat.sources.read import read_sources\n"
            f"r = read_sources(load_workspace({str(root)!r}), [{mc.PERIOD!r}])\n"
            "assert len(r.errors) == 1 and '解压' in r.errors[0].render('zh'), r.errors\n")
    baseline = _peak_rss_mb("import pandas, python_calamine, openpyxl, revstat.sources.read")
    peak = _peak_rss_mb(code)
    assert peak - baseline < 100, f"peak {peak:.0f} MB vs baseline {baseline:.0f} MB"


def test_entity_expansion_is_never_performed(tmp_path: Path) -> None:
    """Billion laughs in sharedStrings: neither calamine nor openpyxl expands it."""
    import openpyxl
    import python_calamine
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML, "defusedxml must be installed: openpyxl only then refuses entities"
    root = tmp_path / "ws"
    mc.build_workspace(root, mc.CASE_BY_ID["billion_laughs"])
    path = root / mc.DATA / mc.BAD_FILE
    with pytest.raises(Exception, match="entity|lol9") as calamine_error:
        python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert "lol" * 100 not in str(calamine_error.value)
    with pytest.raises(Exception) as openpyxl_error:  # defusedxml: EntitiesForbidden, wrapped
        openpyxl.load_workbook(path, read_only=True)
    chain = [openpyxl_error.value, openpyxl_error.value.__cause__, openpyxl_error.value.__context__]
    assert any(type(e).__name__ == "EntitiesForbidden" for e in chain if e is not None), chain


def test_huge_declared_dimension_visits_only_the_data(tmp_path: Path) -> None:
    """<dimension ref="A1:XFD1048576"/> with 8×4 cells: the grid built is 8×4, not 10^10."""
    from revstat.sources.excel import open_book

    root = tmp_path / "ws"
    mc.build_workspace(root, mc.CASE_BY_ID["huge_dimension"])
    path = root / mc.DATA / mc.BAD_FILE
    import zipfile

    with zipfile.ZipFile(path) as zf:
        assert b'ref="A1:XFD1048576"' in zf.read("xl/worksheets/sheet1.xml")
    book = open_book(path, mc.BAD_FILE)
    try:
        grid = book.sheet(mc.SHEET)
    finally:
        book.close()
    rows = len(mc.standard_rows(mc.BAD))
    assert len(grid.rows) == rows
    assert sum(len(r) for r in grid.rows) == rows * len(mc.HEADERS)


def test_compile_sample_with_one_bad_file(tmp_path: Path) -> None:
    """A copy of sample_data plus one truncated workbook: every other file is read and
    computed, the one bad file is reported, exit 2, and out/2024Q4 keeps the last results."""
    import shutil

    from typer.testing import CliRunner

    from revstat.cli import app
    from revstat.pipeline import compile_workspace
    from revstat.workspace import load_workspace
    from tests.conftest import SAMPLE

    root = tmp_path / "ws"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("out", "2023Q[123]", "2024Q[12]"))
    previous = root / "out" / "2024Q4"
    previous.mkdir(parents=True)
    (previous / "indicators.csv").write_text("indicator,value\nlast_good,1\n", encoding="utf-8-sig")
    good = sorted((root / "data" / "2024Q4").glob("*.xlsx"))[0].read_bytes()
    bad = root / "data" / "2024Q4" / "坏文件.xlsx"
    bad.write_bytes(good[: len(good) // 3])

    import hashlib

    def digest() -> dict[str, str]:
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted((root / "data").rglob("*")) if p.is_file()}

    inputs = digest()
    result = CliRunner().invoke(app, ["compile", str(root), "--period", "2024Q4"])
    output = result.output  # stdout and stderr together
    assert result.exit_code == 2, output
    assert "坏文件.xlsx" in output and "损坏" in output
    assert output.count("错误:") == 1, output  # the only problem: every other file read cleanly
    assert "Traceback" not in output
    assert (previous / "indicators.csv").read_text(encoding="utf-8-sig") == "indicator,value\nlast_good,1\n"

    compiled = compile_workspace(load_workspace(root), "2024Q4")
    assert len(compiled.read_errors) == 1
    counties = [c for c, r in compiled.workspace.regions.regions.items() if r.level == "county"]
    res = compiled.results
    computed = set(res.loc[res["value"].notna() & res["region_code"].isin(counties), "region_code"])
    assert computed == set(counties)  # the rest was compiled: every county has results
    assert digest() == inputs  # inputs are only ever read


def test_reading_a_slightly_damaged_xls_prints_nothing(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """xlrd writes warnings to stdout unless told not to: that would corrupt `--format json`."""
    _needs(mc.CASE_BY_ID["xls_file"])
    root = tmp_path / "ws"
    mc.build_workspace(root, mc.CASE_BY_ID["xls_file"])
    xls = root / mc.DATA / "乙县.xls"
    xls.write_bytes(xls.read_bytes() + b"tail")  # "file size not 512 + multiple of sector size"
    values, _obs, errors, _summary = _read(root)
    out, _err = capfd.readouterr()
    assert out == ""
    assert errors == [] and values[("households", "河口镇")] == Decimal("11")
