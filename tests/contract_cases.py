"""The desktop contract cases of the four functions, as data: Windows Excel's values (xlwings_harness).

test_udfs_contract.py asserts their answers on the desktop; test_lite.py runs the
same cases as xlwings Lite hands them (on CPython, and in Pyodide in CI) and
asserts the same answers. Values are written the way classic xlwings hands them
on Windows: numbers as floats, dates as datetimes, empty cells as None, error
cells as their COM codes, an omitted argument as MISSING.
"""
from __future__ import annotations

import datetime as dt

from lite_harness import MISSING

NA, DIV0 = -2146826246, -2146826281
D = dt.datetime(2025, 3, 3)

LOG = (("Patient", "Date", "Payer", "Provider", "Code", "Modifiers", "Minutes", "Units"),
       ("A", D, "Medicare", "PT", 97112.0, "GP", 24.0, 2.0),
       ("A", D, "Medicare", "PT", 97110.0, "GP", 23.0, 1.0),
       (None, None, None, None, None, None, None, None),
       ("B", D, "Medicare", "PT", 97110.0, "GP", 30.0, 3.0))

LOG_WITH_GAPS = (("Patient", "Date", "Payer", "Provider", "Code", "Modifiers", "Minutes", "Units",
                  "Assistant Minutes", "Prior Allowed"),
                 ("A", D, "Medicare", "PT", 97110.0, "GP CQ", 38.0, 3.0, 30.0, None),
                 ("A", D, "Medicare", "PT", 97140.0, "GP", None, 1.0, None, None),  # blank minutes
                 ("B", dt.datetime(2025, 6, 2), "Aetna", "OT", 97530.0, "GO", 40.0, 3.0, None, 1200.0),
                 ("C", D, "Medicare", "PT", NA, "GP", 15.0, 1.0, None, None),  # an error cell as code
                 ("C", D, "Medicare", "PT", 97110.0, "GP", DIV0, 1.0, None, None),  # an error as minutes
                 ("D", dt.datetime(2026, 2, 2), "Medicare", "PTA", 97110.0, "GP CQ", 25.0, 2.0, 25.0, None))

