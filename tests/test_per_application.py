"""Per-application codes (strapping): one unit per application, applications told apart by site modifiers."""
from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from ptbilling.cli import main as cli
from ptbilling.excel_functions import PT_EXPLAIN, PT_UNITS, PT_VALIDATE
from ptbilling.logs.check import check_log
from ptbilling.rules.code_catalog import catalog_for
from ptbilling.rules.per_application import NO_SITE, applications, site_of

HEADER = ["Patient", "Date", "Payer", "Provider", "Code", "Modifiers", "Minutes", "Units"]
D = dt.datetime(2025, 3, 3)


def col(values):
    return [[v] for v in values]


def units(codes, mods, minutes=None):
    """PT_UNITS over one visit as Excel hands it (ranges of one column, numbers as floats)."""
    minutes = minutes if minutes is not None else [None] * len(codes)
    got = PT_UNITS(col(minutes), col(codes), "CMS", None, col(mods) if mods is not None else None)
    return [r[0] for r in got] if isinstance(got, list) else [got]  # one cell comes back as a scalar


def table(lines, payer="Medicare"):
    """A log of one visit: lines are (code, modifiers, units[, provider, minutes])."""
    rows = []
    for ln in lines:
        code, mods, u, provider, minutes = (tuple(ln) + ("PT", None))[:5]
        rows.append(["A", D, payer, provider, code, mods, minutes, u])
    return [HEADER] + rows


def validate(lines, payer="Medicare"):
    return [r[0] for r in PT_VALIDATE(table(lines, payer))[1:]]


# --- which codes: the catalog's own marker -----------------------------------------------

def test_per_application_codes_are_the_catalogs_strapping_codes():
    """Exactly the codes whose timing_source says 'per application' (the strapping family) are per application."""
    catalog = catalog_for(None)
    marked = {c.code for c in catalog if c.per_application}
    assert marked == {c.code for c in catalog if "per application" in c.timing_source}
    assert {"29200", "29280", "29520", "29530", "29540", "29584"} <= marked
    assert all(catalog[c].family == "strapping" for c in marked)
    assert not marked & {"G0283", "97150", "97010", "97161", "92507", "97110"}


# --- the grouping ------------------------------------------------------------------------

def test_sites_read_from_modifiers():
    """RT/LT and finger/toe modifiers are sites, 59/X marks, 50 bilateral; GP/CQ/KX say nothing about the site."""
    assert site_of(("GP", "CQ", "KX")) == NO_SITE
    s = site_of(("GP", "RT", "XS"))
    assert s.sites == {"RT"} and s.distinct == {"XS"} and not s.bilateral
    assert site_of(("50",)).bilateral and site_of(("F1",)).sites == {"F1"}


def test_grouping_both_sides_of_each_rule():
    """RT+LT, plain+59 and F1+F2 are two applications; plain+plain one; RT+plain and 50+RT one plus a repeat."""
    g = lambda *mods: applications([site_of(m.split()) for m in mods])  # noqa: E731
    assert g("RT", "LT") == ([[0], [1]], [])
    assert g("", "59") == ([[0], [1]], [])
    assert g("F1", "F2") == ([[0], [1]], [])
    assert g("", "") == ([[0, 1]], [])
    assert g("RT", "RT") == ([[0, 1]], [])
    apps, rep = g("", "RT")
    assert apps == [[1]] and [(u.line, u.beside) for u in rep] == [(0, 1)]
    apps, rep = g("RT", "50")
    assert apps == [[1]] and [(u.line, u.beside) for u in rep] == [(0, 1)] and "50" in rep[0].why
    assert g("RT", "LT", "RT 59")[0] == [[0], [1], [2]]


# --- PT_UNITS ----------------------------------------------------------------------------

def test_pt_units_bilateral_strapping_is_one_and_one():
    """29540-RT and 29540-LT in one visit: PT_UNITS gives 1 and 1 (two applications)."""
    assert units(["29540", "29540"], ["GP RT", "GP LT"]) == [1, 1]


