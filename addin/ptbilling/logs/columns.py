"""Recognising a session log's columns by their header words, for Excel and the command line alike.

``PT_VALIDATE`` and ``ptbilling check`` hand over the same header row; this module says which
column holds which field (``map_headers``) and whether a row is a header row at all
(``looks_like_header``). Headers are compared without case, spaces, ``_``, ``-``, ``.``, ``/``
or ``#``.
"""
from __future__ import annotations

import re

from ..rules.errors import BadValue

#: canonical column -> header spellings (compared without case, spaces, _ or -)
HEADERS = {
    "patient": ("patient", "patientid", "patientname", "mrn", "member", "client"),
    "date": ("date", "dos", "dateofservice", "servicedate", "visitdate"),
    "payer": ("payer", "payor", "insurance", "plan"),
    "provider": ("provider", "providertype", "discipline", "credential", "renderingprovider"),
    "code": ("code", "cpt", "hcpcs", "cpthcpcs", "cptcode", "procedure", "procedurecode"),
    "modifiers": ("modifiers", "modifier", "mods", "mod"),
    "minutes": ("minutes", "min", "mins", "timedminutes", "treatmentminutes"),
    "units": ("units", "unitsbilled", "billedunits", "unit"),
    "assistant_minutes": ("assistantminutes", "ptaminutes", "otaminutes", "assistantmin"),
    "prior_allowed": ("priorallowed", "priorallowedamount", "prioramount", "otherprovidersallowed"),
}
REQUIRED = ("patient", "date", "provider", "code", "modifiers", "minutes", "units")
DISPLAY = {
    "patient": "Patient", "date": "Date", "payer": "Payer", "provider": "Provider", "code": "Code",
    "modifiers": "Modifiers", "minutes": "Minutes", "units": "Units",
    "assistant_minutes": "Assistant Minutes", "prior_allowed": "Prior Allowed",
}
_LOOKUP = {alias: canon for canon, aliases in HEADERS.items() for alias in aliases}
_SQUASH = re.compile(r"[\s_\-./#]+")
class MissingColumns(BadValue):
    """The header row lacks required columns; the message names them and what was seen."""


def header_key(value: object) -> str | None:
    if value is None:
        return None
    return _LOOKUP.get(_SQUASH.sub("", str(value)).lower())


def map_headers(header_row, payer_given: bool = False) -> dict[str, int]:
    """Canonical column -> position. Unknown headers are ignored; the first match wins.

    Raises MissingColumns naming every missing required column in one message.
    """
    cols: dict[str, int] = {}
    for j, h in enumerate(header_row):
        key = header_key(h)
        if key and key not in cols:
            cols[key] = j
    need = list(REQUIRED) + ([] if payer_given else ["payer"])
    missing = [DISPLAY[c] for c in need if c not in cols]
    if missing:
        seen = ", ".join(str(h) for h in header_row if h not in (None, "")) or "nothing"
        extra = " (or give the payer argument)" if "Payer" in missing else ""
        raise MissingColumns(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}{extra}; headers seen: {seen}"[:250]
        )
    return cols


def looks_like_header(row) -> bool:
    """True when a row names the required columns (used to find the table in a sheet)."""
    keys = {header_key(v) for v in row}
    return all(c in keys for c in ("code", "minutes", "date"))


