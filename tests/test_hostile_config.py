"""Hostile configuration and templates (issue 7 §3): nobody gets in through YAML, formulas,
templates or paths. Every refusal names the file and the line."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from revstat.errors import DefinitionError, ErrorGroup, RevstatError
from revstat.workspace import load_workspace
from tests.badinputs.make_corpus import CITY, SHEET_SOURCE, regions_csv


def _workspace(root: Path, sources: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "revstat.yaml").write_text(f'name: 测试\nregion: "{CITY}"\n', encoding="utf-8")
    (root / "regions.csv").write_text(regions_csv(), encoding="utf-8")
    (root / "sources").mkdir(exist_ok=True)
    for name, text in (sources or {"monitoring.yaml": SHEET_SOURCE}).items():
        (root / "sources" / name).write_text(text, encoding="utf-8")
    return root


def _errors(exc: RevstatError) -> list[RevstatError]:
    return exc.errors if isinstance(exc, ErrorGroup) else [exc]


# ---- YAML never builds objects -----------------------------------------------------------

PYTHON_TAGS = [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:os.system ['touch {marker}']",
    "!!python/name:os.system",
    "!!python/module:os",
    "!!python/object:subprocess.Popen {{args: ['touch', '{marker}']}}",
    "!python/object/apply:os.system ['touch {marker}']",
]


@pytest.mark.parametrize("tag", PYTHON_TAGS)
def test_python_tags_in_a_source_are_refused_with_file_and_line(tmp_path: Path, tag: str) -> None:
    marker = tmp_path / f"pwned-{uuid.uuid4().hex}"
    text = SHEET_SOURCE.replace("name: 防返贫监测测试表", "name: " + tag.format(marker=marker))
    line = next(i for i, s in enumerate(text.splitlines(), start=1) if s.startswith("name:"))
    root = _workspace(tmp_path / "ws", {"monitoring.yaml": text})
    with pytest.raises(RevstatError) as info:
        load_workspace(root)
    [err] = _errors(info.value)
    assert isinstance(err, DefinitionError)
    assert err.where is not None and err.where.file == "sources/monitoring.yaml"
    assert err.where.line == line
    assert "标签" in err.render("zh")
    assert not marker.exists()  # nothing ran


def test_python_tag_in_revstat_yaml_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    root = _workspace(tmp_path / "ws")
    (root / "revstat.yaml").write_text(
        f'name: 测试\nregion: "{CITY}"\nlocale: !!python/object/apply:os.system ["touch {marker}"]\n',
        encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_workspace(root)
    assert info.value.where.file == "revstat.yaml" and info.value.where.line == 3
    assert not marker.exists()


def test_yaml_alias_bomb_is_not_expanded(tmp_path: Path) -> None:
    """'Billion laughs' in YAML: aliases share one object; validation fails on the shape."""
    lines = ['x0: &x0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"x{i}: &x{i} [" + ",".join([f"*x{i - 1}"] * 9) + "]" for i in range(1, 10)]
    text = "\n".join(lines) + "\n" + SHEET_SOURCE.replace("name: 防返贫监测测试表", "name: *x9")
    root = _workspace(tmp_path / "ws", {"monitoring.yaml": text})
    with pytest.raises(RevstatError) as info:
        load_workspace(root)
    errors = _errors(info.value)
    assert {e.where.line for e in errors} >= {1, 12}  # unknown key x0 (line 1), name not text (line 12)
    assert all(e.where.file == "sources/monitoring.yaml" for e in errors)


# ---- source globs and paths cannot escape the workspace ----------------------------------

@pytest.mark.parametrize("pattern", [
    "../outside/*.xlsx", "/etc/*.xlsx", "data/../../*.xlsx", "C:/Users/*.xlsx", "\\\\server\\share\\*.xlsx",
    "data/{period}/../../../*.xlsx",
])
def test_source_globs_escaping_the_workspace_are_refused(tmp_path: Path, pattern: str) -> None:
    text = SHEET_SOURCE.replace('files: "data/{period}/*.xls*"', f"files: '{pattern}'")
    line = next(i for i, s in enumerate(text.splitlines(), start=1) if s.startswith("files:"))
    root = _workspace(tmp_path / "ws", {"monitoring.yaml": text})
    with pytest.raises(DefinitionError) as info:
        load_workspace(root)
    assert info.value.where.file == "sources/monitoring.yaml" and info.value.where.line == line
    assert "工作区内" in info.value.render("zh")


# ---- formulas name only fields, indicators and whitelisted functions ----------------------

HOSTILE_FORMULAS = [
    ("__import__('os').system('touch x')", "只能调用内置函数"),
    ("__import__('os')", "未知的函数"),
    ("households.__class__", "属性访问"),
    ("[].pop()", "只能调用内置函数"),
    ("(lambda: 1)()", "只能调用内置函数"),
    ("lambda: households", "lambda"),
    ("households if persons else funds", "条件表达式"),
    ("eval('1')", "未知的函数"),
    ("households ** 999999999", "该运算符"),
    ("households[0]", "下标"),
    ("{'a': 1}", "字典"),
    ("[x for x in persons]", "推导式"),
    ("households in persons", "该比较"),
    ("f'{households}'", "f-字符串"),
    ("max(households, key=persons)", "关键字参数"),
    ("__builtins__", "未知的字段或指标"),
    ("os", "未知的字段或指标"),
    ("households / persnos", "persons"),  # a typo: did you mean
]


@pytest.mark.parametrize(("formula", "words"), HOSTILE_FORMULAS)
def test_formulas_outside_the_whitelist_are_refused_at_load(tmp_path: Path, formula: str, words: str) -> None:
    from revstat.definitions import load_indicator_files

    path = tmp_path / "indicators" / "hostile.yaml"
    path.parent.mkdir()
    quoted = formula.replace('"', '\\"')
    path.write_text(
        "theme: monitoring\nindicators:\n"
        "  - id: fine\n    name: 正常\n    unit: 户\n    formula: households + persons\n"
        f'  - id: evil\n    name: 恶意\n    unit: 户\n    formula: "{quoted}"\n',
        encoding="utf-8")
    with pytest.raises(RevstatError) as info:
        load_indicator_files([(path, "indicators/hostile.yaml")], ["households", "persons", "funds"])
    [err] = _errors(info.value)
    assert isinstance(err, DefinitionError)
    assert err.where.file == "indicators/hostile.yaml" and err.where.line == 10, err.render("zh")
    assert words in err.render("zh")


def test_a_formula_never_reaches_eval(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsing and evaluating a formula work with eval/exec unavailable."""
    import builtins

    import pandas as pd

    import revstat.formula_eval  # noqa: F401 - imported before the patch: importing a module execs its code
    from revstat.formula import evaluate, parse_formula

    def _forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("eval/exec called")

    monkeypatch.setattr(builtins, "eval", _forbidden)
    monkeypatch.setattr(builtins, "exec", _forbidden)
    formula = parse_formula("households / persons * 100")
    index = ["990122101000", "990122102000"]
    values = {"households": pd.Series([Decimal("1"), Decimal("3")], index=index, dtype=object),
              "persons": pd.Series([Decimal("4"), Decimal("0")], index=index, dtype=object)}
    result, reasons = evaluate(formula, lambda name, shift: values[name] if shift == () else None)
    assert result[index[0]] == Decimal("25")
    assert result[index[1]] is None and reasons[index[1]]  # x/0 is missing with a reason, never inf