#: (case id, function, arguments as the desktop hands them)
CASES = [
    ("units-single-cell", "PT_UNITS", (38.0,)),
    ("units-column", "PT_UNITS", (((24.0,), (23.0,)), (("97112",), ("97110",)))),
    ("units-row-float-codes-ama", "PT_UNITS", (((24.0, 23.0),), ((97112.0, 97110.0),), "ama")),
    ("units-log-by-visit", "PT_UNITS", (((24.0,), (23.0,), (20.0,), (18.0,)),
                                        (("97112",), ("97110",), ("97110",), ("97140",)), "CMS",
                                        (("p1 2025-03-03",), ("p1 2025-03-03",), (7.0,), (7.0,)))),
    ("units-cq-split", "PT_UNITS", (((23.0,), (13.0,), (30.0,)), (("97110",), ("97110",), ("97140",)), "CMS",
                                    MISSING, (("GP CQ",), ("GP",), ("GP",)))),
    ("units-cq-no-modifiers", "PT_UNITS", (((23.0,), (13.0,), (30.0,)), (("97110",), ("97110",), ("97140",)),
                                           "CMS")),
    ("units-cq-ama", "PT_UNITS", (((23.0,), (13.0,), (30.0,)), (("97110",), ("97110",), ("97140",)), "AMA",
                                  MISSING, (("GP CQ",), ("GP",), ("GP",)))),
    ("units-modifiers-mismatch", "PT_UNITS", (((23.0,), (13.0,), (30.0,)), (("97110",), ("97110",), ("97140",)),
                                              "CMS", MISSING, (("CQ",), ("GP",)))),
    ("units-cq-split-dated-2021", "PT_UNITS", (((23.0,), (13.0,), (30.0,)), (("97110",), ("97110",), ("97140",)),
                                               "CMS", MISSING, (("GP CQ",), ("GP",), ("GP",)), MISSING,
                                               ((dt.datetime(2021, 6, 1),),) * 3)),
    ("units-assistant-minutes-one-line", "PT_UNITS", (((18.0,), (20.0,), (20.0,)), (("97110",), ("97150",), ("97150",)),
                                                      "CMS", MISSING, (("GP",), ("GO CO",), ("GO",)),
                                                      ((10.0,), (None,), (None,)))),
    ("units-bad-assistant-minutes-and-date", "PT_UNITS", (((10.0,), (10.0,)), (("97110",), ("97112",)), "CMS",
                                                          MISSING, (("GP",), ("GP",)), ((12.0,), (None,)),
                                                          ((D,), ("someday",)))),
    ("units-blank-and-error-cells", "PT_UNITS", (((24.0,), (None,), (NA,)),)),
    ("units-blank-minutes-between-lines", "PT_UNITS", (((24.0,), (None,), (23.0,)),
                                                       (("97112",), ("97140",), ("97110",)))),
    ("units-blank-single-cell", "PT_UNITS", (None,)),
    ("units-blank-method-cell", "PT_UNITS", (((24.0,), (23.0,)), (("97112",), ("97110",)), None)),
    ("units-blank-visits-cell", "PT_UNITS", (((24.0,), (23.0,)), (("97112",), ("97110",)), "CMS", None)),
    ("units-bad-lines", "PT_UNITS", (((24.0,), (-5.0,), ("ten",), (1500.0,)),
                                     ((97112.0,), (97110.0,), (97110.0,), (97110.0,)))),
    ("units-unknown-method", "PT_UNITS", (38.0, MISSING, "Medicare")),
    ("units-2d-range", "PT_UNITS", (((1.0, 2.0), (3.0, 4.0)),)),
    ("units-one-code-cell-for-all", "PT_UNITS", (((1.0,), (20.0,)), "97110")),
    ("units-codes-mismatch", "PT_UNITS", (((1.0,), (2.0,), (3.0,)), (("97110",), ("97110",)))),
    ("explain-visit", "PT_EXPLAIN", (((24.0,), (23.0,)), ((97112.0,), (97110.0,)))),
    ("explain-bundled", "PT_EXPLAIN", (((10.0,), (15.0,)), ((97010.0,), (97014.0,)))),
    ("explain-blank-codes", "PT_EXPLAIN", (((24.0,), (None,)), ((97112.0,), (None,)))),
    ("explain-assistant-split", "PT_EXPLAIN", (((10.0,), (8.0,)), (("97110",), ("97110",)), "CMS",
                                               (("GP CQ",), ("GP",)))),
    ("explain-assistant-minutes-dated", "PT_EXPLAIN", (((36.0,), (30.0,)), (("97110",), ("97140",)), "CMS",
                                                       (("GP",), ("GP",)), ((23.0,), (None,)),
                                                       dt.datetime(2021, 6, 1))),
    ("validate-log", "PT_VALIDATE", (LOG,)),
    ("validate-log-gaps-errors-assistants", "PT_VALIDATE", (LOG_WITH_GAPS,)),
    ("validate-log-payer-argument", "PT_VALIDATE", (tuple(r[:2] + r[3:] for r in LOG), "Medicare")),
    ("validate-no-headers", "PT_VALIDATE", ((("a", "b"), (1.0, 2.0)),)),
    ("validate-header-only", "PT_VALIDATE", ((LOG[0],),)),
    ("fee-one-unit", "PT_FEE", (97110.0, 1.0)),
    ("fee-two-units", "PT_FEE", (97110.0, 2.0)),
    ("fee-mppr-two-codes", "PT_FEE", (((97110.0,), (97530.0,)), ((1.0,), (1.0,)))),
    ("fee-cq-dated", "PT_FEE", (97110.0, 1.0, "GP CQ", dt.datetime(2025, 5, 1))),
    ("fee-bundled-invalid", "PT_FEE", (((97010.0,), (97014.0,)), ((1.0,), (1.0,)))),
    ("fee-bad-units", "PT_FEE", (((97110.0,), ("97110",)), ((2.0,), ("x",)))),
    ("fee-alaska", "PT_FEE", (97110.0, 1.0, MISSING, MISSING, "02102-01")),
    ("fee-two-visits", "PT_FEE", (((97110.0,), (97530.0,)), ((1.0,), (1.0,)), MISSING, MISSING, MISSING,
                                  (("v1",), ("v2",)))),
    ("fee-unknown-locality", "PT_FEE", (97110.0, 1.0, MISSING, MISSING, "99999-01")),
    ("fee-2026-no-data", "PT_FEE", (97110.0, 1.0, MISSING, dt.datetime(2026, 1, 2))),
    ("fee-dates-range-with-blanks", "PT_FEE", (((97110.0,), (None,), (97530.0,)), ((1.0,), (None,), (2.0,)),
                                               (("GP",), (None,), ("GP",)),
                                               ((dt.datetime(2025, 3, 3),), (None,), (dt.datetime(2025, 3, 4),)),
                                               MISSING, (("a",), (None,), ("b",)))),
    ("fee-blank-dates-cell", "PT_FEE", (((97110.0,), (97530.0,)), ((1.0,), (1.0,)), MISSING, None)),
    ("fee-blank-locality-cell", "PT_FEE", (97110.0, 1.0, MISSING, MISSING, None)),
]

#: where Lite cannot give the desktop's answer, and what it gives instead
DIFFERENT_IN_LITE = {
    # A date typed where minutes belong: the desktop sees a datetime and says "must be a number";
    # Lite sees the serial day number 45719 and says it is over 24 hours. Both refuse the line.
    "units-date-as-minutes": ("PT_UNITS", (((dt.datetime(2025, 3, 3),),),)),
}
