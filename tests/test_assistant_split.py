"""CQ/CO units by 42 CFR 410.59/410.60(a)(4) and the CY 2022 rule: CMS's examples, every boundary, properties.

Each CMS example goes through PT_UNITS (as Excel calls it, with xlwings' own
conversion) and PT_VALIDATE (the right billing is clean, a wrong split is an
ERROR). Reference: therapy-billing-rules.md section 5.
"""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xlwings_harness as xh
from ptbilling.logs.cells import check_table
from ptbilling.rules.assistant_split import (
    de_minimis_minutes,
    era_for,
    modifiers_from,
    split_timed,
    split_untimed,
)
from ptbilling.rules.errors import BadValue
from ptbilling.rules.service_units import explain_visit, log_units, visit_units

D2022 = dt.date(2022, 3, 1)
D2021 = dt.date(2021, 3, 1)
HEADER = ["Patient", "Date", "Payer", "Provider", "Code", "Modifiers", "Minutes", "Units", "Assistant Minutes"]


def excel(func, *args):
    return xh.call_as_excel(func, *args)


def col(*values):
    """A one-column range as xlwings hands it (numbers as floats)."""
    return tuple((float(v) if isinstance(v, int) else v,) for v in values)


def pt_units(lines, date=dt.datetime(2025, 3, 3)):
    """=PT_UNITS(minutes, codes, "CMS", , modifiers, assistant minutes, dates) over (minutes, code, mods[, asst])."""
    lines = [tuple(ln) + (None,) * (4 - len(ln)) for ln in lines]
    got = excel("PT_UNITS", col(*[m for m, *_ in lines]), col(*[c for _, c, *_ in lines]), "CMS", xh.MISSING,
                col(*[mods for _, _, mods, _ in lines]), col(*[a for *_, a in lines]), col(*[date] * len(lines)))
    return [r[0] for r in got]


def validate(lines, date=dt.datetime(2025, 3, 3), payer="Medicare"):
    """PT_VALIDATE over (provider, code, mods, minutes, units[, assistant minutes]) of one visit.

    2025 by default (the 2022 rule; the shipped fee schedule year, so the KX check runs)."""
    table = [HEADER] + [["A", date, payer, p, c, mods, m, u, (rest[0] if rest else None)]
                        for p, c, mods, m, u, *rest in lines]
    return check_table(table)[1:]


def split_rules(texts):
    return [t for t in texts if any(r in t for r in ("UNITS-", "ASSIST-", "GROUP-"))]


# --- CMS's worked examples (86 FR 65171-65175) -------------------------------------------------

