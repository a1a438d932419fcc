"""Generate the sample city 示范市: regions.csv, county workbooks and their own totals.

Seeded (``random.Random(2024)``) and deterministic: running it twice writes identical files
(fixed workbook dates, fixed zip timestamps). The numbers are clean — every balance relation
the standard checks test holds — but the workbooks are messy in form, the way counties send
them: merged titles, a 表号 block, 单位 rows, two-row merged headers, code rows (甲/1/2/3),
合计 rows at the top or the bottom, numbers typed as text ("1,234", full-width "１２３"),
a few "—" or blank cells, one county reporting money in 元, spaces in township names,
headers with line breaks and "（万元）", and a footer with a 说明 line.

Usage::

    python sample_data/generate.py            # rewrite sample_data/{regions.csv,data,expected_totals.json}
    python sample_data/generate.py --out DIR  # write into DIR instead (tests compare the two)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import Path

import xlsxwriter
import xlsxwriter.utility

HERE = Path(__file__).resolve().parent
SEED = 2024
PERIODS = [f"{y}Q{q}" for y in (2023, 2024) for q in (1, 2, 3, 4)]
PROVINCE = ("990000000000", "示范省")
CITY = ("990100000000", "示范市")

# County code prefix (6 digits), name, townships as (3-digit block, name).
COUNTIES: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("990102", "青山区", [("001", "城东街道"), ("101", "北湖镇"), ("102", "新店镇"), ("103", "东湖镇"),
                        ("104", "长岭镇"), ("105", "姚集镇"), ("106", "马坊镇"), ("201", "高桥乡"),
                        ("202", "平原乡"), ("203", "河西乡")]),
    ("990121", "东山县", [("101", "城关镇"), ("102", "桃源镇"), ("103", "石桥镇"), ("104", "龙泉镇"),
                        ("105", "柳林镇"), ("106", "白沙镇"), ("201", "新华乡"), ("202", "梅岭乡"),
                        ("203", "杨家乡"), ("204", "红星乡")]),
    ("990122", "西河县", [("101", "城关镇"), ("102", "河口镇"), ("103", "永宁镇"), ("104", "三里镇"),
                        ("105", "金鸡镇"), ("106", "长乐镇"), ("201", "新华乡"), ("202", "马庄乡"),
                        ("203", "双井乡"), ("204", "高岭乡")]),
    ("990123", "南岭县", [("101", "太平镇"), ("102", "安乐镇"), ("103", "清溪镇"), ("104", "黄土镇"),
                        ("105", "上林镇"), ("106", "大坪镇"), ("201", "竹园乡"), ("202", "花桥乡"),
                        ("203", "松柏乡"), ("204", "五里乡")]),
    ("990124", "北川县", [("101", "曲山镇"), ("102", "擂鼓镇"), ("103", "陈家镇"), ("104", "平安镇"),
                        ("105", "兴隆镇"), ("106", "福田镇"), ("201", "白马乡"), ("202", "青龙乡"),
                        ("203", "坝底乡"), ("204", "小河乡")]),
    ("990125", "清水县", [("101", "永清镇"), ("102", "红堡镇"), ("103", "白驼镇"), ("104", "金集镇"),
                        ("105", "秦亭镇"), ("106", "太平镇"), ("201", "王河乡"), ("202", "郭川乡"),
                        ("203", "黄门乡"), ("204", "松树乡")]),
]
VILLAGE_NAMES = ["前进村", "红旗村", "团结村", "和平村", "光明村", "胜利村", "东风村", "友谊村",
                 "建设村", "幸福村", "金星村", "向阳村", "民主村", "联合村", "丰收村", "永安村"]
VILLAGES_PER_TOWNSHIP = 5

# How each county's workbooks are messy (by county name).
TOTAL_AT_TOP = {"东山县", "南岭县", "清水县"}          # 合计 right under the header; others at the bottom
MONEY_IN_YUAN = {"西河县"}                            # funds sheet reported in 元 (单位：元)
LOW_TOILETS = {"北川县"}                              # 卫生厕所普及率 under the 65% target
SEQ_COLUMN = {"北川县", "清水县"}                     # an extra 序号 column before 乡镇
TEXT_GROUPED = {"南岭县"}                             # some numbers typed as "1,234"
TEXT_FULLWIDTH = {"清水县"}                           # some numbers typed in full-width digits
TEXT_PLAIN = {"青山区"}                               # some numbers stored as text "356"
NAME_SPACES = {("东山县", "城关镇"): " 城关镇", ("东山县", "桃源镇"): "桃源　镇",
               ("北川县", "曲山镇"): "曲山镇 ", ("西河县", "新华乡"): "新 华 乡"}
MISSABLE = ["public_welfare_jobs", "family_doctor_signed", "stations_5g_built"]
TWO = Decimal("0.01")


@dataclass
class Sheet:
    """One sheet kind: mirrors a file in sources/ (field ids, headers and units)."""

    source: str
    name: str
    title: str
    unit_row: str
    fields: list[tuple[str, str, str]]  # (field id, header "parent/child", unit)
    notes: str
    code_row: bool = True
    display: dict[str, str] = field(default_factory=dict)  # header text as written, if it differs


SHEETS = [
    Sheet("monitoring", "1-防返贫监测情况", "防返贫动态监测情况表", "单位：户、人", [
        ("monitored_households", "累计纳入监测对象/户数", "户"),
        ("monitored_persons", "累计纳入监测对象/人数", "人"),
        ("new_monitored_households", "本年新识别/户数", "户"),
        ("new_monitored_persons", "本年新识别/人数", "人"),
        ("eliminated_households", "已消除风险/户数", "户"),
        ("eliminated_persons", "已消除风险/人数", "人"),
        ("remaining_households", "未消除风险/户数", "户"),
        ("remaining_persons", "未消除风险/人数", "人"),
        ("remaining_assisted_households", "已落实帮扶措施户数", "户"),
        ("illness_risk_households", "风险类型/因病", "户"),
        ("disability_risk_households", "风险类型/因残", "户"),
        ("employment_risk_households", "风险类型/就业不稳定", "户"),
    ], "说明：1=5+7，2=6+8，9≤7，10+11+12≤1；人数≥户数。", True),
    Sheet("guarantees", "2-三保障和饮水安全", "“两不愁三保障”和饮水安全情况表", "单位：人、户、万元", [
        ("poverty_persons", "脱贫人口数", "人"),
        ("compulsory_dropouts", "义务教育阶段辍学人数", "人"),
        ("medical_insured", "基本医疗保险参保人数", "人"),
        ("pension_should", "基本养老保险/应参保人数", "人"),
        ("pension_insured", "基本养老保险/已参保人数", "人"),
        ("family_doctor_signed", "家庭医生签约人数", "人"),
        ("inpatient_cost", "住院总费用", "万元"),
        ("inpatient_reimbursed", "住院费用报销金额", "万元"),
        ("housing_unsafe_found", "住房安全/排查发现问题户数", "户"),
        ("housing_renovated", "住房安全/完成改造户数", "户"),
        ("rural_population", "农村常住人口", "人"),
        ("tap_water_population", "饮水安全/自来水覆盖人口", "人"),
        ("scale_water_population", "饮水安全/规模化供水覆盖人口", "人"),
    ], "说明：3≤1，5≤4≤1，6≤1，8≤7，10≤9，13≤12≤11。", False,
        {"住院总费用": "住院总费用\n（万元）", "住院费用报销金额": "住院费用报销金额\n（万元）"}),
    Sheet("income", "3-收入与就业", "农民收入和就业情况表", "单位：元、人", [
        ("rural_income_per_capita", "农村居民人均可支配收入", "元"),
        ("poverty_income_per_capita", "脱贫人口人均纯收入", "元"),
        ("relocated_persons", "易地扶贫搬迁/脱贫人口数", "人"),
        ("relocated_income_per_capita", "易地扶贫搬迁/人均纯收入", "元"),
        ("relocated_households", "易地扶贫搬迁/户数", "户"),
        ("relocated_labor", "易地扶贫搬迁/劳动力人数", "人"),
        ("relocated_labor_employed", "易地扶贫搬迁/已就业人数", "人"),
        ("poverty_labor_migrant", "脱贫劳动力务工/务工人数", "人"),
        ("poverty_labor_migrant_target", "脱贫劳动力务工/目标任务数", "人"),
        ("public_welfare_jobs", "公益性岗位安置人数", "人"),
    ], "说明：收入为1—N月累计数；5≤3，7≤6≤3。", True,
        {"农村居民人均可支配收入": "农村居民人均\n可支配收入（元）"}),
    Sheet("funds", "4-衔接资金和项目", "衔接资金和项目情况表", "单位：万元", [
        ("linkage_funds", "衔接资金/下达资金", "万元"),
        ("linkage_funds_industry", "衔接资金/其中用于产业发展", "万元"),
        ("funds_spent", "衔接资金/已支出", "万元"),
        ("projects_planned", "项目/计划实施", "个"),
        ("projects_started", "项目/已开工", "个"),
        ("projects_completed", "项目/已完工", "个"),
        ("investment_planned", "项目投资/计划投资", "万元"),
        ("investment_completed", "项目投资/完成投资", "万元"),
    ], "说明：2≤1，3≤1，6≤5≤4，8≤7；项目个数单位为个。", False),
    Sheet("environment", "5-人居环境和基础设施", "农村人居环境和基础设施情况表", "单位：户、个、公里", [
        ("rural_households", "农村常住户数", "户"),
        ("sanitary_toilet_households", "卫生厕所户数", "户"),
        ("admin_villages", "行政村数", "个"),
        ("sewage_treated_villages", "生活污水治理行政村数", "个"),
        ("garbage_system_villages", "生活垃圾收运处置体系覆盖行政村数", "个"),
        ("road_km_built", "新建改建农村公路", "公里"),
        ("stations_5g_built", "新建5G基站", "个"),
    ], "说明：2≤1，4≤3，5≤3；6、7为1—N月累计数。", True,
        {"新建改建农村公路": "新建改建农村公路\n（公里）"}),
    Sheet("governance", "6-乡村治理和集体经济", "乡村治理和村集体经济情况表", "单位：件、个、万元", [
        ("disputes_found", "矛盾纠纷/排查", "件"),
        ("disputes_resolved", "矛盾纠纷/化解", "件"),
        ("problems_found", "问题整改/排查发现", "个"),
        ("problems_rectified", "问题整改/已整改", "个"),
        ("collective_income", "村集体经济收入", "万元"),
        ("villages_income_over_50k", "集体经济收入5万元以上村数", "个"),
    ], "说明：2≤1，4≤3；1—4、5为1—N月累计数。", False,
        {"村集体经济收入": "村集体经济收入\n（万元）"}),
]


# ---- numbers ---------------------------------------------------------------------------

def _round(x: float, places: int = 0) -> Decimal:
    q = Decimal(1).scaleb(-places)
    return Decimal(repr(x)).quantize(q, rounding=ROUND_HALF_UP)


def _floor(x: float) -> int:
    return int(Decimal(repr(x)).to_integral_value(rounding=ROUND_FLOOR))


def _shares(rng: random.Random, lows: tuple[float, float, float], highs: tuple[float, float, float],
            last: float = 1.0) -> list[float]:
    """Cumulative shares of a year's flow after Q1..Q4, strictly increasing, Q4 = ``last``."""
    out = [rng.uniform(lo, hi) for lo, hi in zip(lows, highs, strict=True)]
    return [*out, last]


