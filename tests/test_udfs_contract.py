"""The Excel contract, proven with xlwings' own code (no Excel): wrappers, conversion, never raising."""
from __future__ import annotations

import datetime as dt
import math
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xlwings_harness as xh

FUNCTIONS = {  # name -> the optional arguments Excel must show as Optional
    "PT_UNITS": ["codes", "method", "visits", "modifiers", "assistant_minutes", "dates"],
    "PT_EXPLAIN": ["codes", "method", "modifiers", "assistant_minutes", "date"],
    "PT_VALIDATE": ["payer", "method"],
    "PT_FEE": ["modifiers", "dates", "locality", "visits"],
}


def excel(func, *args):
    return xh.call_as_excel(func, *args)


def test_generate_vba_wrapper_declares_each_function_once_with_its_optionals():
    """xlwings' generate_vba_wrapper writes one VBA Function per PT_ UDF, optionals marked."""
    vba = xh.vba_wrapper()
    for name, optionals in FUNCTIONS.items():
        sigs = re.findall(rf"^Function {name}\((.*)\)$", vba, flags=re.M)
        assert len(sigs) == 1, f"{name} declared {len(sigs)} times"
        params = [p.strip() for p in sigs[0].split(",")]
        assert [p.split()[-1] for p in params if p.startswith("Optional ")] == optionals
    assert set(re.findall(r"^Function (PT_\w+)\(", vba, flags=re.M)) == set(FUNCTIONS)


def test_function_wizard_texts_are_present_and_at_most_255_characters():
    """Every docstring and argument help exists (not xlwings' default) and fits the Wizard."""
    _, _, mod = xh.load()
    for name in FUNCTIONS:
        info = getattr(mod, name).__xlfunc__
        assert info["ret"]["doc"] and len(info["ret"]["doc"]) <= 255
        for arg in info["args"]:
            assert not arg["doc"].startswith("Positional argument"), f"{name}.{arg['name']} has no help"
            assert len(arg["doc"]) <= 255


def test_pt_units_single_cell_gives_a_single_number():
    """=PT_UNITS(38) -> 3."""
    assert excel("PT_UNITS", 38.0) == [[3]]


def test_pt_units_column_of_codes_as_excel_hands_them():
    """=PT_UNITS({24;23},{"97112";"97110"}) -> {2;1}."""
    assert excel("PT_UNITS", ((24.0,), (23.0,)), (("97112",), ("97110",))) == [[2], [1]]


def test_pt_units_row_in_row_out_with_float_codes_and_lower_case_method():
    """A row of minutes answers as a row; codes typed as numbers arrive as floats."""
    assert excel("PT_UNITS", ((24.0, 23.0),), ((97112.0, 97110.0),), "ama") == [[2, 2]]


def test_pt_units_whole_log_in_one_call_grouped_by_visit():
    """=PT_UNITS(Log[Minutes], Log[Code], "CMS", Log[Visit]) computes each visit apart."""
    mins = ((24.0,), (23.0,), (20.0,), (18.0,))
    codes = (("97112",), ("97110",), ("97110",), ("97140",))
    visits = (("p1 2025-03-03",), ("p1 2025-03-03",), (7.0,), (7.0,))
    assert excel("PT_UNITS", mins, codes, "CMS", visits) == [[2], [1], [2], [1]]


def test_pt_units_divides_a_code_between_its_cq_line_and_its_therapist_line():
    """=PT_UNITS(min, code, "CMS", visit, mods): CMS example #1's 97110-CQ x1, 97110 x1, 97140 x2, under either method."""
    mins, codes = ((23.0,), (13.0,), (30.0,)), (("97110",), ("97110",), ("97140",))
    mods = (("GP CQ",), ("GP",), ("GP",))
    assert excel("PT_UNITS", mins, codes, "CMS", xh.MISSING, mods) == [[1], [1], [2]]
    assert excel("PT_UNITS", mins, codes, "CMS") == [[2], [0], [2]]  # without modifiers: on the first line
    assert excel("PT_UNITS", mins, codes, "AMA", xh.MISSING, mods) == [[1], [1], [2]]
    assert "modifiers has 2 cells but minutes has 3" in excel("PT_UNITS", mins, codes, "CMS", xh.MISSING,
                                                              (("CQ",), ("GP",)))[0][0]