EXAMPLES = {
    # name: (lines as (provider, code, modifiers, minutes), units by the rule on each line)
    "#1": ([("PTA", "97110", "GP CQ", 23), ("PT", "97110", "GP", 13), ("PT", "97140", "GP", 30)], [1, 1, 2]),
    "#2": ([("PTA", "97110", "GP CQ", 19), ("PT", "97110", "GP", 10)], [1, 1]),
    "#A": ([("PTA", "97110", "GP CQ", 10), ("PT", "97110", "GP", 5)], [1, 0]),
    "#B": ([("PTA", "97110", "GP CQ", 5), ("PT", "97110", "GP", 6)], [1, 0]),
    "#C": ([("PTA", "97110", "GP CQ", 22), ("PT", "97110", "GP", 23)], [1, 2]),
    "#D": ([("PT", "97110", "GP", 12), ("PTA", "97110", "GP CQ", 14), ("PT", "97140", "GP", 20)], [1, 1, 1]),
    "#E": ([("OTA", "97535", "GO CO", 11), ("OT", "97530", "GO", 11)], [0, 1]),
    "#F": ([("OTA", "97150", "GO CO", 20), ("OT", "97150", "GO", 20)], [1, 0]),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_cms_examples_through_pt_units(name):
    """PT_UNITS with the Modifiers column bills each CMS example as the rule's table does (2022 on)."""
    lines, want = EXAMPLES[name]
    assert pt_units([(m, c, mods) for _, c, mods, m in lines]) == want


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_cms_examples_billed_right_are_clean_in_pt_validate(name):
    """Each CMS example billed as the rule says gets OK on every line."""
    lines, want = EXAMPLES[name]
    assert validate([(p, c, mods, m, u) for (p, c, mods, m), u in zip(lines, want)]) == ["OK"] * len(lines)


def test_example_e_tie_is_the_billers_choice():
    """#E: OTA 11 of 97535 and OT 11 of 97530 tie: 97530 x1, or 97535-CO x1; both are clean."""
    assert validate([("OTA", "97535", "GO CO", 11, 0), ("OT", "97530", "GO", 11, 1)]) == ["OK", "OK"]
    assert validate([("OTA", "97535", "GO CO", 11, 1), ("OT", "97530", "GO", 11, 0)]) == ["OK", "OK"]
    assert "UNITS-OVER" in validate([("OTA", "97535", "GO CO", 11, 1), ("OT", "97530", "GO", 11, 1)])[0]


def test_example_b_billed_on_the_therapist_is_an_error_naming_both_lines():
    """#B (PTA 5 + PT 6) billed on the PT's line: ERROR UNITS-ASSISTANT-SPLIT with the de minimis reason and fix."""
    got = validate([("PTA", "97110", "GP CQ", 5, 0), ("PT", "97110", "GP", 6, 1)])
    assert got[0] == (
        "ERROR UNITS-ASSISTANT-SPLIT: 97110: PTA 5 + PT 6 min → 1 unit; last unit: both under 8 min, de minimis "
        "(5+6)/10 rounded + 1 = 2: assistant 5 ≥ 2 → CQ (42 CFR 410.60(a)(4)(iv); 86 FR 65170); billed 0 CQ + 1 "
        "without — bill 1 on the CQ line (97110 GP CQ by PTA, 5 min, 0 units) and 0 on the line without "
        "(97110 GP by PT, 6 min, 1 unit)")
    assert got[1] == "OK"


def test_last_unit_with_the_therapist_at_8_billed_with_cq_is_an_error():
    """PTA 10 + PT 8: the unit goes without CQ; billing it on the CQ line is an ERROR (a 15% loss)."""
    assert pt_units([(10, "97110", "GP CQ"), (8, "97110", "GP")]) == [0, 1]
    got = validate([("PTA", "97110", "GP CQ", 10, 1), ("PT", "97110", "GP", 8, 0)])
    assert got[0].startswith("ERROR UNITS-ASSISTANT-SPLIT: 97110: PTA 10 + PT 8 min → 1 unit; last unit: therapist "
                             "8 min ≥ 8 → no CQ (42 CFR 410.60(a)(4)(iv)); billed 1 CQ + 0 without — bill 0 on the CQ")


def test_example_1_billed_the_2021_way_in_2022_is_an_error():
    """#1 billed 97110-CQ x2 (the March 2021 answer) on a 2022 date: ERROR, bill 1 and 1."""
    got = validate([("PTA", "97110", "GP CQ", 23, 2), ("PT", "97110", "GP", 13, 0), ("PT", "97140", "GP", 30, 2)])
    assert got[0].startswith("ERROR UNITS-ASSISTANT-SPLIT") and "bill 1 on the CQ line" in got[0]
    assert got[1:] == ["OK", "OK"]


# --- dated: 31 December 2021 / 1 January 2022; before 2020 -------------------------------------

@pytest.mark.parametrize("lines, y2021, y2022", [
    ([(23, "97110", "GP CQ"), (13, "97110", "GP"), (30, "97140", "GP")], [2, 0, 2], [1, 1, 2]),  # #1
    ([(19, "97110", "GP CQ"), (10, "97110", "GP")], [2, 0], [1, 1]),  # #2
    ([(12, "97110", "GP CQ"), (12, "97110", "GP")], [2, 0], [1, 1]),  # two remaining units
    ([(10, "97110", "GP CQ"), (5, "97110", "GP")], [1, 0], [1, 0]),  # #A: the same either way
])
def test_march_2021_guidance_to_2021_12_31_and_the_2022_rule_from_2022_01_01(lines, y2021, y2022):
    """The same minutes bill by de minimis alone on 2021-12-31 and by the 2022 rule on 2022-01-01."""
    assert pt_units(lines, dt.datetime(2021, 12, 31)) == y2021
    assert pt_units(lines, dt.datetime(2022, 1, 1)) == y2022


def test_pt_validate_follows_the_date_too():
    """#1 billed 97110-CQ x2: clean on 2021-12-31, an ERROR on 2022-01-01."""
    lines = [("PTA", "97110", "GP CQ", 23, 2), ("PT", "97110", "GP", 13, 0), ("PT", "97140", "GP", 30, 2)]
    assert split_rules(validate(lines, dt.datetime(2021, 12, 31))) == []  # (KX is unchecked without 2021 RVUs)
    assert "UNITS-ASSISTANT-SPLIT" in validate(lines, dt.datetime(2022, 1, 1))[0]


def test_before_2020_nothing_is_divided_and_nothing_is_checked():
    """2019-12-31: no rule (CQ/CO not required); 2020-01-01: the March 2021 guidance."""
    assert modifiers_from() == dt.date(2020, 1, 1)
    assert era_for(dt.date(2019, 12, 31)) is None and era_for(dt.date(2020, 1, 1)).rule == "march-2021"
    assert era_for(dt.date(2021, 12, 31)).rule == "march-2021" and era_for(dt.date(2022, 1, 1)).rule == "cy2022"
    assert era_for(None).rule == "cy2022"  # no date given: the newest rule, never today's date
    s = split_timed("97110", 10, 5, 1, dt.date(2019, 12, 31))
    assert (s.assistant_units, s.therapist_units) == (0, 1) and "not required" in s.explain()
    lines = [("PTA", "97110", "GP CQ", 5, 0), ("PT", "97110", "GP", 6, 1)]
    assert split_rules(validate(lines, dt.datetime(2019, 12, 31))) == []


# --- boundaries ----------------------------------------------------------------------------------

@pytest.mark.parametrize("pta, pt, want", [
    (8, 7, (1, 0)),  # therapist 7 < 8, assistant 8: CQ
    (8, 8, (0, 1)),  # therapist 8: no CQ, whatever the assistant furnished
    (14, 7, (1, 0)),
    (14, 8, (0, 1)),
    (7, 7, (1, 0)),  # both under 8: de minimis (14 -> 2): 7 >= 2
])
def test_last_unit_therapist_at_7_and_8(pta, pt, want):
    """The last unit: no CQ from the therapist's 8th minute on; CQ when the assistant has 8+ and the therapist 7."""
    s = split_timed("97110", pta, pt, 1, D2022)
    assert (s.assistant_units, s.therapist_units) == want


@pytest.mark.parametrize("total, need", [(1, 1), (5, 1), (6, 2), (11, 2), (14, 2), (15, 2), (16, 3), (24, 3),
                                         (25, 3), (26, 4), (40, 5), (45, 5)])
def test_de_minimis_simple_method_with_an_exact_half_rounded_down(total, need):
    """round(total/10) + 1, .5 down: 15 -> 2 (2 of 15 is 13%, over 10%), 16 -> 3, 25 -> 3, 26 -> 4."""
    assert de_minimis_minutes(total) == need


@pytest.mark.parametrize("pta, pt", [(2, 6), (2, 5), (1, 4), (1, 0)])
def test_last_unit_both_under_8_at_and_one_under_de_minimis(pta, pt):
    """Both under 8: the assistant at the threshold gets CQ, one minute under does not (totals 8, 7, 5, 1;
    under 8 the unit is one the 8-minute rule pooled from other codes' leftovers)."""
    need = de_minimis_minutes(pta + pt)
    assert pta == need  # the case is at the threshold
    at = split_timed("97110", pta, pt, 1, D2022)
    under = split_timed("97110", pta - 1, pt + 1, 1, D2022)
    assert at.assistant_units == 1 and under.assistant_units == 0


@pytest.mark.parametrize("pta, pt", [(3, 14), (3, 13), (2, 13), (1, 4)])
def test_march_2021_remaining_unit_at_and_one_under_de_minimis(pta, pt):
    """2020-2021: the remaining unit by de minimis alone, at and one minute under, for totals 17, 16, 15 and 5."""
    total = pta + pt
    units = (total + 7) // 15 if total >= 8 else 1  # 5 minutes: a unit pooled from another code's leftover
    assert de_minimis_minutes(total) == pta
    at = split_timed("97110", pta, pt, units, D2021)
    under = split_timed("97110", pta - 1, pt + 1, units, D2021)
    assert at.assistant_units == 1 and under.assistant_units == 0


@pytest.mark.parametrize("total, need", [(15, 2), (16, 3), (25, 3), (40, 5)])
def test_untimed_service_at_and_one_under_de_minimis(total, need):
    """An untimed service takes CO when the assistant's independent minutes reach round(total/10)+1."""
    assert split_untimed("97150", need, total - need, D2022, "CO").assistant_units == 1
    assert split_untimed("97150", need - 1, total - need + 1, D2022, "CO").assistant_units == 0


@pytest.mark.parametrize("pta, pt, units, want", [
    (9, 14, 2, (1, 1)),  # 23 in all, 9 each at least: the two-unit rule
    (8, 14, 1, (0, 1)),  # 22: one unit; the therapist's 14 take it
    (14, 14, 2, (1, 1)),  # 28: the rule's largest
    (15, 14, 2, (1, 1)),  # 29: the assistant's whole block, then the therapist's 14
    (14, 15, 2, (1, 1)),  # 29 the other way: the therapist's block, the assistant's 14 >= 8
    (11, 11, 1, (0, 1)),  # 22 in all: one unit, the therapist's 11 >= 8
    (11, 12, 2, (1, 1)),  # 23 in all
    (8, 9, 1, (0, 1)),  # 17: one unit; the therapist's 9
    (9, 9, 1, (0, 1)),  # 18: one unit
])
def test_two_remaining_units_window(pta, pt, units, want):
    """9-14 each and 23-28 in all: one CQ and one without; at 22 and 29 the other steps decide."""
    assert (pta + pt + 7) // 15 == units
    s = split_timed("97110", pta, pt, units, D2022)
    assert (s.assistant_units, s.therapist_units) == want
    if 23 <= pta + pt <= 28:
        assert "(a)(4)(v)" in s.explain()


def test_two_remaining_units_outside_the_window_when_other_codes_pool_their_leftovers():
    """PTA 8 + PT 14 of 97110 (22 min) wins a second unit from 97140's 1 minute: one CQ, one without."""
    lines = [(8, "97110", "GP CQ"), (14, "97110", "GP"), (1, "97140", "GP")]
    assert pt_units(lines) == [1, 1, 0]


def test_split_refuses_units_the_minutes_cannot_give():
    """4 units from 20 + 10 minutes is no 8-minute outcome: BadValue names it."""
    with pytest.raises(BadValue, match="4 units of 97110 cannot come from 20 \\+ 10 minutes"):
        split_timed("97110", 20, 10, 4, D2022)


# --- where the minutes come from: two lines or one line with Assistant Minutes -----------------

def test_one_line_with_assistant_minutes_needs_cq():
    """A PT line of 15 min with Assistant Minutes 10 (#A in one line) billed without CQ: ERROR ASSIST-MISSING."""
    got = validate([("PT", "97110", "GP", 15, 1, 10)])
    assert got[0] == ("ERROR ASSIST-MISSING: 97110: PTA 10 + PT 5 min → 1 unit; last unit: assistant 10 min ≥ 8, "
                      "therapist 5 < 8 → CQ (42 CFR 410.60(a)(4)(iv)) — add CQ")
    assert validate([("PT", "97110", "GP CQ", 15, 1, 10)]) == ["OK"]


def test_one_line_that_needs_two_lines():
    """PT line 36 min with the PTA's 23 (#1's 97110): 1 CQ + 1 without, so two lines; with CQ on one line: split ERROR."""
    got = validate([("PT", "97110", "GP", 36, 2, 23)])
    assert got[0].startswith("ERROR ASSIST-MISSING") and got[0].endswith("bill 1 with CQ and 1 without, on two lines")
    got = validate([("PT", "97110", "GP CQ", 36, 2, 23)])
    assert got[0].startswith("ERROR UNITS-ASSISTANT-SPLIT") and "on a second 97110 line without CQ" in got[0]


def test_assistant_minutes_under_de_minimis_need_no_cq():
    """PT 30 min with the PTA's 2 on their own: 2 units, both the therapist's (13 left >= 8): clean."""
    assert validate([("PT", "97110", "GP", 30, 2, 2)]) == ["OK"]
    assert split_rules(validate([("PT", "97110", "GP CQ", 30, 2, 2)]))[0].startswith("ERROR UNITS-ASSISTANT-SPLIT")


def test_pt_units_reads_the_assistant_minutes_column():
    """Mixed shapes: a CQ line and a PT line with the PTA's minutes inside count together; more assistant
    minutes than the line's is a message on that line."""
    # PTA 10 on a CQ line + PT line 20 min of which the PTA's 5: assistant 15, therapist 15 -> 1 and 1
    assert pt_units([(10, "97110", "GP CQ"), (20, "97110", "GP", 5)]) == [1, 1]
    got = excel("PT_UNITS", col(10, 20), col("97110", "97110"), "CMS", xh.MISSING, col("GP CQ", "GP"), col(5, 25))
    assert got[0] == [1] and "25 assistant minutes exceed the line's 20 minutes" in got[1][0]


# --- untimed services: one unit per visit -------------------------------------------------------

def test_group_therapy_by_an_ot_and_an_ota_is_one_unit_with_co():
    """#F billed on both lines: GROUP-UNITS on the OT's line, which names the CO line that keeps it."""
    got = validate([("OTA", "97150", "GO CO", 20, 1), ("OT", "97150", "GO", 20, 1)])
    assert got[0] == "OK"
    assert got[1].startswith("ERROR GROUP-UNITS: group therapy 97150 is one unit per session: bill it once, on the "
                             "line 97150 GO CO by OTA, 20 min, 1 unit (97150: OTA 20 + OT 20 min → 1 unit "
                             "(untimed); OTA 20 ≥ 5 (de minimis) → CO (86 FR 65170)) — bill 0 here")


def test_group_unit_on_the_ot_line_only_is_a_split_error():
    """#F's one unit billed on the OT's line without CO: ERROR UNITS-ASSISTANT-SPLIT (bill it on the CO line)."""
    got = validate([("OTA", "97150", "GO CO", 20, 0), ("OT", "97150", "GO", 20, 1)])
    assert got[0].startswith("ERROR UNITS-ASSISTANT-SPLIT") and "bill 1 on the CO line" in got[0]


def test_second_unit_of_an_untimed_code_in_a_visit_is_an_error():
    """G0283 on two lines of one visit, 1 unit each: ERROR UNITS-UNTIMED on the second; PT_UNITS gives 1 and 0."""
    got = validate([("PT", "G0283", "GP", 15, 1), ("PT", "G0283", "GP", 10, 1)])
    assert got[0] == "OK" and got[1].startswith("ERROR UNITS-UNTIMED: G0283 is untimed: one unit per visit")
    assert log_units([15, 10], ["G0283", "G0283"]) == [1, 0]


def test_untimed_assistant_under_de_minimis_keeps_the_unit_on_the_therapist():
    """An OT evaluation of 40 min with the OTA's 4 independent minutes (< 5): no CO; at 5: CO."""
    assert validate([("OT", "97165", "GO", 40, 1, 4)]) == ["OK"]
    assert validate([("OT", "97165", "GO", 40, 1, 5)])[0].startswith("ERROR ASSIST-MISSING")


# --- the split explained -------------------------------------------------------------------------

def test_pt_explain_says_how_the_unit_was_assigned_with_the_citation():
    """=PT_EXPLAIN with modifiers: the issue's example sentence, word for word."""
    got = excel("PT_EXPLAIN", col(10, 8), col("97110", "97110"), "CMS", col("GP CQ", "GP"))[0][0]
    assert ("97110: PTA 10 + PT 8 min → 1 unit; last unit: therapist 8 min ≥ 8 → no CQ "
            "(42 CFR 410.60(a)(4)(iv))") in got
    one_line = excel("PT_EXPLAIN", col(18), col("97110"), "CMS", col("GP"), col(10))[0][0]
    assert "97110: PTA 10 + PT 8 min → 1 unit; last unit: therapist 8 min ≥ 8 → no CQ" in one_line


def test_pt_explain_follows_the_date():
    """#1 on 2021-06-01 explains the March 2021 guidance; a bad date is a message."""
    args = (col(23, 13, 30), col("97110", "97110", "97140"), "CMS", col("GP CQ", "GP", "GP"), xh.MISSING)
    got = excel("PT_EXPLAIN", *args, dt.datetime(2021, 6, 1))[0][0]
    assert "by de minimis alone: PTA 8 ≥ 3 → CQ (CMS CQ/CO billing examples (March 2021)" in got
    assert "not a date" in excel("PT_EXPLAIN", *args, "someday")[0][0]


def test_explain_untimed_repeat_and_two_unit_rule():
    """The explanation names the two-unit rule (v) and an untimed service recorded on two lines."""
    text = explain_visit([12, 14, 20], ["97110", "97110", "97140"], assisted=[None, "CQ", None])
    assert "two remaining units, PTA 14 + PT 12 min (9-14 each, 23-28 in all) → 1 CQ, 1 without " \
           "(42 CFR 410.60(a)(4)(v))" in text
    text = explain_visit([20, 20], ["97150", "97150"], assisted=["CO", "GO"])
    assert "97150 untimed: 1 unit (on 2 lines: one service)." in text and "OTA 20 ≥ 5 (de minimis) → CO" in text


# --- properties ----------------------------------------------------------------------------------

CODES = ["97110", "97112", "97140", "97530"]


@st.composite
def visits(draw):
    """One visit: per code, optionally a therapist line and/or an assistant (CQ) line."""
    lines = []
    for code in draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=3, unique=True)):
        kinds = draw(st.sampled_from([("T",), ("A",), ("T", "A")]))
        for k in kinds:
            lines.append((code, draw(st.integers(0, 50)), "CQ" if k == "A" else None))
    return lines


