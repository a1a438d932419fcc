"""`revstat lint` for report templates: what would stop `revstat report` before any data is read.

Every ``*.j2`` file of the workspace's ``templates/`` and of the standard set (a workspace file
replaces the standard one of the same name, as in ``report``) is parsed and compiled with the
same sandboxed Jinja environment the renderer uses (:func:`revstat.render.make_environment`):

* a syntax error (an unclosed ``{% if %}``, an unknown tag, an unknown filter) is an **error**
  with the file and line; for a block that is never closed the line is the block's opening tag;
* a top-level variable that is neither in the report context
  (:data:`revstat.render.CONTEXT_VARIABLES`) nor a global nor set in the template is a
  **warning** with a did-you-mean: ``report`` would stop there (StrictUndefined).

Nothing is rendered: this is static analysis (``env.parse``, ``jinja2.meta``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from revstat.i18n import t
from revstat.model import Issue, Location, Severity

#: Tags that open a block closed by ``end<tag>`` (``set`` only without ``=``).
_BLOCK_TAGS = frozenset({"if", "for", "macro", "call", "filter", "block", "with", "autoescape", "set", "raw", "trans"})


def template_files(template_dirs: Sequence[Path], root: Path) -> Iterator[tuple[str, Path, str]]:
    """(template name, path, path as users see it) of every template ``report`` can load, the
    workspace's first; a name already seen (a workspace template replacing a standard one) is skipped."""
    seen: set[str] = set()
    for folder in template_dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.j2")):
            name = path.relative_to(folder).as_posix()
            if name in seen:
                continue
            seen.add(name)
            try:
                display = str(path.resolve().relative_to(root.resolve()))
            except ValueError:
                display = f"<revstat>/templates/{name}"
            yield name, path, display


def unclosed_block(env: Any, source: str) -> tuple[str, int] | None:
    """The innermost block tag left open at the end of ``source`` and its line, by the tokens."""
    from jinja2 import TemplateSyntaxError

    stack: list[tuple[str, int]] = []
    try:
        tokens = [tok for tok in env.lex(source) if tok[1] != "whitespace"]
    except TemplateSyntaxError:
        return None
    for i, (line, kind, _value) in enumerate(tokens[:-1]):
        if kind != "block_begin" or tokens[i + 1][1] != "name":
            continue
        tag = tokens[i + 1][2]
        if tag == "set":  # {% set x = … %} is a statement, {% set x %}…{% endset %} a block
            rest = []
            for tok in tokens[i + 2:]:
                if tok[1] == "block_end":
                    break
                rest.append(tok)
            if any(tok[1] == "operator" and tok[2] == "=" for tok in rest):
                continue
        if tag in _BLOCK_TAGS:
            stack.append((tag, line))
        elif tag.startswith("end") and stack and stack[-1][0] == tag[3:]:
            stack.pop()
    return stack[-1] if stack else None


def defined_names(ast: Any) -> set[str]:
    """Every name the template itself defines anywhere: set, for targets, macro and call
    parameters, macros, imports. (``jinja2.meta`` counts a name set in one branch of an ``if``
    as possibly undeclared; such a name is the template's own, not a missing context variable.)"""
    from jinja2 import nodes

    names = {n.name for n in ast.find_all(nodes.Name) if n.ctx in ("store", "param")}
    names |= {n.name for n in ast.find_all(nodes.Macro)}
    names |= {n.target for n in ast.find_all(nodes.Import)}
    for node in ast.find_all(nodes.FromImport):
        names |= {alias if isinstance(alias, str) else alias[-1] for alias in node.names}
    return names


def last_line(source: str) -> int:
    """The number of the template's last line (Jinja's own count at the end can be one short)."""
    return max(1, len(source.splitlines()))


def _first_use(ast: Any, name: str) -> int | None:
    from jinja2 import nodes

    lines = [n.lineno for n in ast.find_all(nodes.Name) if n.name == name and n.ctx == "load"]
    return min(lines) if lines else None


def lint_templates(template_dirs: Sequence[Path], root: Path) -> list[Issue]:
    """Syntax errors and unknown top-level variables of every template (see the module doc)."""
    from jinja2 import TemplateSyntaxError, meta

    from revstat.lint import _finding, did_you_mean
    from revstat.render import CONTEXT_VARIABLES, make_environment, syntax_error_text

    env = make_environment(list(template_dirs))
    known = set(CONTEXT_VARIABLES) | set(env.globals)
    out: list[Issue] = []
    for name, path, display in template_files(template_dirs, root):
        source = path.read_text(encoding="utf-8", errors="replace")
        try:
            ast = env.parse(source, name, str(path))
            env.compile(ast, name, str(path))  # unknown filters and tests fail here, as in report
        except TemplateSyntaxError as exc:
            message = exc.message or str(exc)
            line = exc.lineno
            block = unclosed_block(env, source) if message.startswith("Unexpected end of template") else None
            if block is not None:
                tag, line = block
                what = t("模板语法错误：第{line}行的 {{% {tag} %}} 没有对应的 {{% end{tag} %}}（模板在第{end}行结束）",
                         "template syntax error: {{% {tag} %}} on line {line} has no {{% end{tag} %}} (the template ends on line {end})",
                         tag=tag, line=line, end=last_line(source))
            else:
                what = syntax_error_text(message)
            fix = t("改正该行的 Jinja 语法（revstat report 会在这里停止）",
                    "fix the Jinja syntax on that line (revstat report stops here)")
            out.append(_finding("template_syntax", Severity.ERROR,
                                t(f"{what.render('zh')}；{fix.render('zh')}", f"{what.render('en')}; {fix.render('en')}"),
                                Location(display, line=line)))
            continue
        for var in sorted(meta.find_undeclared_variables(ast) - known - defined_names(ast)):
            guess = did_you_mean(var, known)
            hint_zh = f"是否应为 `{guess}`？" if guess else "可用的变量：" + "、".join(CONTEXT_VARIABLES)
            hint_en = f"did you mean `{guess}`?" if guess else "known variables: " + ", ".join(CONTEXT_VARIABLES)
            out.append(_finding("template_variable", Severity.WARNING,
                                t("模板 {name} 用到未定义的变量 `{var}`（报告上下文中没有，模板中也没有 set），"
                                  "revstat report 会在这里停止；{hint}",
                                  "template {name} uses the undefined variable `{var}` (not in the report context nor "
                                  "set in the template): revstat report would stop there; {hint_en}",
                                  name=name, var=var, hint=hint_zh, hint_en=hint_en),
                                Location(display, line=_first_use(ast, var))))
    return out


__all__ = ["defined_names", "last_line", "lint_templates", "template_files", "unclosed_block"]
