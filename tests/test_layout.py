"""Layout detection on plain grids (no files): title, 表号 and 单位 rows, merged headers, code rows."""

from __future__ import annotations

from revstat.sources.layout import (
    Column,
    classify_label,
    detect_layout,
    header_key,
    match_column,
    parse_units,
    split_unit,
    unit_in_row,
)

E = ""


def county_grid() -> tuple[list[list[object]], list[tuple[int, int, int, int]]]:
    rows: list[list[object]] = [
        ["示范市东山县2024年1—12月防返贫动态监测情况表", E, E, E, E],
        [E, E, E, "表\u3000\u3000号：示乡振统1表", E],
        [E, E, E, "制表机关：示范市乡村振兴局", E],
        ["填报单位：东山县乡村振兴局（盖章）", E, E, "单位：户、人、万元", E],
        ["乡镇", "累计纳入监测对象", E, "住院总费用\n（万元）", "已落实帮扶措施户数"],
        [E, "户数", "人 数\u200b", E, E],
        ["甲", 1.0, 2.0, 3.0, 4.0],
        ["合计", 3.0, 9.0, 1.5, 2.0],
        ["城关镇", 1.0, 4.0, 0.5, 1.0],
    ]
    merged = [(0, 0, 0, 4), (4, 0, 5, 0), (4, 1, 4, 2), (4, 3, 5, 3), (4, 4, 5, 4)]
    return rows, merged


def test_header_past_title_meta_and_unit_rows_with_code_row() -> None:
    rows, merged = county_grid()
    layout = detect_layout(rows, merged, anchor="乡镇")
    assert layout.title_rows == [0]
    assert layout.meta_rows == [1, 2, 3]
    assert layout.unit_row == 3 and layout.units == ("户", "人", "万元")
    assert layout.money_units == ["万元"]
    assert layout.header_rows == [4, 5]
    assert layout.code_row == 6 and layout.data_start == 7
    assert [c.label for c in layout.columns] == [
        "乡镇", "累计纳入监测对象/户数", "累计纳入监测对象/人 数", "住院总费用 (万元)", "已落实帮扶措施户数"]
    assert layout.columns[2].parts == ("累计纳入监测对象", "人数")
    assert layout.columns[3].parts == ("住院总费用",) and layout.columns[3].unit == "万元"
    assert "东山县" in layout.title


def test_same_header_found_without_knowing_the_region_column() -> None:
    rows, merged = county_grid()
    layout = detect_layout(rows, merged)
    assert layout.header_rows == [4, 5] and layout.data_start == 7


def test_unmerged_second_header_row_when_the_region_cell_is_blank() -> None:
    rows: list[list[object]] = [["乡镇", "监测对象", E], [E, "户数", "人数"], ["城关镇", "1", "2"]]
    layout = detect_layout(rows, [], anchor="乡镇")
    assert layout.header_rows == [0, 1] and layout.data_start == 2 and layout.code_row is None
    assert [c.label for c in layout.columns] == ["乡镇", "监测对象/户数", "监测对象/人数"]


def test_explicit_header_rows_override_detection() -> None:
    rows: list[list[object]] = [["说明文字", "x"], ["地区", "户数"], ["城关镇", 1]]
    layout = detect_layout(rows, [], header_rows=[1])
    assert layout.header_rows == [1] and layout.data_start == 2
    assert [c.label for c in layout.columns] == ["地区", "户数"]


def test_numeric_code_row_is_skipped_but_small_data_is_not() -> None:
    rows: list[list[object]] = [["乡镇", "a", "b", "c"], [E, 1, 2, 3], ["城关镇", 1, 2, 3]]
    assert detect_layout(rows, [], anchor="乡镇").code_row == 1
    rows = [["乡镇", "a", "b", "c"], ["城关镇", 1, 2, 3]]
    layout = detect_layout(rows, [], anchor="乡镇")
    assert layout.code_row is None and layout.data_start == 1


def test_headers_normalise_brackets_spaces_breaks_and_units() -> None:
    assert split_unit("住院总费用\n（万元）") == ("住院总费用", "万元")
    assert split_unit("农村居民人均\n可支配收入（元）") == ("农村居民人均可支配收入", "元")
    assert split_unit("其中：用于产业发展") == ("其中用于产业发展", None)
    assert split_unit("人均收入(元/人)") == ("人均收入", "元/人")
    assert split_unit("集体经济收入5万元以上村数") == ("集体经济收入5万元以上村数", None)
    assert header_key("累计纳入监测对象／户数") == ("累计纳入监测对象", "户数")
    assert header_key(" 本年新识别 / 人\u200b数 ") == ("本年新识别", "人数")


def _cols(*labels: str) -> list[Column]:
    return [Column(i, header_key(lab), lab) for i, lab in enumerate(labels)]


def test_match_column_exact_suffix_and_unique_last_part() -> None:
    cols = _cols("乡镇", "已消除风险/户数", "未消除风险/户数", "未消除风险/已落实帮扶措施户数", "监测/累计纳入/人数")
    assert match_column(cols, "已消除风险/户数")[0].index == 1
    assert match_column(cols, "已落实帮扶措施户数")[0].index == 3
    assert match_column(cols, "累计纳入/人数")[0].index == 4
    col, close = match_column(cols, "户数")  # two columns end in 户数: ambiguous
    assert col is None and set(close) == {"已消除风险/户数", "未消除风险/户数"}
    col, close = match_column(cols, "已消除风险/人数")
    assert col is None and "已消除风险/户数" in close


def test_row_labels() -> None:
    assert classify_label("合 计") == "total"
    assert classify_label("全县合计") == "total"
    assert classify_label("总计") == "total"
    assert classify_label("一、镇") == "section"
    assert classify_label("（一）乡") == "section"
    assert classify_label("其中：城关社区") == "part"
    assert classify_label("填表人：李四") == "footer"
    assert classify_label("说明：1=2+3") == "footer"
    assert classify_label("单位负责人：赵") == "footer"
    assert classify_label("城关镇") == "data"
    assert classify_label("一里铺镇") == "data"


def test_unit_row() -> None:
    assert unit_in_row([E, "填报单位：东山县", "单位：户、人、元"]) == "户、人、元"
    assert unit_in_row(["金额单位：万元"]) == "万元"
    assert unit_in_row(["填报单位：东山县乡村振兴局"]) is None
    assert parse_units("户、人、万元") == ("户", "人", "万元")


def test_three_row_header_flattens_to_three_parts() -> None:
    rows: list[list[object]] = [
        ["乡镇", "防返贫监测", E, E, E],
        [E, "累计纳入", E, "已消除风险", E],
        [E, "户数", "人数", "户数", "人数"],
        ["城关镇", 1, 2, 3, 4],
    ]
    merged = [(0, 0, 2, 0), (0, 1, 0, 4), (1, 1, 1, 2), (1, 3, 1, 4)]
    layout = detect_layout(rows, merged, anchor="乡镇")
    assert layout.header_rows == [0, 1, 2] and layout.data_start == 3
    assert [c.label for c in layout.columns][1:] == [
        "防返贫监测/累计纳入/户数", "防返贫监测/累计纳入/人数", "防返贫监测/已消除风险/户数", "防返贫监测/已消除风险/人数"]
    assert match_column(layout.columns, "已消除风险/人数")[0].index == 4
    assert match_column(layout.columns, "累计纳入/户数")[0].index == 1