def _township_values(rng: random.Random, county: str, low_toilets: bool) -> dict[str, dict[str, Decimal]]:
    """Every field for one township and every period (k = 0..7: 2023Q1..2024Q4)."""
    v: dict[str, dict[str, Decimal]] = {p: {} for p in PERIODS}
    D = Decimal

    # — households, population (stocks, constant within a year) —
    households = rng.randint(2500, 9000)
    hh = [households, _floor(households * rng.uniform(0.985, 1.0))]
    per_hh = rng.uniform(2.6, 3.2)
    pop = [_floor(h * per_hh) for h in hh]
    poverty = [_floor(pop[0] * rng.uniform(0.06, 0.15))]
    poverty.append(poverty[0] + rng.randint(-8, 3))
    base_rate = rng.uniform(0.56, 0.62) if low_toilets else rng.uniform(0.68, 0.86)

    # — monitoring —
    base_h = rng.randint(60, 220)
    ratio = rng.uniform(2.6, 3.4)
    base_p = _floor(base_h * ratio)
    elim_frac = [rng.uniform(0.62, 0.72)]
    for _ in range(7):
        elim_frac.append(min(0.95, elim_frac[-1] + rng.uniform(0.005, 0.03)))
    risk_fracs = (rng.uniform(0.30, 0.40), rng.uniform(0.10, 0.18), rng.uniform(0.15, 0.25))
    prior_h, prior_p = base_h, base_p

    # yearly parameters: 2023 drawn, 2024 grown from 2023 (incomes, funds +5–15%)
    a23 = {
        "n_new": rng.randint(8, 30), "income": rng.uniform(14000, 17000), "pov_income_f": rng.uniform(0.82, 0.95),
        "rel_income_f": rng.uniform(0.85, 0.97), "relocated": rng.randint(40, 400),
        "rel_hh_f": rng.uniform(3.1, 3.6), "rel_labor_f": rng.uniform(0.55, 0.65),
        "target_f": rng.uniform(0.40, 0.50), "welfare_jobs": rng.randint(15, 80),
        "inpatient_f": rng.uniform(0.05, 0.09), "reimb": rng.uniform(0.86, 0.92), "housing_found": rng.randint(2, 12),
        "alloc": rng.uniform(600, 2500), "ind_share": rng.uniform(0.58, 0.68), "projects": rng.randint(8, 30),
        "invest_f": rng.uniform(1.1, 1.4), "roads": rng.uniform(3, 20), "g5": rng.randint(2, 15),
        "disputes": rng.randint(20, 120), "problems": rng.randint(10, 60), "coll": rng.uniform(40, 150),
        "over50": rng.randint(3, 5), "sewage": rng.randint(1, 3), "garbage": rng.randint(4, 5),
    }
    a24 = dict(a23)
    a24.update(
        n_new=max(5, _floor(a23["n_new"] * rng.uniform(0.7, 1.1))), income=a23["income"] * rng.uniform(1.06, 1.12),
        pov_income_f=a23["pov_income_f"] * rng.uniform(1.01, 1.03), relocated=a23["relocated"] + rng.randint(0, 6),
        welfare_jobs=a23["welfare_jobs"] + rng.randint(0, 8), inpatient_f=a23["inpatient_f"] * rng.uniform(1.05, 1.12),
        housing_found=max(1, a23["housing_found"] - rng.randint(0, 2)), alloc=a23["alloc"] * rng.uniform(1.05, 1.15),
        ind_share=a23["ind_share"] + rng.uniform(0.01, 0.04), projects=a23["projects"] + rng.randint(0, 4),
        roads=a23["roads"] * rng.uniform(0.9, 1.2), g5=a23["g5"] + rng.randint(0, 3),
        disputes=_floor(a23["disputes"] * rng.uniform(0.85, 1.1)), problems=_floor(a23["problems"] * rng.uniform(0.85, 1.1)),
        coll=a23["coll"] * rng.uniform(1.05, 1.15), over50=min(5, a23["over50"] + rng.randint(0, 1)),
        sewage=min(4, a23["sewage"] + 1), garbage=5,
    )
    tap_f = rng.uniform(0, 0.02)
    scale_f = rng.uniform(0.62, 0.85)
    for y, a in enumerate((a23, a24)):
        n_new = a["n_new"]
        new_sh = _shares(rng, (0.15, 0.40, 0.65), (0.30, 0.55, 0.85))
        new_ratio = rng.uniform(2.4, 3.4)
        income = a["income"]
        inc_sh = _shares(rng, (0.26, 0.49, 0.73), (0.28, 0.51, 0.75))
        pov_income = income * a["pov_income_f"]
        rel_income = pov_income * a["rel_income_f"]
        relocated = a["relocated"]
        rel_hh = max(1, _floor(relocated / a["rel_hh_f"]))
        rel_labor = _floor(relocated * a["rel_labor_f"])
        target = _floor(poverty[y] * a["target_f"])
        migrant_f = [rng.uniform(0.93, 0.99), rng.uniform(1.0, 1.04), rng.uniform(1.01, 1.05), rng.uniform(1.0, 1.05)]
        welfare_jobs = a["welfare_jobs"]
        inpatient = poverty[y] * a["inpatient_f"]
        inp_sh = _shares(rng, (0.20, 0.45, 0.70), (0.28, 0.53, 0.78))
        reimb = a["reimb"]
        housing_found = a["housing_found"]
        alloc = a["alloc"]
        alloc_sh = _shares(rng, (0.55, 0.80, 0.92), (0.65, 0.88, 0.97))
        ind_share = a["ind_share"]
        spent_sh = _shares(rng, (0.15, 0.40, 0.65), (0.22, 0.50, 0.75), rng.uniform(0.92, 0.98))
        projects = a["projects"]
        started_f = [rng.uniform(0.3, 0.5), rng.uniform(0.7, 0.85), rng.uniform(0.9, 1.0), 1.0]
        done_f = [rng.uniform(0.05, 0.15), rng.uniform(0.3, 0.45), rng.uniform(0.6, 0.75), rng.uniform(0.85, 0.98)]
        invest = alloc * a["invest_f"]
        invest_sh = _shares(rng, (0.15, 0.40, 0.65), (0.22, 0.50, 0.75), rng.uniform(0.88, 0.97))
        roads = a["roads"]
        road_sh = _shares(rng, (0.10, 0.35, 0.60), (0.25, 0.50, 0.80))
        g5 = a["g5"]
        g5_sh = _shares(rng, (0.10, 0.35, 0.60), (0.25, 0.50, 0.80))
        disputes = a["disputes"]
        disp_sh = _shares(rng, (0.20, 0.45, 0.70), (0.28, 0.53, 0.78))
        problems = a["problems"]
        prob_sh = _shares(rng, (0.20, 0.45, 0.70), (0.28, 0.53, 0.78))
        coll = a["coll"]
        coll_sh = _shares(rng, (0.10, 0.35, 0.60), (0.20, 0.50, 0.75))
        over50_target = a["over50"]
        sewage = a["sewage"]
        garbage = a["garbage"]

        resolved_prev = rectified_prev = 0
        for q in range(4):
            k = y * 4 + q
            p = PERIODS[k]
            row = v[p]
            # monitoring
            new_h = int(_round(n_new * new_sh[q])) if q < 3 else n_new
            new_p = new_h + _floor(new_h * (new_ratio - 1))
            mon_h, mon_p = prior_h + new_h, prior_p + new_p
            elim_h = _floor(mon_h * elim_frac[k])
            rem_h = mon_h - elim_h
            elim_p = min(max(_floor(mon_p * elim_h / mon_h), elim_h), mon_p - rem_h)
            row.update(monitored_households=D(mon_h), monitored_persons=D(mon_p),
                       new_monitored_households=D(new_h), new_monitored_persons=D(new_p),
                       eliminated_households=D(elim_h), eliminated_persons=D(elim_p),
                       remaining_households=D(rem_h), remaining_persons=D(mon_p - elim_p),
                       remaining_assisted_households=D(rem_h),
                       illness_risk_households=D(_floor(mon_h * risk_fracs[0])),
                       disability_risk_households=D(_floor(mon_h * risk_fracs[1])),
                       employment_risk_households=D(_floor(mon_h * risk_fracs[2])))
            if q == 3:
                prior_h, prior_p = mon_h, mon_p
            # guarantees
            pp = poverty[y]
            should = _floor(pp * 0.66)
            cost = _round(inpatient * inp_sh[q], 2)
            found_h = max(1, int(_round(housing_found * (q + 1) / 4)))
            renovated = _floor(found_h * (0.5, 0.7, 0.85, 1.0)[q])
            tap = _floor(pop[y] * min(0.985, 0.90 + 0.01 * k + tap_f))
            row.update(poverty_persons=D(pp), compulsory_dropouts=D(0),
                       medical_insured=D(pp - rng.randint(0, 3)),
                       pension_should=D(should), pension_insured=D(should - rng.randint(0, 2)),
                       family_doctor_signed=D(_floor(pp * rng.uniform(0.92, 0.99))),
                       inpatient_cost=cost, inpatient_reimbursed=_round(float(cost) * reimb, 2),
                       housing_unsafe_found=D(found_h), housing_renovated=D(renovated),
                       rural_population=D(pop[y]), tap_water_population=D(tap),
                       scale_water_population=D(_floor(tap * scale_f)))
            # income
            labor_emp = _floor(rel_labor * rng.uniform(0.92, 0.99))
            row.update(rural_income_per_capita=_round(income * inc_sh[q]),
                       poverty_income_per_capita=_round(pov_income * inc_sh[q]),
                       relocated_persons=D(relocated),
                       relocated_income_per_capita=_round(rel_income * inc_sh[q]),
                       relocated_households=D(rel_hh), relocated_labor=D(rel_labor),
                       relocated_labor_employed=D(labor_emp),
                       poverty_labor_migrant=D(_floor(target * migrant_f[q])),
                       poverty_labor_migrant_target=D(target),
                       public_welfare_jobs=D(welfare_jobs))
            # funds (万元)
            funds = _round(alloc * alloc_sh[q], 2)
            row.update(linkage_funds=funds,
                       linkage_funds_industry=_round(float(funds) * ind_share, 2),
                       funds_spent=_round(alloc * spent_sh[q], 2),
                       projects_planned=D(projects),
                       projects_started=D(_round(projects * started_f[q])),
                       projects_completed=D(min(_round(projects * done_f[q]), _round(projects * started_f[q]))),
                       investment_planned=_round(invest, 2),
                       investment_completed=_round(invest * invest_sh[q], 2))
            # environment
            rate = min(0.95, base_rate + 0.006 * k)
            coll_q = _round(coll * coll_sh[q], 2)
            row.update(rural_households=D(hh[y]),
                       sanitary_toilet_households=D(_floor(hh[y] * rate)),
                       admin_villages=D(VILLAGES_PER_TOWNSHIP),
                       sewage_treated_villages=D(min(sewage + (1 if q >= 2 and sewage < 5 else 0), 5)),
                       garbage_system_villages=D(garbage),
                       road_km_built=_round(roads * road_sh[q], 1),
                       stations_5g_built=D(int(_round(g5 * g5_sh[q]))))
            # governance
            d_found = int(_round(disputes * disp_sh[q])) if q < 3 else disputes
            resolved_prev = min(d_found, max(resolved_prev, _floor(d_found * rng.uniform(0.93, 0.99))))
            p_found = int(_round(problems * prob_sh[q])) if q < 3 else problems
            rectified_prev = min(p_found, max(rectified_prev, _floor(p_found * rng.uniform(0.80, 0.98))))
            row.update(disputes_found=D(d_found), disputes_resolved=D(resolved_prev),
                       problems_found=D(p_found), problems_rectified=D(rectified_prev),
                       collective_income=coll_q,
                       villages_income_over_50k=D(min(over50_target, _floor(float(coll_q) / 5))))
    return v


