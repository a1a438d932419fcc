"""The docs keep up with the code: every command, rule kind and shipped definition is documented or parses."""

from __future__ import annotations

import re

from conftest import REPO

DOCS = REPO / "docs"


def _commands() -> list[str]:
    from revstat.cli import app

    names = []
    for info in app.registered_commands:
        names.append(info.name or info.callback.__name__.replace("_", "-"))
    return names


def test_every_command_is_in_the_cli_page():
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", text, flags=re.M))
    commands = set(_commands())
    assert commands, "no commands registered"
    assert commands == documented, f"undocumented: {commands - documented}; stale: {documented - commands}"


def test_every_rule_kind_is_in_the_checks_page():
    from revstat.checks import RULE_KINDS

    text = (DOCS / "checks.md").read_text(encoding="utf-8")
    missing = [kind for kind in RULE_KINDS if f"`{kind}`" not in text]
    assert not missing, f"rule kinds missing from docs/checks.md: {missing}"


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_second():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", readme, flags=re.S).group(1).strip().splitlines()
    assert len(block) == 2
    assert "revstat compile sample_data" in block[0]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert block[1].strip() in ci


def test_docs_pages_linked_from_the_readme_exist():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(((?:docs/)?[\w./-]+\.md)\)", readme):
        assert (REPO / target).is_file(), target


def test_shipped_definitions_load_with_the_sample_workspace():
    from revstat.definitions import load_indicators
    from revstat.rules import load_rules
    from revstat.workspace import load_workspace

    ws = load_workspace(REPO / "sample_data")
    indicators = load_indicators(ws)
    assert len(indicators) >= 40
    themes = {getattr(i, "theme", None) for i in indicators}
    assert {"monitoring", "guarantees", "income", "funds", "environment", "governance"} <= themes
    rules = load_rules(ws)
    assert len(getattr(rules, "rules", rules)) >= 30
