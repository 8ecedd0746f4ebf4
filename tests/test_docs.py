"""Documentation matches the code: rule IDs, CLI commands, Excel functions."""
from __future__ import annotations

import re
from pathlib import Path

from ptbilling.cli.main import build_parser
from ptbilling.rules.validate import RULES

ROOT = Path(__file__).resolve().parents[1]


def documented_rules():
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    return {m.group(1): m.group(2) for m in re.finditer(r"^\| `([A-Z0-9-]+)` \| (ERROR|WARN) \|", text, re.M)}


def test_every_rule_in_code_is_on_the_docs_page_and_back():
    """docs/rules.md lists exactly the rule IDs of the validator, with the same severity."""
    docs = documented_rules()
    assert set(docs) == set(RULES), f"only in code: {set(RULES) - set(docs)}; only in docs: {set(docs) - set(RULES)}"
    for rule, (severity, _) in RULES.items():
        assert docs[rule] == severity, rule


def subcommands():
    parser = build_parser()
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    helps = {c.dest: c.help for c in action._choices_actions}
    return action.choices, helps


def test_every_command_has_help_text():
    """Each ptbilling command (and data sub-command) has a help line."""
    choices, helps = subcommands()
    for name in choices:
        assert helps.get(name), f"'ptbilling {name}' has no help text"


def test_every_command_is_documented_in_the_readme():
    """The README's reference mentions every command as 'ptbilling <command>'."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    choices, _ = subcommands()
    for name, sub in choices.items():
        assert f"ptbilling {name}" in readme, f"'ptbilling {name}' is not in the README"
        nested = [a for a in sub._actions if a.__class__.__name__ == "_SubParsersAction"]
        for action in nested:
            for child in action.choices:
                assert f"ptbilling {name} {child}" in readme, f"'ptbilling {name} {child}' is not in the README"
                assert any(c.dest == child and c.help for c in action._choices_actions), f"{name} {child} has no help"


def test_every_excel_function_is_documented_in_the_readme():
    """Each PT_ function in ptbilling.udfs has a section in the README."""
    import ptbilling.udfs as udfs

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in dir(udfs):
        if name.startswith("PT_"):
            assert f"=`{name}(" in readme or f"`={name}(" in readme, f"{name} is not documented in the README"
