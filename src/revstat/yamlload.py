"""Load YAML safely, keeping the line of every key, refusing duplicate keys.

* Only ``yaml.SafeLoader`` underneath (its C twin ``CSafeLoader`` when PyYAML has libyaml):
  ``!!python/object`` and friends are refused.
* Duplicate keys are errors (PyYAML silently keeps the last one).
* ``yes``/``no``/``on``/``off`` stay strings (YAML 1.1 would make them booleans), and numbers
  with a leading zero (``010``, region codes) stay strings instead of becoming octal.
* Mappings load as :class:`LineDict` and sequences as :class:`LineList`, which remember the
  line of each key/item, so a validation error can name ``file, line``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from revstat.errors import DefinitionError
from revstat.i18n import t
from revstat.model import Location


class LineDict(dict[str, Any]):
    line: int = 0
    key_lines: dict[Any, int]


class LineList(list[Any]):
    line: int = 0
    item_lines: list[int]


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise _located(loader, key_node, t("键必须是文字", "a key must be text"))
        if key in result:
            raise _located(
                loader, key_node,
                t("重复的键 {key!r}（第{first}行已出现）", "duplicate key {key!r} (first on line {first})",
                  key=key, first=result.key_lines[key]),
                t("删除或合并重复的键", "remove or merge the duplicate key"),
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> int | str:
    text = str(node.value)
    digits = text.lstrip("+-")
    if len(digits) > 1 and digits.startswith("0") and not digits.startswith(("0x", "0o", "0b")):
        return text  # 010, 110101001001: a code, not a number
    return int(yaml.SafeLoader.construct_yaml_int(loader, node))


def _construct_bool(loader: _Loader, node: yaml.ScalarNode) -> bool | str:
    text = str(node.value)
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text  # yes/no/on/off stay text


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:  # 2025-02-30: text, which the schema then refuses with its line
        return str(node.value)


#: The same loader over libyaml's C parser when PyYAML was built with it (3× faster on the
#: standard indicator and rule files). The constructors and the resolver are the Python ones
#: above, so the values, line numbers and duplicate-key errors are the same; a file the C
#: parser refuses is parsed again by the pure-Python one, whose messages are the ones shown.
_CLoader: Any = None
if getattr(yaml, "__with_libyaml__", False):
    class _CLoader(yaml.CSafeLoader):  # type: ignore[no-redef]
        pass

for _cls in (_Loader, _CLoader):
    if _cls is not None:
        _cls.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
        _cls.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
        _cls.add_constructor("tag:yaml.org,2002:int", _construct_int)
        _cls.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
        _cls.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)

_current_file: list[str] = []


def _located(loader: _Loader, node: yaml.Node, what: Any, fix: Any = None) -> DefinitionError:
    name = _current_file[-1] if _current_file else "<yaml>"
    return DefinitionError(what, Location(name, line=node.start_mark.line + 1), fix)


def load_yaml_text(text: str, name: str) -> Any:
    """Parse YAML text; ``name`` is how errors refer to the file."""
    _current_file.append(name)
    try:
        if _CLoader is not None:
            try:
                return yaml.load(text, Loader=_CLoader)  # noqa: S506 - a CSafeLoader
            except DefinitionError:
                raise
            except yaml.YAMLError:
                pass  # parsed again below, for the pure-Python parser's message and position
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except DefinitionError:
        raise
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        raise DefinitionError(
            t("YAML 中有不允许的标签：{p}", "YAML uses a tag that is not allowed: {p}", p=exc.problem),
            Location(name, line=mark.line + 1 if mark else None),
            t("revstat 只读取普通的 YAML（不支持 !!python/... 等标签）",
              "revstat reads plain YAML only (no !!python/... tags)"),
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        why, why_en = _problem(problem)
        opened = getattr(exc, "context_mark", None)
        context = getattr(exc, "context", None) or ""
        if (opened is not None and mark is not None and opened.line < mark.line
                and any(k in context for k in ("flow sequence", "flow mapping", "quoted scalar"))):
            # a bracket or quote left open: the parser notices on a later line, the fix is where it opened
            why = f"{why}（从这里开始，到第{mark.line + 1}行仍未闭合）"
            why_en = f"{why_en} (opened here, still open on line {mark.line + 1})"
            mark = opened
        raise DefinitionError(
            t("YAML 格式错误：{why}（{p}）", "malformed YAML: {why_en} ({p})", p=problem, why=why, why_en=why_en),
            Location(name, line=mark.line + 1 if mark else None,
                     column=mark.column + 1 if mark else None),
            t("检查该行的缩进、冒号和引号", "check indentation, colons and quotes on that line"),
        ) from None
    finally:
        _current_file.pop()


#: PyYAML's problems, as a bureau's staff would understand them (the original stays beside it).
_PROBLEMS = (
    ("mapping values are not allowed here", "此处不能出现“键: 值”：上一行的缩进不对，或值里有未加引号的冒号",
     "a “key: value” cannot start here: the line above is indented wrongly, or a value holds an unquoted colon"),
    ("found character '\\t' that cannot start any token", "有制表符（Tab）：YAML 只能用空格缩进",
     "a tab: YAML is indented with spaces only"),
    ("found a tab character", "有制表符（Tab）：YAML 只能用空格缩进", "a tab: YAML is indented with spaces only"),
    ("could not find expected ':'", "缺少冒号“:”", "a colon “:” is missing"),
    ("did not find expected key", "缩进没有对齐，或缺少“键:”", "the indentation is off, or a “key:” is missing"),
    ("did not find expected ',' or ']'", "方括号 [ ] 没有闭合，或列表项之间缺少逗号",
     "a [ ] bracket is not closed, or a comma is missing between items"),
    ("expected ',' or ']'", "方括号 [ ] 没有闭合，或列表项之间缺少逗号",
     "a [ ] bracket is not closed, or a comma is missing between items"),
    ("did not find expected ',' or '}'", "花括号 { } 没有闭合，或项之间缺少逗号",
     "a { } brace is not closed, or a comma is missing between items"),
    ("expected ',' or '}'", "花括号 { } 没有闭合，或项之间缺少逗号",
     "a { } brace is not closed, or a comma is missing between items"),
    ("did not find expected '-' indicator", "列表项的“-”缩进没有对齐", "the “-” of a list item is not aligned"),
    ("found unexpected end of stream", "文件意外结束：引号或括号没有闭合",
     "the file ends early: a quote or bracket is not closed"),
    ("expected <block end>", "缩进没有对齐", "the indentation is off"),
    ("found undefined alias", "引用了未定义的锚点（*名称）", "an undefined alias (*name) is used"),
    ("found unexpected ':'", "多了一个冒号，或值里的冒号需要加引号", "an extra colon, or a colon in a value needs quotes"),
)


def _problem(problem: str) -> tuple[str, str]:
    """PyYAML's problem in (Chinese, English) words a bureau's staff understand."""
    for start, zh, en in _PROBLEMS:
        if problem.startswith(start):
            return zh, en
    return "格式不对", "the format is wrong"


def load_yaml(path: Path, display_name: str | None = None) -> Any:
    """Read and parse a YAML file (UTF-8, BOM tolerated)."""
    name = display_name or str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DefinitionError(t("找不到文件", "file not found"), Location(name)) from None
    except UnicodeDecodeError:
        raise DefinitionError(
            t("文件不是 UTF-8 编码", "file is not UTF-8"), Location(name),
            t("用 UTF-8 编码另存该文件", "save the file as UTF-8"),
        ) from None
    return load_yaml_text(text, name)


def line_of(data: Any, path: Sequence[int | str]) -> int | None:
    """The line of the node at ``path`` (a pydantic error ``loc``), or of its nearest parent."""
    line: int | None = getattr(data, "line", None)
    node = data
    for part in path:
        if isinstance(node, LineDict) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
        inner = getattr(node, "line", None)
        if inner is not None and not isinstance(node, LineDict | LineList):
            line = inner
    return line
