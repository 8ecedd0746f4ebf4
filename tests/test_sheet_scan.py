"""The sheet scan's fast path (bytes-level regular expressions) gives exactly SheetScan's figures, and
hands every sheet that is not plain XML to SheetScan (issue 13 item 10's parser; issue 12's speed)."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ptbilling.logs import reader
from ptbilling.logs.reader import EXCEL_ROWS, SheetScan, UnusableLog, _fast_scan, read_log
from test_sheet_xml import HEADER, NS, ROWS, letters, sheet_xml, workbook


def expat(xml: bytes):
    """(formulas, max_row, max_col) from the streaming parser, or the exception it raises."""
    scan = SheetScan()
    try:
        scan.feed(xml)
        scan.close()
    except Exception as e:  # noqa: BLE001 - the property compares outcomes, errors included
        return type(e)
    return scan.formulas, scan.max_row, scan.max_col


# --- a generator of sheet XML: plain, and with each feature that is not ------------------------------

TEXT = st.text(alphabet="ab 1:<>&\"'c=is/f!?é", max_size=8)
PLAIN_REFS = ["", "A1:B3", "$C$2:$C$9", "c5", "bad", " A1:A4 ", "XFD1:XFD2"]
ODD_REFS = ["A1:A4\n", "A1:\tA4", "&#65;1:A2", "&amp;"]  # expat decodes these: the fast path declines


@st.composite
def formula(draw, p: str, odd: bool) -> str:
    kind = draw(st.sampled_from(["plain", "shared", "follower", "array", "empty"]))
    quote = draw(st.sampled_from(['"', "'"]))
    if kind == "plain":
        return f"<{p}f>SUM(A1:A2)&amp;\"x\"</{p}f>"
    if kind == "follower":
        return f'<{p}f t="shared" si="0"/>'
    if kind == "empty":
        return f"<{p}f/>"
    ref = draw(st.sampled_from(PLAIN_REFS + (ODD_REFS if odd else [])))
    gap = draw(st.sampled_from([" ", "\n  ", "\t"]))
    t = "shared" if kind == "shared" else "array"
    return f"<{p}f t={quote}{t}{quote}{gap}ref={quote}{ref}{quote} si=\"0\">A1*2</{p}f>"


@st.composite
def cell(draw, p: str, row: int, col: int, features: dict) -> tuple[str, int]:
    col = draw(st.sampled_from([col, col, col, col + 1, col + 30, col + 700, max(col - 1, 0)]))
    col = min(col, 16_383)
    attrs = []
    r_kind = draw(st.sampled_from(["r", "r", "r", "none", "late", "lower", "quoted"]) if features["odd_r"]
                  else st.just("r"))
    ref = f"{letters(col)}{max(row, 1)}"
    if r_kind == "r":
        attrs.append(f'r="{ref}"')
    elif r_kind == "lower":
        attrs.append(f'r="{ref.lower()}"')
    elif r_kind == "quoted":
        attrs.append(f"r='{ref}'")
    if draw(st.booleans()):
        attrs.append(draw(st.sampled_from(['s="1"', 't="s"', 't="inlineStr"', 't="str"'])))
    if r_kind == "late":
        attrs.append(f'r="{ref}"')
    head = f"<{p}c" + "".join(" " + a for a in attrs)
    what = draw(st.sampled_from(["empty", "self", "v", "is", "f", "fv"]))
    if what == "self":
        return head + "/>", col
    inner = ""
    if what == "v":
        inner = f"<{p}v>{draw(st.integers(0, 99999))}</{p}v>"
    elif what == "is":
        text = draw(TEXT).replace("&", "&amp;").replace("<", "&lt;")
        if features["cdata"] and draw(st.booleans()):
            text = "<![CDATA[<c r=\"ZZ1\"><v>1</v></c>]]>"
        inner = f"<{p}is><{p}t>{text}</{p}t></{p}is>"
    elif what in ("f", "fv"):
        inner = draw(formula(p, features["odd_r"])) + (f"<{p}v>3</{p}v>" if what == "fv" else "")
    return f"{head}>{inner}</{p}c>", col


@st.composite
def sheets(draw, plain: bool = False) -> bytes:
    """A worksheet part; ``plain`` leaves out everything the fast path hands to the parser."""
    features = {k: (False if plain else draw(st.integers(0, 3)) == 0)  # each feature in 1 of 4 sheets
                for k in ("odd_r", "prefix", "comment", "cdata", "pi", "ext", "disorder")}
    p = "x:" if features["prefix"] else ""
    xmlns = f'xmlns:x="{NS}"' if p else f'xmlns="{NS}"'
    decl = draw(st.sampled_from(['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n', "",
                                 "<?xml version='1.0'?>"]))
    out = [f"{decl}<{p}worksheet {xmlns}>"]
    if draw(st.booleans()):
        out.append(f'<{p}dimension ref="A1:C3"/><{p}cols><{p}col min="1" max="3" width="9"/></{p}cols>')
    out.append(f"<{p}sheetData>")
    row = 0
    for _ in range(draw(st.integers(0, 6))):
        step = draw(st.sampled_from([1, 1, 1, 2, 40]))
        if features["disorder"] and draw(st.booleans()):
            step = draw(st.sampled_from([0, -1]))
        row = min(max(row + step, 1), EXCEL_ROWS)
        r_kind = draw(st.sampled_from(["r", "r", "none", "late"]) if features["odd_r"] else st.just("r"))
        attrs = {"r": f' r="{row}"', "none": "", "late": f' spans="1:3" r="{row}"'}[r_kind]
        if r_kind == "r" and draw(st.booleans()):
            attrs += draw(st.sampled_from([' spans="1:3"', '\n  ht="20" customHeight="1"', " s='2'"]))
        cells = []
        col = 0
        for _ in range(draw(st.integers(0, 5))):
            text, col = draw(cell(p, row, col, features))
            cells.append(text)
            col += 1
        if features["comment"] and draw(st.booleans()):
            cells.insert(0, '<!-- <c r="ZZZ9"><v>1</v></c> -->')
        if features["pi"] and draw(st.booleans()):
            cells.append('<?mso-application progid="Excel.Sheet"?>')
        out.append(f"<{p}row{attrs}/>" if not cells and draw(st.booleans())
                   else f"<{p}row{attrs}>{''.join(cells)}</{p}row>")
    out.append(f"</{p}sheetData>")
    if features["ext"]:  # Excel 2010 data validation: an xm:f formula after the cells
        out.append('<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" xmlns:x14="urn:x14">'
                   '<x14:dataValidations count="1" xmlns:xm="urn:xm"><x14:dataValidation><x14:formula1>'
                   "<xm:f>Lists!$A$1:$A$5</xm:f></x14:formula1><xm:sqref>E2:E9</xm:sqref>"
                   "</x14:dataValidation></x14:dataValidations></ext></extLst>")
    out.append(f'<{p}pageMargins left="0.7" right="0.7"/></{p}worksheet>')
    return "".join(out).encode("utf-8")


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheets())
def test_fast_path_gives_the_parsers_figures_whenever_it_accepts(xml):
    """On any generated sheet, the fast path either declines or gives SheetScan's (formulas, rows, cols)."""
    want = expat(xml)
    got = _fast_scan(xml)
    if got is not None:
        assert not isinstance(want, type), f"fast path accepted what the parser refuses: {want}"
        assert got == want


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheets(plain=True))
def test_fast_path_accepts_every_plain_sheet_with_the_parsers_figures(xml):
    """Plain sheets (r= first on every row and cell, no prefix, comment, CDATA or PI) take the fast path.

    The one documented exception (``reader._FAST_PREFIXED``): text holding a colon before a tag name
    (":is>", "10:c here") looks like a prefixed tag to the byte search and goes to the parser, which
    costs time, never a figure."""
    got = _fast_scan(xml)
    if reader._FAST_PREFIXED.search(xml):
        assert got is None or got == expat(xml)
        return
    assert got is not None
    assert got == expat(xml)


