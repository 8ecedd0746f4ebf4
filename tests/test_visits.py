"""Visits are keyed and judged the same whatever the row order; one bad row spoils one row; limits
(issue 13, items 4, 5, 8, 9 and 11)."""
from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xlwings_harness as xh
from ptbilling.cli import main as cli
from ptbilling.logs.cells import check_table, coerce_date, coerce_units, to_serial
from ptbilling.logs.check import check_log
from ptbilling.rules.errors import BadValue
from ptbilling.rules.service_units import LineProblem, log_units, visit_units

HEADER = ["Patient", "Date", "Payer", "Provider", "Code", "Modifiers", "Minutes", "Units"]
D = dt.datetime(2025, 10, 1)


def row(code, minutes=None, units=1, payer="Medicare", patient="A", date=D, mods="GP", provider="PT"):
    return [patient, date, payer, provider, code, mods, minutes, units]


def check(*rows, payer=None):
    return check_table([HEADER, *rows], payer)[1:]


# --- item 4: a visit with two payers ---------------------------------------------------------

def test_two_payers_on_one_day_are_two_visits_in_either_order():
    """Aetna 97140 + Medicare 97110/97112 of one patient-day: each payer's claim judged alone, any order."""
    aetna = row("97140", 10, 1, payer="Aetna")
    medicare = [row("97110", 10, 1), row("97112", 10, 1)]
    alone = check(*medicare)
    assert any("UNITS-OVER" in t for t in alone)  # 20 timed min allow 1 unit, 2 billed
    first = check(aetna, *medicare)
    last = check(*medicare, aetna)
    assert first[1:] == alone and last[:2] == alone
    assert first[0] == last[2] == "OK"  # Aetna per code: 10 min = 1 unit


def test_two_payer_units_by_rule_agree_with_the_check_in_any_order():
    """check's Units (rule) forms the same visits as PT_VALIDATE: the Aetna line keeps its unit."""
    rows = [row("97140", 10, 1, payer="Aetna"), row("97110", 10, 1), row("97112", 10, 1)]
    a = check_log(HEADER, rows).units
    b = check_log(HEADER, rows[1:] + rows[:1]).units
    assert a[0] == b[2] == 1
    assert sorted(a[1:]) == sorted(b[:2]) == [0, 1]


# --- item 5: patient keys ------------------------------------------------------------------

@pytest.mark.parametrize("patient", [None, "", "  ", "#N/A"])
def test_blank_or_error_patient_is_an_input_finding_on_that_row(patient):
    """A blank or #N/A Patient is an INPUT error on its row, and such rows do not merge into one visit."""
    got = check(row("97110", 10, 1, patient=patient), row("97112", 10, 1, patient=patient), row("97110", 30, 2))
    assert got[0].startswith("ERROR INPUT: Patient cell: ") and got[1] == got[0]
    assert ("blank" in got[0]) == (patient != "#N/A") and ("#N/A" in got[0]) == (patient == "#N/A")
    assert got[2] == "OK"


def test_blank_or_error_date_is_an_input_finding():
    """A blank or #N/A Date is an INPUT error naming the Date cell."""
    got = check(row("97110", 10, 1, date=None), row("97110", 10, 1, date="#N/A"))
    assert got[0] == "ERROR INPUT: Date cell: blank — correct it"
    assert got[1] == "ERROR INPUT: Date cell: holds the Excel error #N/A, not a date — correct it"


def test_patient_keys_ignore_case_and_outer_spaces():
    """'P01', 'p01' and ' P01 ' on one day are one visit: 10 + 10 minutes give 1 unit, not 2."""
    got = check(row("97110", 10, 1, patient="P01"), row("97112", 10, 1, patient=" p01 "))
    assert any("UNITS-OVER" in t for t in got)
    assert check(row("97110", 10, 1, patient="P01"), row("97112", 10, 1, patient="P02")) == ["OK", "OK"]


def test_pt_units_visit_keys_ignore_case_and_outer_spaces():
    """PT_UNITS groups 'P01|45931' and ' p01|45931' as one visit, as PT_VALIDATE does."""
    assert log_units([10, 10], ["97110", "97112"], "CMS", ["P01|45931", " p01|45931"]) == [1, 0] or \
        log_units([10, 10], ["97110", "97112"], "CMS", ["P01|45931", " p01|45931"]) == [0, 1]
    assert log_units([10, 10], ["97110", "97112"], "CMS", ["P01|45931", "P02|45931"]) == [1, 1]


def test_kx_totals_name_a_patient_the_same_whatever_the_row_order():
    """KX totals add 'P01' and 'p01' together and name them by one spelling in any order."""
    rows = [row("97110", 30, 2, patient="p01"), row("97110", 30, 2, patient="P01", date=D + dt.timedelta(days=1))]
    a = check_log(HEADER, rows).summary["medicare_totals"]
    b = check_log(HEADER, rows[::-1]).summary["medicare_totals"]
    assert a == b and len(a) == 1 and a[0]["patient"] == "P01"


