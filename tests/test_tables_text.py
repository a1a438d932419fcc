"""indicators.csv/.json built from per-column text (revstat.writers.tabletext) are byte for
byte what writing every cell through ``csv_value`` + ``csv.writer`` and ``json.dumps`` wrote
— on hostile tables: formula-like text, quotes, line breaks, Decimals that compare equal but
print differently, NaN/inf in every spelling, mixed types."""

from __future__ import annotations

import csv
import io
import json
import random
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from revstat import tidy
from revstat.writers import tables
from revstat.writers.safe import csv_column, json_value
from revstat.writers.tabletext import ResultText, csv_field

# ---- the per-cell writers of before, as the oracle -------------------------------------------


def oracle_csv(results: pd.DataFrame) -> bytes:
    cols = [c for c in tidy.RESULT_COLUMNS if c in results.columns]
    columns = [csv_column(results[c].to_numpy(dtype=object).tolist()) for c in cols]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(cols)
    writer.writerows(zip(*columns, strict=True))
    return buf.getvalue().encode("utf-8-sig")


def _json_cell(v: object) -> str:
    if v is None:
        return "null"
    if type(v) is Decimal:
        return '"' + json_value(v) + '"' if v.is_finite() else "null"
    if type(v) is str:
        return json.dumps(v, ensure_ascii=False)
    if type(v) is bool:
        return "true" if v else "false"
    return json.dumps(json_value(v), ensure_ascii=False, allow_nan=False)


def oracle_json(results: pd.DataFrame) -> bytes:
    cols = [c for c in tidy.RESULT_COLUMNS if c in results.columns]
    columns = [[_json_cell(v) for v in results[c].to_numpy(dtype=object).tolist()] for c in cols]
    keys = [json.dumps(c) + ":" for c in cols]
    lines = ["{" + ",".join([k + v for k, v in zip(keys, row, strict=True)]) + "}"
             for row in zip(*columns, strict=True)]
    return ("[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n").encode()


def written(results: pd.DataFrame, tmp_path: Path) -> tuple[bytes, bytes]:
    text = tables.result_text(results)
    tables.write_indicators_csv(results, tmp_path / "i.csv", text=text)
    tables.write_indicators_json(results, tmp_path / "i.json", text=text)
    return (tmp_path / "i.csv").read_bytes(), (tmp_path / "i.json").read_bytes()


def assert_same_as_oracle(results: pd.DataFrame, tmp_path: Path) -> None:
    got_csv, got_json = written(results, tmp_path)
    assert got_csv == oracle_csv(results)
    assert got_json == oracle_json(results)
    # the writers called alone (no shared text) write the same
    tables.write_indicators_csv(results, tmp_path / "j.csv")
    tables.write_indicators_json(results, tmp_path / "j.json")
    assert (tmp_path / "j.csv").read_bytes() == got_csv and (tmp_path / "j.json").read_bytes() == got_json


# ---- cells -----------------------------------------------------------------------------------

TEXTS = ["城关镇", "", " ", "a,b", 'say "hi"', "line\nbreak", "cr\rlf\r\n", "tab\there", "=1+1",
         '=HYPERLINK("http://x","点我")', "+SUM(A1)", "-3.2", "-1,234.5", "@x", "＝1", "－x", "\t=1",
         "'=already", "None", "null", "true", "NaN", "back\\slash", "ctl\x01\x1f", "é\u2028\u3000", "0", "-0"]

DECIMALS = [Decimal("1"), Decimal("1.0"), Decimal("1.00"), Decimal("1E+3"), Decimal("1000"),
            Decimal("0E-7"), Decimal("0.000001"), Decimal("1E-7"), Decimal("-0"), Decimal("0"),
            Decimal("-0.00"), Decimal("77.60444683303139585276920064686790"), Decimal("-12.5"),
            Decimal("123456789012345678901234567890"), Decimal("NaN"), Decimal("-NaN"),
            Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("5E+2")]

OTHERS = [None, float("nan"), float("inf"), float("-inf"), -0.0, 0.0, 0.1, 1e16, 1e-7, 3, 0, 1, True,
          False, pd.NA, np.float64(2.5), np.float64("nan"), [1, 2]]


def test_csv_field_quotes_exactly_like_csv_writer() -> None:
    samples = [chr(i) for i in range(0, 0x80)] + TEXTS + ['a"', '"', ",", "x\r", "\n", "日,本"]
    for text in samples:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerow([text, "z"])
        assert csv_field(text) + ",z\r\n" == buf.getvalue(), repr(text)


