"""Small CMS-layout files for the tests, so the suite runs on a fresh clone without ``../shared``.

The header rows are exactly as CMS prints them (copied from CMS's own files:
the 2025 PPRRVU October release, 31 columns; the 2026 July release, 32 columns
with ``PRIC IND`` between TEAM SURG and ENDO BASE; Addendum E of 2025 and
2026), CRLF line ends included, and so are the data rows: a few therapy codes
and a few localities, descriptors blank (CPT descriptors are AMA copyright).
The full files, where ``../shared/data/cms`` exists, are tested separately.

``rvu_zip`` builds a zip the way CMS's PFS Relative Value Files page ships one
(``RVU26C.zip``: the PPRRVU file as CSV, XLSX and TXT, QPP and non-QPP from
2026, the GPCI file and a few others), under CMS-style member names.
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

CRLF = "\r\n"
MONTHS = {"A": "January", "B": "April", "C": "July", "D": "October"}

PPRRVU_HEAD_2025 = (
    ',,2025 National Physician Fee Schedule Relative Value File October Release,,,,,,,,,,,,,,,,,,,,,,,,,,,,',
    ',,CPT codes and descriptions only are copyright 2024 American Medical Association.  All Rights Reserved.  Applicable FARS/DFARS Apply. ,,,,,,,,,,,,,,,,,,,,,,,,,,,,',
    ',,Dental codes (D codes) are copyright 2025/26 American Dental Association.  All Rights Reserved.,,,,,,,,,,,,,,,,,,,,,,,,,,,,',
    ',, ,,,,,,,,,,,,,,,,,,,,,,,,,,,,',
    ',,RELEASED 09/11/2025,,,,,,,,,,,,,,,,,,,,,,,,,,,,',
    ',, , ,,,,,,,,,,,,,,,,,,,,,,,,,NON-FACILITY,FACILITY,',
    ',,,,NOT USED,,,,,,,,,,,,,,,,,,,,,PHYSICIAN,,DIAGNOSTIC,PE USED,PE USED,MP USED',
    ',,,,FOR,,,NON-FAC,,FACILITY ,,,,,,,,,,,,,,,,SUPERVISION OF,,IMAGING,FOR OPPS,FOR OPPS,FOR OPPS',
    ',,,STATUS,MEDICARE ,WORK,NON-FAC,NA,FACILITY,NA,MP,NON-FACILITY,FACILITY,PCTC,GLOB,PRE,INTRA,POST,MULT,BILAT,ASST,CO-,TEAM,ENDO,CONV,DIAGNOSTIC,CALCULATION,FAMILY,PAYMENT,PAYMENT,PAYMENT',
    'HCPCS,MOD,DESCRIPTION,CODE,PAYMENT,RVU,PE RVU,INDICATOR,PE RVU,INDICATOR,RVU,TOTAL,TOTAL,IND,DAYS,OP,OP,OP,PROC,SURG,SURG,SURG,SURG,BASE,FACTOR,PROCEDURES,FLAG,INDICATOR,AMOUNT,AMOUNT,AMOUNT',
)

PPRRVU_ROWS_2025 = (
    '29530,,,A,,0.39,0.47,,0.13,,0.02,0.88,0.54,0,000,0.00,0.00,0.00,2,1,1,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    '92507,,,A,,1.30,0.99,,0.99,NA,0.03,2.32,2.32,7,XXX,0.00,0.00,0.00,5,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    '97010,,,B,+,0.06,0.13,,0.13,NA,0.01,0.20,0.20,9,XXX,0.00,0.00,0.00,9,9,9,9,9,,32.3465,09,0,99,0.00,0.00,0.00',
    '97014,,,I,+,0.18,0.19,,0.19,NA,0.01,0.38,0.38,9,XXX,0.00,0.00,0.00,9,9,9,9,9,,32.3465,09,0,99,0.00,0.00,0.00',
    '97026,,,R,,0.06,0.14,,0.14,NA,0.01,0.21,0.21,7,XXX,0.00,0.00,0.00,5,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    '97028,,,A,,0.08,0.16,,0.16,NA,0.01,0.25,0.25,7,XXX,0.00,0.00,0.00,5,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    '97035,,,A,,0.21,0.21,,0.21,NA,0.01,0.43,0.43,7,XXX,0.00,0.00,0.00,5,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    '97039,,,C,,0.00,0.00,,0.00,,0.00,0.00,0.00,7,XXX,0.00,0.00,0.00,0,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    '97110,,,A,,0.45,0.43,,0.43,NA,0.01,0.89,0.89,7,XXX,0.00,0.00,0.00,5,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    '97112,,,A,,0.50,0.48,,0.48,NA,0.01,0.99,0.99,7,XXX,0.00,0.00,0.00,5,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    '97116,,,A,,0.45,0.43,,0.43,NA,0.01,0.89,0.89,7,XXX,0.00,0.00,0.00,5,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    '97129,,,A,,0.50,0.16,,0.15,,0.01,0.67,0.66,0,XXX,0.00,0.00,0.00,0,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    '97140,,,A,,0.43,0.40,,0.40,NA,0.01,0.84,0.84,7,XXX,0.00,0.00,0.00,5,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    '97150,,,A,,0.29,0.24,,0.24,NA,0.01,0.54,0.54,7,XXX,0.00,0.00,0.00,5,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    '97161,,,A,,1.54,1.45,,1.45,NA,0.04,3.03,3.03,7,XXX,0.00,0.00,0.00,5,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    '97164,,,A,,0.96,1.11,,1.11,NA,0.02,2.09,2.09,7,XXX,0.00,0.00,0.00,5,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    '97169,,,N,,0.00,0.00,,0.00,,0.00,0.00,0.00,9,XXX,0.00,0.00,0.00,9,9,9,9,9,,32.3465,09,0,99,0.00,0.00,0.00',
    '97530,,,A,,0.44,0.62,,0.62,NA,0.01,1.07,1.07,7,XXX,0.00,0.00,0.00,5,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    '97545,,,R,,0.00,0.00,,0.00,,0.00,0.00,0.00,7,XXX,0.00,0.00,0.00,0,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    '97546,,,R,,0.00,0.00,,0.00,,0.00,0.00,0.00,7,ZZZ,0.00,0.00,0.00,0,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    '97550,,,A,,1.00,0.58,,0.35,,0.03,1.61,1.38,0,XXX,0.00,0.00,0.00,0,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    '97760,,,A,,0.50,0.91,,0.91,NA,0.01,1.42,1.42,7,XXX,0.00,0.00,0.00,5,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    '97763,,,A,,0.48,1.06,,1.06,NA,0.01,1.55,1.55,7,XXX,0.00,0.00,0.00,5,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    '97799,,,C,,0.00,0.00,,0.00,,0.00,0.00,0.00,7,XXX,0.00,0.00,0.00,0,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    '98940,,,A,,0.46,0.35,,0.19,,0.01,0.82,0.66,0,000,0.00,0.00,0.00,0,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    'G0281,,,A,,0.18,0.16,,0.16,NA,0.01,0.35,0.35,7,XXX,0.00,0.00,0.00,5,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
    'G0283,,,A,,0.18,0.19,,0.19,NA,0.01,0.38,0.38,7,XXX,0.00,0.00,0.00,5,0,0,0,0,,32.3465,09,0,99,0.00,0.00,0.00',
)

PPRRVU_HEAD_2026 = (
    ',,2026 National Physician Fee Schedule Relative Value File July Release,,,,,,,,,,,,,,,,,,,,,,,,,,,,,',
    ',,CPT codes and descriptions only are copyright 2026 American Medical Association. All Rights Reserved. Applicable FARS/DFARS Apply.,,,,,,,,,,,,,,,,,,,,,,,,,,,,,',
    ',,Dental codes (D codes) are copyright 2026 American Dental Association. All Rights Reserved.,,,,,,,,,,,,,,,,,,,,,,,,,,,,,',
    ',,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,',
    ',,RELEASED 06/30/2026,,,,,,,,,,,,,,,,,,,,,,,,,,,,,',
    ',,,,,,,,,,,,,,,,,,,,,,,,,,,,,NON-FACILITY,FACILITY,',
    ',,,,NOT USED,,,,,,,,,,,,,,,,,,,,,,PHYSICIAN,,DIAGNOSTIC,PE USED,PE USED,MP USED',
    ',,,,FOR,,,NON-FAC,,FACILITY,,,,,,,,,,,,,,,,,SUPERVISION OF,,IMAGING,FOR OPPS,FOR OPPS,FOR OPPS',
    ',,,STATUS,MEDICARE,WORK,NON-FAC,NA,FACILITY,NA,MP,NON-FACILITY,FACILITY,PCTC,GLOB,PRE,INTRA,POST,MULT,BILAT,ASST,CO-,TEAM,PRIC,ENDO,CONV,DIAGNOSTIC,CALCULATION,FAMILY,PAYMENT,PAYMENT,PAYMENT',
    'HCPCS,MOD,DESCRIPTION,CODE,PAYMENT,RVU,PE RVU,INDICATOR,PE RVU,INDICATOR,RVU,TOTAL,TOTAL,IND,DAYS,OP,OP,OP,PROC,SURG,SURG,SURG,SURG,IND,BASE,FACTOR,PROCEDURES,FLAG,INDICATOR,AMOUNT,AMOUNT,AMOUNT',
)

PPRRVU_ROWS_2026 = (
    '29530,,,A,,0.38,0.47,,0.07,,0.01,0.86,0.46,0,000,0.00,0.00,0.00,2,1,1,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '92507,,,A,,1.30,0.97,,0.97,NA,0.01,2.28,2.28,7,XXX,0.00,0.00,0.00,5,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '97010,,,B,+,0.06,0.13,,0.13,NA,0.01,0.20,0.20,9,XXX,0.00,0.00,0.00,9,9,9,9,9,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '97014,,,I,+,0.18,0.19,,0.19,NA,0.01,0.38,0.38,9,XXX,0.00,0.00,0.00,9,9,9,9,9,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '97026,,,R,,0.06,0.13,,0.13,NA,0.01,0.20,0.20,7,XXX,0.00,0.00,0.00,5,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '97028,,,A,,0.08,0.16,,0.16,NA,0.01,0.25,0.25,7,XXX,0.00,0.00,0.00,5,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '97035,,,A,,0.21,0.21,,0.21,NA,0.01,0.43,0.43,7,XXX,0.00,0.00,0.00,5,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '97039,,,C,,0.00,0.00,,0.00,,0.00,0.00,0.00,7,XXX,0.00,0.00,0.00,0,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '97110,,,A,,0.45,0.41,,0.41,NA,0.01,0.87,0.87,7,XXX,0.00,0.00,0.00,5,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '97112,,,A,,0.50,0.47,,0.47,NA,0.01,0.98,0.98,7,XXX,0.00,0.00,0.00,5,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '97116,,,A,,0.45,0.41,,0.41,NA,0.01,0.87,0.87,7,XXX,0.00,0.00,0.00,5,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '97129,,,A,,0.50,0.16,,0.08,,0.01,0.67,0.59,0,XXX,0.00,0.00,0.00,0,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '97140,,,A,,0.43,0.39,,0.39,NA,0.01,0.83,0.83,7,XXX,0.00,0.00,0.00,5,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '97150,,,A,,0.29,0.24,,0.24,NA,0.01,0.54,0.54,7,XXX,0.00,0.00,0.00,5,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '97161,,,A,,1.54,1.38,,1.38,NA,0.01,2.93,2.93,7,XXX,0.00,0.00,0.00,5,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '97164,,,A,,0.96,1.05,,1.05,NA,0.01,2.02,2.02,7,XXX,0.00,0.00,0.00,5,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '97169,,,N,,0.00,0.00,,0.00,,0.00,0.00,0.00,9,XXX,0.00,0.00,0.00,9,9,9,9,9,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '97530,,,A,,0.44,0.60,,0.60,NA,0.01,1.05,1.05,7,XXX,0.00,0.00,0.00,5,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '97545,,,R,,0.00,0.00,,0.00,,0.00,0.00,0.00,7,XXX,0.00,0.00,0.00,0,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '97546,,,R,,0.00,0.00,,0.00,,0.00,0.00,0.00,7,ZZZ,0.00,0.00,0.00,0,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '97550,,,A,,1.00,0.57,,0.18,,0.01,1.58,1.19,0,XXX,0.00,0.00,0.00,0,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '97760,,,A,,0.50,0.87,,0.87,NA,0.01,1.38,1.38,7,XXX,0.00,0.00,0.00,5,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '97763,,,A,,0.48,1.01,,1.01,NA,0.01,1.50,1.50,7,XXX,0.00,0.00,0.00,5,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '97799,,,C,,0.00,0.00,,0.00,,0.00,0.00,0.00,7,XXX,0.00,0.00,0.00,0,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    '98940,,,A,,0.45,0.34,,0.09,,0.01,0.80,0.55,0,000,0.00,0.00,0.00,0,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    'G0281,,,A,,0.18,0.16,,0.16,NA,0.01,0.35,0.35,7,XXX,0.00,0.00,0.00,5,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
    'G0282,,,N,,0.00,0.00,,0.00,,0.00,0.00,0.00,9,XXX,0.00,0.00,0.00,9,9,9,9,9,9,,33.4009,09,0,99,0.00,0.00,0.00',
    'G0283,,,A,,0.18,0.19,,0.19,NA,0.01,0.38,0.38,7,XXX,0.00,0.00,0.00,5,0,0,0,0,9,,33.4009,09,0,99,0.00,0.00,0.00',
)

GPCI_HEAD_2025 = (
    'ADDENDUM E. FINAL CY 2025 GEOGRAPHIC PRACTICE COST INDICES (GPCIs) BY STATE AND MEDICARE LOCALITY,,,,,,',
    ',,,,,,',
    'Medicare Administrative Contractor (MAC),State,Locality Number,Locality Name,2025 PW GPCI (with 1.0 Floor),2025 PE GPCI,2025 MP GPCI',
)

GPCI_ROWS_2025 = (
    '10112,AL,00,ALABAMA,1,0.869,0.575',
    '02102,AK,01,ALASKA*,1.5,1.081,0.592',
    '03102,AZ,00,ARIZONA,1,0.975,0.854',
    '07102,AR,13,ARKANSAS,1,0.86,0.518',
    '01112,CA,54,BAKERSFIELD,1.017,1.093,0.662',
    '01212,HI,01,"HAWAII, GUAM",1,1.149,0.561',
    '14512,VT,50,VERMONT,1,0.993,0.518',
    '02402,WA,02,SEATTLE (KING CNTY),1.043,1.22,0.853',
    '06302,WI,00,WISCONSIN,1,0.957,0.331',
    '03602,WY,21,WYOMING**,1,1,0.739',
)

GPCI_FOOT_2025 = (
    '"MAC Assignments as of November 22, 2023",,,,,,',
    ',,,,,,',
    '*Work GPCI reflects a 1.5 floor in Alaska established by the MIPPA.,,,,,,',
    '**PE GPCI reflects a 1.0 floor for frontier states established by the ACA.,,,,,,',
    '',
)

GPCI_HEAD_2026 = (
    'ADDENDUM E. FINAL CY 2026 GEOGRAPHIC PRACTICE COST INDICES (GPCIs) BY STATE AND MEDICARE LOCALITY,,,,,,',
    ',,,,,,',
    'Medicare Administrative Contractor (MAC),State,Locality Number,Locality Name,2026 PW GPCI (with 1.0 Floor)***,2026 PE GPCI,2026 MP GPCI',
)

GPCI_ROWS_2026 = (
    '10112,AL,00,ALABAMA,1.000,0.875,0.566',
    '02102,AK,01,ALASKA*,1.500,1.065,0.551',
    '03102,AZ,00,ARIZONA,1.000,0.969,0.856',
    '07102,AR,13,ARKANSAS,1.000,0.859,0.515',
    '01112,CA,54,BAKERSFIELD,1.019,1.096,0.609',
    '01212,HI,01,"HAWAII, GUAM",1.000,1.137,0.579',
    '14512,VT,50,VERMONT,1.000,0.990,0.506',
    '02402,WA,02,SEATTLE (KING CNTY),1.050,1.227,0.817',
    '06302,WI,00,WISCONSIN,1.000,0.958,0.308',
    '03602,WY,21,WYOMING**,1.000,1.000,0.740',
)

GPCI_FOOT_2026 = (
    '"MAC Assignments as of November 22, 2023",,,,,,',
    ',,,,,,',
    '*Work GPCI reflects a 1.5 floor in Alaska established by the MIPPA.,,,,,,',
    '**PE GPCI reflects a 1.0 floor for frontier states established by the ACA.,,,,,,',
    ',,,,,,',
    '"***Note: The work GPCI floor of 1.0 that was applied in previous updates was extended through January 1, 2027 by Section 6208 of Continuing Appropriations Act, 2026 (H.R.7148).",,,,,,',
    '"   Therefore, the work GPCIs for 2026 reflect the 1.0 work GPCI floor.",,,,,,',
    ',,,,,,',
    '"Note: For CY 2024 and on, Addendum E will reflect the retirement of 3 California localities, as finalized in the CY 2023 PFS final rule. ",,,,,,',
    '',
)
PPRRVU_HEAD = {2025: PPRRVU_HEAD_2025, 2026: PPRRVU_HEAD_2026}
PPRRVU_ROWS = {2025: PPRRVU_ROWS_2025, 2026: PPRRVU_ROWS_2026}
CF = {2025: "32.3465", 2026: "33.4009"}
GPCI = {2025: (GPCI_HEAD_2025, GPCI_ROWS_2025, GPCI_FOOT_2025), 2026: (GPCI_HEAD_2026, GPCI_ROWS_2026, GPCI_FOOT_2026)}
FILE_NAMES = {"PPRRVU2025_Oct.therapy.csv": ("rvu", 2025), "PPRRVU2026_Jul.therapy.csv": ("rvu", 2026),
              "GPCI2025.csv": ("gpci", 2025), "GPCI2026.csv": ("gpci", 2026)}


def pprrvu_text(layout: int = 2025, *, year: int | None = None, release: str | None = None,
                cf: str | None = None, codes=None) -> str:
    """A PPRRVU CSV in the ``layout`` of 2025 (31 columns) or 2026 (32, with PRIC IND).

    ``year`` retitles it ("2027 National Physician Fee Schedule ..."), ``release``
    (A-D) changes the month of the title, ``cf`` replaces the CONV FACTOR of
    every row, ``codes`` keeps only those rows.
    """
    head = list(PPRRVU_HEAD[layout])
    title = head[0]
    if year is not None:
        title = title.replace(f"{layout} National", f"{year} National")
    if release is not None:
        title = re.sub(r"(January|April|July|October) Release", f"{MONTHS[release]} Release", title)
    head[0] = title
    rows = [r for r in PPRRVU_ROWS[layout] if codes is None or r.split(",")[0] in codes]
    if cf is not None:
        rows = [r.replace(f",{CF[layout]},", f",{cf},") for r in rows]
    return CRLF.join(head + rows) + CRLF


def gpci_text(layout: int = 2025, *, year: int | None = None) -> str:
    """An Addendum E GPCI CSV of ``layout`` (2025 or 2026), its year words changed to ``year``."""
    head, rows, foot = GPCI[layout]
    text = CRLF.join(list(head) + list(rows) + list(foot))
    if year is not None:
        text = text.replace(f"CY {layout}", f"CY {year}").replace(f"{layout} P", f"{year} P").replace(
            f"{layout} MP", f"{year} MP")
    return text


def write_cms_dir(folder: Path) -> Path:
    """The four files of ``../shared/data/cms`` under their names, as small fixtures."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (kind, year) in FILE_NAMES.items():
        text = pprrvu_text(year) if kind == "rvu" else gpci_text(year)
        (folder / name).write_bytes(text.encode("ascii"))
    return folder