# --- the property: row order never changes findings ------------------------------------------

CODES = ["97110", "97112", "97140", "97530", "97161", "97150", "97010", "G0283", "97035"]
ROW = st.tuples(
    st.sampled_from(["P1", "p1", " P1", "P2", "", None, "#N/A"]),
    st.sampled_from([D, D + dt.timedelta(days=1), dt.datetime(2100, 1, 4), None]),
    st.sampled_from(["Medicare", "medicare ", "Aetna", "Medicare Advantage", "BCBS"]),
    st.sampled_from(["PT", "PTA", "OT", "MD"]),
    st.sampled_from(CODES),
    st.sampled_from(["GP", "GP CQ", "GP 59", "", "GO"]),
    st.one_of(st.none(), st.integers(0, 60), st.sampled_from([700, 1440])),
    st.one_of(st.none(), st.integers(0, 5)),
)


def one_line_per_code(rows):
    """Drop later lines of a code already in the visit (patient, date, payer as the office types them).

    A timed code on two lines of one visit is itself an error (UNITS-DUPLICATE); its units and the
    finding go on the code's first line, and which line is first follows the rows' order. Every
    other finding is the property's business.
    """
    seen, out = set(), []
    for r in rows:
        key = (str(r[0]).strip().casefold(), r[1], r[2].strip().casefold(), r[4])
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def texts(findings):
    return [[(f.severity, f.rule, f.message) for f in fs] for fs in findings]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROW, min_size=1, max_size=14), st.randoms(use_true_random=False))
def test_shuffling_rows_never_changes_any_rows_findings(rows, rnd):
    """Every row keeps exactly its findings and its units by the rule when the rows are shuffled."""
    rows = one_line_per_code([list(r) for r in rows])
    order = list(range(len(rows)))
    rnd.shuffle(order)
    before = check_log(HEADER, rows)
    after = check_log(HEADER, [rows[i] for i in order])
    assert texts(after.findings) == [texts(before.findings)[old] for old in order]
    assert after.units == [before.units[old] for old in order]
    assert after.summary == before.summary


def test_random_logs_keep_their_findings_under_many_shuffles():
    """A 400-row log of a few patients and payers, past the KX threshold, keeps every row's findings
    under 5 shuffles."""
    rnd = random.Random(13)
    rows = one_line_per_code([
        row(rnd.choice(CODES), rnd.randint(8, 60), rnd.randint(1, 4), payer=rnd.choice(["Medicare", "Aetna", "medicare "]),
            patient=rnd.choice(["P1", "p1", "P2", "P3"]), date=D + dt.timedelta(days=rnd.randint(0, 60)))
        for _ in range(400)])
    base = texts(check_log(HEADER, rows).findings)
    rules = {f[1] for fs in base for f in fs}
    assert {"KX-MISSING", "UNITS-OVER", "NCCI-PTP", "MUE"} <= rules  # the order-sensitive families are exercised
    for _ in range(5):
        order = list(range(len(rows)))
        rnd.shuffle(order)
        assert texts(check_log(HEADER, [rows[i] for i in order]).findings) == [base[old] for old in order]


# --- item 8: a date outside every release ---------------------------------------------------

@pytest.mark.parametrize("day", [dt.datetime(2100, 3, 1), dt.datetime(1899, 6, 1)])
def test_a_date_outside_every_release_spoils_only_its_row(day):
    """A row dated 2100 (or 1899) is an INPUT error on that row; the other rows are checked as usual."""
    got = check(row("97110", 30, 2, patient="B", date=day), row("97110", 30, 3))
    assert got[0].startswith("ERROR INPUT: Date cell: ") and str(day.year) in got[0]
    assert got[1].startswith("ERROR UNITS-OVER")


def test_pt_validate_names_the_far_date_row_not_the_whole_column():
    """Through xlwings: PT_VALIDATE answers per row, not one message for the column."""
    table = [HEADER, row("97110", 30, 2, date=dt.datetime(2100, 3, 1)), row("97110", 30, 2)]
    got = xh.call_as_excel("PT_VALIDATE", table)
    assert [r[0] for r in got][0] == "Check" and got[2][0] == "OK"
    assert got[1][0].startswith("ERROR INPUT: Date cell: 2100-03-01")


def test_check_command_goes_on_past_a_far_date(tmp_path, capsys):
    """`ptbilling check` exits 1 (a finding), not 2, and names the row of the 2100 date."""
    path = tmp_path / "log.csv"
    path.write_text("\n".join([",".join(HEADER), "A,2025-10-01,Medicare,PT,97110,GP,30,2",
                               "B,2100-01-04,Medicare,PT,97110,GP,30,2"]) + "\n", encoding="utf-8")
    code = cli.main(["check", str(path)])
    out, err = capsys.readouterr()
    assert code == 1 and err == ""
    assert "row 3: ERROR INPUT: Date cell: 2100-01-04" in out