def _frame(columns: dict[str, list[object]], *, strings: tuple[str, ...] = ()) -> pd.DataFrame:
    df = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in columns.items()})
    for c in strings:
        df[c] = df[c].astype("str")
    return df


def test_every_kind_of_cell(tmp_path: Path) -> None:
    cells = TEXTS + DECIMALS + OTHERS
    n = len(cells)
    df = _frame({
        "indicator": [f"ind{i % 3}" for i in range(n)],
        "name": cells,
        "value": list(reversed(cells)),
        "note": [TEXTS[i % len(TEXTS)] for i in range(n)],
        "incomplete": [bool(i % 2) for i in range(n)],
    })
    df["incomplete"] = df["incomplete"].astype(bool)
    assert_same_as_oracle(df, tmp_path)


@pytest.mark.parametrize("values", [
    DECIMALS,
    [d for d in DECIMALS if d.is_finite()],
    [Decimal("1.5"), None, Decimal("2"), None, Decimal("1.50")] * 30,  # the fast, per-row path
    [Decimal("1.5"), None, Decimal("-0")] * 30,
    [Decimal("1.5"), Decimal("1E+2")] * 30,
    [Decimal("1.5"), 2, None] * 30,                          # an int among Decimals
    [Decimal("1.5"), "1.5", None] * 30,                      # a str among Decimals
    [Decimal("1"), True, 1, 1.0, None, False, Decimal("0")] * 10,  # equal across types
    [True, False, None] * 30,
    [True, False] * 30,
    [None] * 30,
    ["None", None, "x"] * 30,
])
def test_one_column_of(values: list[object], tmp_path: Path) -> None:
    n = len(values)
    df = _frame({"indicator": ["a"] * n, "value": values, "numerator": list(reversed(values)),
                 "target_met": values, "note": ["n"] * n})
    assert_same_as_oracle(df, tmp_path)


def test_string_dtype_columns_with_missing(tmp_path: Path) -> None:
    df = _frame({"indicator": ["a", None, "=b", "c,d"] * 20, "region_code": ["1", "2", "", "4"] * 20,
                 "display": ["1.50", "", None, "—"] * 20}, strings=("indicator", "region_code", "display"))
    assert df["indicator"].isna().any()
    assert_same_as_oracle(df, tmp_path)


def test_empty_and_tiny_tables(tmp_path: Path) -> None:
    empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in tidy.RESULT_COLUMNS})
    assert_same_as_oracle(empty, tmp_path)
    assert_same_as_oracle(pd.DataFrame({"value": [Decimal("1")]}, dtype=object), tmp_path)
    assert_same_as_oracle(pd.DataFrame({"note": [None]}, dtype=object), tmp_path)
    assert_same_as_oracle(pd.DataFrame({"other": [1, 2]}), tmp_path)  # no result column at all
    assert_same_as_oracle(pd.DataFrame(), tmp_path)


@pytest.mark.parametrize("seed", range(16))
def test_random_tables_in_the_results_shape(seed: int, tmp_path: Path) -> None:
    """Tables shaped like real results (few indicators × many regions, repeated values) with
    hostile cells sprinkled in: exercises the grouping of adjacent columns."""
    rng = random.Random(seed)
    n = rng.choice([1, 7, 50, 400, 3000, 6000])
    regions = [(f"99{rng.randrange(10**6):06d}", rng.choice(TEXTS[:8])) for _ in range(rng.randint(1, 40))]
    inds = [f"i{k}" for k in range(rng.randint(1, 6))]
    pool_dec = [Decimal(rng.randint(-10**6, 10**6)).scaleb(-rng.randint(0, 30)) for _ in range(50)] + [None]
    cols: dict[str, list[object]] = {c: [] for c in tidy.RESULT_COLUMNS}
    hostile = TEXTS + DECIMALS + OTHERS
    for i in range(n):
        ind = inds[i % len(inds)]
        code, name = regions[i % len(regions)]
        row = {"indicator": ind, "name": ind + "名", "theme": "t", "region_code": code, "region_name": name,
               "level": "township", "period": "2024Q4", "value": rng.choice(pool_dec),
               "display": rng.choice(["1.50", "", "2"]), "unit": rng.choice(["%", "元"]),
               "numerator": rng.choice(pool_dec), "denominator": rng.choice(pool_dec[:5]),
               "target": rng.choice([None, ">= 65"]), "target_met": rng.choice([None, True, False]),
               "note": rng.choice([None, "分母为0", "缺少x数据"]), "previous": rng.choice(pool_dec),
               "change": None, "change_display": "", "change_unit": "个百分点",
               "incomplete": rng.random() < 0.1, "previous_incomplete": rng.random() < 0.1}
        if rng.random() < 0.02:
            row[rng.choice(tidy.RESULT_COLUMNS)] = rng.choice(hostile)
        for c in tidy.RESULT_COLUMNS:
            cols[c].append(row[c])
    df = _frame(cols)
    if seed % 2:  # indicator by indicator, as compute writes them: long runs of one value
        df = df.iloc[np.argsort([str(v) for v in df["indicator"]], kind="stable")].reset_index(drop=True)
    for c in ("indicator", "name", "theme", "region_code", "region_name", "level", "period", "display",
              "unit", "change_display", "change_unit"):
        if all(isinstance(v, str) for v in df[c]):
            df[c] = df[c].astype("str")
    if all(type(v) is bool for v in df["incomplete"]):
        df["incomplete"] = df["incomplete"].astype(bool)
    assert_same_as_oracle(df, tmp_path)


