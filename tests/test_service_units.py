"""The 8-minute rule (CMS Pub. 100-04 ch.5 §20.2) and the per-code (AMA) method."""
from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ptbilling.rules import errors
from ptbilling.rules.service_units import (
    AMA,
    CMS,
    LineProblem,
    chart_range,
    chart_units,
    coerce_minutes,
    explain_visit,
    log_units,
    visit_units,
)

TIMED = ["97110", "97112", "97116", "97140", "97530", "97035", "97032", "97535"]


def units(lines, method=CMS):
    return visit_units(lines, method)[0]


# --- the manual's four worked examples -------------------------------------------------

def test_manual_example_1_extra_unit_goes_to_more_leftover():
    """97112 24 + 97110 23 = 47 min: 97112 gets 2, 97110 gets 1."""
    assert units([("97112", 24), ("97110", 23)]) == [2, 1]


def test_manual_example_2_tie_gives_three_units_never_three_on_one_code():
    """97112 20 + 97110 20 = 40 min: 3 units, split 2/1 (tie rule picks the lower code)."""
    got = units([("97112", 20), ("97110", 20)])
    assert sorted(got) == [1, 2] and sum(got) == 3
    assert got == [1, 2]  # documented tie rule: equal leftover and minutes -> lower code


def test_manual_example_3_seven_leftover_minutes_beat_three():
    """97110 33 + 97140 7 = 40 min: 97110 2, 97140 1."""
    assert units([("97110", 33), ("97140", 7)]) == [2, 1]


def test_manual_example_4_four_codes_49_minutes():
    """18/13/10/8 min on 97110/97140/97116/97035: 1/1/1/0."""
    assert units([("97110", 18), ("97140", 13), ("97116", 10), ("97035", 8)]) == [1, 1, 1, 0]


# --- the chart, both sides of every boundary ---------------------------------------------

@pytest.mark.parametrize("n", range(0, 13))
def test_chart_boundaries_both_sides(n):
    """Each band 15n-7..15n+7 gives n units; one minute outside gives n-1 / n+1."""
    lo, hi = chart_range(n)
    assert chart_units(lo) == n and chart_units(hi) == n
    if n > 0:
        assert chart_units(lo - 1) == n - 1
    assert chart_units(hi + 1) == n + 1


@pytest.mark.parametrize("minutes,expected", [(7, 0), (8, 1), (22, 1), (23, 2), (37, 2), (38, 3),
                                              (52, 3), (53, 4), (127, 8), (128, 9), (142, 9), (143, 10)])
def test_single_timed_code_chart(minutes, expected):
    """A single timed code alone follows the chart, including under-8 = not billed."""
    assert units([("97110", minutes)]) == [expected]


@pytest.mark.parametrize("minutes,expected", [(7, 0), (8, 1), (22, 1), (23, 2), (37, 2), (38, 3)])
def test_ama_midpoint_boundaries(minutes, expected):
    """AMA per-code: 8-22 = 1, 23-37 = 2, each code on its own."""
    assert units([("97110", minutes)], AMA) == [expected]


def test_methods_differ_as_the_reference_contrast_table_says():
    """97110 20 + 97140 18: CMS 3 units (2/1), AMA 2 (1/1); 7 + 7: CMS 1, AMA 0."""
    assert units([("97110", 20), ("97140", 18)]) == [2, 1]
    assert units([("97110", 20), ("97140", 18)], AMA) == [1, 1]
    assert sum(units([("97110", 7), ("97140", 7)])) == 1
    assert units([("97110", 7), ("97140", 7)], AMA) == [0, 0]


def test_two_short_services_unit_goes_to_the_longer():
    """Two services of 7 min or less with 8+ together: one unit, to the one with more minutes."""
    assert units([("97110", 3), ("97140", 6)]) == [0, 1]


def test_untimed_code_one_unit_and_its_minutes_are_not_counted():
    """97010 for 30 minutes is 1 unit and adds nothing to the timed total."""
    got, working = visit_units([("97010", 30), ("97110", 7)], CMS)
    assert got == [1, 0] and working.timed_total == 7


