"""YAML loading, configuration models, periods and the region tree."""

from decimal import Decimal

import pytest

from revstat.config import SourceDef, WorkspaceConfig, validate_model
from revstat.errors import ConfigError, DefinitionError, ErrorGroup, SourceError
from revstat.periods import Period
from revstat.regions import make_tree, parse_regions
from revstat.yamlload import load_yaml_text


def test_duplicate_keys_are_errors_with_the_line():
    with pytest.raises(DefinitionError) as info:
        load_yaml_text("name: a\nregion: '1'\nname: b\n", "revstat.yaml")
    assert info.value.where.line == 3
    assert "重复的键" in str(info.value)


def test_python_tags_are_refused():
    with pytest.raises(DefinitionError, match="不允许的标签"):
        load_yaml_text("x: !!python/object/apply:os.system ['echo hi']\n", "a.yaml")


def test_codes_and_yes_no_stay_text():
    data = load_yaml_text("code: 010\nflag: no\nn: 12\nok: true\n", "a.yaml")
    assert data == {"code": "010", "flag": "no", "n": 12, "ok": True}


def test_malformed_yaml_names_line_and_column():
    with pytest.raises(DefinitionError) as info:
        load_yaml_text("a: [1, 2\nb: 3\n", "x.yaml")
    assert info.value.where.file == "x.yaml" and info.value.where.line is not None


def test_unknown_key_is_reported_at_its_line():
    text = "name: 示范市\nregion: '990100000000'\nrounding: half_up\nroundnig: x\n"
    with pytest.raises(DefinitionError) as info:
        validate_model(WorkspaceConfig, load_yaml_text(text, "revstat.yaml"), "revstat.yaml")
    assert info.value.where.line == 4
    assert "未知的键" in str(info.value)


def test_several_errors_are_collected():
    text = ("id: s\nname: x\nfiles: '../outside/*.xlsx'\nregion: {column: 乡镇}\n"
            "fields:\n  - {id: a, name: A, unit: 户, agg: wmean}\n")
    with pytest.raises(ErrorGroup) as info:
        validate_model(SourceDef, load_yaml_text(text, "sources/s.yaml"), "sources/s.yaml")
    lines = sorted(e.where.line for e in info.value.errors)
    assert lines == [3, 6]


def test_periods():
    p = Period.parse("2024q3")
    assert str(p) == "2024Q3"
    assert str(p.prev_year()) == "2023Q3"
    assert str(Period.parse("2024Q1").prev_period()) == "2023Q4"
    assert p.elapsed() == Decimal(75)
    assert p.label_zh() == "2024年1—9月"
    assert [str(x) for x in p.year_to_date()] == ["2024Q1", "2024Q2", "2024Q3"]
    with pytest.raises(ConfigError, match="无法识别的报告期"):
        Period.parse("2024-3")


TREE_ROWS = [
    ("990100000000", "示范市", "city", None),
    ("990121000000", "东山县", "county", "990100000000"),
    ("990122000000", "西河县", "county", "990100000000"),
    ("990121100000", "城关镇", "township", "990121000000"),
    ("990121200000", "柳树乡", "township", "990121000000"),
    ("990122100000", "城关镇", "township", "990122000000"),
]


def test_names_match_after_normalising_within_the_county():
    tree = make_tree(TREE_ROWS)
    assert tree.match(" 柳树　乡\u200b") == "990121200000"
    assert tree.match("城关镇", within="990122000000") == "990122100000"
    assert tree.match("990121100000") == "990121100000"


def test_ambiguous_and_unknown_names_list_candidates():
    tree = make_tree(TREE_ROWS)
    with pytest.raises(SourceError, match="有歧义"):
        tree.match("城关镇")
    with pytest.raises(SourceError) as info:
        tree.match("柳村乡", within="990121000000")
    assert "柳树乡" in info.value.fix.render()


def test_a_name_without_its_suffix_matches_but_a_different_suffix_does_not():
    """城关 is 城关镇; 柳树镇 or 柳树村 is not 柳树乡 (another place, or a renamed one: the cell
    must say which), so a village row is never read as its township's."""
    tree = make_tree([*TREE_ROWS, ("990121201000", "石桥", "village", "990121200000")])
    assert tree.match("柳树", within="990121000000") == "990121200000"
    assert tree.match("石桥村", within="990121000000") == "990121201000"  # regions.csv gives no suffix
    for typed in ("柳树镇", "柳树村"):
        with pytest.raises(SourceError) as info:
            tree.match(typed, within="990121000000")
        assert "未知的地区名称" in info.value.render("zh") and "柳树乡" in info.value.fix.render("zh")


def test_county_found_in_a_file_name():
    tree = make_tree(TREE_ROWS)
    assert tree.find_in_text("东山县_2024Q4.xlsx") == "990121000000"
    assert tree.find_in_text("汇总.xlsx") is None