# ---- the city ------------------------------------------------------------------------

@dataclass
class Township:
    code: str
    name: str
    values: dict[str, dict[str, Decimal]]


@dataclass
class County:
    code: str
    name: str
    townships: list[Township]


def build_city() -> list[County]:
    rng = random.Random(SEED)
    counties = []
    for prefix, name, towns in COUNTIES:
        townships = [Township(f"{prefix}{block}000", tname,
                              _township_values(rng, name, name in LOW_TOILETS))
                     for block, tname in towns]
        counties.append(County(f"{prefix}000000", name, townships))
    # one dropout, long ago, in one township (义务教育辍学 is 0 almost everywhere)
    counties[3].townships[4].values["2023Q1"]["compulsory_dropouts"] = Decimal(1)
    return counties


def region_rows(counties: list[County]) -> list[tuple[str, str, str, str]]:
    rows = [(PROVINCE[0], PROVINCE[1], "province", ""), (CITY[0], CITY[1], "city", PROVINCE[0])]
    for c in counties:
        rows.append((c.code, c.name, "county", CITY[0]))
        for tw in c.townships:
            rows.append((tw.code, tw.name, "township", c.code))
            for i in range(VILLAGES_PER_TOWNSHIP):
                vname = VILLAGE_NAMES[(int(tw.code[6:9]) + i * 3) % len(VILLAGE_NAMES)]
                rows.append((f"{tw.code[:9]}{201 + i:03d}", vname, "village", tw.code))
    return rows


