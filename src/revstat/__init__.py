"""revstat: compile, check and report rural-revitalization statistics (乡村振兴统计).

The public API, imported lazily so that ``import revstat`` (and ``revstat --help``) stays fast::

    import revstat
    ws = revstat.load_workspace("sample_data")
    compiled = revstat.compile_workspace(ws, "2024Q4")      # read → roll up → compute
    revstat.write_outputs(compiled)                          # out/2024Q4/indicators.csv …
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_workspace": "revstat.workspace",
    "Workspace": "revstat.workspace",
    "read_sources": "revstat.sources",
    "read_records": "revstat.records",
    "roll_up": "revstat.hierarchy",
    "parse_formula": "revstat.formula",
    "load_indicators": "revstat.definitions",
    "compute_indicators": "revstat.indicators",
    "compile_workspace": "revstat.pipeline",
    "write_outputs": "revstat.pipeline",
    "load_rules": "revstat.rules",
    "run_checks": "revstat.checks",
    "check_workspace": "revstat.check_run",
    "lint_workspace": "revstat.lint",
    "build_context": "revstat.render",
    "make_report": "revstat.report",
    "parse_number": "revstat.numbers",
    "format_fixed": "revstat.numbers",
    "Period": "revstat.periods",
    "RevstatError": "revstat.errors",
    "Location": "revstat.model",
    "Issue": "revstat.model",
    "Severity": "revstat.model",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'revstat' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
