"""EMR charge exports: the shapes offices actually send are read and checked exactly like the tidy log."""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ptbilling.cli import main as cli
from ptbilling.logs.cells import check_table, split_code_cell
from ptbilling.logs.columns import HEADERS, ColumnMap, MissingColumns, layout, load_column_file, parse_column_option
from ptbilling.rules.claim_lines import (
    is_medicare,
    is_medicare_advantage,
    payer_kind,
    provider_credential,
    unit_method,
    with_article,
)
from ptbilling.rules.errors import BadValue

ROOT = Path(__file__).resolve().parents[1]
TIDY_HEADER = ["Patient", "Date", "Payer", "Provider", "Code", "Modifiers", "Minutes", "Units"]

# The same visits, as the tidy log holds them and as an export spells them:
# (patient, date, payer kind, credential, name as the EMR writes it, code, modifiers, minutes, units)
MEDICARE, COMMERCIAL, ADVANTAGE = "Medicare", "Aetna", "Medicare Advantage"
VISITS = [
    ("P1", dt.date(2025, 3, 3), MEDICARE, "DPT", "Doe, Jane DPT", "97110", ("GP",), 24, 2),
    ("P1", dt.date(2025, 3, 3), MEDICARE, "PTA", "Lee, Bob PTA", "97112", ("GP", "CQ"), 23, 1),
    ("P2", dt.date(2025, 3, 3), MEDICARE, "PTA", "Bob Lee, PTA", "97110", ("GP",), 30, 2),  # ASSIST-MISSING
    ("P2", dt.date(2025, 3, 3), MEDICARE, "PTA", "Bob Lee, PTA", "97140", ("GP", "CQ", "59"), 10, 1),
    ("P3", dt.date(2025, 3, 4), MEDICARE, "OTR/L", "Kim OTR/L", "97530", ("GO",), 38, 3),
    ("P3", dt.date(2025, 3, 4), MEDICARE, "COTA", "Ann Wu COTA", "97535", ("GO", "CO"), 8, 1),
    ("P4", dt.date(2025, 3, 4), MEDICARE, "CCC-SLP", "Ray Fox, CCC-SLP", "92507", ("GN",), 45, 1),
    ("P5", dt.date(2025, 3, 5), MEDICARE, "DPT", "Doe, Jane DPT", "97110", ("GO",), 20, 3),  # MOD-DISCIPLINE, UNITS-OVER
    ("P5", dt.date(2025, 3, 5), MEDICARE, "DPT", "Doe, Jane DPT", "97001", ("GP",), 45, 1),  # deleted code
    ("P6", dt.date(2025, 3, 5), COMMERCIAL, "DPT", "Doe, Jane DPT", "97110", ("GP",), 38, 3),
    ("P6", dt.date(2025, 3, 5), COMMERCIAL, "DPT", "Doe, Jane DPT", "97140", (), 10, 1),
    ("P7", dt.date(2025, 3, 6), ADVANTAGE, "PTA", "Lee, Bob PTA", "97116", ("GP",), 25, 2),  # ASSIST-MISSING (MA)
    ("P8", dt.date(2025, 3, 6), MEDICARE, "DPT", "Doe, Jane DPT", "97161", ("GP",), 40, 1),
    ("P8", dt.date(2025, 3, 6), MEDICARE, "DPT", "Doe, Jane DPT", "97140", ("GP", "KX"), 15, 1),  # NCCI-PTP
]
# how exports spell the same payers (all must be read as the tidy log's payer kind)
EXPORT_PAYER = {MEDICARE: ("MCR", "Medicare B", "Medicare Part B", "Traditional Medicare"),
                COMMERCIAL: ("Aetna",), ADVANTAGE: ("Humana Medicare Advantage", "UHC Medicare Adv HMO")}


def tidy_rows():
    return [[p, dt.datetime.combine(d, dt.time()), payer, cred, code, " ".join(mods), m, u]
            for p, d, payer, cred, _, code, mods, m, u in VISITS]


def export_payer(kind: str, i: int) -> str:
    names = EXPORT_PAYER[kind]
    return names[i % len(names)]