def test_text_that_looks_like_a_prefixed_tag_goes_to_the_parser_with_the_same_figures():
    """Hypothesis found '<t>:is></t>': the fast path declines it, and the parser reads the sheet."""
    xml = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{NS}"><sheetData>'
           '<row r="1"><c r="A1"><is><t>:is></t></is></c></row></sheetData></worksheet>').encode()  # ">" unescaped
    assert _fast_scan(xml) is None
    assert not isinstance(expat(xml), type)


# --- each feature that is not plain sends the sheet to the parser ---------------------------------

PLAIN = sheet_xml([HEADER, *ROWS], formulas={(1, 6): '<f t="shared" ref="G2:G3" si="0">10+20</f>',
                                             (2, 6): '<f t="shared" si="0"/>'})


def test_the_plain_sheet_takes_the_fast_path_with_the_parsers_figures():
    """The reference sheet of these tests is plain: the fast path accepts it and agrees with the parser."""
    got = _fast_scan(PLAIN.encode())
    assert got == expat(PLAIN.encode())
    assert got == ([(2, 6, 3, 6), (3, 6, 3, 6)], 3, len(HEADER) - 1)


@pytest.mark.parametrize("xml", [
    PLAIN.replace("<sheetData>", "<sheetData><!-- a comment -->"),
    PLAIN.replace("<t>P1</t>", "<t><![CDATA[P1]]></t>"),
    PLAIN.replace("<worksheet", '<!DOCTYPE w [<!ENTITY a "aaaa">]><worksheet', 1),
    PLAIN.replace("<sheetData>", "<sheetData><?pi data?>"),
    sheet_xml([HEADER, *ROWS], prefix="x"),
    sheet_xml([HEADER, *ROWS], row_r=False),
    sheet_xml([HEADER, *ROWS], cell_r=False),
    PLAIN.replace('<c r="A2"', '<c t="s" r="A2"', 1),
    PLAIN.replace('<c r="A2"', '<c r="a2"', 1),
    PLAIN.replace('<c r="A2"', "<c r='A2'", 1),
    PLAIN.replace('<row r="2"', '<row r="3"', 1).replace('<row r="3"', '<row r="2"', 2)
    .replace('<row r="2"', '<row r="3"', 1),
    PLAIN.replace("</worksheet>", '<extLst><ext xmlns:xm="urn:xm"><xm:f>Lists!$A$1</xm:f></ext></extLst>'
                                  "</worksheet>"),
    PLAIN.replace('ref="G2:G3"', 'ref="G2:&#71;3"'),
    PLAIN.replace("UTF-8", "ISO-8859-1"),
    PLAIN.replace("</sheetData>", "</sheetData><c r=\"Z9\"/>"),
    PLAIN.replace('<row r="3"', f'<row r="{EXCEL_ROWS + 1}"'),
], ids=["comment", "cdata", "dtd", "processing-instruction", "prefix", "row-without-r", "cell-without-r",
        "r-not-first", "lower-case-ref", "single-quotes", "rows-out-of-order", "xm-f-in-extlst",
        "entity-in-ref", "other-encoding", "cell-outside-sheetdata", "row-beyond-excel"])