# ---- templates run sandboxed; includes stay inside the template folders --------------------

@pytest.mark.parametrize(("body", "line"), [
    ("第一行\n{{ ''.__class__ }}\n", 2),
    ("a\nb\n{{ ''.__class__.__mro__[1].__subclasses__() }}\n", 3),
    ("{{ cycler.__init__.__globals__ }}\n", 1),
    ("x\n{{ lipsum.__globals__['os'].system('true') }}\n", 2),
    ("{% set f = ''.format %}\n{{ f.__self__ }}\n", 2),
    ("{{ range.__self__ }}\n", 1),
])
def test_template_escapes_fail_with_file_and_line(tmp_path: Path, body: str, line: int) -> None:
    from revstat.errors import RenderError
    from revstat.render import render_template

    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "evil.md.j2").write_text(body, encoding="utf-8")
    with pytest.raises(RenderError) as info:
        render_template([folder], "evil.md.j2", {})
    assert info.value.where.file.endswith("evil.md.j2")
    assert info.value.where.line == line, info.value.render("zh")


@pytest.mark.parametrize("target", ["../secret.txt", "/etc/passwd", "sub/../../secret.txt", "link.txt"])
def test_includes_outside_the_template_folders_fail(tmp_path: Path, target: str) -> None:
    from revstat.errors import RenderError
    from revstat.render import render_template

    folder = tmp_path / "templates"
    folder.mkdir()
    (tmp_path / "secret.txt").write_text("TOP-SECRET", encoding="utf-8")
    (folder / "link.txt").symlink_to(tmp_path / "secret.txt")  # a symlink leading outside
    (folder / "evil.md.j2").write_text(f"标题\n\n{{% include '{target}' %}}\n", encoding="utf-8")
    with pytest.raises(RenderError) as info:
        render_template([folder], "evil.md.j2", {})
    text = info.value.render("zh")
    assert "TOP-SECRET" not in text
    assert info.value.where.file.endswith("evil.md.j2") and info.value.where.line == 3, text