def _per_kind(lines, units):
    out: dict = {}
    for (code, _, flag), u in zip(lines, units):
        out[(code, flag)] = out.get((code, flag), 0) + u
    return out


@settings(max_examples=300, deadline=None)
@given(visits(), st.sampled_from([D2021, D2022]))
def test_property_split_never_changes_the_visits_units(lines, dos):
    """With or without the CQ/CO split, each code's units and the visit's total are those of the 8-minute rule."""
    plain, _ = visit_units([(c, m) for c, m, _ in lines], "CMS")
    split, _ = visit_units([(c, m, f, None) for c, m, f in lines], "CMS", dos=dos)
    assert sum(split) == sum(plain)
    for code in {c for c, _, _ in lines}:
        assert sum(u for (c, _, _), u in zip(lines, split) if c == code) == \
               sum(u for (c, _, _), u in zip(lines, plain) if c == code)


@settings(max_examples=300, deadline=None)
@given(visits())
def test_property_cq_units_never_exceed_what_the_assistants_minutes_carry(lines):
    """2022 rule: a code's CQ units <= ceil(assistant minutes / 15), its other units <= ceil(therapist minutes / 15)."""
    units, working = visit_units([(c, m, f, None) for c, m, f in lines], "CMS", dos=D2022)
    for s in working.splits:
        assert s.assistant_units <= -(-s.assistant_minutes // 15)
        assert s.therapist_units <= -(-s.therapist_minutes // 15)
        assert s.assistant_units + s.therapist_units == s.units
    for (_, m, flag), u in zip(lines, units):
        if flag == "CQ" and m == 0:
            assert u == 0


@settings(max_examples=200, deadline=None)
@given(visits(), st.randoms(use_true_random=False))
def test_property_line_order_does_not_matter(lines, rnd):
    """Shuffling a visit's lines changes no code's CQ units nor its units without."""
    shuffled = list(lines)
    rnd.shuffle(shuffled)
    a, _ = visit_units([(c, m, f, None) for c, m, f in lines], "CMS", dos=D2022)
    b, _ = visit_units([(c, m, f, None) for c, m, f in shuffled], "CMS", dos=D2022)
    assert _per_kind(lines, a) == _per_kind(shuffled, b)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 40), st.integers(0, 40), st.sampled_from([D2021, D2022]))
