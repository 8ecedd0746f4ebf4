"""Cell styles the template and the ``--out`` report share, so a finding looks the same in both.

The Check column's colours are Excel's own "Light red / Yellow / Green fill with dark text"
presets: ERROR red, WARN amber, OK green.
"""
from __future__ import annotations

#: first word of a Check text -> XlsxWriter format properties
CHECK_COLOURS = {
    "ERROR": {"bg_color": "#FFC7CE", "font_color": "#9C0006"},
    "WARN": {"bg_color": "#FFEB9C", "font_color": "#9C5700"},
    "OK": {"bg_color": "#C6EFCE", "font_color": "#006100"},
}


def check_colour_rules(ws, wb, first_row: int, col: int, last_row: int) -> None:
    """Colour a Check column as the template does: conditional formats on its first word."""
    for word, props in CHECK_COLOURS.items():
        ws.conditional_format(first_row, col, last_row, col,
                              {"type": "text", "criteria": "begins with", "value": word,
                               "format": wb.add_format(props), "stop_if_true": True})
