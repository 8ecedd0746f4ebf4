"""xlwings Lite: the desktop contract cases give the desktop's answers as Lite hands the values.

On CPython every time, and in Pyodide (the Python of xlwings Lite) when node and
the npm ``pyodide`` package of tests/pyodide are installed, as .ci/run does.
The desktop side runs through classic xlwings' own conversion code
(xlwings_harness); the Lite side calls the function bodies the way Lite's call
path hands them Office.js' values (lite_harness says why not Lite itself).
"""
from __future__ import annotations

import datetime as dt
import inspect
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import contract_cases as cc
import lite_harness as lh
import xlwings_harness as xh
from ptbilling import excel_functions

ROOT = Path(__file__).resolve().parents[1]
PYODIDE_DIR = ROOT / "tests" / "pyodide"
WHEELS_DIR = PYODIDE_DIR / "wheels"  # micropip's wheel, fetched by .ci/run with pip download


def lite_args(args, variant: str, date1904: bool = False) -> list:
    blank, error = lh.VARIANTS[variant]
    return [lh.office_js(a, blank, error, date1904) for a in args]


def desktop(func: str, args) -> list:
    return xh.call_as_excel(func, *args)


@pytest.mark.parametrize("variant", sorted(lh.VARIANTS))
@pytest.mark.parametrize("case_id,func,args", cc.CASES, ids=[c[0] for c in cc.CASES])
def test_lite_values_give_the_desktop_answer(case_id, func, args, variant):
    """Each contract case, blanks as null or "", errors as objects or text, dates as serials: the desktop's answer."""
    assert lh.call_as_lite(excel_functions, func, *lite_args(args, variant)) == desktop(func, args)


def test_a_blank_minutes_cell_stays_blank_in_every_shape_lite_hands_it():
    """null or "" minutes: a blank line, or 'no minutes' beside a code, never 0 minutes; a typed 0 is 0 minutes."""
    for blank in (None, ""):
        assert lh.call_as_lite(excel_functions, "PT_UNITS", [[24], [blank], [23]]) == [[2], [""], [1]]
        assert lh.call_as_lite(excel_functions, "PT_UNITS", [[24], [blank], [23]], [["97112"], ["97140"], ["97110"]]) \
            == [[2], ["no minutes for timed code 97140"], [1]]
        assert lh.call_as_lite(excel_functions, "PT_UNITS", [[blank]]) == [[""]]
    assert lh.call_as_lite(excel_functions, "PT_UNITS", [[24], [0], [23]], [["97112"], ["97140"], ["97110"]]) \
        == [[2], [0], [1]]


def test_lite_serial_dates_are_the_1900_date_system():
    """A serial day number is read in the 1900 system: 45719 is 3 March 2025, priced as 2025."""
    assert lh.serial(dt.datetime(2025, 3, 3)) == 45719
    got = lh.call_as_lite(excel_functions, "PT_FEE", [[97110]], [[1]], None, [[45719]])
    assert got == desktop("PT_FEE", (97110.0, 1.0, xh.MISSING, dt.datetime(2025, 3, 3))) == [[28.79]]


def test_a_1904_date_system_workbook_reads_four_years_early_and_gets_a_message_not_an_amount():
    """A 1904-system serial (1,462 days lower) is read as 2021 in Lite: PT_FEE says there is no 2021 data."""
    assert lh.serial(dt.datetime(2025, 3, 3)) - lh.serial(dt.datetime(2025, 3, 3), date1904=True) == 1462
    got = lh.call_as_lite(excel_functions, "PT_FEE", *lite_args((97110.0, 1.0, xh.MISSING, dt.datetime(2025, 3, 3)),
                                                                "null-blanks+error-objects", date1904=True))
    assert isinstance(got[0][0], str) and "for 2021" in got[0][0]


def test_a_1904_date_system_log_warns_each_patient_with_the_wrong_year():
    """PT_VALIDATE on a 1904-system log reads 2021: each patient's first line warns, naming 2021, not a silent OK."""
    log = lite_args((cc.LOG,), "null-blanks+error-objects", date1904=True)
    got = lh.call_as_lite(excel_functions, "PT_VALIDATE", *log)
    assert got[0] == ["Check"] and got[3] == [""]
    for first_line_of_patient in (got[1], got[4]):  # patients A and B
        assert "WARN KX-UNCHECKED: KX threshold not checked for 2021" in first_line_of_patient[0]


def test_where_lite_differs_it_still_refuses_the_line():
    """A date typed as minutes: the desktop says 'number', Lite sees a serial and says 'over 24 hours'."""
    func, args = cc.DIFFERENT_IN_LITE["units-date-as-minutes"]
    assert "must be a number" in desktop(func, args)[0][0]
    assert "over 24 hours" in lh.call_as_lite(excel_functions, func, *lite_args(args, "null-blanks+error-objects"))[0][0]


def test_error_text_and_error_objects_read_as_the_desktop_reads_an_error_cell():
    """#N/A as text, as an Office.js error object, and the desktop's error code: one answer."""
    for cell in ("#N/A", {"type": "Error", "basicValue": "#N/A"}):
        assert lh.call_as_lite(excel_functions, "PT_UNITS", [[24], [cell]]) == \
            desktop("PT_UNITS", (((24.0,), (cc.NA,)),)) == [[2], [""]]