def test_same_timed_code_on_two_lines_is_added_and_billed_on_the_first():
    """97110 12 + 97110 11 = 23 min -> 2 units on the first line, 0 on the repeat."""
    assert units([("97110", 12), ("97140", 5), ("97110", 11)]) == [2, 0, 0]


def test_unnamed_timed_lines_are_separate_services():
    """Lines without a code are distinct timed services, not one code."""
    assert units([(None, 24), (None, 23)]) == [2, 1]


def test_tie_rule_prefers_more_total_minutes_then_lower_code():
    """Equal leftovers: the code with more minutes wins; equal minutes: the lower code."""
    assert units([("97140", 35), ("97110", 20)]) == [3, 1]  # 5 left each: 35 > 20 minutes
    _, working = visit_units([("97112", 20), ("97110", 20)], CMS)
    assert "tie at 5 left" in working.explain() and "lower code" in working.explain()


def test_explain_matches_the_issue_example():
    """PT_EXPLAIN's text for example 1 shows total, band, per-code working and the source."""
    text = explain_visit([24, 23], ["97112", "97110"])
    assert text.startswith("47 timed min → 3 units (38–52).")
    assert "97112 24 min: 1 whole + 9 left" in text and "97110 23 min: 1 whole + 8 left" in text
    assert "extra unit to 97112 (9) > 97110 (8)" in text
    assert text.endswith("CMS Pub. 100-04 ch.5 §20.2")


def test_explain_names_the_bad_line():
    """A bad line in PT_EXPLAIN raises a message naming the line number."""
    with pytest.raises(LineProblem, match="line 2: minutes cannot be negative"):
        explain_visit([24, -3], ["97112", "97110"])


@pytest.mark.parametrize("value,expected", [(38.0, 38), ("38", 38), (" 38 ", 38), (0, 0), (None, None),
                                            ("", None), (1440, 1440)])
def test_minutes_coercion_accepts(value, expected):
    """Whole minutes as float, text or int are accepted; blank is None."""
    assert coerce_minutes(value) == expected


@pytest.mark.parametrize("value,words", [(-1, "negative"), (7.5, "whole"), ("abc", "number"),
                                         (float("nan"), "number"), (float("inf"), "number"),
                                         (True, "number"), (1441, "24 hours")])
def test_minutes_coercion_refuses_with_a_reason(value, words):
    """Bad minutes raise a LineProblem (a ValueError) whose text says what is wrong."""
    with pytest.raises(LineProblem, match=words):
        coerce_minutes(value)
    assert issubclass(LineProblem, ValueError)


def test_log_units_groups_visits_and_keeps_bad_lines_local():
    """Visits are computed separately; a bad line gets a problem, the others still compute."""
    got = log_units([24, 23, "x", 38, None], ["97112", "97110", "97110", "97110", None],
                    CMS, ["a", "a", "a", "b", "b"])
    assert got[:2] == [2, 1] and isinstance(got[2], LineProblem) and got[3] == 3 and got[4] is None


def test_log_units_unknown_code_is_a_line_problem_naming_it():
    """An unknown code gives that line a message naming the code; others still compute."""
    got = log_units([20, 20], ["97111", "97110"])
    assert "97111" in str(got[0]) and got[1] == 1


def test_log_units_refuses_mismatched_lengths_and_unknown_method():
    """Arguments that spoil every line raise one clear error."""
    with pytest.raises(errors.BadValue, match="codes has 1 lines but minutes has 2"):
        log_units([1, 2], ["97110"])
    with pytest.raises(errors.UnknownMethod, match="use one of CMS, AMA"):
        log_units([1], None, "medicare")


def test_other_time_codes_are_not_guessed():
    """A code billed in units other than 15 minutes (97545) is refused, not counted."""
    got = log_units([120], ["97545"])
    assert "not billed in 15-minute units" in str(got[0])


# --- properties ---------------------------------------------------------------------------

# A visit holds at most 24 hours of timed minutes (more is refused, tested with the limits).
visit_lines = st.lists(st.tuples(st.sampled_from(TIMED), st.integers(0, 200)), min_size=1, max_size=8).filter(
    lambda lines: sum(m for _, m in lines) <= 24 * 60)