def _xlsx_bytes() -> bytes:
    """A stand-in for the XLSX copy CMS ships: a zip, so it is recognised as not text."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    return buf.getvalue()


def _fixed_width(text: str) -> str:
    """The TXT copy of a PPRRVU file: the same lines, fields padded instead of comma-separated."""
    return CRLF.join("".join(f"{c:<12}" for c in line.split(",")) for line in text.split(CRLF))


def member_names(year: int, release: str) -> dict[str, str]:
    """CMS's member names of the RVUyyX zip (the PPRRVU naming changed in 2026)."""
    mon = MONTHS[release][:3]
    if year >= 2026:
        stem = f"PPRRVU{year}_{mon}"
        return {"nonqp": f"{stem}_nonQPP", "qp": f"{stem}_QPP", "gpci": f"GPCI{year}",
                "anes": f"ANES{year}", "locco": f"{year % 100:02d}LOCCO", "oppscap": f"OPPSCAP_{mon.upper()}"}
    return {"nonqp": f"PPRRVU{year % 100:02d}_{mon.upper()}", "gpci": f"GPCI{year}",
            "anes": f"ANES{year}", "locco": f"{year % 100:02d}LOCCO", "oppscap": f"OPPSCAP_{mon.upper()}"}


def rvu_zip(path: Path, *, rvu: str | None, gpci: str | None = None, qp: str | None = None,
            year: int = 2026, release: str = "C", extras: bool = True) -> Path:
    """Write a CMS-style ``RVUyyX.zip``: the PPRRVU text (``rvu``) as CSV, TXT and XLSX, ``qp``
    as the QPP file (from 2026), ``gpci`` as the GPCI CSV and XLSX, and the other files CMS ships."""
    names = member_names(year, release)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        if rvu is not None:
            z.writestr(names["nonqp"] + ".csv", rvu)
            z.writestr(names["nonqp"] + ".txt", _fixed_width(rvu))
            z.writestr(names["nonqp"] + ".xlsx", _xlsx_bytes())
        if qp is not None:
            z.writestr(names["qp"] + ".csv", qp)
            z.writestr(names["qp"] + ".txt", _fixed_width(qp))
        if gpci is not None:
            z.writestr(names["gpci"] + ".csv", gpci)
            z.writestr(names["gpci"] + ".xlsx", _xlsx_bytes())
        if extras:
            z.writestr(names["anes"] + ".csv", f"{year} ANESTHESIA CONVERSION FACTORS{CRLF}Contractor,Locality,"
                       f"Locality Name,National Anes CF of {CF.get(year, '33.4009')}{CRLF}10112,00,ALABAMA,20.0000{CRLF}")
            z.writestr(names["locco"] + ".csv", f"Counties Included in {year} Localities{CRLF}Medicare Adminstrative "
                       f"Contractor,Locality Number,State,Fee Schedule Area,Counties{CRLF}10112,0,ALABAMA,STATEWIDE,"
                       f"ALL COUNTIES{CRLF}")
            z.writestr(names["oppscap"] + ".csv", f"HCPCS,MOD,PROCSTAT,CARRIER,LOCALITY,FACILITY PRICE,"
                       f"NON-FACILTY PRICE{CRLF}0001T,,C,01112,05,0.00,0.00{CRLF}")
            z.writestr(f"RVU{year % 100:02d}{release}.pdf", b"%PDF-1.4\n% read me\n")
    return path