# --- in Pyodide ---------------------------------------------------------------------------

def _pyodide_missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed (.ci/run installs it)"
    if not (PYODIDE_DIR / "node_modules" / "pyodide" / "pyodide.mjs").is_file():
        return "npm pyodide is not installed in tests/pyodide (.ci/run runs npm ci there)"
    if not list(WHEELS_DIR.glob("micropip-*.whl")):
        return "micropip's wheel is not in tests/pyodide/wheels (.ci/run fetches it with pip download)"
    return None


@pytest.fixture(scope="module")
def pyodide_run(tmp_path_factory, cms_dir_or_none):
    """One Pyodide session: build the wheel, install it offline, run every case; its JSON report."""
    why = _pyodide_missing()
    if why:
        pytest.skip(why)
    tmp = tmp_path_factory.mktemp("pyodide")
    wheels = tmp / "wheels"
    wheels.mkdir()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True)
    for w in WHEELS_DIR.glob("micropip-*.whl"):
        shutil.copy(w, wheels)
    cases = [{"key": f"{case_id}|{variant}", "func": func, "args": lite_args(args, variant)}
             for case_id, func, args in cc.CASES for variant in sorted(lh.VARIANTS)]
    cases_file = tmp / "cases.json"
    cases_file.write_text(json.dumps(cases), encoding="utf-8")
    env = dict(os.environ)
    env.pop("PTBILLING_DATA_DIR", None)  # Pyodide has its own file system: the front door finds /data
    if cms_dir_or_none is not None:  # newer CMS data, imported on a desktop, then dropped into Lite's /data
        drop = tmp / "ptbilling"
        subprocess.run([sys.executable, "-m", "ptbilling", "data", "import-rvu",
                        str(cms_dir_or_none / "PPRRVU2026_Jul.therapy.csv")],
                       check=True, capture_output=True, env={**os.environ, "PTBILLING_DATA_DIR": str(drop)})
        env["PTBILLING_LITE_DROP"] = str(drop)
        env["PTBILLING_LITE_DROP_SERIAL"] = str(int(lh.serial(dt.date(2026, 8, 3))))
    got = subprocess.run(["node", str(PYODIDE_DIR / "run_lite.mjs"), str(wheels), str(cases_file),
                          str(ROOT / "tests" / "lite_harness.py")],
                         capture_output=True, text=True, env=env, cwd=PYODIDE_DIR, timeout=600)
    assert got.returncode == 0, got.stderr[-3000:]
    report = json.loads(got.stdout.strip().splitlines()[-1])
    report["wheel"] = next(wheels.glob("ptbilling-*.whl"))
    return report


@pytest.fixture(scope="module")
def cms_dir_or_none():
    from conftest import CMS_DIR

    return CMS_DIR if (CMS_DIR / "PPRRVU2026_Jul.therapy.csv").is_file() else None


def test_pyodide_installs_the_wheel_with_its_declared_dependencies_only(pyodide_run):
    """In Pyodide the wheel installs offline with nothing but micropip beside it, and loads no third-party package."""
    checks = pyodide_run["checks"]
    assert checks["platform"] == "emscripten"
    assert checks["installed"] == ["micropip", "ptbilling"]
    assert checks["loaded_third_party"] == []
    requires = [line for line in zipfile.ZipFile(pyodide_run["wheel"]).read(
        "ptbilling-0.1.0.dist-info/METADATA").decode().splitlines() if line.startswith("Requires-Dist:")]
    assert requires and all("extra ==" in line for line in requires), requires


def test_pyodide_uses_data_ptbilling_and_shipped_data_without_it(pyodide_run):
    """Without /data/ptbilling the functions run on the shipped data only; the folder is /data/ptbilling."""
    assert pyodide_run["checks"]["user_data_dir"] == "/data/ptbilling"
    assert pyodide_run["checks"]["release_origins"] == ["shipped"]


def test_pyodide_sees_a_release_folder_dropped_into_data(pyodide_run):
    """A 2026 RVU release imported on a desktop and dropped into /data/ptbilling prices 2026 in Lite."""
    after = pyodide_run["after_drop"]
    if after is None:
        pytest.skip("the shared CMS files are not beside the repository (../shared/data/cms)")
    assert after["release_origins"] == ["imported", "shipped"]
    fee = after["fee"][0][0]
    assert isinstance(fee, float) and fee > 0, after


@pytest.mark.parametrize("case_id,func,args", cc.CASES, ids=[c[0] for c in cc.CASES])
def test_pyodide_gives_the_desktop_answer(pyodide_run, case_id, func, args):
    """Each contract case computed in Pyodide equals the desktop's answer, in both Lite value shapes."""
    want = desktop(func, args)
    for variant in sorted(lh.VARIANTS):
        assert pyodide_run["results"][f"{case_id}|{variant}"] == want, variant