def per_code(lines, method=CMS):
    got = units(lines, method)
    out: dict[str, int] = {}
    for (code, _), u in zip(lines, got):
        out[code] = out.get(code, 0) + u
    return out


def minutes_per_code(lines):
    out: dict[str, int] = {}
    for code, m in lines:
        out[code] = out.get(code, 0) + m
    return out


@settings(max_examples=300)
@given(visit_lines, st.data())
def test_property_units_never_fall_as_minutes_rise(lines, data):
    """Adding minutes to a line never lowers that code's units nor the visit's total."""
    i = data.draw(st.integers(0, len(lines) - 1))
    more = list(lines)
    more[i] = (lines[i][0], lines[i][1] + data.draw(st.integers(1, 30)))
    assume(sum(m for _, m in more) <= 24 * 60)  # the added minutes too: more than a day is refused
    for method in (CMS, AMA):
        before, after = per_code(lines, method), per_code(more, method)
        assert after[lines[i][0]] >= before[lines[i][0]]
        assert sum(after.values()) >= sum(before.values())


@settings(max_examples=300)
@given(visit_lines)
def test_property_total_equals_the_chart(lines):
    """CMS: the visit's units equal the chart for its total timed minutes."""
    total = sum(m for _, m in lines)
    assert sum(units(lines)) == chart_units(total)


@settings(max_examples=300)
@given(visit_lines, st.randoms(use_true_random=False))
def test_property_order_of_lines_does_not_matter(lines, rnd):
    """Shuffling the lines gives every code the same units, by both methods."""
    shuffled = list(lines)
    rnd.shuffle(shuffled)
    for method in (CMS, AMA):
        assert per_code(lines, method) == per_code(shuffled, method)


@settings(max_examples=300)
@given(visit_lines)
def test_property_each_code_gets_at_least_its_whole_quarter_hours(lines):
    """Every code gets at least floor(minutes / 15) units, and at most one more."""
    got = per_code(lines)
    for code, m in minutes_per_code(lines).items():
        assert m // 15 <= got[code] <= m // 15 + 1


def test_exhaustive_two_code_visits_match_a_brute_force_reading_of_the_manual():
    """For every pair of minutes 0-45, the allocation maximises whole blocks, then leftovers."""
    for a, b in itertools.product(range(46), repeat=2):
        got = units([("97110", a), ("97140", b)])
        total = chart_units(a + b)
        assert sum(got) == total
        assert got[0] >= a // 15 and got[1] >= b // 15
        if got[0] > a // 15 and got[1] == b // 15 and b % 15 > a % 15:
            pytest.fail(f"{a},{b}: extra unit went to the smaller leftover")


def test_random_logs_agree_with_the_plain_baseline():
    """The core agrees with the benchmark's plain re-implementation on random logs."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "baseline", Path(__file__).resolve().parents[1] / "benchmarks" / "baseline_units.py")
    baseline = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(baseline)
    rnd = random.Random(7)
    codes = TIMED + ["97010", "97161"]
    for _ in range(200):
        n = rnd.randint(1, 30)
        mins = [rnd.randint(0, 60) for _ in range(n)]
        cds = [rnd.choice(codes) for _ in range(n)]
        vis = [rnd.randint(1, 5) for _ in range(n)]
        assert log_units(mins, cds, CMS, vis) == baseline.plain_units(mins, cds, vis)


def test_log_units_divides_a_code_between_its_first_cq_line_and_its_first_therapist_line():
    """Reference section 5 with the PTA's 97110 on two lines: 1 on the first CQ line, 0 on its repeat, 1 for the PT."""
    from ptbilling.rules.service_units import log_units

    got = log_units([15, 8, 13, 30], ["97110", "97110", "97110", "97140"], "CMS",
                    assisted=[True, True, False, False])
    assert got == [1, 0, 1, 2]
    assert log_units([15, 8, 13, 30], ["97110", "97110", "97110", "97140"], "CMS") == [2, 0, 0, 2]
