"""The formula language of indicators, checks and record filters: parsed, never ``eval``ed.

A formula is a Python-like expression read with :mod:`ast` and accepted only if every node is on
a small whitelist::

    sanitary_toilet_households / rural_households * 100
    growth(rural_income_per_capita)
    monitored_households == eliminated_households + remaining_households
    monitor_type == "脱贫不稳定户" and persons >= 3

Allowed: numbers, names (field ids, indicator ids, record columns), string literals, ``+ - * /``,
unary ``-``, parentheses, comparisons (chained ok), ``and``/``or``/``not`` and calls of the
functions in :data:`FUNCTIONS`. Everything else (attribute access, subscripts, lambdas,
comprehensions, ``**``, keyword arguments, unknown functions …) is a :class:`DefinitionError`
naming file, line and column.

The parsed tree is made of frozen dataclasses (:class:`Num`, :class:`Str`, :class:`Name`,
:class:`Unary`, :class:`Bin`, :class:`Compare`, :class:`BoolOp`, :class:`Not`, :class:`Call`)
that other engines translate (e.g. to SQL). :func:`evaluate` computes a formula over pandas
Series of Decimal objects (missing = ``None``) and returns the values and a Series of reasons
for the missing ones ("分母为0", "上年同期为0", "缺少2023Q4数据"); never ``inf``.
"""

from __future__ import annotations

import ast
import decimal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Union

from revstat.errors import DefinitionError
from revstat.i18n import t
from revstat.model import Location
from revstat.periods import Period

# ---- the tree ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Num:
    value: Decimal


@dataclass(frozen=True, slots=True)
class Str:
    value: str


@dataclass(frozen=True, slots=True)
class Name:
    id: str


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" | "+"
    operand: Node


@dataclass(frozen=True, slots=True)
class Bin:
    op: str  # "+" | "-" | "*" | "/"
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Compare:
    left: Node
    ops: tuple[str, ...]  # "==" "!=" "<" "<=" ">" ">="
    comparators: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # "and" | "or"
    values: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple[Node, ...]


Node = Union[Num, Str, Name, Unary, Bin, Compare, BoolOp, Not, Call]  # noqa: UP007

#: function name → (min args, max args or None for any number), with a short description.
FUNCTIONS: dict[str, tuple[int, int | None, str]] = {
    "prev_year": (1, 1, "上年同期值 / same period last year"),
    "prev_period": (1, 1, "上期值 / previous period"),
    "ytd": (1, 1, "本年累计（各期之和）/ year to date: sum over the periods of the year so far"),
    "quarterly": (1, 1, "累计数的当期值 x − prev_period(x)（年初期为 x）/ single-period value of a cumulative figure"),
    "growth": (1, 1, "同比增速 (x / prev_year(x) − 1) × 100 / growth over last year, %"),
    "pp": (1, 1, "比上年同期增减的百分点 x − prev_year(x) / change in percentage points"),
    "elapsed": (0, 1, "序时进度：全年已过的比例 % (Q3 → 75) / share of the year elapsed, %"),
    "abs": (1, 1, "绝对值 / absolute value"),
    "min": (2, None, "最小值 / smallest"),
    "max": (2, None, "最大值 / largest"),
    "if_missing": (2, 2, "缺失时取默认值 / x, or the default where x is missing"),
}

_BIN = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


@dataclass(frozen=True)
class Formula:
    """A parsed formula: its text, tree, the names and functions it uses, and where it is."""

    text: str
    tree: Node
    where: Location | None = None
    names: frozenset[str] = field(default_factory=frozenset)
    calls: frozenset[str] = field(default_factory=frozenset)

    @property
    def ratio(self) -> tuple[Node, Node, Decimal] | None:
        """``(numerator, denominator, scale)`` when the formula is ``a / b`` or ``a / b * k``."""
        return ratio_parts(self.tree)

    def __str__(self) -> str:
        return self.text


def ratio_parts(node: Node) -> tuple[Node, Node, Decimal] | None:
    if isinstance(node, Bin) and node.op == "/":
        return node.left, node.right, Decimal(1)
    if isinstance(node, Bin) and node.op == "*":
        for inner, k in ((node.left, node.right), (node.right, node.left)):
            if isinstance(inner, Bin) and inner.op == "/" and isinstance(k, Num):
                return inner.left, inner.right, k.value
    return None


# ---- parsing -------------------------------------------------------------------------------


