"""The HTML report in headless Chromium: charts render, Chinese shows, figures carry their
provenance on hover, and no request leaves the machine. Without chromium (or a CJK font) this
fails when CI is set, and skips locally."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from decimal import Decimal as D
from pathlib import Path

import pandas as pd
import pytest

from revstat.regions import make_tree
from revstat.render import build_context, render_template
from revstat.tidy import RESULT_COLUMNS
from revstat.writers.charts import find_cjk_font
from revstat.writers.html import render_html

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
CITY, A, B, C = "990100000000", "990121000000", "990122000000", "990124000000"


def need(thing: object, what: str) -> None:
    if thing:
        return
    message = f"{what} is not installed (Debian: apt-get install chromium fonts-noto-cjk)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    profile.mkdir()
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
           *args, page.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def page_requests(netlog: Path) -> list[str]:
    """http(s) URLs the page asked for (the browser's own service requests have no origin)."""
    data = json.loads(netlog.read_text(encoding="utf-8"))
    names = {v: k for k, v in data["constants"]["logEventTypes"].items()}
    urls = []
    for event in data["events"]:
        params = event.get("params") or {}
        url = str(params.get("url") or "")
        if names.get(event["type"]) == "URL_REQUEST_START_JOB" and url.startswith(("http://", "https://")) \
                and params.get("initiator") != "not an origin":
            urls.append(url)
    return urls


def results() -> pd.DataFrame:
    rows = []
    names = {CITY: ("示范市", "city"), A: ("东山县", "county"), B: ("西河县", "county"), C: ("北川县", "county")}
    values = {"2024Q4": {CITY: "77.56", A: "81.62", B: "78.51", C: "63.62"}, "2024Q3": {CITY: "76.10"},
              "2024Q2": {CITY: "75.20"}}
    for period, by_region in values.items():
        for code, value in by_region.items():
            name, level = names[code]
            rows.append({"indicator": "sanitary_toilet_rate", "name": "农村卫生厕所普及率", "theme": "environment",
                         "region_code": code, "region_name": name, "level": level, "period": period,
                         "value": D(value), "display": value, "unit": "%", "numerator": None, "denominator": None,
                         "target": ">= 65", "target_met": D(value) >= 65, "note": "", "previous": D("75.16"),
                         "change": D("2.40"), "change_display": "2.40", "change_unit": "个百分点", "incomplete": False})
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


TEMPLATE = """# 示范市{{ period.label }}人居环境简报

全市农村卫生厕所普及率为{{ region.sanitary_toilet_rate|level }}，{{ region.sanitary_toilet_rate|change(compare=true) }}，\
分县看{{ children|figs_of('sanitary_toilet_rate')|target }}。

| 地区 | 普及率（%） |
|---|---:|
{% for k in [region] + children %}
| {{ k.name }} | {{ k.sanitary_toilet_rate|num }} |
{% endfor %}

[[chart:bar:sanitary_toilet_rate:农村卫生厕所普及率（分县）]]

[[chart:trend:sanitary_toilet_rate:农村卫生厕所普及率（按季度）]]
"""


@pytest.fixture
def page(tmp_path: Path) -> Path:
    need(CHROMIUM, "chromium")
    font = find_cjk_font()
    need(font, "an openly licensed CJK font")
    tree = make_tree([(CITY, "示范市", "city", None), (A, "东山县", "county", CITY), (B, "西河县", "county", CITY),
                      (C, "北川县", "county", CITY)])
    defs = [{"id": "sanitary_toilet_rate", "name": "农村卫生厕所普及率", "unit": "%", "decimals": 2,
             "formula": "sanitary_toilet_households / rural_households * 100"}]
    ctx = build_context(results(), defs, tree, [], "2024Q4",
                        provenance={f"sanitary_toilet_rate|{C}": "sanitary_toilet_households: 北川县_2024Q4.xlsx›5-人居环境›D9"})
    (tmp_path / "t.md.j2").write_text(TEMPLATE, encoding="utf-8")
    rendered = render_template([tmp_path], "t.md.j2", ctx)
    path = tmp_path / "report.html"
    path.write_text(render_html(rendered.text, ctx, font=font), encoding="utf-8")
    return path


def test_charts_render_and_nothing_leaves_the_machine(page: Path, tmp_path: Path):
    netlog = tmp_path / "netlog.json"
    run = chromium(tmp_path, page, f"--log-net-log={netlog}", "--dump-dom")
    dom = run.stdout
    assert "<body" in dom, run.stderr[-2000:]
    charts = re.findall(r'<figure class="chart" data-chart="(\w+)"><svg', dom)
    assert charts == ["bar", "trend"]
    assert dom.count("<path") > 50  # glyphs and bars drawn as paths: Chinese needs no font in the viewer
    assert "农村卫生厕所普及率为" in dom and "北川县未达到65%的目标" in dom
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*https?://""", dom, re.I)
    assert not re.search(r"url\(\s*['\"]?https?://", dom, re.I)
    assert page_requests(netlog) == []


def test_the_request_detector_sees_an_external_image(tmp_path: Path):
    need(CHROMIUM, "chromium")
    control = tmp_path / "control.html"
    control.write_text('<html><body><img src="http://127.0.0.1:9/x.png"></body></html>', encoding="utf-8")
    netlog = tmp_path / "netlog.json"
    chromium(tmp_path, control, f"--log-net-log={netlog}", "--dump-dom")
    assert page_requests(netlog) == ["http://127.0.0.1:9/x.png"]


def test_figures_show_their_provenance_on_hover(page: Path, tmp_path: Path):
    dom = chromium(tmp_path, page, "--dump-dom").stdout
    spans = re.findall(r'<span class="fig" title="([^"]*)">([^<]*)</span>', dom)
    titles = {shown: title for title, shown in spans}
    assert titles["77.56"].startswith("农村卫生厕所普及率（sanitary_toilet_rate）")
    assert "sanitary_toilet_households / rural_households * 100" in titles["77.56"]
    assert "示范市" in titles["77.56"] and "2024Q4" in titles["77.56"]
    assert "北川县_2024Q4.xlsx›5-人居环境›D9" in titles["63.62"]


def test_a_screenshot_is_produced(page: Path, tmp_path: Path):
    shot = tmp_path / "shot.png"
    chromium(tmp_path, page, f"--screenshot={shot}", "--window-size=1000,1800")
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20000
