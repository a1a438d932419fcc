"""Charts for reports (matplotlib, Agg): a rate by region with its target line, and a trend over
periods. Chinese needs a CJK font with an open licence, found at run time (Noto Sans CJK from
Debian's fonts-noto-cjk, or WenQuanYi); never SimHei. Without one, :func:`find_cjk_font` returns
None and the writers leave the charts out with a warning (no boxes instead of characters).

Charts are drawn from the exact values; the labels on the bars are the results' display strings.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

#: Openly licensed CJK fonts, in order of preference (OFL / Apache / GPL-with-font-exception).
CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
_OPEN_NAMES = ("notosanscjk", "notoserifcjk", "sourcehansans", "sourcehanserif", "wqy-", "droidsansfallback")


def find_cjk_font() -> Path | None:
    """An openly licensed CJK font file, or None. ``REVSTAT_CJK_FONT`` may name one (a path);
    ``REVSTAT_CJK_FONT=none`` turns charts off (used by tests of the fallback)."""
    env = os.environ.get("REVSTAT_CJK_FONT")
    if env:
        if env.lower() == "none":
            return None
        return Path(env) if Path(env).is_file() else None
    for candidate in CJK_FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    for root in ("/usr/share/fonts", "/usr/local/share/fonts", str(Path.home() / ".fonts")):
        if not Path(root).is_dir():
            continue
        for dirpath, _dirs, files in os.walk(root):
            for name in sorted(files):
                if name.lower().endswith((".ttc", ".otf", ".ttf")) and name.lower().startswith(_OPEN_NAMES):
                    return Path(dirpath) / name
    return None


@dataclass(frozen=True)
class Series:
    labels: list[str]  # region names or period labels
    values: list[Decimal | None]  # exact values (missing → no bar)
    displays: list[str]  # display strings printed on the bars


def _pyplot(font: Path):  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    font_manager.fontManager.addfont(str(font))
    family = font_manager.FontProperties(fname=str(font)).get_name()
    plt.rcParams.update({"font.family": [family], "font.sans-serif": [family], "axes.unicode_minus": False,
                         "svg.fonttype": "path", "svg.hashsalt": "revstat", "figure.dpi": 100})
    return plt


def _save(fig, fmt: str) -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    fig.savefig(buf, format=fmt, bbox_inches="tight", metadata=metadata, dpi=150 if fmt == "png" else None)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def bar_chart(series: Series, title: str, unit: str, target: Decimal | None, font: Path, fmt: str = "svg",
              lang: str = "zh") -> bytes:
    """Bars by region from zero (a bar's height is its value: an axis cut at 50 would make 63.62
    look a third of 81.62), value labels from the display strings, a dashed target line named in a
    legend beside the plot (a label on the line would sit on the bars' value labels)."""
    plt = _pyplot(font)
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    xs = list(range(len(series.labels)))
    heights = [float(v) if v is not None else 0.0 for v in series.values]
    colours = ["#c0392b" if (target is not None and v is not None and v < target) else "#2e6da4"
               for v in series.values]
    ax.bar(xs, heights, color=colours, width=0.6)
    for x, v, d in zip(xs, series.values, series.displays, strict=True):
        ax.text(x, float(v) if v is not None else 0.0, d if v is not None else "—", ha="center", va="bottom", fontsize=8)
    if target is not None:
        goal = f"{target.normalize():f}{unit}"
        ax.axhline(float(target), color="#555555", linestyle="--", linewidth=1,
                   label=f"target {goal}" if lang == "en" else f"目标{goal}")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    ax.set_xticks(xs, series.labels)
    ax.set_title(title, fontsize=11)
    ax.set_ylabel(unit)
    ax.spines[["top", "right"]].set_visible(False)
    present = [float(v) for v in series.values if v is not None]
    if present and unit == "%":
        ax.set_ylim(min(0.0, *present), max([*present, 100.0]) * 1.08)
    return _save(fig, fmt)


def trend_chart(series: Series, title: str, unit: str, font: Path, fmt: str = "svg") -> bytes:
    """A line over periods (missing periods are gaps)."""
    plt = _pyplot(font)
    fig, ax = plt.subplots(figsize=(6.4, 3.0))
    xs = list(range(len(series.labels)))
    ys = [float(v) if v is not None else float("nan") for v in series.values]
    ax.plot(xs, ys, marker="o", color="#2e6da4")
    for x, v, d in zip(xs, series.values, series.displays, strict=True):
        if v is not None:
            ax.annotate(d, (x, float(v)), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    ax.set_xticks(xs, series.labels)
    ax.set_title(title, fontsize=11)
    ax.set_ylabel(unit)
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, fmt)