def test_pt_units_blank_and_error_cells_give_blanks():
    """Empty cells and #N/A (error cells arrive as None) give blank results."""
    assert excel("PT_UNITS", ((24.0,), (None,), (-2146826246,))) == [[2], [""], [""]]


def test_pt_units_bad_line_gets_a_message_and_others_still_compute():
    """A negative, a text and a 25-hour line each get a message in place."""
    got = excel("PT_UNITS", ((24.0,), (-5.0,), ("ten",), (1500.0,)), ((97112.0,), (97110.0,), (97110.0,), (97110.0,)))
    assert got[0] == [2]
    assert "negative" in got[1][0] and "number" in got[2][0] and "24 hours" in got[3][0]


def test_pt_units_dates_in_minutes_are_refused_not_counted():
    """A datetime where minutes belong gives a message, not a serial number."""
    got = excel("PT_UNITS", ((dt.datetime(2025, 3, 3),),))
    assert isinstance(got[0][0], str) and "number" in got[0][0]


def test_pt_units_bad_method_and_shapes_give_one_short_message():
    """A wrong method or a 2-D range gives one message, never a traceback."""
    assert excel("PT_UNITS", 38.0, xh.MISSING, "Medicare")[0][0].startswith("PT_UNITS: unknown method 'Medicare'")
    assert "one column or one row" in excel("PT_UNITS", ((1.0, 2.0), (3.0, 4.0)))[0][0]
    # one code cell applies to every line: 97110 on two lines is one 21-minute service
    assert excel("PT_UNITS", ((1.0,), (20.0,)), "97110") == [[1], [0]]
    assert "codes has 2 cells but minutes has 3" in excel("PT_UNITS", ((1.0,), (2.0,), (3.0,)), (("97110",), ("97110",)))[0][0]


def test_pt_explain_as_excel_calls_it():
    """=PT_EXPLAIN({24;23},{97112;97110}) is one line with the working and the source."""
    got = excel("PT_EXPLAIN", ((24.0,), (23.0,)), ((97112.0,), (97110.0,)))
    assert got[0][0].startswith("47 timed min → 3 units (38–52).") and "§20.2" in got[0][0]


def test_pt_validate_as_excel_hands_a_log():
    """A header row, dates as datetime, codes as floats and blanks as None, checked row for row."""
    log = (("Patient", "Date", "Payer", "Provider", "Code", "Modifiers", "Minutes", "Units"),
           ("A", dt.datetime(2025, 3, 3), "Medicare", "PT", 97112.0, "GP", 24.0, 2.0),
           ("A", dt.datetime(2025, 3, 3), "Medicare", "PT", 97110.0, "GP", 23.0, 1.0),
           (None, None, None, None, None, None, None, None),
           ("B", dt.datetime(2025, 3, 3), "Medicare", "PT", 97110.0, "GP", 30.0, 3.0))
    assert excel("PT_VALIDATE", log) == [["Check"], ["OK"], ["OK"], [""],
                                         ["ERROR UNITS-OVER: 30 timed min allow 2 units, 3 billed — bill 2"]]


def test_pt_validate_without_header_columns_is_one_message():
    """A range without the recognised headers gives one message naming what is missing."""
    got = excel("PT_VALIDATE", (("a", "b"), (1.0, 2.0)))
    assert got[0][0].startswith("PT_VALIDATE: missing columns Patient, Date")


D2025 = dt.datetime(2025, 5, 1)


def test_pt_fee_2025_national_figures_to_the_cent():
    """2025: 97110 x1 $28.79; x2 $50.62 (28.79 + 21.83); with 97530: 97530 $34.61, 97110 $21.83; CQ 85%."""
    assert excel("PT_FEE", 97110.0, 1.0, xh.MISSING, D2025) == [[28.79]]
    assert excel("PT_FEE", 97110.0, 2.0, xh.MISSING, D2025) == [[50.62]]
    assert excel("PT_FEE", ((97110.0,), (97530.0,)), ((1.0,), (1.0,)), xh.MISSING, ((D2025,), (D2025,))) == \
        [[21.83], [34.61]]
    assert excel("PT_FEE", 97110.0, 1.0, "GP CQ", D2025) == [[24.47]]