def choose_missing(counties: list[County]) -> dict[str, list[tuple[int, int, str]]]:
    """A few blank/"—" cells per period (fields no clean check depends on)."""
    rng = random.Random(SEED + 1)
    out: dict[str, list[tuple[int, int, str]]] = {}
    for p in PERIODS:
        picks: set[tuple[int, int, str]] = set()
        while len(picks) < 3:
            picks.add((rng.randrange(len(counties)), rng.randrange(10), rng.choice(MISSABLE)))
        out[p] = sorted(picks)
    return out


# ---- workbooks -----------------------------------------------------------------------

_FULLWIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


def _cell_value(d: Decimal, county: str, key: int) -> object:
    """How a county types a number: mostly numbers; some text, as counties send it."""
    if county in TEXT_GROUPED and key % 4 == 1 and abs(d) >= 1000:
        return f"{d:,}"
    if county in TEXT_FULLWIDTH and key % 9 == 2:
        return str(d).translate(_FULLWIDTH)
    if county in TEXT_PLAIN and key % 6 == 3:
        return str(d)
    return int(d) if d == d.to_integral_value() else float(d)


def _period_label(period: str) -> tuple[int, int]:
    return int(period[:4]), int(period[5]) * 3


def write_workbook(path: Path, county: County, period: str, missing: set[tuple[str, str]],
                   sheet_index_offset: int) -> dict[tuple[str, str], str]:
    """Write one county's workbook; returns {(township code, field): "sheet!A1"}."""
    year, month = _period_label(period)
    cells: dict[tuple[str, str], str] = {}
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False})
    wb.set_properties({"title": f"{CITY[1]}{county.name}{year}年1—{month}月乡村振兴统计报表",
                       "author": f"{county.name}乡村振兴局", "company": f"{county.name}乡村振兴局",
                       "created": dt.datetime(year + (month == 12), month % 12 + 1, 10, 9, 0, 0)})
    title_fmt = wb.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
    head_fmt = wb.add_format({"bold": True, "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True})
    cell_fmt = wb.add_format({"border": 1})
    total_fmt = wb.add_format({"border": 1, "bold": True})
    small = wb.add_format({"font_size": 9})
    seq = county.name in SEQ_COLUMN
    in_yuan = county.name in MONEY_IN_YUAN
    total_top = county.name in TOTAL_AT_TOP
    for si, sheet in enumerate(SHEETS):
        ws = wb.add_worksheet(sheet.name)
        first = 1 if seq else 0  # column of 乡镇
        ncols = first + 1 + len(sheet.fields)
        last = ncols - 1
        ws.set_column(0, 0, 6 if seq else 14)
        ws.set_column(first, first, 14)
        ws.set_column(first + 1, last, 11)
        ws.merge_range(0, 0, 0, last, f"{CITY[1]}{county.name}{year}年1—{month}月{sheet.title}", title_fmt)
        ws.set_row(0, 30)
        block = [f"表　　号：示乡振统{si + 1}表", "制表机关：示范市乡村振兴局",
                 "批准文号：示统制〔2023〕15号", "有效期至：2025年12月"]
        for r, text in enumerate(block, start=1):
            ws.merge_range(r, last - 2, r, last, text, small)
        unit = sheet.unit_row
        if in_yuan and sheet.source == "funds":
            unit = "单位：元"
        ws.merge_range(5, 0, 5, first + 2, f"填报单位：{county.name}乡村振兴局（盖章）")
        ws.write(5, last - 1 if last - 1 > first + 2 else last, unit)
        # two-row header
        hr = 6
        if seq:
            ws.merge_range(hr, 0, hr + 1, 0, "序号", head_fmt)
        ws.merge_range(hr, first, hr + 1, first, "乡镇", head_fmt)
        col = first + 1
        fields = sheet.fields
        i = 0
        while i < len(fields):
            header = fields[i][1]
            if "/" in header:
                parent = header.split("/")[0]
                j = i
                while j < len(fields) and fields[j][1].split("/")[0] == parent and "/" in fields[j][1]:
                    j += 1
                if j - i > 1:
                    ws.merge_range(hr, col, hr, col + j - i - 1, parent, head_fmt)
                else:
                    ws.write(hr, col, parent, head_fmt)
                for n in range(i, j):
                    child = fields[n][1].split("/", 1)[1]
                    ws.write(hr + 1, col + n - i, sheet.display.get(fields[n][1], child), head_fmt)
                col += j - i
                i = j
            else:
                ws.merge_range(hr, col, hr + 1, col, sheet.display.get(header, header), head_fmt)
                col += 1
                i += 1
        ws.set_row(hr + 1, 32)
        row = hr + 2
        if sheet.code_row and (si + sheet_index_offset) % 2 == 0:
            if seq:
                ws.write(row, 0, "甲", head_fmt)
            ws.write(row, first, "乙" if seq else "甲", head_fmt)
            for n in range(len(fields)):
                ws.write(row, first + 1 + n, n + 1, head_fmt)
            row += 1
        scale = Decimal(10000) if (in_yuan and sheet.source == "funds") else Decimal(1)

        order: list[Township | None] = list(county.townships)  # None = the 合计 row
        order.insert(0 if total_top else len(order), None)
        for ti, tw in enumerate(order):
            if tw is None:
                if seq:
                    ws.write_blank(row, 0, None, total_fmt)
                ws.write(row, first, "合计", total_fmt)
                for n, (fid, _h, unit_) in enumerate(fields):
                    s = sum((t.values[period][fid] for t in county.townships if (t.code, fid) not in missing),
                            Decimal(0))
                    if unit_ == "万元":
                        s = s * scale
                    ws.write_number(row, first + 1 + n, int(s) if s == s.to_integral_value() else float(s), total_fmt)
                row += 1
                continue
            if seq:
                ws.write(row, 0, county.townships.index(tw) + 1, cell_fmt)
            ws.write_string(row, first, NAME_SPACES.get((county.name, tw.name), tw.name), cell_fmt)
            for n, (fid, _h, unit_) in enumerate(fields):
                c = first + 1 + n
                a1 = xlsxwriter.utility.xl_rowcol_to_cell(row, c)
                cells[(tw.code, fid)] = f"{sheet.name}!{a1}"
                if (tw.code, fid) in missing:
                    if (ti + n) % 2:
                        ws.write_string(row, c, "—", cell_fmt)
                    else:
                        ws.write_blank(row, c, None, cell_fmt)
                    continue
                d = tw.values[period][fid]
                if unit_ == "万元":
                    d = d * scale
                value = _cell_value(d, county.name, ti * 7 + n * 3 + si)
                if isinstance(value, str):
                    ws.write_string(row, c, value, cell_fmt)
                else:
                    ws.write_number(row, c, value, cell_fmt)
            row += 1
        row += 1
        ws.merge_range(row, 0, row, last, sheet.notes)
        ws.merge_range(row + 1, 0, row + 1, last,
                       "单位负责人：赵建国　　统计负责人：钱秀英　　填表人：孙立新　　"
                       f"报出日期：{year + (month == 12)}年{month % 12 + 1}月10日")
        ws.freeze_panes(hr + 2, first + 1)
    wb.close()
    return cells


# ---- totals ----------------------------------------------------------------------------

def expected_totals(counties: list[County], missing: dict[str, list[tuple[int, int, str]]],
                    cells: dict[str, dict[tuple[str, str], str]]) -> dict[str, object]:
    units = {fid: unit for s in SHEETS for fid, _h, unit in s.fields}
    out: dict[str, object] = {
        "generator": "sample_data/generate.py", "seed": SEED,
        "note": ("Sums of the township values (origin source) of each county and of the city, in the "
                 "field's declared unit (money in 万元, also for the county that reports in 元); "
                 "missing cells are listed under 'missing' and excluded. For per-capita incomes "
                 "(agg wmean) the sum is a check of reading, not an indicator."),
        "units": units, "periods": {},
    }
    for p in PERIODS:
        miss = {(counties[ci].townships[ti].code, f) for ci, ti, f in missing[p]}
        per_county: dict[str, object] = {}
        city = dict.fromkeys(units, Decimal(0))
        for c in counties:
            totals = {}
            for fid in units:
                s = sum((tw.values[p][fid] for tw in c.townships if (tw.code, fid) not in miss), Decimal(0))
                totals[fid] = str(s)
                city[fid] += s
            per_county[c.code] = {"name": c.name, "file": f"data/{p}/{c.name}_{p}.xlsx", "fields": totals}
        out["periods"][p] = {  # type: ignore[index]
            "counties": per_county,
            "city": {"code": CITY[0], "name": CITY[1], "fields": {k: str(v) for k, v in city.items()}},
            "missing": [{"county": counties[ci].code, "township": counties[ci].townships[ti].code,
                         "township_name": counties[ci].townships[ti].name, "field": f,
                         "file": f"data/{p}/{counties[ci].name}_{p}.xlsx",
                         "cell": cells[p][(counties[ci].townships[ti].code, f)]}
                        for ci, ti, f in missing[p]],
        }
    return out


def generate(out: Path) -> None:
    out = Path(out)
    counties = build_city()
    (out / "regions.csv").write_text(
        "code,name,level,parent\n" + "".join(",".join(r) + "\n" for r in region_rows(counties)),
        encoding="utf-8")
    missing = choose_missing(counties)
    cells: dict[str, dict[tuple[str, str], str]] = {}
    for p in PERIODS:
        folder = out / "data" / p
        folder.mkdir(parents=True, exist_ok=True)
        miss = {(counties[ci].townships[ti].code, f) for ci, ti, f in missing[p]}
        cells[p] = {}
        for ci, c in enumerate(counties):
            cells[p].update(write_workbook(folder / f"{c.name}_{p}.xlsx", c, p, miss, ci))
    totals = expected_totals(counties, missing, cells)
    (out / "expected_totals.json").write_text(
        json.dumps(totals, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: sample_data/)")
    args = parser.parse_args()
    generate(args.out)
    print(f"wrote {args.out}/regions.csv, data/<period>/*.xlsx, expected_totals.json")


if __name__ == "__main__":
    main()
