"""Small CMS files in CMS's layouts, written by the tests (no ../shared needed).

The values are made up for the tests (or, for 2025, copied from the package's
own normalised release); no CPT descriptor appears anywhere: the DESCRIPTION
column is left blank, as the rules never read it.
"""
from __future__ import annotations

import csv
import io

from ptbilling.rules import datasets

# code, modifier, status, work, non-facility PE, facility PE, MP, mult proc
RVU_ROWS = [
    ("97110", "", "A", "0.45", "0.40", "0.18", "0.02", "5"),
    ("97112", "", "A", "0.50", "0.49", "0.20", "0.02", "5"),
    ("97140", "", "A", "0.43", "0.38", "0.17", "0.02", "5"),
    ("97530", "", "A", "0.44", "0.62", "0.19", "0.02", "5"),
    ("97116", "", "A", "0.45", "0.36", "0.18", "0.02", "5"),
    ("97161", "", "A", "1.54", "1.31", "0.61", "0.06", "0"),
    ("97164", "", "A", "0.75", "0.81", "0.30", "0.03", "0"),
    ("97010", "", "B", "0.06", "0.10", "0.10", "0.01", "0"),
]
RVU_COLUMNS = ("HCPCS", "MOD", "DESCRIPTION", "STATUS CODE", "WORK RVU", "NON-FAC PE RVU",
               "FACILITY PE RVU", "MP RVU", "MULT PROC", "CONV FACTOR")


def pprrvu_text(year: int, rows=RVU_ROWS, cf: str = "33.4009") -> str:
    """A PPRRVU CSV: single-cell title lines, then the HCPCS header row, then code rows."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["", "", f"{year} National Physician Fee Schedule Relative Value File January Release"])
    w.writerow(["", "", "Test file; values made up"])
    w.writerow(RVU_COLUMNS)
    for code, mod, status, work, pe_nf, pe_f, mp, mult in rows:
        w.writerow([code, mod, "", status, work, pe_nf, pe_f, mp, mult, cf])
    return out.getvalue()


def shipped_rvu_2025_rows() -> list[tuple]:
    """The package's 2025 release (112 rows) as PPRRVU code rows: a complete 2025 file."""
    with open(datasets.SHIPPED_DIR / "pfs" / "rvu_2025.csv", newline="", encoding="utf-8") as f:
        return [(d["code"], d["modifier"], d["status"], d["work_rvu"], d["pe_rvu_nonfacility"],
                 d["pe_rvu_facility"], d["mp_rvu"], d["mult_proc"]) for d in csv.DictReader(f)]


GPCI_ROWS = [  # MAC, state, locality number, name, work, PE, MP
    ("10112", "AL", "00", "ALABAMA", "1", "0.869", "0.575"),
    ("02102", "AK", "01", "ALASKA*", "1.5", "1.081", "0.592"),
    ("03102", "AZ", "00", "ARIZONA", "1", "0.975", "0.854"),
    ("07102", "AR", "13", "ARKANSAS", "1", "0.86", "0.518"),
]


def gpci_text(year: int, rows=GPCI_ROWS, title_year: int | None = None) -> str:
    """An Addendum E GPCI CSV: title, header with the year in the GPCI columns, localities, footnotes."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow([f"ADDENDUM E. FINAL CY {title_year or year} GEOGRAPHIC PRACTICE COST INDICES (GPCIs) "
                "BY STATE AND MEDICARE LOCALITY", "", "", "", "", "", ""])
    w.writerow([""] * 7)
    w.writerow(["Medicare Administrative Contractor (MAC)", "State", "Locality Number", "Locality Name",
                f"{year} PW GPCI (with 1.0 Floor)", f"{year} PE GPCI", f"{year} MP GPCI"])
    w.writerows(rows)
    w.writerow(["*Work GPCI reflects a 1.5 floor in Alaska established by the MIPPA.", "", "", "", "", "", ""])
    return out.getvalue()


def shipped_gpci_2025_rows() -> list[tuple]:
    """The package's 2025 GPCIs (109 localities) as Addendum E rows."""
    with open(datasets.SHIPPED_DIR / "pfs" / "gpci_2025.csv", newline="", encoding="utf-8") as f:
        return [(*d["locality"].split("-")[:1], d["state"], d["locality"].split("-")[1], d["name"],
                 d["work_gpci"], d["pe_gpci"], d["mp_gpci"]) for d in csv.DictReader(f)]


PTP_HEADER = ("Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\tModifier\tPTP Edit Rationale\n"
              "\t\tprior to 1996\tDate\tDate *=no data\t0=not allowed 1=allowed 9=not applicable\t\n")


def ptp_text(rows) -> str:
    """A practitioner PTP .txt: title lines, the two-line tab header, edit rows.

    ``rows``: (code1, code2, effective YYYYMMDD, deletion or '*', indicator).
    """
    body = "".join(f"{c1}\t{c2}\t\t{eff}\t{dele}\t{ind}\tMisuse of column two code with column one code\n"
                   for c1, c2, eff, dele, ind in rows)
    return "Column1/Column 2 Edits\nTest file; edits made up\n\n" + PTP_HEADER + body


# Two files of one quarter, split by column-1 code as CMS splits them
PTP_FILE_1 = [("97110", "97035", "20200101", "*", "1"), ("97112", "97116", "20200101", "*", "1"),
              ("97112", "97035", "20200101", "*", "0")]
PTP_FILE_2 = [("97530", "97116", "20200101", "*", "1"), ("97140", "97530", "20200101", "*", "1")]


def mue_text(rows) -> str:
    """A practitioner services MUE table CSV: copyright and title lines, header, code rows.

    ``rows``: (code, MUE value, adjudication indicator text).
    """
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["Test file; values made up", "", "", ""])
    w.writerow(["Practitioner Services MUE Table", "", "", ""])
    w.writerow(["HCPCS/CPT Code", "Practitioner Services MUE Values", "MUE Adjudication Indicator",
                "MUE Rationale"])
    for code, value, indicator in rows:
        w.writerow([code, value, indicator, "Clinical: Data"])
    return out.getvalue()


MUE_ROWS = [("97110", "4", "3 Date of Service Edit: Clinical"), ("97112", "3", "2 Date of Service Edit: Policy"),
            ("97140", "4", "3 Date of Service Edit: Clinical"), ("97530", "4", "3 Date of Service Edit: Clinical"),
            ("97161", "1", "2 Date of Service Edit: Policy")]