def test_a_normal_include_inside_the_folder_works(tmp_path: Path) -> None:
    from revstat.render import render_template

    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "part.md.j2").write_text("部分{{ n }}", encoding="utf-8")
    (folder / "main.md.j2").write_text("{% include 'part.md.j2' %}", encoding="utf-8")
    assert render_template([folder], "main.md.j2", {"n": 1}).text == "部分1"


# ---- output paths: the period names the folder and cannot climb out -------------------------

@pytest.mark.parametrize("period", ["../../escape", "2024Q4/../../x", "/tmp/x", "2024Q5"])
def test_periods_that_are_paths_are_refused(tmp_path: Path, period: str) -> None:
    from typer.testing import CliRunner

    from revstat.cli import app

    root = _workspace(tmp_path / "ws")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = CliRunner().invoke(app, ["compile", str(root), "--period", period])
    assert result.exit_code == 2, result.output
    assert "报告期" in result.output + (result.stderr or "")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not (root / "out").exists() or not any((root / "out").iterdir())


def test_data_files_reached_through_a_symlink_outside_are_refused(tmp_path: Path) -> None:
    from revstat.sources.read import read_sources
    from tests.badinputs import make_corpus as mc

    root = tmp_path / "ws"
    mc.build_workspace(root, mc.CASE_BY_ID["excel_lock_file"])
    (root / mc.DATA / f"~${mc.BAD_FILE}").unlink()
    outside = tmp_path / "elsewhere.xlsx"
    (root / mc.DATA / mc.BAD_FILE).rename(outside)
    (root / mc.DATA / mc.BAD_FILE).symlink_to(outside)
    result = read_sources(load_workspace(root), [mc.PERIOD])
    [err] = result.errors
    assert "工作区以外" in err.render("zh") and err.where.file == "sources/monitoring.yaml"
    assert not (result.observations["region_code"] == mc.CODE["河口镇"]).any()


@pytest.mark.parametrize("pattern", ["data/" + "x" * 300 + "/*.xlsx", "data/{period}/a\x00b.xlsx"])
def test_unusable_file_patterns_are_an_error_naming_the_source(tmp_path: Path, pattern: str) -> None:
    """Found by fuzzing: a path component longer than the file system allows raised OSError."""
    from revstat.sources.read import read_sources
    from tests.badinputs import make_corpus as mc

    root = tmp_path / "ws"
    mc.build_workspace(root, mc.CASE_BY_ID["excel_lock_file"])
    text = SHEET_SOURCE.replace('files: "data/{period}/*.xls*"', f"files: {pattern!r}".replace("\\x00", "\\0"))
    (root / "sources" / "monitoring.yaml").write_text(text, encoding="utf-8")
    try:
        ws = load_workspace(root)
    except DefinitionError as err:  # refused at load is fine too, with file and line
        assert err.where.file == "sources/monitoring.yaml" and err.where.line
        return
    result = read_sources(ws, [mc.PERIOD])
    errors = [e for e in result.errors if e.where and e.where.file == "sources/monitoring.yaml"]
    assert len(errors) == 1 and "files" in errors[0].render("zh")
    assert (result.observations["field"] == "income").any()  # the CSV source was still read