def write_tidy(path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(TIDY_HEADER)
        for r in tidy_rows():
            w.writerow([r[0], r[1].strftime("%Y-%m-%d"), *r[2:]])
    return path


def write_modifier_columns_csv(path: Path) -> Path:
    """Shape 1: Modifier 1..3 columns, MM/DD/YYYY dates, names with credentials, extra columns."""
    header = ["Patient Name", "DOS", "Insurance", "Rendering Provider", "CPT", "Modifier 1", "Modifier 2",
              "Modifier 3", "Minutes", "Units", "Charge"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for i, (p, d, kind, _, name, code, mods, m, u) in enumerate(VISITS):
            mod_cells = list(mods) + [""] * (3 - len(mods))
            w.writerow([p, d.strftime("%m/%d/%Y"), export_payer(kind, i), name, code, *mod_cells, m, u, "125.00"])
    return path


def write_titled_xlsx(path: Path) -> Path:
    """Shape 2: an .xlsx whose header sits below title rows, under other names, on a second sheet."""
    wb = openpyxl.Workbook()
    cover = wb.active
    cover.title = "Cover"
    cover.append(["Charge Detail Report"])
    ws = wb.create_sheet("Charges")
    ws.append(["Charge Detail Report"])
    ws.append(["Main Street Physical Therapy"])
    ws.append(["Run date", dt.datetime(2025, 4, 1)])
    ws.append([])
    ws.append(["Patient ID", "Date of Service", "Primary Insurance", "Therapist", "Procedure Code", "Mod 1",
               "Mod 2", "Mod3", "Treatment Minutes", "Units Billed"])
    for i, (p, d, kind, _, name, code, mods, m, u) in enumerate(VISITS):
        ws.append([p, dt.datetime.combine(d, dt.time()), export_payer(kind, i + 1), name, int(code) if code.isdigit()
                   else code, *(list(mods) + [None] * (3 - len(mods))), m, u])
    wb.save(path)
    return path


SEPARATORS = ("-", " ", ":")


def write_code_carries_modifiers_csv(path: Path) -> Path:
    """Shape 3: no modifier column; the code cell carries them (97110-GP, 97112 GP CQ, 97530:GO)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Account", "Service Date", "Financial Class", "Clinician", "Service Code", "Time", "Qty"])
        for i, (p, d, kind, _, name, code, mods, m, u) in enumerate(VISITS):
            sep = SEPARATORS[i % len(SEPARATORS)]
            w.writerow([p, d.strftime("%m/%d/%Y"), export_payer(kind, i + 2), name, sep.join((code, *mods)), m, u])
    return path


SHAPES = {"modifier columns csv": write_modifier_columns_csv, "titled xlsx": write_titled_xlsx,
          "code carries modifiers": write_code_carries_modifiers_csv}


def check_json(capsys, path: Path, *options) -> tuple[int, dict, str]:
    code = cli.main(["check", str(path), "--format", "json", *options])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


@pytest.mark.parametrize("shape", SHAPES)
def test_each_export_shape_gives_exactly_the_findings_of_the_tidy_log(tmp_path, capsys, shape):
    """An export checks line for line like the tidy log of the same visits: units, findings, exit status."""
    code_t, tidy, _ = check_json(capsys, write_tidy(tmp_path / "tidy.csv"))
    suffix = ".xlsx" if "xlsx" in shape else ".csv"
    code_e, export, _ = check_json(capsys, SHAPES[shape](tmp_path / f"export{suffix}"))
    assert code_t == code_e == 1
    assert [ln["findings"] for ln in export["lines"]] == [ln["findings"] for ln in tidy["lines"]]
    assert [ln["units"] for ln in export["lines"]] == [ln["units"] for ln in tidy["lines"]]
    # ... the credentials and modifiers as read are the tidy log's
    assert [(ln["provider"], ln["code"], ln["modifiers"]) for ln in export["lines"]] == [
        (ln["provider"], ln["code"], ln["modifiers"]) for ln in tidy["lines"]]
    assert export["summary"]["rules"] == tidy["summary"]["rules"]
    assert export["summary"]["medicare_totals"] == tidy["summary"]["medicare_totals"]
    fired = set(tidy["summary"]["rules"])
    assert {"ASSIST-MISSING", "MOD-DISCIPLINE", "UNITS-OVER", "CODE-UNKNOWN", "NCCI-PTP"} <= fired
    assert "PROVIDER-UNKNOWN" not in fired and "MOD-DUPLICATE" not in fired


def test_the_titled_workbook_says_which_sheet_and_header_row_were_read(tmp_path, capsys):
    """Title rows above the header are passed over; the summary names the sheet and the header row."""
    path = write_titled_xlsx(tmp_path / "export.xlsx")
    _, doc, _ = check_json(capsys, path)
    s = doc["summary"]
    assert (s["sheet"], s["header_row"], s["first_row"]) == ("Charges", 5, 6)
    assert [ln["row"] for ln in doc["lines"]][:2] == [6, 7]
    cli.main(["check", str(path)])
    text = capsys.readouterr().out
    assert "Header row found on sheet row 5" in text


def test_json_lines_carry_patient_date_code_and_modifiers_as_read(tmp_path, capsys):
    """Each JSON line gives the row number and what was read from it, so a finding can be found in the export."""
    _, doc, _ = check_json(capsys, write_code_carries_modifiers_csv(tmp_path / "e.csv"))
    first = doc["lines"][1]
    assert first["row"] == 3
    assert {k: first[k] for k in ("patient", "date", "payer", "provider", "code", "modifiers")} == {
        "patient": "P1", "date": "2025-03-03", "payer": "Traditional Medicare", "provider": "PTA", "code": "97112",
        "modifiers": ["GP", "CQ"]}


# --- which sheet, which header row --------------------------------------------------------------

def _sheet(ws, rows):
    for r in rows:
        ws.append(r)


def test_the_sheet_with_the_most_recognised_columns_is_read_and_the_summary_says_so(tmp_path, capsys):
    """Two sheets with a header row: the one with more recognised columns wins, and the text says which."""
    wb = openpyxl.Workbook()
    small = wb.active
    small.title = "Quick"
    _sheet(small, [["Patient", "Date", "Payer", "Provider", "Code", "Minutes", "Units"],
                   ["Q1", dt.datetime(2025, 3, 3), "Medicare", "PT", "97110", 30, 2]])
    big = wb.create_sheet("Detail")
    _sheet(big, [["Patient", "Date", "Payer", "Provider", "Code", "Modifier 1", "Modifier 2", "Minutes", "Units"],
                 ["D1", dt.datetime(2025, 3, 3), "Medicare", "PT", "97110", "GP", None, 30, 2]])
    path = tmp_path / "two.xlsx"
    wb.save(path)
    code, doc, _ = check_json(capsys, path)
    assert code == 0 and doc["summary"]["sheet"] == "Detail"
    assert doc["summary"]["sheets_found"] == [{"sheet": "Detail", "recognised_columns": 9},
                                              {"sheet": "Quick", "recognised_columns": 7}]
    cli.main(["check", str(path)])
    text = capsys.readouterr().out
    assert "Read sheet 'Detail': its header has the most recognised columns (9); also had a header: 'Quick' (7)" \
        in " ".join(text.split())


def test_a_header_on_row_30_is_found_and_one_on_row_31_is_refused_naming_what_was_seen(tmp_path, capsys):
    """The header row is looked for in the first 30 rows: both sides of the boundary."""
    for titles, ok in ((29, True), (30, False)):
        path = tmp_path / f"t{titles}.csv"
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            for k in range(titles):
                w.writerow([f"Title line {k + 1}"])
            w.writerow(["Patient", "DOS", "Payer", "Provider", "CPT", "Modifiers", "Minutes", "Units"])
            w.writerow(["P1", "03/03/2025", "Medicare", "PT", "97110", "GP", 30, 2])
        code = cli.main(["check", str(path)])
        out, err = capsys.readouterr()
        if ok:
            assert code == 0, err
        else:
            assert code == 2 and out == ""
            assert "no session-log header row" in err and "first 30 rows" in err
            assert "no row names a known column; first row: Title line 1" in err


def test_refusals_name_what_was_found_and_what_was_missing(tmp_path, capsys):
    """A header without Units, or a near-header without Minutes: the message says what was seen and what lacks."""
    path = tmp_path / "nounits.csv"
    path.write_text("Patient Name,DOS,Insurance,Therapist,CPT,Mins\nP1,03/03/2025,MCR,PT,97110,30\n")
    assert cli.main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "missing column Units" in err and "headers seen: Patient Name, DOS, Insurance, Therapist, CPT, Mins" in err
    assert "Units Billed or Qty" in err
    near = tmp_path / "near.csv"
    near.write_text("Report\nPatient,DOS,CPT,Modifier,Charge\nP1,03/03/2025,97110,GP,10\n")
    assert cli.main(["check", str(near)]) == 2
    err = capsys.readouterr().err
    assert "row 2 names Patient, Date, Code, Modifiers but no Minutes" in err and '--column "Header=Field"' in err
    with pytest.raises(MissingColumns, match="headers seen: Patient, Date"):
        layout(["Patient", "Date"])


# --- the user's map ------------------------------------------------------------------------------

ODD_HEADER = ["Pt", "Svc Dt", "Ins Plan", "Staff", "Proc", "M1", "M2", "Mins", "Units", "Mod Desc", "Units Allowed"]
ODD_ROWS = [["P1", "03/03/2025", "BCBS Medicare Adv", "Lee, Bob PTA", "97110", "GP", "", "30", "2", "x", "4"]]


def write_odd(path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(ODD_HEADER)
        w.writerows(ODD_ROWS)
    return path


ODD_OPTIONS = ["--column", "Pt=Patient", "--column", "Svc Dt=Date", "--column", "ins plan=payer", "--column",
               "Staff=Provider", "--column", "Proc=Code", "--column", "M1=Modifiers", "--column", "M2=Modifiers"]


def test_column_options_map_what_recognition_cannot_guess(tmp_path, capsys):
    """--column HEADER=FIELD (repeatable, any case) reads odd headers; unused look-alikes are named with a note."""
    path = write_odd(tmp_path / "odd.csv")
    assert cli.main(["check", str(path)]) == 2
    assert "no session-log header row" in capsys.readouterr().err
    code, doc, _ = check_json(capsys, path, *ODD_OPTIONS)
    assert code == 1  # the PTA line lacks CQ
    assert doc["lines"][0]["findings"] == ["ERROR ASSIST-MISSING: furnished by a PTA — add CQ"]
    cols = doc["summary"]["columns"]
    assert [c["column"] for c in cols["used"]] == ["Pt", "Svc Dt", "Ins Plan", "Staff", "Proc", "M1", "M2", "Mins",
                                                   "Units"]
    ignored = {c["column"]: c["note"] for c in cols["ignored"]}
    assert set(ignored) == {"Mod Desc", "Units Allowed"}
    assert "looks like modifiers" in ignored["Mod Desc"]
    assert "it looks like units" in ignored["Units Allowed"]
    cli.main(["check", str(path), *ODD_OPTIONS])
    text = " ".join(capsys.readouterr().out.split())
    assert "Columns used: Pt -> Patient, Svc Dt -> Date" in text and "Columns not used: Mod Desc, Units Allowed" in text
    assert "note: column 'Mod Desc' is not used: it looks like modifiers" in text


def test_columns_file_maps_columns_and_payers_and_column_options_add_to_it(tmp_path, capsys):
    """--columns office.toml: [columns] and [payers]; a mapped payer is judged as what it maps to."""
    path = write_odd(tmp_path / "odd.csv")
    ODD_ROWS_2 = ODD_ROWS + [["P2", "03/03/2025", "Acme Health", "Kim OTR/L", "97530", "GO", "", "30", "2", "", ""]]
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([ODD_HEADER] + ODD_ROWS_2)
    office = tmp_path / "office.toml"
    office.write_text('[columns]\n"Pt" = "Patient"\n"Svc Dt" = "Date"\n"Ins Plan" = "Payer"\n"Staff" = "Provider"\n'
                      '"Proc" = "Code"\n"M1" = "Modifiers"\n"Mod Desc" = "ignore"\n\n'
                      '[payers]\n"BCBS Medicare Adv" = "Traditional Medicare"\n', encoding="utf-8")
    code, doc, _ = check_json(capsys, path, "--columns", str(office), "--column", "M2=Modifiers")
    assert code == 1
    payers = {p["payer"]: (p["kind"], p["method"], p["lines"], p.get("mapped_from")) for p in doc["summary"]["payers"]}
    assert payers == {"Traditional Medicare": ("Medicare", "CMS", 1, ["BCBS Medicare Adv"]),
                      "Acme Health": ("other", "AMA", 1, None)}
    assert doc["lines"][0]["payer"] == "Traditional Medicare"
    ignored = {c["column"]: c["note"] for c in doc["summary"]["columns"]["ignored"]}
    assert ignored["Mod Desc"] == ""  # mapped away on purpose: listed, no note
    cli.main(["check", str(path), "--columns", str(office), "--column", "M2=Modifiers"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Acme Health (not recognised as Medicare: AMA unit method, 1 line)" in text
    assert "Traditional Medicare (Medicare, CMS, 1 line, mapped from 'BCBS Medicare Adv')" in text


@pytest.mark.parametrize("content, words", [
    ('[columns\n"a" = "Payer"', "is not valid TOML"),
    ('[columns]\n"Ins Plan" = "Insurer"\n', "'Insurer' is not a field; map a column to one of Patient, Date"),
    ('[colums]\n"Ins Plan" = "Payer"\n', "unknown table colums; use [columns] and [payers]"),
    ('[payers]\n"BCBS" = 3\n', "[payers] must hold"),
])
def test_a_bad_columns_file_is_one_line_naming_the_file_and_the_fix(tmp_path, capsys, content, words):
    """A mapping file that cannot be used: exit 2, one line naming the file and what to write instead."""
    office = tmp_path / "office.toml"
    office.write_text(content, encoding="utf-8")
    log = write_tidy(tmp_path / "tidy.csv")
    assert cli.main(["check", str(log), "--columns", str(office)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and str(office) in err and words in err, err


def test_bad_column_options_and_missing_file(tmp_path, capsys):
    """--column without '=' or to an unknown field, and a missing --columns file, are refused in one line."""
    log = write_tidy(tmp_path / "tidy.csv")
    for argv, words in ((["--column", "Ins Plan"], 'write it as "Header=Field"'),
                        (["--column", "Ins Plan=Insurer"], "not a field"),
                        (["--column", "=Payer"], "the column name is blank"),
                        (["--columns", str(tmp_path / "none.toml")], "no such file")):
        assert cli.main(["check", str(log), *argv]) == 2
        err = capsys.readouterr().err
        assert words in err and err.count("\n") == 1, err


def test_column_map_keys_ignore_case_spaces_and_punctuation(tmp_path):
    """'Ins Plan', 'ins_plan' and 'INS-PLAN' are one header; payer keys likewise."""
    m = parse_column_option("Ins Plan=Payer", ColumnMap())
    assert layout(["Patient", "DOS", "INS-PLAN", "Provider", "CPT", "Mins", "Units"], mapping=m).cols["payer"] == 2
    office = tmp_path / "o.toml"
    office.write_text('[payers]\n"BCBS Medicare Adv" = "Medicare Advantage"\n', encoding="utf-8")
    m = load_column_file(office)
    assert m.payer("bcbs  medicare-adv") == "Medicare Advantage" and m.payer("Aetna") == "Aetna"


# --- payers --------------------------------------------------------------------------------------

@pytest.mark.parametrize("payer", ["Medicare", "MCR", "mcr", "Medicare B", "Medicare Part B", "Traditional Medicare",
                                   "MCR - Part B"])
def test_medicare_spellings_are_traditional_medicare(payer):
    """The spellings exports use for Part B are Medicare, not Medicare Advantage: always the CMS method."""
    assert is_medicare(payer) and not is_medicare_advantage(payer) and payer_kind(payer) == "Medicare"
    assert unit_method(payer, "AMA") == "CMS"


@pytest.mark.parametrize("payer", ["Medicare Advantage", "BCBS Medicare Adv", "Humana Medicare Adv.", "Aetna MAPD",
                                   "Medicare Part C", "UHC Medicare HMO", "Wellcare Medicare PPO", "MCR Advantage"])
def test_medicare_advantage_plans_are_recognised_where_their_name_says_so(payer):
    """A plan name saying Advantage, Adv, MAPD, Part C or HMO/PPO is Medicare Advantage: the method argument counts."""
    assert is_medicare_advantage(payer) and payer_kind(payer) == "Medicare Advantage"
    assert unit_method(payer, "AMA") == "AMA" and unit_method(payer) == "CMS"


@pytest.mark.parametrize("payer", ["Aetna", "BCBS", "Medicaid", "MCRX Health", "Tricare"])
def test_other_payers_are_not_medicare(payer):
    """Names that only look alike (Medicaid, MCRX) are not Medicare."""
    assert not is_medicare(payer) and payer_kind(payer) == "other" and unit_method(payer) == "AMA"


def test_a_blank_payer_without_payer_option_is_an_input_finding_and_with_it_is_read(tmp_path, capsys):
    """A blank Payer cell is never guessed: an INPUT error on its row, unless --payer gives the log's payer."""
    path = tmp_path / "blank.csv"
    path.write_text("Patient,Date,Payer,Provider,Code,Modifiers,Minutes,Units\n"
                    "P1,2025-03-03,,PT,97110,GP,30,2\nP2,2025-03-03,Medicare,PT,97110,GP,30,2\n")
    code, doc, _ = check_json(capsys, path)
    assert code == 1
    assert doc["lines"][0]["findings"] == [
        "ERROR INPUT: Payer cell: blank — type the payer (e.g. Medicare), or give one payer for the whole log "
        "(--payer, or PT_VALIDATE's payer argument)"]
    assert doc["lines"][1]["findings"] == []
    code, doc, _ = check_json(capsys, path, "--payer", "Medicare")
    assert code == 0 and doc["lines"][0]["payer"] == "Medicare"


# --- cells as exports write them -----------------------------------------------------------------

@pytest.mark.parametrize("cell, want", [
    ("97110-GP", ("97110", ("GP",))), ("97110 GP CQ", ("97110", ("GP", "CQ"))), ("97110:gp", ("97110", ("GP",))),
    ("G0283-GP", ("G0283", ("GP",))), ("0552T-GP", ("0552T", ("GP",))), ("97110", ("97110", ())),
    ("97110.5", ("97110.5", ())), ("97110 x2", ("97110 x2", ())), ("97110 59", ("97110", ("59",))), ("97110-GPX", ("97110-GPX", ())),
    (97110.0, (97110.0, ())), (None, (None, ())),
])
def test_a_code_cell_carrying_modifiers_is_split_and_nothing_else_is(cell, want):
    """Only a code followed by two-character modifiers is split; anything else is left for the code rule."""
    assert split_code_cell(cell) == want


def test_modifiers_given_twice_or_in_conflict_are_one_finding():
    """GP in the code cell and in Modifier 1: one MOD-DUPLICATE warning; GP against GO: one MOD-THERAPY-MULTIPLE."""
    header = ["Patient", "Date", "Payer", "Provider", "Code", "Modifier 1", "Modifier 2", "Minutes", "Units"]
    day = dt.datetime(2025, 3, 3)
    table = [header,
             ["P1", day, "Medicare", "PT", "97110-GP", "GP", None, 30, 2],
             ["P2", day, "Medicare", "PT", "97110", "GP", "GP", 30, 2],
             ["P3", day, "Medicare", "PT", "97110-GP", "GO", None, 30, 2],
             ["P4", day, "Medicare", "PT", "97110", "GP", None, 30, 2]]
    got = check_table(table)
    assert got[1] == "WARN MOD-DUPLICATE: GP given twice (Code '97110-GP' and Modifier 1) — read once; remove the copy"
    assert got[2] == "WARN MOD-DUPLICATE: GP given twice (Modifier 1 and Modifier 2) — read once; remove the copy"
    assert got[3].startswith("ERROR MOD-THERAPY-MULTIPLE: GP+GO on one line") and ";" not in got[3]
    assert got[4] == "OK"


@pytest.mark.parametrize("cell, want", [
    ("PTA", "PTA"), ("Lee, Bob PTA", "PTA"), ("Jane Doe, DPT", "DPT"), ("Kim OTR/L", "OTR/L"), ("COTA", "COTA"),
    ("CCC-SLP", "CCC-SLP"), ("Ray Fox, CCC-SLP", "CCC-SLP"), ("doe, jane pt", "PT"), ("Jane Doe, PT, DPT", "DPT"),
    ("Bob Lee P.T.A.", "PTA"), ("Mary St. John, PT", "PT"), ("Ann Wu (OTA)", "OTA"),
    ("Bob Lee", "BOB LEE"), ("", ""), ("Jane Doe, PT, ATC", "JANE DOE, PT, ATC"),
])
def test_provider_cells_with_names_give_the_credential(cell, want):
    """Names are dropped for the credential; no credential, or two kinds, keep the cell (and it is warned)."""
    assert provider_credential(cell) == want


def test_a_provider_with_no_credential_is_warned_that_assistant_rules_were_not_checked():
    """'Bob Lee' on a Medicare line: a WARN saying the CQ/CO rules could not be checked, never a silent OK."""
    day = dt.datetime(2025, 3, 3)
    got = check_table([TIDY_HEADER, ["P1", day, "Medicare", "Bob Lee", "97110", "GP", 30, 2],
                       ["P2", day, "Medicare", "Jane Doe, PT, ATC", "97110", "GP", 30, 2]])
    assert got[1].startswith("WARN PROVIDER-UNKNOWN: provider 'BOB LEE' has no credential ptbilling knows, so the "
                             "CQ/CO assistant rules were not checked")
    assert got[2].startswith("WARN PROVIDER-UNKNOWN: provider 'JANE DOE, PT, ATC' names credentials of different "
                             "kinds (PT, ATC), so the CQ/CO assistant rules were not checked")


@pytest.mark.parametrize("word, want", [("PT", "a PT"), ("OT", "an OT"), ("OTA", "an OTA"), ("OTR/L", "an OTR/L"),
                                        ("SLP", "an SLP"), ("PTA", "a PTA"), ("COTA", "a COTA"), ("MD", "an MD"),
                                        ("DPT", "a DPT"), ("CCC-SLP", "a CCC-SLP")])
def test_credentials_take_the_article_they_are_said_with(word, want):
    """'GP does not fit an OT', not 'a OT'."""
    assert with_article(word) == want


def test_gp_on_an_ot_line_is_worded_with_an():
    """The MOD-DISCIPLINE message reads 'GP does not fit an OT'."""
    got = check_table([TIDY_HEADER, ["P1", dt.datetime(2025, 3, 3), "Medicare", "OT", "97535", "GP", 30, 2]])
    assert "GP does not fit an OT — use GO" in got[1]


def test_a_deleted_code_names_its_replacement_and_a_typo_still_gets_near_misses():
    """97001 says 'deleted in 2017: use 97161-97163'; 97111 (never a code) still gets 'did you mean'."""
    day = dt.datetime(2025, 3, 3)
    got = check_table([TIDY_HEADER, ["P1", day, "Medicare", "PT", "97001", "GP", 45, 1],
                       ["P2", day, "Medicare", "OT", "97003", "GO", 45, 1],
                       ["P3", day, "Medicare", "PT", "97111", "GP", 30, 2]])
    assert got[1] == ("ERROR CODE-UNKNOWN: unknown code 97001 (deleted in 2017: use 97161-97163, PT evaluation by "
                      "complexity) — correct the code")
    assert "deleted in 2017: use 97165-97167" in got[2]
    assert got[3].startswith("ERROR CODE-UNKNOWN: unknown code 97111 (did you mean")


def test_deleted_codes_file_has_a_source_and_status_for_every_row():
    """Each deleted code names its source and is marked official or unverified; replacements are catalog codes."""
    from ptbilling.rules.code_catalog import catalog_for, deleted_codes

    catalog = catalog_for(dt.date(2025, 1, 1))
    assert set(deleted_codes()) == {"97001", "97002", "97003", "97004"}
    for gone in deleted_codes().values():
        assert gone.source and gone.status in ("official", "unverified")
        assert gone.code not in catalog
        for part in gone.replaced_by.split("-"):
            assert part in catalog


# --- the same column module for PT_VALIDATE and check: the property ----------------------------

def _spellings(alias: str):
    return st.sampled_from([alias, alias.upper(), alias.title(), f" {alias} "])


FIELDS = ["patient", "date", "payer", "provider", "code", "minutes", "units"]
MOD_HEADERS = [("Modifier {}", ), ("Mod {}", ), ("Mod{}", ), ("MODIFIER_{}", )]


@st.composite
def export_layout(draw):
    names = {f: draw(st.sampled_from(HEADERS[f]).flatmap(_spellings)) for f in FIELDS}
    n_mods = draw(st.integers(1, 4))
    mod_style = draw(st.sampled_from(["Modifier {}", "Mod {}", "Mod{}", "MODIFIER_{}"]))
    mod_names = [draw(st.sampled_from(HEADERS["modifiers"]).flatmap(_spellings))] if n_mods == 1 else [
        mod_style.format(k + 1) for k in range(n_mods)]
    columns = [(f, names[f]) for f in FIELDS] + [(("mod", k), h) for k, h in enumerate(mod_names)]
    order = draw(st.permutations(range(len(columns))))
    # how each row's modifiers are spread, in order: the first few in the code cell (97110-GP),
    # the rest cut over the modifier columns
    in_code = [draw(st.integers(0, len(v[6]))) for v in VISITS]
    sep = draw(st.sampled_from(SEPARATORS))
    cuts = [sorted(draw(st.lists(st.integers(k, len(v[6])), min_size=n_mods - 1, max_size=n_mods - 1)))
            for k, v in zip(in_code, VISITS)]
    return [columns[k] for k in order], n_mods, cuts, in_code, sep


def _tidy_table():
    return [TIDY_HEADER] + tidy_rows()


def _export_table(columns, n_mods, cuts, in_code, sep):
    header = [h for _, h in columns]
    rows = []
    for v, cut, k0 in zip(VISITS, cuts, in_code):
        p, d, payer, cred, name, code, mods, m, u = v
        values = {"patient": p, "date": dt.datetime.combine(d, dt.time()), "payer": payer, "provider": name,
                  "code": sep.join((code, *mods[:k0])) if k0 else code, "minutes": float(m), "units": float(u)}
        bounds = [k0, *cut, len(mods)]
        for k in range(n_mods):
            values[("mod", k)] = " ".join(mods[bounds[k]:bounds[k + 1]]) or None
        rows.append([values[f] for f, _ in columns])
    return [header] + rows


TIDY_TEXTS = None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(export_layout())
def test_renaming_reordering_and_splitting_modifiers_never_changes_a_finding(spec):
    """Any known alias per column, any column order, modifiers split over the code cell and 1-4 columns: same findings."""
    global TIDY_TEXTS
    if TIDY_TEXTS is None:
        TIDY_TEXTS = check_table(_tidy_table())
    assert check_table(_export_table(*spec))[1:] == TIDY_TEXTS[1:]


# --- a report that stands alone -------------------------------------------------------------------

def test_report_keeps_the_export_columns_colours_checks_and_lists_medicare_totals(tmp_path, capsys):
    """--out: the export's own columns, Check coloured like the template, a Medicare totals sheet, columns read."""
    from ptbilling.workbooks.styles import CHECK_COLOURS

    src = write_modifier_columns_csv(tmp_path / "export.csv")
    out = tmp_path / "report.xlsx"
    assert cli.main(["check", str(src), "--out", str(out)]) == 1
    capsys.readouterr()
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Lines", "Medicare totals", "Summary"]
    lines = wb["Lines"]
    header = [c.value for c in lines[1]]
    assert header == ["Row", "Patient Name", "DOS", "Insurance", "Rendering Provider", "CPT", "Modifier 1",
                      "Modifier 2", "Modifier 3", "Minutes", "Units", "Charge", "Units (rule)", "Check"]
    assert [c.value for c in lines[3]][4] == "Lee, Bob PTA"  # as exported, name and all
    rules = {}
    for rng in lines.conditional_formatting:
        for rule in rng.rules:
            assert str(rng.sqref).startswith("N2:N")
            rules[rule.text] = (rule.dxf.fill.bgColor.rgb, rule.dxf.font.color.rgb)
    assert rules == {w: ("FF" + c["bg_color"][1:], "FF" + c["font_color"][1:]) for w, c in CHECK_COLOURS.items()}
    kx = [[c.value for c in row] for row in wb["Medicare totals"].iter_rows()]
    assert kx[0] == ["Patient", "Year", "KX bucket", "Medicare allowed", "KX threshold", "Needs KX",
                     "Past review ($3,000)"]
    patients = {(r[0], r[2]) for r in kx[1:] if r[1]}
    assert {("P1", "PT+SLP"), ("P3", "OT"), ("P4", "PT+SLP")} <= patients
    summary = [[c.value for c in row] for row in wb["Summary"].iter_rows()]
    assert ["Modifier 3", "Modifiers", None, None] in summary
    assert ["Charge", "(not used)", None, None] in summary
    assert any(r[0] == "Aetna" and r[1] == "AMA" and "not recognised as Medicare" in r[3] for r in summary)


def test_template_check_colours_are_the_shared_ones():
    """The template's Check column uses the colours the report uses (one definition)."""
    wb = openpyxl.load_workbook(ROOT / "workbook_templates" / "session_log.xlsx")
    ws = wb["Session Log"]
    from ptbilling.workbooks.styles import CHECK_COLOURS

    seen = {r.text: r.dxf.fill.bgColor.rgb for rng in ws.conditional_formatting for r in rng.rules
            if r.type == "beginsWith"}
    assert seen == {w: "FF" + c["bg_color"][1:] for w, c in CHECK_COLOURS.items()}


# --- small things a newcomer hit ---------------------------------------------------------------

def test_template_without_path_writes_to_the_current_folder_outside_a_checkout(tmp_path, monkeypatch, capsys):
    """No workbook_templates/ folder here: `ptbilling template` writes ./session_log.xlsx (and the sample beside)."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["template"]) == 0 and cli.main(["template", "--sample"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample_session_log.xlsx", "session_log.xlsx"]
    assert "wrote session_log.xlsx" in capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_closed_pipe_keeps_the_checks_exit_status(tmp_path, fmt):
    """`ptbilling check log | head`: 0 for a clean log and 1 for one with errors, never 1 for the closed pipe."""
    clean = tmp_path / "clean.csv"
    clean.write_text("Patient,Date,Payer,Provider,Code,Modifiers,Minutes,Units\nP1,2025-03-03,Medicare,PT,97110,GP,30,2\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("Patient,Date,Payer,Provider,Code,Modifiers,Minutes,Units\nP1,2025-03-03,Medicare,PT,97110,GP,20,3\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "addin")}
    for path, want in ((clean, 0), (bad, 1)):
        r, w = os.pipe()
        os.close(r)  # the reader has gone before anything is written
        try:
            got = subprocess.run([sys.executable, "-m", "ptbilling", "check", str(path), "--format", fmt],
                                 stdout=w, stderr=subprocess.PIPE, env=env, timeout=120)
        finally:
            os.close(w)
        assert got.returncode == want, got.stderr
        assert b"Traceback" not in got.stderr and b"Exception ignored" not in got.stderr


def test_shell_pipe_into_head_exits_0_on_a_clean_log(tmp_path):
    """The shell's own view with pipefail: `ptbilling check clean.csv | head -1` succeeds."""
    clean = tmp_path / "clean.csv"
    clean.write_text("Patient,Date,Payer,Provider,Code,Modifiers,Minutes,Units\nP1,2025-03-03,Medicare,PT,97110,GP,30,2\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "addin")}
    got = subprocess.run(["bash", "-o", "pipefail", "-c", f'"{sys.executable}" -m ptbilling check "{clean}" | head -c 1'],
                         capture_output=True, env=env, timeout=120)
    assert got.returncode == 0, got.stderr


def test_unknown_field_in_layout_mapping_is_a_bad_value():
    """A mapping to a field that does not exist is a BadValue naming the valid fields."""
    with pytest.raises(BadValue, match="one of Patient, Date, Payer, Provider, Code, Modifiers, Minutes, Units"):
        parse_column_option("X=Nothing")


def test_a_second_column_for_one_field_is_listed_as_not_used_with_the_one_read():
    """CPT and Procedure Code both: the first is read, the second named with a note saying how to choose."""
    lay = layout(["Patient", "DOS", "Payer", "Provider", "CPT", "Procedure Code", "Minutes", "Units"])
    assert lay.cols["code"] == 4
    assert lay.ignored == [(5, "Procedure Code", "it also names Code, which is read from 'CPT' — map the one to read "
                                                 "with --column \"Procedure Code=Code\"")]
    mapped = layout(["Patient", "DOS", "Payer", "Provider", "CPT", "Procedure Code", "Minutes", "Units"],
                    mapping=parse_column_option("Procedure Code=Code"))
    assert mapped.cols["code"] == 5 and [h for _, h, _ in mapped.ignored] == ["CPT"]


def test_the_readme_mapping_file_example_is_a_valid_mapping(tmp_path):
    """The office.toml shown in the README loads and maps what it says."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", readme, re.S)
    assert block, "the README has no toml example"
    office = tmp_path / "office.toml"
    office.write_text(re.sub(r"^ {2}", "", block.group(1), flags=re.M), encoding="utf-8")
    m = load_column_file(office)
    assert m.columns["insplan"] == "payer" and m.columns["m2"] == "modifiers" and m.columns["moddesc"] == "ignore"
    assert m.payer("BCBS Medicare Adv") == "Medicare Advantage"


def test_the_fields_own_name_beats_an_alias_that_may_mean_something_else():
    """'Time' (perhaps the time of day) left of 'Minutes': Minutes is read, Time listed as not used."""
    lay = layout(["Patient", "DOS", "Payer", "Provider", "CPT", "Time", "Minutes", "Units"])
    assert lay.cols["minutes"] == 6
    assert [(h, note.split(",")[0]) for _, h, note in lay.ignored] == [("Time", "it also names Minutes")]


def test_pt_validate_reads_an_export_table_as_check_reads_the_file(tmp_path, capsys):
    """The titled workbook's table, through xlwings' own conversion into PT_VALIDATE, gives check's findings."""
    import xlwings_harness as xh

    path = write_titled_xlsx(tmp_path / "export.xlsx")
    _, doc, _ = check_json(capsys, path)
    ws = openpyxl.load_workbook(path)["Charges"]
    table = [[c.value for c in row] for row in ws.iter_rows(min_row=5)]
    excel = tuple(tuple(float(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in r) for r in table)
    texts = [r[0] for r in xh.call_as_excel("PT_VALIDATE", excel)]
    assert texts[0] == "Check"
    assert texts[1:] == [("; ".join(ln["findings"]) or "OK") for ln in doc["lines"]]


def test_a_blank_payer_row_gets_no_units_and_does_not_choose_its_visits_method(tmp_path, capsys):
    """The blank-payer row comes first in a Medicare visit: it has no units, the Medicare row keeps CMS units."""
    path = tmp_path / "blank_first.csv"
    path.write_text("Patient,Date,Payer,Provider,Code,Modifiers,Minutes,Units\n"
                    "P1,2025-03-03,,PT,97112,GP,10,1\nP1,2025-03-03,Medicare,PT,97110,GP,10,1\n"
                    "P1,2025-03-03,Medicare,PT,97140,GP,10,1\n")
    code, doc, _ = check_json(capsys, path)
    # CMS: the Medicare rows' 20 minutes are 1 unit; by AMA (a blank payer's) each 10-minute code would be 1
    assert code == 1 and [ln["units"] for ln in doc["lines"]] == [None, 1, 0]