def test_regions_csv_errors_name_the_line():
    with pytest.raises(ConfigError) as info:
        parse_regions("code,name,level,parent\n990100000000,示范市,city,\n9.9E+11,东山县,county,990100000000\n",
                      "regions.csv")
    assert info.value.where.line == 3
    with pytest.raises(ConfigError, match="重复的地区代码"):
        parse_regions("code,name,level,parent\n990100000000,a,city,\n990100000000,b,city,\n", "regions.csv")
    # a parent that is not listed, and a cycle: the line of the region that names it
    with pytest.raises(ConfigError, match="的上级 990200000000 不在 regions.csv 中") as info:
        parse_regions("code,name,level,parent\n990100000000,示范市,city,\n990121000000,东山县,county,990100000000\n"
                      "990122000000,西河县,county,990200000000\n", "regions.csv")
    assert info.value.where.line == 4
    with pytest.raises(ConfigError, match="成环") as info:
        parse_regions("code,name,level,parent\n990100000000,示范市,city,990121000000\n"
                      "990121000000,东山县,county,990100000000\n", "regions.csv")
    assert info.value.where.line == 2


def test_atomic_outputs_get_the_usual_permissions(tmp_path):
    import os

    from revstat.writers.atomic import atomic_dir, atomic_file

    old = os.umask(0o022)
    try:
        with atomic_file(tmp_path / "a.csv") as tmp:
            tmp.write_text("x")
        with atomic_dir(tmp_path / "out") as folder:
            (folder / "b.csv").write_text("y")
    finally:
        os.umask(old)
    assert (tmp_path / "a.csv").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755


def test_every_public_name_resolves():
    import revstat

    for name in revstat.__all__:
        assert getattr(revstat, name) is not None, name


@pytest.mark.parametrize(("text", "zh"), [
    ("a: 1\n  b: 2\n", "缩进不对"),
    ("a:\n\tb: 1\n", "制表符（Tab）"),
    ("a: [1, 2\nb: 3\n", "方括号 [ ] 没有闭合"),
    ("a: 'x\n", "引号或括号没有闭合"),
])
def test_malformed_yaml_is_explained_in_chinese_with_the_parsers_words_beside(text, zh):
    with pytest.raises(DefinitionError) as info:
        load_yaml_text(text, "x.yaml")
    message = info.value.render("zh")
    assert zh in message and "（" in message  # PyYAML's own words in brackets, for searching
    assert zh not in info.value.render("en")


def test_unknown_key_suggests_the_closest_key_of_the_model_at_any_depth():
    text = "name: 示范市\nregion: '990100000000'\nrounding: half_up\nroundnig: x\n"
    with pytest.raises(DefinitionError) as info:
        validate_model(WorkspaceConfig, load_yaml_text(text, "revstat.yaml"), "revstat.yaml")
    assert "roundnig: 未知的键（是否应为 rounding？）" in info.value.render("zh")
    assert "roundnig: unknown key (did you mean rounding?)" in info.value.render("en")
    nested = "id: s\nname: x\nfiles: 'data/*.xlsx'\nregion: {column: 乡镇}\nfields:\n  - {id: a, name: A, unit: 户, untt: x}\n"
    with pytest.raises(DefinitionError) as info:
        validate_model(SourceDef, load_yaml_text(nested, "sources/s.yaml"), "sources/s.yaml")
    assert info.value.where.line == 6 and "是否应为 unit" in info.value.render("zh")


def test_a_value_outside_the_choices_lists_them_in_both_languages():
    text = "name: 示范市\nregion: '990100000000'\nrounding: halfup\n"
    with pytest.raises(DefinitionError) as info:
        validate_model(WorkspaceConfig, load_yaml_text(text, "revstat.yaml"), "revstat.yaml")
    assert "取值 'halfup' 不在可选值之中：'half_up'、'half_even'（是否应为 half_up？）" in info.value.render("zh")
    assert "value 'halfup' is not one of 'half_up' or 'half_even' (did you mean half_up?)" in info.value.render("en")


def test_a_village_named_with_its_township_and_shared_names_in_hints():
    from revstat.errors import SourceError

    tree = make_tree([
        ("510727000000", "青溪县", "county", None),
        ("510727101000", "南坝镇", "township", "510727000000"), ("510727102000", "古城镇", "township", "510727000000"),
        ("510727101201", "红旗村", "village", "510727101000"), ("510727102201", "红旗村", "village", "510727102000"),
        ("510727102202", "桅杆村", "village", "510727102000")])
    assert tree.match("古城镇桅杆村") == "510727102202"  # as findings and reports name it
    assert tree.match("南坝镇红旗村") == "510727101201"  # the name alone is ambiguous
    with pytest.raises(SourceError) as info:
        tree.match("红旗镇村")
    assert "最接近的已知名称：红旗村（南坝镇）、红旗村（古城镇）" in info.value.fix.render("zh")