def test_result_text_doctest_shape() -> None:
    text = ResultText(pd.DataFrame({"a": ["x"]}), ["a"])
    out = io.BytesIO()
    text.write_csv(out)
    assert out.getvalue() == b"a\r\nx\r\n"


def test_each_path_is_taken() -> None:
    """The cases above reach every way of converting a column."""
    from revstat.writers.tabletext import text_column

    decimals = text_column("value", pd.Series([Decimal("1.5"), None, Decimal("1.50"), Decimal("1.5")] * 5,
                                              dtype=object))
    assert decimals.csv == ["1.5", "", "1.50"] and decimals.json == ['"1.5"', "null", '"1.50"']
    odd = text_column("value", pd.Series([Decimal("1E+3"), Decimal("-0"), Decimal("NaN")] * 5, dtype=object))
    assert odd.csv == ["1000", "0", ""] and odd.json == ['"1000"', '"0"', "null"]
    strings = text_column("name", pd.Series(["a", "b", "a"], dtype="str"))
    assert strings.codes is not None and strings.csv == ["a", "b"]
    mixed = text_column("note", pd.Series([True, 1, Decimal(1), "1"] * 5, dtype=object))
    assert mixed.csv == ["true", "1", "1", "1"] and mixed.json == ["true", "1", '"1"', '"1"']


def test_runs_of_one_value_are_grouped_like_factorize() -> None:
    from revstat.writers.tabletext import factorize_runs

    values = np.array(["a"] * 3000 + [None] * 100 + ["b"] * 2000 + ["a"] * 10 + [float("nan")] * 5 + ["c"], dtype=object)
    codes, uniques = factorize_runs(values)
    expected_codes, expected = pd.factorize(values)
    assert list(uniques) == list(expected) and codes.tolist() == expected_codes.tolist()


@pytest.mark.parametrize("column", [
    ["a", "b", None, "a", "c"] * 600,                      # one block repeated
    ["a", "b", None, "a", "c"] * 600 + ["a", "b"],         # … and a part of it at the end
    ["a", "b", "c"] * 500 + ["a", "b", "x"] + ["a", "b", "c"] * 500,  # broken once
    ["a", "b", float("nan")] * 600,                         # NaN is not equal to itself
    [f"r{i % 3161}" for i in range(3161 * 3)],              # regions under each indicator
    [f"r{i}" for i in range(3000)] + ["r0"],                # the first value only comes back at the end
])
def test_repeated_blocks_are_grouped_like_factorize(column: list[object]) -> None:
    from revstat.writers.tabletext import factorize_runs

    values = np.array(column, dtype=object)
    codes, uniques = factorize_runs(values)
    expected_codes, expected = pd.factorize(values)
    assert [str(u) for u in uniques] == [str(u) for u in expected]
    assert codes.tolist() == expected_codes.tolist()


def test_module_examples() -> None:
    import doctest

    from revstat.writers import tabletext

    assert doctest.testmod(tabletext).failed == 0


def test_json_lines_end_as_a_text_file_ends_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The JSON was written in text mode: CRLF on Windows. It still is (json escapes newlines
    inside strings, so only the line ends change)."""
    import os

    df = _frame({"indicator": ["a", "b"], "note": ["line\nbreak", None]})
    monkeypatch.setattr(os, "linesep", "\r\n")
    tables.write_indicators_json(df, tmp_path / "w.json")
    expected = oracle_json(df).replace(b"\n", b"\r\n")
    assert (tmp_path / "w.json").read_bytes() == expected and b"\\n" in expected