def _error(what: Any, where: Location | None, line: int | None, col: int | None, text: str) -> DefinitionError:
    base = where or Location("<formula>")
    # formula line 1 is the YAML line of the formula. A column within the formula is said in the
    # message ("公式第5个字符"), not as the place's column: that would read as the YAML line's
    # column, which differs by the key before the formula (and quotes, folding, full-width signs).
    ln = (base.line or 1) + (line or 1) - 1 if base.line is not None or line is not None else None
    loc = Location(base.file, base.sheet, base.cell, line=ln, note=base.note)
    if col is not None:
        what = t("{w}（公式第{c}个字符，“{rest}”处）", "{w} (character {c} of the formula, at “{rest}”)",
                 w=what, c=col, rest=text[col - 1:col + 19])
    return DefinitionError(
        what, loc,
        t("公式只能用数字、字段/指标名、+ - * /、括号、比较、and/or/not 和函数 {funcs}",
          "a formula may use numbers, field/indicator names, + - * /, parentheses, comparisons, "
          "and/or/not and the functions {funcs}", funcs=", ".join(FUNCTIONS)) if text else None,
    )


class _Builder:
    def __init__(self, text: str, where: Location | None) -> None:
        self.text = text
        self.where = where
        self.names: set[str] = set()
        self.calls: set[str] = set()

    def fail(self, node: ast.AST, what: Any) -> DefinitionError:
        return _error(what, self.where, getattr(node, "lineno", None),
                      getattr(node, "col_offset", 0) + 1, self.text)

    def build(self, node: ast.AST) -> Node:  # noqa: C901 - one branch per node kind
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or node.value is None:
                raise self.fail(node, t("不支持的常量 {v}", "unsupported constant {v}", v=repr(node.value)))
            if isinstance(node.value, int | float):
                raw = ast.get_source_segment(self.text, node) or repr(node.value)
                try:
                    return Num(Decimal(raw.replace("_", "")))
                except decimal.InvalidOperation:
                    return Num(Decimal(repr(node.value)))
            if isinstance(node.value, str):
                return Str(node.value)
            raise self.fail(node, t("不支持的常量 {v}", "unsupported constant {v}", v=repr(node.value)))
        if isinstance(node, ast.Name):
            self.names.add(node.id)
            return Name(node.id)
        if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
            return Bin(_BIN[type(node.op)], self.build(node.left), self.build(node.right))
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub | ast.UAdd):
                operand = self.build(node.operand)
                if isinstance(operand, Num):  # fold -3 into a number
                    return Num(-operand.value if isinstance(node.op, ast.USub) else operand.value)
                return Unary("-" if isinstance(node.op, ast.USub) else "+", operand)
            if isinstance(node.op, ast.Not):
                return Not(self.build(node.operand))
        if isinstance(node, ast.Compare) and all(type(op) in _CMP for op in node.ops):
            return Compare(self.build(node.left), tuple(_CMP[type(op)] for op in node.ops),
                           tuple(self.build(c) for c in node.comparators))
        if isinstance(node, ast.BoolOp):
            return BoolOp("and" if isinstance(node.op, ast.And) else "or",
                          tuple(self.build(v) for v in node.values))
        if isinstance(node, ast.Call):
            return self.call(node)
        what = _DESCRIBE.get(type(node).__name__, type(node).__name__)
        raise self.fail(node, t("公式中不允许{w}", "{w_en} is not allowed in a formula", w=what[0], w_en=what[1]))

    def call(self, node: ast.Call) -> Node:
        if not isinstance(node.func, ast.Name):
            raise self.fail(node, t("只能调用内置函数（不能调用方法或表达式）",
                                    "only the built-in functions can be called (no methods)"))
        name = node.func.id
        if name not in FUNCTIONS:
            import difflib

            close = difflib.get_close_matches(name, FUNCTIONS, n=1)
            hint = f"（是否应为 {close[0]}？）" if close else ""
            hint_en = f" (did you mean {close[0]}?)" if close else ""
            raise self.fail(node, t("未知的函数 {f}{h}", "unknown function {f}{h_en}", f=name, h=hint, h_en=hint_en))
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail(node, t("函数 {f} 不接受关键字参数或 *参数", "{f} takes no keyword or * arguments", f=name))
        low, high, _ = FUNCTIONS[name]
        n = len(node.args)
        if n < low or (high is not None and n > high):
            want = str(low) if low == high else (f"{low}+" if high is None else f"{low}–{high}")
            raise self.fail(node, t("函数 {f} 需要 {want} 个参数，写了 {n} 个", "{f} takes {want} arguments, got {n}",
                                    f=name, want=want, n=n))
        self.calls.add(name)
        if name == "elapsed":  # elapsed() or elapsed(period): the argument names the period
            return Call(name, ())
        return Call(name, tuple(self.build(a) for a in node.args))


