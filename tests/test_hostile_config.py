"""Hostile configuration and templates (issue 7 §3): nobody gets in through YAML, formulas,
templates or paths. Every refusal names the file and the line."""

from __future__ import annotations

import uuid
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
