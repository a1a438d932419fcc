"""Bilingual user-facing text: Chinese first, English with ``--lang en``.

Every message a user can see is built with :func:`t`, which keeps both languages side by
side in the code that raises it, so the two never drift apart::

    t("单元格不是数字 {value!r}", "cell is not a number {value!r}", value="12,3O4")

The CLI picks the language once (``set_lang``); core code never reads it except through
``Text.__str__``.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

LANGS = ("zh", "en")
_lang: ContextVar[str] = ContextVar("revstat_lang", default="zh")


def set_lang(lang: str) -> None:
    """Choose the language of messages (``zh`` or ``en``)."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; use one of {LANGS}")
    _lang.set(lang)


def get_lang() -> str:
    return _lang.get()


@dataclass(frozen=True, slots=True)
class Text:
    """A message in both languages; ``str()`` gives the current language."""

    zh: str
    en: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, lang: str | None = None) -> str:
        lang = lang or get_lang()
        template = self.en if lang == "en" else self.zh
        if not self.params:
            return template
        # a message inside a message speaks the same language
        return template.format(**{k: v.render(lang) if isinstance(v, Text) else v for k, v in self.params.items()})

    def __str__(self) -> str:
        return self.render()


def t(zh: str, en: str, **params: Any) -> Text:
    """Build a bilingual message; ``params`` fill ``{name}`` slots in both texts."""
    return Text(zh, en, params)


#: Units as an English reader writes them. A unit is part of an indicator's definition and stays
#: as written in the data files (indicators.csv, .xlsx); only what is shown in English changes.
_UNITS_EN = {
    "个百分点": "pp", "百分点": "pp", "元": "yuan", "万元": "10k yuan", "亿元": "100M yuan", "元/人": "yuan/person",
    "人": "persons", "万人": "10k persons", "人次": "person-times", "户": "households", "万户": "10k households",
    "个": "", "项": "projects", "家": "entities", "所": "", "座": "", "千米": "km", "公里": "km", "公顷": "ha",
    "亩": "mu", "万亩": "10k mu", "吨": "t", "万吨": "10k t", "次": "times", "天": "days", "年": "years",
    "件": "", "起": "", "处": "", "条": "", "辆": "",
}


def unit_text(unit: str | None, lang: str | None = None) -> str:
    """``unit`` in the current language: Chinese as written; in English the usual English unit
    (个百分点 → pp, 万元 → 10k yuan, 户 → households), an unknown unit as written."""
    unit = unit or ""
    if (lang or get_lang()) != "en":
        return unit
    return _UNITS_EN.get(unit.strip(), unit)


def name_in(item: Any, lang: str | None = None) -> str:
    """A field's or indicator's name in the language: its ``name_en`` in English when it has
    one, else its (Chinese) ``name``."""
    if (lang or get_lang()) == "en":
        return getattr(item, "name_en", None) or item.name
    return item.name


def join(items: Any, lang: str | None = None) -> str:
    """A list as the language writes it: ``甲、乙、丙`` / ``a, b, c``."""
    return (", " if (lang or get_lang()) == "en" else "、").join(str(i) for i in items)