# --- item 9: 24 hours ---------------------------------------------------------------------

def test_units_command_refuses_a_visit_over_24_hours(capsys):
    """`ptbilling units 1440:97110 1440:97112` is refused in one line (it gave 192 units)."""
    assert cli.main(["units", "1440:97110", "1440:97112"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == (
        "ptbilling: the visit's timed minutes add up to 2,880, over 24 hours (1,440) — check the minutes")


def test_a_visit_of_exactly_24_hours_is_allowed():
    """1440 timed minutes in a visit is the limit, not over it: 96 units."""
    assert sum(visit_units([("97110", 720), ("97112", 720)])[0]) == 96


def test_pt_units_and_pt_validate_refuse_a_visit_over_24_hours():
    """Each line of a visit over 24 hours says so; another visit of the log is still computed."""
    got = log_units([1000, 500, 30], ["97110", "97112", "97110"], "CMS", ["a", "a", "b"])
    assert all(isinstance(u, LineProblem) and "over 24 hours" in str(u) for u in got[:2]) and got[2] == 2
    got = check(row("97110", 1000, 67), row("97112", 500, 33), row("97110", 30, 2, patient="B"))
    for text in got[:2]:
        assert text.startswith("ERROR INPUT: Minutes cells: the visit's timed minutes add up to 1,500, "
                               "over 24 hours (1,440) — check the minutes")
        assert "UNITS-" not in text  # no unit judgement on minutes that cannot be
    assert got[2] == "OK"


def test_billed_units_on_a_line_are_at_most_96():
    """96 units on a line is allowed, 97 is refused, and the message says units, not hours."""
    assert coerce_units(96) == 96
    with pytest.raises(LineProblem) as e:
        coerce_units(1e6)
    assert str(e.value) == "1,000,000 units is more than one line can bill (at most 96: 24 hours of 15-minute units)"
    assert "hour" not in check(row("97110", 30, 97))[0].split("at most")[0]


def test_pt_fee_length_mismatch_names_codes_not_minutes():
    """PT_FEE's ranges of unequal length: the message names codes, PT_FEE's first argument."""
    got = xh.call_as_excel("PT_FEE", [["97110"], ["97112"]], [[1.0], [1.0], [1.0]])
    text = got if isinstance(got, str) else got[0][0]
    assert "units has 3 cells but codes has 2" in text and "minutes" not in text


# --- item 11: Excel serial dates below 61 ---------------------------------------------------

@pytest.mark.parametrize("serial, day", [(1, dt.date(1900, 1, 1)), (59, dt.date(1900, 2, 28)),
                                         (61, dt.date(1900, 3, 1)), (45931, dt.date(2025, 10, 1)),
                                         (59.75, dt.date(1900, 2, 28))])
def test_excel_serials_follow_excels_1900_calendar(serial, day):
    """Serials 1-59 and 61 on are the dates Excel shows; to_serial is the inverse."""
    assert coerce_date(serial) == day
    assert to_serial(day) == int(serial)


def test_serial_60_the_fictitious_leap_day_is_refused_clearly():
    """Serial 60 (Excel's 1900-02-29) is refused with a message saying why."""
    with pytest.raises(LineProblem, match="29 February 1900, a day that never existed"):
        coerce_date(60)
    with pytest.raises(LineProblem, match="serial numbers 1 to"):
        coerce_date(0.5)


def test_bad_value_is_a_value_error():
    """The refusals are BadValue (a ValueError), as the rest of the core's."""
    with pytest.raises(BadValue):
        visit_units([("97110", 1440), ("97112", 1)])


def test_pt_fee_visit_keys_compare_as_pt_units_keys():
    """PT_FEE's MPPR visit: 'P01|1' and ' p01|1' are one visit (the second unit's PE is halved)."""
    one = xh.call_as_excel("PT_FEE", [["97110"], ["97530"]], [[1.0], [1.0]], None, None, None, [["P01|1"], [" p01|1"]])
    two = xh.call_as_excel("PT_FEE", [["97110"], ["97530"]], [[1.0], [1.0]], None, None, None, [["P01|1"], ["P02|1"]])
    assert one[0][0] < two[0][0] and one[1][0] == two[1][0]


def test_traditional_medicare_in_any_spelling_is_one_payer_of_the_visit():
    """'MCR' and 'Medicare B' lines of one patient-day are one claim: 10 + 10 min give 1 unit, not 2."""
    got = check(row("97110", 10, 1, payer="MCR"), row("97112", 10, 1, payer="Medicare B"))
    assert any("UNITS-OVER" in t for t in got)
    aetna = check(row("97110", 10, 1, payer="Aetna"), row("97110", 10, 1, payer="AETNA "))
    assert "UNITS-DUPLICATE" in aetna[1]  # other payers: as typed, case and outer spaces ignored
