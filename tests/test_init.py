"""`revstat init DIR`: a workspace that loads, refuses to clobber a folder, ships in the package."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from revstat.cli import app
from revstat.cli.cmd_init import init_workspace
from revstat.workspace import load_workspace, std_dir

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def test_init_writes_a_workspace_that_loads(tmp_path: Path) -> None:
    target = tmp_path / "示范市"
    result = runner.invoke(app, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert "revstat extract" in result.output  # next steps are printed
    for name in ("revstat.yaml", "regions.csv", "sources", "indicators", "checks", "templates", "data"):
        assert (target / name).exists(), name
    ws = load_workspace(target)
    assert ws.config.region == "990100000000"
    assert ws.regions.name(ws.config.region) == "示范市"
    assert sorted(s.id for s in ws.sources) == sorted(
        ["monitoring", "guarantees", "income", "funds", "environment", "governance", "households"])
    assert "rural_households" in ws.fields()
    # the two 城关镇 of the example are told apart by their county
    assert ws.regions.match("城关镇", within="990121000000") == "990121101000"
    assert ws.regions.match("城关镇", within="990122000000") == "990122101000"


def test_init_config_is_commented_and_quotes_the_code(tmp_path: Path) -> None:
    init_workspace(tmp_path / "w")
    text = (tmp_path / "w" / "revstat.yaml").read_text(encoding="utf-8")
    assert text.count("#") > 10
    assert 'region: "990100000000"' in text


def test_init_copies_the_standard_sources_of_the_sample(tmp_path: Path) -> None:
    init_workspace(tmp_path / "w")
    sample = sorted((REPO / "sample_data" / "sources").glob("*.yaml"))
    assert sample
    for path in sample:
        copied = tmp_path / "w" / "sources" / path.name
        assert copied.read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), path.name


def test_init_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    target = tmp_path / "w"
    target.mkdir()
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    result = runner.invoke(app, ["init", str(target)])
    assert result.exit_code == 2
    assert "不是空的" in result.output and "--force" in result.output
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


def test_init_refuses_in_english_too(tmp_path: Path) -> None:
    target = tmp_path / "w"
    init_workspace(target)
    result = runner.invoke(app, ["--lang", "en", "init", str(target)])
    assert result.exit_code == 2
    assert "not empty" in result.output


def test_init_force_adds_missing_standard_files_and_overwrites_nothing(tmp_path: Path) -> None:
    # a county's own workspace: its revstat.yaml and regions.csv are its own, not the example's
    target = tmp_path / "w"
    init_workspace(target)
    own_config = (target / "revstat.yaml").read_text(encoding="utf-8").replace("990100000000", "990121000000")
    (target / "revstat.yaml").write_text(own_config, encoding="utf-8")
    (target / "regions.csv").write_text("code,name,level,parent\n990121000000,东山县,county,\n", encoding="utf-8")
    (target / "sources" / "6_governance.yaml").unlink()  # a table this county does not collect: dropped
    (target / "checks" / "README.md").unlink()  # a standard file gone
    (target / "data" / "2024Q4").mkdir()
    (target / "data" / "2024Q4" / "东山县.xlsx").write_bytes(b"PK")
    written = init_workspace(target, force=True)
    # the README is back; the source removed on purpose is not (it was read, and failed, at the next compile)
    assert written == [target / "checks" / "README.md"]
    assert not (target / "sources" / "6_governance.yaml").exists()
    assert (target / "revstat.yaml").read_text(encoding="utf-8") == own_config
    assert (target / "regions.csv").read_text(encoding="utf-8").count("\n") == 2
    assert (target / "data" / "2024Q4" / "东山县.xlsx").read_bytes() == b"PK"
    result = runner.invoke(app, ["init", str(target), "--force"])
    assert result.exit_code == 0, result.output
    assert "补上缺少的标准文件 0 个" in result.output and "新建工作区" not in result.output
    shutil.rmtree(target / "sources")  # no sources at all: the standard ones are added
    assert len(init_workspace(target, force=True)) == 7


def test_init_into_an_existing_empty_folder(tmp_path: Path) -> None:
    target = tmp_path / "empty"
    target.mkdir()
    assert runner.invoke(app, ["init", str(target)]).exit_code == 0
    assert (target / "regions.csv").is_file()


def test_init_refuses_a_file(tmp_path: Path) -> None:
    target = tmp_path / "afile"
    target.write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["init", str(target)])
    assert result.exit_code == 2


def test_standard_workspace_is_declared_as_package_data() -> None:
    """Every file `revstat init` copies matches a package-data glob (so the wheel ships it)."""
    import fnmatch
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["revstat.std_workspace"]
    std = std_dir("workspace")
    files = [p.relative_to(std).as_posix() for p in std.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts]
    assert "sources/1_monitoring.yaml" in files and "data/README.md" in files
    for rel in files:
        assert any(fnmatch.fnmatch(rel, g) and rel.count("/") == g.count("/") for g in globs), rel


def test_init_in_english_writes_an_english_workspace(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["--lang", "en", "init", str(tmp_path / "en")])
    assert res.exit_code == 0, res.output
    assert "\nlocale: en " in (tmp_path / "en" / "revstat.yaml").read_text(encoding="utf-8")
    res = CliRunner().invoke(app, ["init", str(tmp_path / "zh")])
    assert "\nlocale: zh " in (tmp_path / "zh" / "revstat.yaml").read_text(encoding="utf-8")
