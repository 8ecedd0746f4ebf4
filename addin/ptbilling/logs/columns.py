"""Recognising a session log's columns by their header words, for Excel and the command line alike.

``PT_VALIDATE`` and ``ptbilling check`` hand over the same header row; this module says which
column holds which field (``layout`` / ``map_headers``), whether a row is a header row at all
(``looks_like_header``, ``header_score``) and what the user mapped by hand (``ColumnMap``, from
``--column`` and ``--columns office.toml``).

Headers are compared without case, spaces or punctuation ("Date of Service", "date_of_service"
and "DATE-OF-SERVICE" are one name). The names are those the EMR charge exports offices send us
use; numbered modifier columns (Modifier 1..4, Mod 1..4, Mod1..Mod4) are all read, merged in
their number order. Every header that is not used is reported (``Layout.ignored``), with a note
when it looks like modifiers, codes, minutes or units: a column is never dropped in silence.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..rules.errors import BadValue

#: canonical column -> header spellings (compared squashed: lower case, letters and digits only)
HEADERS = {
    "patient": ("patient", "patientid", "patientname", "patientnumber", "mrn", "member", "client", "account",
                "accountnumber", "accountno", "acct", "chart", "chartnumber"),
    "date": ("date", "dos", "dateofservice", "servicedate", "visitdate", "treatmentdate"),
    "payer": ("payer", "payor", "insurance", "primaryinsurance", "plan", "insuranceplan", "financialclass",
              "payername", "primarypayer"),
    "provider": ("provider", "providertype", "discipline", "credential", "renderingprovider", "therapist",
                 "clinician", "renderingclinician", "treatingtherapist"),
    "code": ("code", "cpt", "hcpcs", "cpthcpcs", "cptcode", "hcpcscode", "procedure", "procedurecode",
             "servicecode", "chargecode"),
    "modifiers": ("modifiers", "modifier", "mods", "mod"),
    "minutes": ("minutes", "min", "mins", "timedminutes", "treatmentminutes", "time", "duration",
                "durationminutes", "totalminutes"),
    "units": ("units", "unitsbilled", "billedunits", "unit", "qty", "quantity"),
    "assistant_minutes": ("assistantminutes", "ptaminutes", "otaminutes", "assistantmin"),
    "prior_allowed": ("priorallowed", "priorallowedamount", "prioramount", "otherprovidersallowed"),
}
REQUIRED = ("patient", "date", "provider", "code", "minutes", "units")
DISPLAY = {
    "patient": "Patient", "date": "Date", "payer": "Payer", "provider": "Provider", "code": "Code",
    "modifiers": "Modifiers", "minutes": "Minutes", "units": "Units",
    "assistant_minutes": "Assistant Minutes", "prior_allowed": "Prior Allowed",
}
IGNORE = "ignore"  # a --column target: read nothing from this column, and say so without a note
_LOOKUP = {alias: canon for canon, aliases in HEADERS.items() for alias in aliases}
_FIELD_NAMES = {**{_c: _c for _c in DISPLAY}, **{re.sub(r"[^0-9a-z]", "", d.lower()): c for c, d in DISPLAY.items()},
                IGNORE: IGNORE}
_SQUASH = re.compile(r"[^0-9a-z]+")
#: Modifier 1..4, Mod 1..4, Mod1..Mod4 (squashed): modifier columns, merged in this number order
_NUMBERED_MOD = re.compile(r"^(?:modifier|mod|modifiers|mods)([1-9])$")
#: words in a header that make an unused column worth a note (squashed substrings -> what it may hold)
_LOOKS_LIKE = (("mod", "modifiers"), ("cpt", "codes"), ("hcpcs", "codes"), ("code", "codes"),
               ("procedure", "codes"), ("min", "minutes"), ("time", "minutes"), ("duration", "minutes"),
               ("unit", "units"), ("qty", "units"), ("quantity", "units"))


class MissingColumns(BadValue):
    """The header row lacks required columns; the message names them and what was seen."""


def squash(value: object) -> str:
    """A header (or payer) as compared: lower case, letters and digits only."""
    return _SQUASH.sub("", str(value).lower())


@dataclass
class ColumnMap:
    """What the user mapped: header -> field (``--column "Ins Plan=Payer"``) and payer -> payer.

    Keys are squashed, so "Ins Plan", "ins_plan" and "INS-PLAN" are one header.
    ``source`` says where each mapping came from, for messages.
    """

    columns: dict[str, str] = field(default_factory=dict)  # squashed header -> canonical field or IGNORE
    payers: dict[str, str] = field(default_factory=dict)  # squashed payer -> payer as the rules should read it
    source: str = ""

    def __bool__(self) -> bool:
        return bool(self.columns or self.payers)

    def add_column(self, header: str, target: str, where: str) -> None:
        canon = _FIELD_NAMES.get(squash(target))
        if canon is None:
            valid = ", ".join(list(DISPLAY.values()) + [IGNORE])
            raise BadValue(f"{where}: {target!r} is not a field; map a column to one of {valid}")
        if not squash(header):
            raise BadValue(f"{where}: the column name is blank; write it as \"Header=Field\", e.g. \"Ins Plan=Payer\"")
        self.columns[squash(header)] = canon

    def add_payer(self, payer: str, meaning: str, where: str) -> None:
        if not squash(payer) or not str(meaning).strip():
            raise BadValue(f"{where}: a payer mapping needs both sides, e.g. \"BCBS Medicare Adv\" = \"Medicare Advantage\"")
        self.payers[squash(payer)] = str(meaning).strip()

    def payer(self, text: str) -> str:
        """The payer as the rules should read it: mapped when the map names it, else as written."""
        return self.payers.get(squash(text), text) if self.payers and text else text


def parse_column_option(text: str, into: ColumnMap | None = None) -> ColumnMap:
    """``"Ins Plan=Payer"`` (the --column option) into a ColumnMap; the last '=' splits."""
    into = into if into is not None else ColumnMap()
    header, sep, target = str(text).rpartition("=")
    if not sep:
        raise BadValue(f"--column {text!r}: write it as \"Header=Field\", e.g. --column \"Ins Plan=Payer\"")
    into.add_column(header.strip(), target.strip(), f"--column {text!r}")
    return into


def load_column_file(path: str | Path, into: ColumnMap | None = None) -> ColumnMap:
    """Read ``--columns office.toml``: a ``[columns]`` table (header = field) and a ``[payers]`` table.

    Example::

        [columns]
        "Ins Plan" = "Payer"
        "Clinician" = "Provider"

        [payers]
        "BCBS Medicare Adv" = "Medicare Advantage"
    """
    # by version, not try/except ImportError, so that mypy checks the branch of the Python it runs for
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10: the same parser, as the tomli package
        import tomli as tomllib

    p = Path(path)
    into = into if into is not None else ColumnMap()
    try:
        with open(p, "rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise BadValue(f"--columns {path}: no such file") from None
    except IsADirectoryError:
        raise BadValue(f"--columns {path}: is a folder; give the mapping file (e.g. office.toml)") from None
    except OSError as e:
        raise BadValue(f"--columns {path}: cannot be read ({e.strerror or e})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise BadValue(f"--columns {path}: is not valid TOML ({' '.join(str(e).split())[:120]})") from None
    unknown = sorted(set(doc) - {"columns", "payers"})
    if unknown:
        raise BadValue(f"--columns {path}: unknown table {', '.join(unknown)}; use [columns] and [payers]")
    for table in ("columns", "payers"):
        entries = doc.get(table, {})
        if not isinstance(entries, dict) or not all(isinstance(v, str) for v in entries.values()):
            raise BadValue(f"--columns {path}: [{table}] must hold \"name\" = \"text\" lines")
        for k, v in entries.items():
            where = f"--columns {path} [{table}] {k!r}"
            if table == "columns":
                into.add_column(k, v, where)
            else:
                into.add_payer(k, v, where)
    into.source = str(path)
    return into


def header_key(value: object, mapping: ColumnMap | None = None) -> str | None:
    """The canonical field a header names (None: not a field we read; IGNORE: mapped away)."""
    if value is None:
        return None
    s = squash(value)
    if mapping is not None and mapping.columns:
        mapped = mapping.columns.get(s)
        if mapped is not None:
            return mapped
    key = _LOOKUP.get(s)
    if key is None and _NUMBERED_MOD.match(s):
        return "modifiers"
    return key


def _modifier_order(value: object) -> int:
    m = _NUMBERED_MOD.match(squash(value))
    return int(m.group(1)) if m else 0


def _looks_like(value: object) -> str | None:
    s = squash(value)
    return next((what for word, what in _LOOKS_LIKE if word in s), None)


@dataclass
class Layout:
    """Where each field is in a header row, and what is not read (with why)."""

    cols: dict[str, int]  # canonical field -> position; "modifiers" is the first modifier column
    modifier_cols: tuple[int, ...]  # every modifier column, in number order (Modifier 1, 2, ...)
    used: list[tuple[int, str, str]]  # (position, header, field shown)
    ignored: list[tuple[int, str, str]]  # (position, header, note; '' for an unremarkable column)

    @property
    def notes(self) -> list[str]:
        out = [f"column {h!r} is not used: {note}" for _, h, note in self.ignored if note]
        if not self.modifier_cols:
            out.append("no Modifiers column: modifiers are read only where the Code cell carries them (97110-GP)")
        return out


def layout(header_row, payer_given: bool = False, mapping: ColumnMap | None = None) -> Layout:
    """Canonical column -> position, every modifier column, and the columns not used.

    When two columns name one field, a column the user mapped wins, then the
    field's own name over an alias ("Minutes" over "Time", which may be a time of
    day), then the one further left; the other is listed as not used, with a note.
    Every modifier column is used. Raises MissingColumns naming every missing
    required column, and the headers seen, in one message.
    """
    cols: dict[str, int] = {}
    mods: list[tuple[int, int]] = []  # (number order, position)
    keys = [header_key(h, mapping) for h in header_row]
    best: dict[str, tuple[int, int]] = {}  # field -> (rank, position) of the column read
    for j, (h, key) in enumerate(zip(header_row, keys)):
        if h is None or key in (None, IGNORE, "modifiers") or (isinstance(h, str) and not h.strip()):
            continue
        s = squash(h)
        rank = -1 if mapping is not None and s in mapping.columns else (
            HEADERS[key].index(s) if s in HEADERS[key] else len(HEADERS[key]))
        if key not in best or (rank, j) < best[key]:
            best[key] = (rank, j)
    cols.update({key: j for key, (_, j) in best.items()})
    used, ignored = [], []
    for j, (h, key) in enumerate(zip(header_row, keys)):
        if h is None or (isinstance(h, str) and not h.strip()):
            continue
        text = str(h).strip()
        if key == "modifiers":
            mods.append((_modifier_order(h), j))
            used.append((j, text, "Modifiers"))
        elif key == IGNORE:
            ignored.append((j, text, ""))
        elif key is not None and cols[key] == j:
            used.append((j, text, DISPLAY[key]))
        elif key is not None:
            first = header_row[cols[key]]
            ignored.append((j, text, f"it also names {DISPLAY[key]}, which is read from {str(first).strip()!r} — "
                                     f"map the one to read with --column \"{text}={DISPLAY[key]}\""))
        else:
            what = _looks_like(h)
            ignored.append((j, text, f"it looks like {what} but is not a column ptbilling knows — map it with "
                                     f"--column \"{text}=<field>\" if it holds them" if what else ""))
    mods.sort()
    if mods:
        cols["modifiers"] = mods[0][1]
    need = list(REQUIRED) + ([] if payer_given else ["payer"])
    missing = [DISPLAY[c] for c in need if c not in cols]
    if missing:
        seen = ", ".join(str(h) for h in header_row if h not in (None, "")) or "nothing"
        extra = " (or give the payer argument)" if "Payer" in missing else ""
        names = "; ".join(f"{DISPLAY[c]} as {' or '.join(_shown_aliases(c))}" for c in need if c not in cols)
        raise MissingColumns(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}{extra}; headers seen: {seen}; "
            f"names read as such: {names}; or map a column with --column \"Header=Field\""[:500]
        )
    used.sort()
    return Layout(cols, tuple(j for _, j in mods), used, ignored)


#: names shown in a refusal, as people write them
EXAMPLES = {
    "patient": ("Patient Name", "MRN", "Account"), "date": ("DOS", "Date of Service", "Service Date"),
    "payer": ("Insurance", "Plan", "Financial Class"), "provider": ("Rendering Provider", "Therapist", "Clinician"),
    "code": ("CPT", "HCPCS", "Procedure Code"), "modifiers": ("Modifier 1", "Mod 1"),
    "minutes": ("Mins", "Treatment Minutes", "Duration"), "units": ("Units Billed", "Qty", "Quantity"),
    "assistant_minutes": ("PTA Minutes", "OTA Minutes"), "prior_allowed": ("Prior Allowed Amount",),
}


def _shown_aliases(canon: str) -> list[str]:
    return [DISPLAY[canon], *EXAMPLES[canon]]


def map_headers(header_row, payer_given: bool = False, mapping: ColumnMap | None = None) -> dict[str, int]:
    """Canonical column -> position (``layout(...).cols``). Raises MissingColumns."""
    return layout(header_row, payer_given, mapping).cols


def header_score(row, mapping: ColumnMap | None = None) -> int:
    """How many columns of a row ptbilling recognises: 0 unless it names at least Date, Code and Minutes
    (a header row). The sheet whose header scores highest is the one read."""
    keys = [header_key(v, mapping) for v in row if v is not None]
    if not all(c in keys for c in ("code", "minutes", "date")):
        return 0
    return sum(1 for k in keys if k not in (None, IGNORE))


def looks_like_header(row, mapping: ColumnMap | None = None) -> bool:
    """True when a row names the required columns (used to find the table in a sheet)."""
    return header_score(row, mapping) > 0


def fields_named(row, mapping: ColumnMap | None = None) -> list[str]:
    """The fields a row names, for refusal messages ("found Date, Code; missing Minutes")."""
    keys = {header_key(v, mapping) for v in row if v is not None}
    return [DISPLAY[c] for c in DISPLAY if c in keys]
