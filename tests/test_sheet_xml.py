"""The reader refuses no valid sheet: rows and cells without r=, inline strings, shared formulas,
prefixed element names (issue 13, item 10). Each workbook here is written by hand, part by part."""
from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from python_calamine import CalamineWorkbook
from xlsxwriter.utility import xl_col_to_name

from ptbilling.logs.check import check_log
from ptbilling.logs.reader import SheetScan, UnusableLog, col_index, read_log

HEADER = ["Patient", "Date", "Payer", "Provider", "Code", "Modifiers", "Minutes", "Units"]
ROWS = [["P1", 45931, "Medicare", "PT", "97110", "GP", 30, 3],  # 2025-10-01, one unit too many
        ["P2", 45931, "Aetna", "PT", "97140", "GP", 10, 1]]
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def letters(j: int) -> str:
    """0 -> 'A': XlsxWriter's own column names, an oracle independent of the reader's."""
    return xl_col_to_name(j)


def cell(value, ref: str | None, p: str = "", formula: str | None = None) -> str:
    r = f' r="{ref}"' if ref else ""
    f = formula or ""
    if isinstance(value, str):
        return f'<{p}c{r} t="inlineStr">{f}<{p}is><{p}t>{escape(value)}</{p}t></{p}is></{p}c>'
    return f"<{p}c{r}>{f}<{p}v>{value}</{p}v></{p}c>"


def sheet_xml(rows, *, row_r=True, cell_r=True, prefix="", formulas=None, spans=False) -> str:
    """A worksheet part; ``formulas`` maps (row, col) (0-based) to an <f> element's text."""
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{NS}"' if prefix else f'xmlns="{NS}"'
    out = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{p}worksheet {xmlns}><{p}sheetData>']
    for i, values in enumerate(rows):
        attrs = (f' r="{i + 1}"' if row_r else "") + (f' spans="1:{len(values)}"' if spans else "")
        out.append(f"<{p}row{attrs}>")
        for j, v in enumerate(values):
            f = (formulas or {}).get((i, j))
            out.append(cell(v, f"{letters(j)}{i + 1}" if cell_r else None, p, f.replace("<", f"<{p}") if f else None))
        out.append(f"</{p}row>")
    out.append(f"</{p}sheetData></{p}worksheet>")
    return "".join(out)


def workbook(path: Path, sheet: str) -> Path:
    """The smallest workbook Excel opens: content types, relationships, the workbook, one sheet."""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
            'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/></Types>'),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" xmlns:r="{R_NS}"><sheets>'
            '<sheet name="Log" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
        "xl/worksheets/sheet1.xml": sheet,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return path


def findings(path: Path) -> list[list[str]]:
    log = read_log(path)
    result = check_log(log.header, log.rows, formula_cells=log.formula_cells)
    return [[str(f) for f in fs] for fs in result.findings]


@pytest.fixture
def reference(tmp_path) -> list[list[str]]:
    got = findings(workbook(tmp_path / "plain.xlsx", sheet_xml([HEADER, *ROWS])))
    assert got[0][0].startswith("ERROR UNITS-OVER") and got[1] == []
    return got


@pytest.mark.parametrize("how", [dict(row_r=False), dict(row_r=False, cell_r=False), dict(cell_r=False),
                                 dict(row_r=False, cell_r=False, prefix="x"), dict(row_r=False, spans=True)],
                         ids=["rows-without-r", "rows-and-cells-without-r", "cells-without-r",
                              "prefixed-without-r", "rows-with-spans-only"])
def test_a_sheet_without_r_attributes_is_read_like_one_with_them(tmp_path, reference, how):
    """<row> and <c> without r= (valid OOXML, read by calamine, openpyxl, LibreOffice): same findings."""
    path = workbook(tmp_path / "no_r.xlsx", sheet_xml([HEADER, *ROWS], **how))
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Log").to_python()
    assert [str(v) for v in sheet[0]] == HEADER  # the libraries read it
    assert findings(path) == reference


def test_inline_strings_are_read(tmp_path, reference):
    """Text as inline strings (<is><t>), as exporters write it, needs no shared-strings part."""
    xml = sheet_xml([HEADER, *ROWS])
    assert 't="inlineStr"' in xml and "sharedStrings" not in xml
    assert findings(workbook(tmp_path / "inline.xlsx", xml)) == reference


def test_shared_formula_cells_are_all_input_errors(tmp_path):
    """A shared formula in Minutes (master with ref=, followers with si= only): both rows say 'formula'."""
    formulas = {(1, 6): '<f t="shared" ref="G2:G3" si="0">10+20</f>', (2, 6): '<f t="shared" si="0"/>'}
    for how in (dict(), dict(row_r=False, cell_r=False)):
        path = workbook(tmp_path / "shared.xlsx", sheet_xml([HEADER, *ROWS], formulas=formulas, **how))
        got = findings(path)
        for row in got:
            assert len(row) == 1 and row[0].startswith("ERROR INPUT: Minutes cell holds a formula")