_DESCRIBE = {
    "Attribute": ("属性访问（.）", "attribute access (.)"),
    "Subscript": ("下标（[]）", "subscripting ([])"),
    "Lambda": ("lambda", "lambda"),
    "ListComp": ("推导式", "a comprehension"), "SetComp": ("推导式", "a comprehension"),
    "DictComp": ("推导式", "a comprehension"), "GeneratorExp": ("推导式", "a comprehension"),
    "BinOp": ("该运算符（只能用 + - * /）", "this operator (only + - * /)"),
    "IfExp": ("条件表达式（请用 if_missing 或比较）", "a conditional expression"),
    "List": ("列表", "a list"), "Tuple": ("元组", "a tuple"), "Dict": ("字典", "a dict"), "Set": ("集合", "a set"),
    "JoinedStr": ("f-字符串", "an f-string"), "NamedExpr": ("赋值", "assignment"),
    "Await": ("await", "await"), "Yield": ("yield", "yield"), "Starred": ("*", "*"),
    "Compare": ("该比较（不能用 in / is）", "this comparison (no in / is)"),
    "UnaryOp": ("该运算符（~）", "this operator (~)"),
}


#: Python's syntax messages as a statistician reads them, in Chinese and in English (Python's own
#: words name a "string literal" and say "(detected at line 1)" of a one-line formula).
_SYNTAX: tuple[tuple[str, str, str], ...] = (
    (r"'(.)' was never closed", "左括号“{0}”没有对应的右括号", "the bracket “{0}” is never closed"),
    (r"unmatched '(.)'", "多余的右括号“{0}”", "a closing “{0}” without its opening bracket"),
    (r"closing parenthesis '(.)' does not match opening parenthesis '(.)'", "右括号“{0}”与左括号“{1}”不配对",
     "the closing “{0}” does not match the opening “{1}”"),
    (r"invalid character '(.)'.*", "不能用的字符“{0}”（运算只用 + - * /，括号用半角 ()）",
     "a character that cannot be used: “{0}” (only + - * / and ASCII brackets ())"),
    (r"invalid decimal literal", "数字写法有误（数字后紧跟了字母？名称不能以数字开头）",
     "a number written wrongly (a letter right after it? a name cannot begin with a digit)"),
    (r"unterminated string literal.*", "引号没有配对（字符串要用一对半角引号括起）",
     "a quote is not closed (a string is written between a pair of ASCII quotes)"),
    (r"invalid syntax\. Maybe you meant '==' or ':=' instead of '='\?", "“=”不能用于公式；比较相等请用“==”",
     "“=” cannot be used in a formula; compare with “==”"),
    (r"invalid syntax\. Perhaps you forgot a comma\?", "两项之间少了运算符（+ - * /）或逗号",
     "an operator (+ - * /) or a comma is missing between two terms"),
    (r"cannot assign .*", "“=”不能用于公式；比较相等请用“==”", "“=” cannot be used in a formula; compare with “==”"),
    (r"(unexpected EOF|incomplete input).*", "公式不完整（结尾缺少一项？）", "the formula is incomplete (a term missing at "
     "the end?)"),
    (r"invalid syntax", "写法有误（缺少或多了运算符、名称或括号）",
     "written wrongly (an operator, a name or a bracket missing or too many)"),
)


#: A Chinese input method's brackets and operators, and the signs of arithmetic and comparison
#: as a statistician types them (× ÷ ≤ ≥ ≠), in their formula spelling.
_FULL_WIDTH = str.maketrans({**dict(zip("（）［］，＋－＊／＜＞＝．×÷", "()[],+-*/<>=.*/", strict=True)),
                             "≤": "<=", "≥": ">=", "≠": "!=", "≦": "<=", "≧": ">="})


def _syntax_words(msg: str) -> tuple[str, str]:
    """Python's syntax message in Chinese and in English, as a statistician reads it."""
    import re

    for pattern, zh, en in _SYNTAX:
        m = re.fullmatch(pattern, msg)
        if m:
            return zh.format(*m.groups()), en.format(*m.groups())
    return msg, msg


