"""The command line: units and data commands, exit codes, one-line errors, files never written."""
from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys

import pytest

from ptbilling.cli.main import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_units_prints_the_allocation_and_explanation(capsys):
    """`ptbilling units 24:97112 23:97110` prints 2/1 units and the CMS explanation."""
    code, out, _ = run(capsys, "units", "24:97112", "23:97110")
    assert code == 0
    assert "97112       24      2" in out and "97110       23      1" in out and "total       47      3" in out
    assert "§20.2" in out


def test_units_ama_method(capsys):
    """--method ama uses the per-code method."""
    code, out, _ = run(capsys, "units", "20:97110", "18:97140", "--method", "ama")
    assert code == 0 and "total       38      2" in out


@pytest.mark.parametrize("arg,words", [("x:97110", "must be a number"), ("24:97999", "unknown code 97999"),
                                       ("1500:97110", "over 24 hours")])
def test_units_bad_input_is_one_line_and_exit_2(capsys, arg, words):
    """A bad LINE gives exit 2 and one line naming it, no traceback."""
    code, out, err = run(capsys, "units", arg)
    assert code == 2 and words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("arg,words", [
    ("-5:97110", "'-5:97110': minutes cannot be negative: -5"),
    ("97110", "'97110' looks like a code without its minutes — give MINUTES:CODE, e.g. 24:97110"),
    ("G0283", "give MINUTES:CODE, e.g. 24:G0283"),
    ("30:", "'30:': no code after ':' — give MINUTES:CODE, e.g. 30:97110"),
    ("10:97110:CQ:12", "12 assistant minutes exceed the line's 10 minutes"),
    ("1:2:3:4:5", "too many ':'"),
])
def test_units_lines_that_cannot_be_meant_get_a_message_saying_the_format(capsys, arg, words):
    """A negative-looking line, a bare code and '30:' are refused with one line naming MINUTES:CODE, exit 2."""
    code, out, err = run(capsys, "units", arg)
    assert code == 2 and words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_units_bare_minutes_is_still_an_unnamed_timed_service(capsys):
    """`ptbilling units 38` is 38 unnamed timed minutes: 3 units."""
    code, out, _ = run(capsys, "units", "38")
    assert code == 0 and "timed       38      3" in out


def test_units_accepts_assistant_lines_and_explains_the_split(capsys):
    """`ptbilling units 10:97110:CQ 8:97110`: the unit goes without CQ, and the text says why, with the citation."""
    code, out, _ = run(capsys, "units", "10:97110:CQ", "8:97110")
    assert code == 0
    assert "97110  CQ         10      0" in out and "97110              8      1" in out
    assert ("97110: PTA 10 + PT 8 min → 1 unit; last unit: therapist 8 min ≥ 8 → no CQ "
            "(42 CFR 410.60(a)(4)(iv))") in out


def test_units_assistant_minutes_within_a_therapists_line_and_the_date(capsys):
    """18:97110:GP:10 is the one-line shape of PTA 10 + PT 8; --date 2021-06-01 applies the March 2021 guidance."""
    code, out, _ = run(capsys, "units", "18:97110:GP:10")
    assert code == 0 and "PTA 10 + PT 8 min → 1 unit; last unit: therapist 8 min ≥ 8 → no CQ" in out
    code, out, _ = run(capsys, "units", "23:97110:CQ", "13:97110", "30:97140", "--date", "2021-06-01")
    assert code == 0 and "97110  CQ         23      2" in out and "by de minimis alone: PTA 8 ≥ 3 → CQ" in out
    code, _, err = run(capsys, "units", "30:97110", "--date", "June")
    assert code == 2 and "not a date" in err


def test_units_tie_is_worded_as_a_tie_naming_the_tie_rule(capsys):
    """Example 2 (20 + 20): no '(5) > (5)'; the text names the tie, the tie rule and the biller's choice."""
    code, out, _ = run(capsys, "units", "20:97112", "20:97110")
    assert code == 0 and "(5) > " not in out
    assert ("tie at 5 left between 97110 and 97112: the tie rule (more total minutes, then the lower code) "
            "gives the unit to 97110 (lower code); the manual lets the biller choose") in out


def test_no_command_prints_help_and_exit_2(capsys):
    """`ptbilling` alone shows the commands."""
    code, out, _ = run(capsys)
    assert code == 2 and "units" in out and "data" in out


def test_data_list_shows_releases_and_figures_with_status(capsys):
    """`ptbilling data list` shows shipped releases and figures with official/unverified marks."""
    code, out, _ = run(capsys, "data", "list")
    assert code == 0
    assert "RVU25D" in out and "RVU26C" in out and "NCCI PTP seed" in out and "kx_threshold" in out
    assert "unverified" in out and "official" in out


def synthetic_2027_rvu(cms_dir, tmp_path):
    text = (cms_dir / "PPRRVU2026_Jul.therapy.csv").read_text()
    text = text.replace("2026 National Physician Fee Schedule", "2027 National Physician Fee Schedule")
    text = text.replace("33.4009", "32.8409")
    path = tmp_path / "PPRRVU2027_Jan.csv"
    path.write_text(text)
    return path