def test_a_formula_outside_the_input_columns_is_ignored(tmp_path, reference):
    """A formula in a column the log does not use (say a computed Notes) leaves the row's findings alone."""
    header = HEADER + ["Notes"]
    rows = [r + ["x"] for r in ROWS]
    path = workbook(tmp_path / "notes.xlsx", sheet_xml([header, *rows], row_r=False,
                                                         formulas={(1, 8): "<f>UPPER(A2)</f>"}))
    assert findings(path) == reference


def test_a_far_cell_without_row_numbers_is_measured_not_guessed(tmp_path):
    """Rows without r= are counted: 3 rows mean 3 rows (not Excel's last row), so calamine reads them."""
    scan = SheetScan()
    scan.feed(sheet_xml([HEADER, *ROWS], row_r=False).encode())
    scan.close()
    assert (scan.max_row, scan.max_col, scan.formulas) == (3, len(HEADER) - 1, [])
    assert read_log(workbook(tmp_path / "w.xlsx", sheet_xml([HEADER, *ROWS], row_r=False))).reader == "calamine"


def test_scan_refuses_a_dtd_and_damaged_xml(tmp_path):
    """The parser is defusedxml's: a DTD in the sheet is refused; broken XML is 'damaged', one line."""
    bomb = sheet_xml([HEADER]).replace("<worksheet", '<!DOCTYPE w [<!ENTITY a "aaaa">]><worksheet', 1)
    with pytest.raises(UnusableLog, match="DTD|XML bomb"):
        read_log(workbook(tmp_path / "dtd.xlsx", bomb))
    broken = sheet_xml([HEADER, *ROWS]).replace("</sheetData>", "<row></sheetData>")
    with pytest.raises(UnusableLog, match="is damaged"):
        read_log(workbook(tmp_path / "broken.xlsx", broken))


def test_a_bad_cell_reference_is_damage_not_a_crash(tmp_path):
    """A cell r= that is no reference (r="1A") is refused in one line naming the sheet part."""
    xml = sheet_xml([HEADER, *ROWS]).replace(' r="A2"', ' r="2A"', 1)
    with pytest.raises(UnusableLog, match="sheet1.xml cannot be read"):
        read_log(workbook(tmp_path / "bad_ref.xlsx", xml))
    assert col_index("XFD") == 16_383


EXT_DROPDOWN = (
    '<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
    'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
    '<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
    '<x14:dataValidation type="list" allowBlank="1"><x14:formula1><xm:f>Lists!$A$1:$A$12</xm:f></x14:formula1>'
    '<xm:sqref>D2:D501</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst>'
)


@pytest.mark.parametrize("prefix", ["", "x"])
def test_a_dropdown_list_on_another_sheet_is_not_a_formula_in_the_log(tmp_path, prefix):
    """Excel saves a dropdown whose list is on another sheet as <xm:f> in the sheet's extLst, after the cells: not an input formula."""
    xml = sheet_xml([HEADER, *ROWS], prefix=prefix)
    p = f"{prefix}:" if prefix else ""
    xml = xml.replace(f"</{p}sheetData></{p}worksheet>",
                      f"</{p}sheetData>{EXT_DROPDOWN.replace('<extLst', f'<{p}extLst').replace('</extLst', f'</{p}extLst').replace('<ext ', f'<{p}ext ').replace('</ext>', f'</{p}ext>')}</{p}worksheet>")
    scan = SheetScan()
    scan.feed(xml.encode())
    scan.close()
    assert scan.formulas == [] and scan.max_row == 3 and scan.max_col == len(HEADER) - 1
    log = read_log(workbook(tmp_path / "log.xlsx", xml))
    assert log.formula_cells == {}
    found = check_log(log.header, log.rows).findings
    assert not any("formula" in str(f) for fs in found for f in fs)


def _break_deflate(path: Path, member: str, at: float) -> None:
    """Overwrite a member's compressed bytes from ``at`` (a fraction) on with 0xFF: a deflate
    block of the reserved type 3, which zlib reports as zlib.error (not an OSError)."""
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(member)
    assert info.compress_type == zipfile.ZIP_DEFLATED
    data = bytearray(path.read_bytes())
    name_len, extra_len = int.from_bytes(data[info.header_offset + 26:info.header_offset + 28], "little"), \
        int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    first = start + int(info.compress_size * at)
    data[first:start + info.compress_size] = b"\xff" * (start + info.compress_size - first)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("member, at", [("xl/workbook.xml", 0), ("xl/worksheets/sheet1.xml", 0),
                                        ("xl/worksheets/sheet1.xml", 0.9)],
                         ids=["workbook", "sheet-prolog", "sheet-body"])
def test_a_broken_deflate_stream_is_damaged_not_an_internal_error(tmp_path, member, at):
    """zlib.error is no OSError: a bit flipped in the compressed data is still 'damaged', one line."""
    rows = [HEADER, *[[f"P{i}", 45931 + i % 9, "Medicare", "PT", "97110", "GP", 30, 2] for i in range(6000)]]
    path = workbook(tmp_path / "w.xlsx", sheet_xml(rows))
    _break_deflate(path, member, at)
    with pytest.raises(UnusableLog, match="is damaged"):
        read_log(path)
