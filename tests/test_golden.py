"""Golden snapshot: a ~40-visit log with the manual's examples and every rule, firing and clean."""
from __future__ import annotations

import importlib.util
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"


def load_regen():
    spec = importlib.util.spec_from_file_location("golden_regen", GOLDEN / "regen.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_validate_output_matches_the_committed_snapshot():
    """PT_VALIDATE on tests/golden/validate_log.csv equals validate_log.expected.txt exactly."""
    regen = load_regen()
    got = regen.render(regen.read_table(GOLDEN / "validate_log.csv"))
    want = (GOLDEN / "validate_log.expected.txt").read_text(encoding="utf-8")
    assert got == want, "rule outcomes changed: run python tests/golden/regen.py and review the diff"


def test_snapshot_covers_every_rule_firing_and_the_clean_case():
    """Every rule ID of the validator fires at least once in the snapshot, and clean rows exist."""
    from ptbilling.rules.validate import DATA_RULES, RULES

    text = (GOLDEN / "validate_log.expected.txt").read_text(encoding="utf-8")
    # DATA-DAMAGED is about the user data folder, not the log: the golden log runs on the
    # shipped data, which cannot be damaged; tests/test_store.py makes it fire
    missing = [r for r in RULES if f" {r}:" not in text and r not in DATA_RULES]
    assert not missing, f"rules never firing in the golden log: {missing}"
    assert "\tOK\n" in text