def test_property_one_line_and_two_line_shapes_agree(pta, pt, dos):
    """PTA a + PT t on two lines, or one PT line of a+t with Assistant Minutes a: the same split."""
    if pta + pt == 0:
        return
    _, two = visit_units([("97110", pta, "CQ", None), ("97110", pt, None, None)], "CMS", dos=dos)
    one_units, one = visit_units([("97110", pta + pt, None, pta)], "CMS", dos=dos)
    s2 = next(iter(two.splits), None)
    s1 = next(iter(one.splits), None)
    if pta == 0:
        assert s1 is None  # no assistant minutes on the one line: nothing to divide
        return
    assert (s1.assistant_units, s1.therapist_units, s1.steps) == (s2.assistant_units, s2.therapist_units, s2.steps)
    assert one_units == [s1.units]


@settings(max_examples=100, deadline=None)
@given(visits())
def test_property_pt_units_billing_is_clean_in_pt_validate(lines):
    """Units billed as PT_UNITS gives them pass PT_VALIDATE's unit and CQ/CO rules: the two agree."""
    units = log_units([m for _, m, _ in lines], [c for c, _, _ in lines], "CMS",
                      assisted=[f for *_, f in lines], dates=[D2022] * len(lines))
    got = validate([("PTA" if f else "PT", c, "GP CQ" if f else "GP", m, u) for (c, m, f), u in zip(lines, units)])
    assert split_rules(got) == []


def test_readme_console_examples_of_ptbilling_units_are_what_it_prints(capsys):
    """Each `$ ptbilling units ...` block in the README is the command's real output."""
    import re
    import shlex
    from pathlib import Path

    from ptbilling.cli.main import main

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```console\n\$ ptbilling (units [^\n]*)\n(.*?)```", readme, re.S)
    assert len(blocks) >= 2
    for command, shown in blocks:
        assert main(shlex.split(command)) == 0
        assert capsys.readouterr().out == shown, command