def test_pt_units_two_plain_lines_stay_one_and_zero():
    """29540 on two lines with no site modifier: one application, 1 and 0 (as before)."""
    assert units(["29540", "29540"], ["GP", "GP"]) == [1, 0]


def test_pt_units_59_or_xs_on_the_second_line_is_a_second_application():
    """29530 plain + 29530-59 (or XS): 1 and 1."""
    assert units([29530.0, 29530.0], ["GP", "GP 59"]) == [1, 1]
    assert units(["29530", "29530"], ["GP", "GP,XS"]) == [1, 1]


def test_pt_units_line_without_site_beside_a_sided_line_gets_zero():
    """29540 (no side) beside 29540-RT and 29540-LT: the sided lines bill, the bare one 0, whatever the order."""
    assert units(["29540"] * 3, ["GP", "GP RT", "GP LT"]) == [0, 1, 1]
    assert units(["29540"] * 3, ["GP RT", "GP", "GP LT"]) == [1, 0, 1]


def test_pt_units_without_modifiers_is_one_per_visit():
    """No Modifiers range: sites cannot be told apart, so strapping stays one unit per visit."""
    assert units(["29540", "29540"], None) == [1, 0]


def test_pt_units_other_untimed_codes_ignore_site_modifiers():
    """G0283 and 97150 are one unit per visit even with RT/LT: only per-application codes count applications."""
    assert units(["G0283", "G0283"], ["GP RT", "GP LT"], [15, 10]) == [1, 0]
    assert units(["97150", "97150"], ["GP RT", "GP 59"], [30, 30]) == [1, 0]


def test_pt_explain_names_each_application():
    """PT_EXPLAIN shows one unit per application and why a bare line bills nothing."""
    text = PT_EXPLAIN(col([None] * 3), col(["29540"] * 3), "CMS", col(["GP RT", "GP LT", "GP"]))
    assert "29540 RT per application: 1 unit." in text and "29540 LT per application: 1 unit." in text
    assert "29540 no site modifier per application: 0 units" in text


def test_units_command_counts_applications(capsys):
    """'ptbilling units 0:29540:RT 0:29540:LT' bills 1 and 1."""
    assert cli.main(["units", "0:29540:GP RT", "0:29540:GP LT"]) == 0
    out = capsys.readouterr().out
    rows = [ln.split() for ln in out.splitlines() if ln.startswith("29540")]
    assert [r[-1] for r in rows] == ["1", "1"] and "total" in out


# --- PT_VALIDATE and check ---------------------------------------------------------------

def test_validate_rt_and_lt_one_unit_each_is_ok():
    """29540-RT 1 + 29540-LT 1: OK on both lines (no false UNITS-UNTIMED)."""
    assert validate([("29540", "GP RT", 1), ("29540", "GP LT", 1)]) == ["OK", "OK"]


def test_validate_two_plain_lines_is_an_error_asking_for_site_modifiers():
    """29540 on two lines, no site modifier, 1 unit each: ERROR UNITS-UNTIMED on the second, saying add RT/LT or 59/XS."""
    got = validate([("29540", "GP", 1), ("29540", "GP", 1)])
    assert got[0] == "OK"
    assert got[1].startswith("ERROR UNITS-UNTIMED: 29540 is one unit per application")
    assert "add RT/LT (or 59/XS on the second line)" in got[1]


def test_validate_59_on_the_second_line_is_ok():
    """29530 + 29530-59 (two sites), 1 unit each: OK; XS too."""
    assert validate([("29530", "GP", 1), ("29530", "GP 59", 1)]) == ["OK", "OK"]
    assert validate([("29530", "GP", 1), ("29530", "GP XS", 1)]) == ["OK", "OK"]


def test_validate_bare_line_beside_a_sided_line_is_an_error():
    """29540-RT 1 + 29540 (no side) 1: ERROR on the bare line, naming the RT line and the fix."""
    got = validate([("29540", "GP RT", 1), ("29540", "GP", 1)])
    assert got[0] == "OK" and got[1].startswith("ERROR UNITS-UNTIMED: 29540 is billed per application")
    assert "29540 GP RT by PT" in got[1] and "RT/LT" in got[1]