def test_pyodide_reports_start_up_and_first_call_times(pyodide_run, capsys):
    """Pyodide's start-up, install, import and first-call times are reported (README Performance); never asserted."""
    t = pyodide_run["timings_ms"]
    line = (f"Pyodide {pyodide_run['pyodide']} (Python {pyodide_run['checks']['python']}): start-up "
            f"{t['start_up'] / 1000:.2f} s, install {t['install'] / 1000:.2f} s, import {t['import']:.0f} ms, "
            f"first PT_UNITS call {t['first_call']:.1f} ms, {len(pyodide_run['results'])} cases {t['cases']:.0f} ms")
    with capsys.disabled():
        print(f"\n{line}")
    assert set(t) == {"start_up", "install", "import", "first_call", "cases"}


# --- the user data folder, as each front door finds it ------------------------------------

def test_the_front_door_folder_is_used_and_ptbilling_data_dir_wins(monkeypatch, tmp_path):
    """datasets uses the folder the front door set; PTBILLING_DATA_DIR, when set, wins over it."""
    from ptbilling.rules import datasets

    monkeypatch.setattr(datasets, "_front_door_dir", None)
    datasets.set_user_data_dir(tmp_path / "door")
    assert datasets.user_data_dir() != tmp_path / "door"  # the suite's PTBILLING_DATA_DIR
    monkeypatch.delenv("PTBILLING_DATA_DIR")
    assert datasets.user_data_dir() == tmp_path / "door"


def test_without_any_folder_the_shipped_data_serve_and_an_import_says_what_to_do(monkeypatch):
    """No folder (Lite without /data/ptbilling as the core sees it): shipped releases only; an import is refused."""
    from ptbilling.rules import datasets, errors

    monkeypatch.delenv("PTBILLING_DATA_DIR")
    monkeypatch.setattr(datasets, "_front_door_dir", None)
    assert datasets.user_data_dir() is None
    assert {r.origin for r in datasets.releases()} == {"shipped"}
    with pytest.raises(errors.DataImportError, match="PTBILLING_DATA_DIR"):
        datasets.writable_user_data_dir()


def test_on_pyodide_the_folder_is_data_ptbilling_without_platformdirs(monkeypatch):
    """In Lite (emscripten) the folder is /data/ptbilling and platformdirs is never imported."""
    from ptbilling import data_folder

    monkeypatch.delenv("PTBILLING_DATA_DIR")
    monkeypatch.setattr(data_folder.sys, "platform", "emscripten")
    monkeypatch.setitem(sys.modules, "platformdirs", None)  # importing it would raise ImportError
    assert data_folder.default_user_data_dir() == Path("/data/ptbilling")


def test_on_a_desktop_the_folder_is_platformdirs_user_data_folder(monkeypatch):
    """Elsewhere the folder is platformdirs' user data folder for ptbilling."""
    import platformdirs

    from ptbilling import data_folder

    monkeypatch.delenv("PTBILLING_DATA_DIR")
    assert data_folder.default_user_data_dir() == Path(platformdirs.user_data_dir("ptbilling", appauthor=False))


# --- never raise, with any value Lite may hand over ---------------------------------------

lite_cells = st.one_of(
    st.none(), st.just(""), st.just(" "),
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6),
    st.sampled_from(["97110", "97112", "g0283", "97010", "cms", "AMA", "GP CQ", "#N/A", "#VALUE!", "#SPILL!"]),
    st.text(max_size=10), st.booleans(),
    st.sampled_from([{"type": "Error", "basicValue": "#DIV/0!"}, {"type": "FormattedNumber", "basicValue": 45719},
                     {"type": "Double", "basicValue": 24.0}]),
)


@st.composite
def lite_matrices(draw):
    rows, cols = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    return [[draw(lite_cells) for _ in range(cols)] for _ in range(rows)]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@example("PT_EXPLAIN", [[[22], [22], [22]], [[None], [None], [None]]])  # three unnamed timed lines: 385 characters
@given(st.sampled_from(["PT_UNITS", "PT_EXPLAIN", "PT_VALIDATE", "PT_FEE"]),
       st.lists(st.one_of(st.none(), lite_matrices()), min_size=1, max_size=6))
def test_property_every_function_answers_any_office_js_value(name, args):
    """Any mix of Office.js values (null, "", ints, errors as text or objects, value objects): cells, no exception."""
    n = len(inspect.signature(getattr(excel_functions, name)).parameters)
    got = lh.call_as_lite(excel_functions, name, *args[:n])
    assert isinstance(got, list) and got and all(isinstance(r, list) for r in got)
    for row in got:
        for cell in row:
            assert isinstance(cell, (str, int, float)) and not isinstance(cell, bool)
            if isinstance(cell, str):
                assert "Traceback" not in cell and "internal error" not in cell
                # a message is cut to 255 characters; an explanation (PT_EXPLAIN's answer) may be as long as a
                # cell holds (32,767): a visit of several unnamed timed lines says so line by line
                explained = name == "PT_EXPLAIN" and not cell.startswith("PT_EXPLAIN:")
                assert len(cell) <= (32_767 if explained else 255)