def parse_formula(text: str, where: Location | None = None) -> Formula:
    """Parse formula text; a syntax error or a construct off the whitelist raises
    :class:`DefinitionError` with file, line and column (``where`` is the formula's YAML line)."""
    if not isinstance(text, str) or not text.strip():
        raise _error(t("公式是空的", "the formula is empty"), where, None, None, "")
    src = " ".join(text.strip().splitlines()) if "\n" in text.strip() else text.strip()
    src = src.translate(_FULL_WIDTH)  # a Chinese input method's brackets and operators
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError as exc:
        # the column is said within the formula (its text in the YAML may be quoted, folded or
        # use full-width brackets), with the text from there on, so the place is found at a glance
        at = max(1, exc.offset or 1) if exc.offset else len(src) + 1
        rest = src[at - 1:at + 19]
        why, why_en = _syntax_words(exc.msg)
        if rest.startswith("=") and not rest.startswith("=="):
            why, why_en = "“=”不能用于公式；比较相等请用“==”", "“=” cannot be used in a formula; compare with “==”"
        raise _error(t("公式语法错误：{why}（公式第{at}个字符，{rest_zh}处）", "formula syntax error: {why_en} (character "
                       "{at} of the formula, at {rest_en})", why=why, why_en=why_en, at=at,
                       rest_zh=f"“{rest}”" if rest else "结尾", rest_en=f"“{rest}”" if rest else "the end"),
                     where, exc.lineno, None, src) from None
    builder = _Builder(src, where)
    node = builder.build(tree.body)
    return Formula(src, node, where, frozenset(builder.names), frozenset(builder.calls))


def walk(node: Node) -> list[Node]:
    """Every node of a tree, parents before children."""
    out: list[Node] = [node]
    if isinstance(node, Unary | Not):
        out += walk(node.operand)
    elif isinstance(node, Bin):
        out += walk(node.left) + walk(node.right)
    elif isinstance(node, Compare):
        out += walk(node.left)
        for c in node.comparators:
            out += walk(c)
    elif isinstance(node, BoolOp):
        for v in node.values:
            out += walk(v)
    elif isinstance(node, Call):
        for a in node.args:
            out += walk(a)
    return out


def to_text(node: Node) -> str:
    """The formula text of a (sub)tree, fully parenthesised where needed."""
    if isinstance(node, Num):
        return format(node.value, "f")
    if isinstance(node, Str):
        return repr(node.value)
    if isinstance(node, Name):
        return node.id
    if isinstance(node, Unary):
        return f"{node.op}{_paren(node.operand)}"
    if isinstance(node, Bin):
        return f"{_paren(node.left)} {node.op} {_paren(node.right)}"
    if isinstance(node, Compare):
        parts = [_paren(node.left)]
        for op, c in zip(node.ops, node.comparators, strict=True):
            parts += [op, _paren(c)]
        return " ".join(parts)
    if isinstance(node, BoolOp):
        return f" {node.op} ".join(_paren(v) for v in node.values)
    if isinstance(node, Not):
        return f"not {_paren(node.operand)}"
    return f"{node.func}({', '.join(to_text(a) for a in node.args)})"


def _paren(node: Node) -> str:
    text = to_text(node)
    return f"({text})" if isinstance(node, Bin | Compare | BoolOp | Unary) else text


# ---- evaluation ----------------------------------------------------------------------------

#: A period shift: the steps from the period of the computation, e.g. ("prev_year",).
Shift = tuple[str, ...]
Lookup = Callable[[str, Shift], Any]  # (name, shift) → Series indexed by region (or None)


def shift_period(period: Period, shift: Shift) -> Period:
    for step in shift:
        period = period.prev_year() if step == "prev_year" else period.prev_period()
    return period


def evaluate(formula: Formula | Node, lookup: Lookup, *, period: Period | str | None = None,
             index: Any = None, labels: Mapping[str, str] | None = None,
             temporal: Mapping[str, str] | None = None) -> tuple[Any, Any]:
    """Compute a formula for every region at once: ``(values, reasons)``.

    The public entry point; see :func:`revstat.formula_eval.evaluate` for the arguments.
    """
    from revstat.formula_eval import evaluate as _evaluate

    return _evaluate(formula, lookup, period=period, index=index, labels=labels, temporal=temporal)
