"""Seeded generator of a city quarter of county workbooks for the compile benchmark.

10 counties × 300 villages (15 townships × 20 villages) × 5 sheets — one row per village, in
the sample's source layout (sources 1–5 of sample_data/sources/, with the region column 村 at
village level): a merged title, a 单位 row, a two-row merged header (村代码, 村名称, the fields) and the
data rows (no 合计 row: a county total of village rows has no township to belong to). Written with xlsxwriter; about 15k data rows, ~1 MB.

    python bench/gen_city.py                      # → bench/data/city/ (a workspace)
    python bench/gen_city.py --out /tmp/city --counties 3
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SOURCES = ["1_monitoring.yaml", "2_guarantees.yaml", "3_income.yaml", "4_funds.yaml", "5_environment.yaml"]
VILLAGE = ["前进", "红旗", "团结", "和平", "光明", "胜利", "东风", "友谊", "建设", "幸福",
           "金星", "向阳", "民主", "联合", "丰收", "永安", "新华", "长青", "太平", "兴隆"]
TOWNSHIP = ["城关", "桃源", "石桥", "龙泉", "柳林", "白沙", "河口", "永宁", "三里", "金鸡",
            "长乐", "清溪", "黄土", "上林", "大坪"]
COUNTIES = ["东山县", "西河县", "南岭县", "北川县", "清水县", "青山区", "云溪县", "白石县", "金沙县", "松林县",
            "桃江县", "柳城县"]
PERIOD = "2024Q4"


def regions(counties: int) -> list[tuple[str, str, str, str]]:
    rows = [("990000000000", "示范省", "province", ""), ("990100000000", "示范市", "city", "990000000000")]
    for c in range(counties):
        ccode = f"9901{c + 2:02d}"
        rows.append((ccode + "000000", COUNTIES[c], "county", "990100000000"))
        for ti, tname in enumerate(TOWNSHIP):
            tcode = f"{ccode}{101 + ti:03d}"
            rows.append((tcode + "000", f"{tname}镇", "township", ccode + "000000"))
            for vi, vname in enumerate(VILLAGE):
                rows.append((f"{tcode}{201 + vi:03d}", f"{tname}{vname}村", "village", tcode + "000"))
    return rows


def _source(name: str) -> dict:
    data = yaml.safe_load((REPO / "sample_data" / "sources" / name).read_text(encoding="utf-8"))
    data["region"] = {"column": "村代码", "by": "code", "level": "village"}
    return data


def township_rows(period: str = PERIOD) -> list[dict[str, object]]:
    """The sample city's township rows (field → Decimal or None), read by revstat itself: clean
    data, so every balance relation of the standard checks holds in every village row."""
    from revstat.sources.read import read_sources
    from revstat.workspace import load_workspace

    ws = load_workspace(REPO / "sample_data")
    obs = read_sources(ws, [period]).observations
    obs = obs[(obs["origin"] == "source") & (obs["level"] == "township")]
    rows: dict[str, dict[str, object]] = {}
    for r in obs.itertuples(index=False):
        rows.setdefault(r.region_code, {})[r.field] = r.value
    return [rows[c] for c in sorted(rows)]


def _write_sheet(wb, ws_name: str, title: str, unit: str, fields: list[dict], villages: list[tuple[str, str]],
                 rng: random.Random, values: list[dict[str, object]]) -> None:
    sh = wb.add_worksheet(ws_name)
    merge = wb.add_format({"align": "center", "valign": "vcenter", "border": 1})
    ncol = len(fields) + 2
    sh.merge_range(0, 0, 0, ncol - 1, title, merge)
    sh.write(1, ncol - 1, f"单位：{unit}")
    sh.merge_range(2, 0, 3, 0, "村代码", merge)
    sh.merge_range(2, 1, 3, 1, "村名称", merge)
    col = 2
    groups: list[tuple[str, list[str]]] = []
    for f in fields:
        group, _, sub = f["column"].partition("/")
        if sub and groups and groups[-1][0] == group:
            groups[-1][1].append(sub)
        else:
            groups.append((group, [sub] if sub else []))
    for group, subs in groups:
        if not subs:
            sh.merge_range(2, col, 3, col, group, merge)
            col += 1
            continue
        if len(subs) > 1:
            sh.merge_range(2, col, 2, col + len(subs) - 1, group, merge)
        else:
            sh.write(2, col, group)
        for i, s in enumerate(subs):
            sh.write(3, col + i, s)
        col += len(subs)
    for r, (code, name) in enumerate(villages, start=4):
        sh.write_string(r, 0, code)
        sh.write_string(r, 1, name)
        row = values[rng.randrange(len(values))]  # every village: one sample township's row
        for i, f in enumerate(fields):
            v = row.get(f["id"])
            if v is not None:
                sh.write_number(r, i + 2, float(v))


def generate(out: Path, counties: int = 10, seed: int = 2024) -> Path:
    import xlsxwriter

    if out.exists():
        shutil.rmtree(out)
    (out / "sources").mkdir(parents=True)
    (out / "data" / PERIOD).mkdir(parents=True)
    (out / "revstat.yaml").write_text('name: 基准测试市\nregion: "990100000000"\n', encoding="utf-8")
    rows = regions(counties)
    (out / "regions.csv").write_text("code,name,level,parent\n" + "".join(",".join(r) + "\n" for r in rows),
                                     encoding="utf-8")
    sources = []
    for name in SOURCES:
        data = _source(name)
        (out / "sources" / name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        sources.append(data)
    values = township_rows()
    for code, cname, level, _ in rows:
        if level != "county":
            continue
        villages = [(c, n) for c, n, lv, _ in rows if lv == "village" and c.startswith(code[:6])]
        path = out / "data" / PERIOD / f"{cname}_{PERIOD}.xlsx"
        wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
        for src in sources:
            units = "、".join(dict.fromkeys(f["unit"] for f in src["fields"]))
            _write_sheet(wb, src["sheet"].rstrip("*"), f"示范市{cname}{src['name']}", units, src["fields"], villages,
                         random.Random(f"{seed}{code}"), values)
        wb.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "data" / "city")
    ap.add_argument("--counties", type=int, default=10)
    args = ap.parse_args()
    out = generate(args.out, args.counties)
    size = sum(p.stat().st_size for p in (out / "data").rglob("*.xlsx"))
    print(out, f"{size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