def test_each_feature_that_is_not_plain_sends_the_sheet_to_the_parser(xml):
    """Comments, CDATA, DTDs, PIs, prefixes, rows/cells without a plain first r=, rows out of order,
    prefixed formulas, entities in ref=, other encodings, stray cells: the fast path declines."""
    data = xml.encode("utf-8")
    assert data != PLAIN.encode()
    assert _fast_scan(data) is None


def test_a_sheet_with_a_dtd_is_refused_on_the_fast_paths_watch(tmp_path, monkeypatch):
    """A DTD anywhere in a sheet small enough for the fast path is still refused as a possible XML bomb."""
    seen = []
    real = reader._fast_scan
    monkeypatch.setattr(reader, "_fast_scan", lambda data: seen.append(real(data)) or seen[-1])
    bomb = PLAIN.replace("<sheetData>", '<sheetData><!DOCTYPE w [<!ENTITY a "aaaa">]>', 1)
    with pytest.raises(UnusableLog, match="DTD|XML bomb|not valid XML"):
        read_log(workbook(tmp_path / "dtd.xlsx", bomb))
    assert seen == [None]


def test_a_log_read_through_either_path_is_the_same(tmp_path, monkeypatch):
    """read_log gives the same rows and formula cells with the fast path as with the parser alone."""
    path = workbook(tmp_path / "log.xlsx", PLAIN)
    fast = read_log(path)
    monkeypatch.setattr(reader, "_fast_scan", lambda data: None)
    slow = read_log(path)
    assert (fast.rows, fast.formula_cells, fast.reader) == (slow.rows, slow.formula_cells, slow.reader)
    assert fast.formula_cells == {0: [6], 1: [6, 6]}  # the shared master's ref= covers its follower too


@pytest.mark.parametrize("k", [0, 1, 24, 25, 26, 27, 51, 52, 700, 701, 702, 703, 727, 16_383, 18_277])
def test_the_column_bound_regex_admits_exactly_the_columns_up_to_k(k):
    """_cells_beyond(k) passes a plain cell exactly when its column is at most k (every 1-3 letter column)."""
    pattern = reader._cells_beyond(k)
    for j in range(18_278):  # A .. ZZZ, all SheetScan accepts
        tag = f'<c r="{letters(j)}7"/>'.encode()
        assert (pattern.match(tag) is None) == (j <= k), (k, letters(j))