def test_pt_fee_without_dates_prices_the_newest_shipped_year_2026():
    """No dates: 2026 (RVU26C) national, 97110 x1 $29.06; x2 $51.27 (29.06 + 22.21); 97530 $35.07 in full."""
    assert excel("PT_FEE", 97110.0, 1.0) == [[29.06]]
    assert excel("PT_FEE", 97110.0, 2.0) == [[51.27]]
    assert excel("PT_FEE", ((97110.0,), (97530.0,)), ((1.0,), (1.0,))) == [[22.21], [35.07]]


def test_pt_fee_bundled_and_invalid_pay_zero_and_explain_says_why():
    """97010 and 97014 pay 0; PT_EXPLAIN says status B and 'bill G0283'."""
    assert excel("PT_FEE", ((97010.0,), (97014.0,)), ((1.0,), (1.0,))) == [[0.0], [0.0]]
    text = excel("PT_EXPLAIN", ((10.0,), (15.0,)), ((97010.0,), (97014.0,)))[0][0]
    assert "97010 pays $0 to Medicare (status B" in text and "bill G0283" in text


def test_pt_fee_bad_units_message_names_units():
    """A text in the Units range gives a message about units on that line only."""
    assert excel("PT_FEE", ((97110.0,), ("97110",)), ((2.0,), ("x",)), xh.MISSING, ((D2025,), (D2025,))) == \
        [[50.62], ["units must be a number, not 'x'"]]


def test_pt_fee_locality_visits_and_messages():
    """Alaska's GPCIs raise the amount; visits split the MPPR; unknown locality and 2027 give messages."""
    assert excel("PT_FEE", 97110.0, 1.0, xh.MISSING, D2025, "02102-01") == [[37.06]]
    two_visits = excel("PT_FEE", ((97110.0,), (97530.0,)), ((1.0,), (1.0,)), xh.MISSING, ((D2025,), (D2025,)),
                       xh.MISSING, (("v1",), ("v2",)))
    assert two_visits == [[28.79], [34.61]]
    assert "unknown Medicare locality 99999-01" in excel("PT_FEE", 97110.0, 1.0, xh.MISSING, xh.MISSING, "99999-01")[0][0]
    message = excel("PT_FEE", 97110.0, 1.0, xh.MISSING, dt.datetime(2027, 1, 2))[0][0]
    assert "for 2027" in message and "2027 dates: import CMS's RVU27A.zip with `ptbilling data import`" in message


# --- never raise: arbitrary Excel-shaped values through xlwings' conversion ---------------

scalars = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-10**6, 10**6).map(float),
    st.text(max_size=12),
    st.sampled_from(["97110", "97112", "g0283", "97010", "cms", "AMA", "", " ", "97110.0"]),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    st.sampled_from([-2146826281, -2146826246, -2146826259]),  # #DIV/0!, #N/A, #NAME?
)


@st.composite
def ranges(draw):
    rows = draw(st.integers(1, 5))
    cols = draw(st.integers(1, 3))
    return tuple(tuple(draw(scalars) for _ in range(cols)) for _ in range(rows))


excel_values = st.one_of(scalars, ranges(), st.just(xh.MISSING))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(FUNCTIONS)), st.lists(excel_values, min_size=1, max_size=7))
def test_property_every_function_returns_a_value_for_any_excel_input(name, args):
    """Any mix of floats (NaN, inf), None, text, booleans, dates and ranges: a value, never an exception."""
    n_args = len(xh.load()[2].__dict__[name].__xlfunc__["args"])
    args = args[:n_args]
    if args[0] == xh.MISSING:
        args[0] = None
    got = excel(name, *args)
    assert isinstance(got, list) and got and all(isinstance(r, list) for r in got)
    for row in got:
        for cell in row:
            assert cell is None or isinstance(cell, (str, int, float))
            if isinstance(cell, float):
                assert not math.isnan(cell)
            if isinstance(cell, str):
                assert "Traceback" not in cell
                # a message is cut to 255 characters; an explanation (PT_EXPLAIN's answer) may be as long as a
                # cell holds (32,767): a visit of several unnamed timed lines says so line by line
                explained = name == "PT_EXPLAIN" and not cell.startswith("PT_EXPLAIN:")
                assert len(cell) <= (32_767 if explained else 255)