def test_import_rvu_makes_2027_fees_available_and_never_writes_the_input(capsys, cms_dir, tmp_path):
    """After importing a 2027 PPRRVU, PT_FEE prices 2027 lines with that file's CF; the input is untouched."""
    from ptbilling.logs.fees import cell_value, price_column

    src = synthetic_2027_rvu(cms_dir, tmp_path)
    before = digest(src)
    assert "for 2027" in str(price_column(["97110"], [1], None, [dt.date(2027, 2, 2)])[0])
    code, out, _ = run(capsys, "data", "import-rvu", str(src))
    assert code == 0 and "2027-01-01 .. 2027-12-31" in out and "RVU27C" in out
    got = cell_value(price_column(["97110"], [1], None, [dt.date(2027, 2, 2)])[0])
    assert got == round(0.87 * 32.8409, 2)
    assert digest(src) == before
    _, listing, _ = run(capsys, "data", "list")
    assert "imported" in listing and "2027" in listing


def test_import_gpci_and_ptp_and_mue_report_what_they_stored(capsys, cms_dir, tmp_path):
    """Each import command prints the release it stored and its dates."""
    # the fixture's few localities replace the shipped 109 only when forced (else: a cut-off file)
    code, out, _ = run(capsys, "data", "import-gpci", str(cms_dir / "GPCI2025.csv"), "2025", "--force")
    assert code == 0 and "imported gpci" in out and "forced: " in out
    ptp = tmp_path / "ptp.txt"
    ptp.write_text("Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\tDeletion Date *=no data\t"
                   "Modifier 0=not allowed 1=allowed 9=not applicable\tPTP Edit Rationale\n"
                   "97140\t97530\t \t20250101\t*\t1\tMutually exclusive procedures\n")
    code, out, err = run(capsys, "data", "import-ptp", str(ptp), "--effective-from", "2025-07-01")
    assert code == 0 and "imported ptp" in out, err
    mue_file = tmp_path / "mue.csv"
    mue_file.write_text("HCPCS/CPT Code,Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale\n"
                        "97110,5,3 Date of Service Edit: Clinical,Clinical: Data\n")
    code, out, err = run(capsys, "data", "import-mue", str(mue_file), "--effective-from", "2025-07-01")
    assert code == 0 and "imported mue" in out, err


@pytest.mark.parametrize("argv,words", [
    (["data", "import-rvu", "/no/such/file.csv"], "no such file"),
    (["data", "import-gpci", "/no/such/file.csv", "2026"], "no such file"),
    (["data", "import-ptp", "/no/such/file.txt"], "no such file"),
    (["data", "import-mue", "/no/such/file.csv"], "no such file"),
])
def test_import_missing_file_is_one_line_exit_2(capsys, argv, words):
    """A missing file gives exit 2 and one line."""
    code, _, err = run(capsys, *argv)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1


def test_import_a_file_that_is_not_a_cms_file(capsys, tmp_path):
    """A random CSV is refused with a message, exit 2, and nothing is registered."""
    junk = tmp_path / "junk.csv"
    junk.write_text("a,b\n1,2\n")
    code, _, err = run(capsys, "data", "import-rvu", str(junk), "--year", "2026")
    assert code == 2 and "HCPCS" in err
    _, listing, _ = run(capsys, "data", "list")
    assert "(0 imported releases;" in listing


def test_console_script_runs_as_a_module():
    """`python -m ptbilling units 38` works in a fresh process (what the console script calls)."""
    got = subprocess.run([sys.executable, "-m", "ptbilling", "units", "38"], capture_output=True, text=True)
    assert got.returncode == 0 and "total       38      3" in got.stdout


def test_check_as_json_loads_only_what_it_needs(tmp_path):
    """`check LOG.xlsx --format json` in a fresh process loads no xlsxwriter, rich, openpyxl, metadata or other command."""
    import xlsxwriter

    log = tmp_path / "log.xlsx"
    wb = xlsxwriter.Workbook(str(log))
    ws = wb.add_worksheet("Log")
    for r, row in enumerate([["Patient", "Date", "Payer", "Provider", "Code", "Modifiers", "Minutes", "Units"],
                             ["P1", "2025-03-03", "Medicare", "PT", 97110, "GP", 30, 2]]):
        ws.write_row(r, 0, row)
    wb.close()
    probe = ("import io, sys, contextlib\nfrom ptbilling.cli.main import main\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n    code = main(['check', sys.argv[1], '--format', 'json'])\n"
             "print(code, sorted({m for m in sys.modules if m.split('.')[0] in ('xlsxwriter', 'rich', 'openpyxl')}\n"
             "                   | {m for m in sys.modules if m in ('importlib.metadata', 'ptbilling.cli.data')}))")
    got = subprocess.run([sys.executable, "-c", probe, str(log)], capture_output=True, text=True)
    assert got.stdout.split() == ["0", "[]"], got.stdout + got.stderr


def test_version_prints_the_installed_version_on_stdout(capsys):
    """`ptbilling --version` prints 'ptbilling <version>' on stdout and exits 0, as argparse's own action."""
    from importlib import metadata

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    out, err = capsys.readouterr()
    assert done.value.code == 0 and out == f"ptbilling {metadata.version('ptbilling')}\n" and err == ""


def test_running_out_of_memory_is_one_line_saying_so_not_an_internal_error(capsys, monkeypatch, tmp_path):
    """A log too big for this machine's memory outside the calamine parse (the rows, the check,
    the JSON text) is the input's size, not a bug to report: one line, exit 2."""
    from ptbilling.cli import check

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(check, "run_check", no_memory)
    log = tmp_path / "log.csv"
    log.write_text("Patient;Date;Payer;Provider;Code;Modifiers;Minutes;Units\nP1;2025-03-03;Medicare;PT;97110;GP;23;2\n")
    assert main(["check", str(log)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "out of memory" in err and "internal error" not in err
