"""yamlload's C-parser path (libyaml) gives what the pure-Python loader gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from revstat import yamlload
from revstat.errors import DefinitionError

ROOT = Path(__file__).resolve().parent.parent
needs_libyaml = pytest.mark.skipif(yamlload._CLoader is None, reason="PyYAML built without libyaml")


def _load(text: str, loader: Any) -> Any:
    yamlload._current_file.append("x.yaml")
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - both are safe loaders
    finally:
        yamlload._current_file.pop()


def _same(a: Any, b: Any, where: str) -> None:
    assert type(a) is type(b) and a == b, where
    if isinstance(a, dict):
        assert (a.line, a.key_lines) == (b.line, b.key_lines), where
        for key in a:
            _same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert (a.line, a.item_lines) == (b.line, b.item_lines), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")


STANDARD = sorted([*ROOT.glob("indicators/*.yaml"), *ROOT.glob("checks/*.yaml"),
                   *ROOT.glob("sample_data/**/*.yaml")])


@needs_libyaml
@pytest.mark.parametrize("path", STANDARD, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_c_parser_loads_the_standard_files_as_the_python_one(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    _same(_load(text, yamlload._CLoader), _load(text, yamlload._Loader), path.name)


@needs_libyaml
def test_codes_words_and_duplicates_are_treated_alike() -> None:
    text = "code: 010\nflag: no\nn: 12\nok: true\nlist:\n  - 0990\n  - yes\n"
    fast = _load(text, yamlload._CLoader)
    assert fast == {"code": "010", "flag": "no", "n": 12, "ok": True, "list": ["0990", "yes"]}
    assert fast.key_lines == {"code": 1, "flag": 2, "n": 3, "ok": 4, "list": 5}
    with pytest.raises(DefinitionError) as err:
        yamlload.load_yaml_text("a: 1\nb: 2\na: 3\n", "dup.yaml")
    assert err.value.where.line == 3 and "第1行" in err.value.render("zh")


def test_a_malformed_file_is_reported_at_its_line_and_column() -> None:
    with pytest.raises(DefinitionError) as err:
        yamlload.load_yaml_text("name: 示范\nsources:\n  - id: a\n   files: x\n", "bad.yaml")
    where = err.value.where
    assert (where.file, where.line) == ("bad.yaml", 4)
    assert "YAML" in err.value.render("zh")


@pytest.mark.parametrize(("text", "line", "still_open"), [
    ("name: 示范市\nrounding: [half_up\nlocale: zh\n", 2, 3),  # the parser notices on line 3
    ("fields:\n  - {id: a, name: b\n  - {id: c, name: d}\n", 2, 3),
    ("a: \"abc\nb: 2\n", 1, 3),
])
def test_a_bracket_or_quote_left_open_is_reported_where_it_opened(text: str, line: int, still_open: int) -> None:
    with pytest.raises(DefinitionError) as err:
        yamlload.load_yaml_text(text, "revstat.yaml")
    assert err.value.where.line == line
    assert f"（从这里开始，到第{still_open}行仍未闭合）" in err.value.render("zh")
    # the same explanation in English, PyYAML's own words beside it
    english = err.value.what.render("en")
    assert english.startswith("malformed YAML: ") and f"(opened here, still open on line {still_open})" in english
    assert "是" not in english and "闭合" not in english