def test_validate_50_is_one_line_one_unit():
    """29540-50 with 1 unit: OK; with 2: ERROR; an RT line beside it: ERROR (50 already bills both sides)."""
    assert validate([("29540", "GP 50", 1)]) == ["OK"]
    assert validate([("29540", "GP 50", 2)])[0].startswith("ERROR UNITS-UNTIMED")
    got = validate([("29540", "GP 50", 1), ("29540", "GP RT", 1)])
    assert got[0] == "OK" and "50 on another line already bills both sides" in got[1]


def test_validate_two_units_on_one_strapping_line_stays_an_error():
    """29540-RT billed with 2 units on one line: ERROR UNITS-UNTIMED (a second application goes on its own line)."""
    got = validate([("29540", "GP RT", 2)])
    assert got[0].startswith("ERROR UNITS-UNTIMED") and "bill 1, not 2" in got[0]


def test_validate_split_applies_per_application():
    """PTA's 29540-RT CQ + PT's 29540-RT (one application, 1 unit on the CQ line) + PT's 29540-LT: all OK."""
    lines = [("29540", "GP CQ RT", 1, "PTA", 10), ("29540", "GP RT", 0, "PT", 10), ("29540", "GP LT", 1, "PT", 10)]
    assert validate(lines) == ["OK", "OK", "OK"]
    assert units(["29540"] * 3, ["GP CQ RT", "GP RT", "GP LT"], [10, 10, 10]) == [1, 0, 1]


def test_check_agrees_with_pt_units_and_pt_validate():
    """'ptbilling check' (check_log) gives PT_UNITS' units and PT_VALIDATE's findings, the site in the code cell too."""
    t = table([("29540-RT", "GP", 1), ("29540", "GP LT", 1), ("29530", "GP", 1), ("29530", "GP", 1)])
    got = check_log(t[0], t[1:])
    assert got.units == [1, 1, 1, 0]
    texts = ["; ".join(str(f) for f in fs) or "OK" for fs in got.findings]
    assert texts == [r[0] for r in PT_VALIDATE(t)[1:]]
    assert texts[:3] == ["OK", "OK", "OK"] and texts[3].startswith("ERROR UNITS-UNTIMED")


# --- properties --------------------------------------------------------------------------

SITE_MODS = ["GP", "GP RT", "GP LT", "GP 59", "GP XS", "GP RT 59", "GP 50", "GP F1", "GP LT XS"]
strapping_visit = st.lists(st.tuples(st.sampled_from(["29540", "29530"]), st.sampled_from(SITE_MODS)),
                           min_size=1, max_size=6)


def _by_line(lines, got):
    """Units summed per distinct (code, modifiers): what a reordering must keep."""
    out: dict = {}
    for ln, u in zip(lines, got):
        out[ln] = out.get(ln, 0) + u
    return out


@settings(max_examples=200, deadline=None)
@given(strapping_visit, st.randoms(use_true_random=False))
def test_property_line_order_does_not_matter(lines, rnd):
    """Shuffling a visit's strapping lines gives each (code, modifiers) the same units and PT_VALIDATE the same findings."""
    shuffled = list(lines)
    rnd.shuffle(shuffled)
    a = units([c for c, _ in lines], [m for _, m in lines])
    b = units([c for c, _ in shuffled], [m for _, m in shuffled])
    assert _by_line(lines, a) == _by_line(shuffled, b)
    rules = lambda ls: sorted(t.split(":")[0] for t in validate([(c, m, 1) for c, m in ls]))  # noqa: E731
    assert rules(lines) == rules(shuffled)


@settings(max_examples=200, deadline=None)
@given(strapping_visit)
def test_property_pt_units_billed_is_what_pt_validate_accepts(lines):
    """Billing exactly the units PT_UNITS gives never draws a UNITS-UNTIMED error, and each line gets 0 or 1."""
    got = units([c for c, _ in lines], [m for _, m in lines])
    assert set(got) <= {0, 1}
    texts = validate([(c, m, u) for (c, m), u in zip(lines, got)])
    assert not any("UNITS-UNTIMED" in t for t in texts), texts
