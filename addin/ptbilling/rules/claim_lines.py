"""A claim line as the rules see it, visits, payers and providers.

A visit is one patient on one date of service with one payer: the lines that go
on one claim. Pub. 100-04 ch.5 §20.2 counts units per day, and a claim is sent to
one payer, so the 8-minute rule (and every rule judged per visit: evaluations,
NCCI pairs, MUEs) looks at each payer's lines of the patient-day on their own. A
patient-day with an Aetna line and two Medicare lines is two visits; the answer
never depends on the order of the rows. Patients and payers compare as the office
types them, with case and outer spaces ignored ("P01 " and "p01" are one patient),
``person_key`` below; traditional Medicare in any spelling ("MCR", "Medicare B") is one
payer (``payer_key``). Which payer rules apply:

- Traditional Medicare always gets the CMS 8-minute rule and the Medicare edits.
- "Medicare Advantage" plans get the Medicare edits; their unit method follows
  the ``method`` argument (the office's contract) and is CMS by default.
- Any payer whose name mentions Medicare (e.g. "BCBS / Medicare secondary") is
  treated as Medicare, as one EMR does when Medicare is primary or secondary.
  EMR exports also write "MCR", "Medicare B", "Medicare Part B" and "Traditional
  Medicare" for Medicare Part B.
- A Medicare plan name that says it is Medicare Advantage ("Advantage", "Adv",
  "MAPD", "Part C", or a Medicare HMO/PPO: traditional Medicare has neither) is
  Medicare Advantage.
- Other payers get the per-code (AMA) method unless ``method`` says otherwise.

References: therapy-billing-rules.md sections 1, 2 and 9.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from typing import NamedTuple

from .service_units import AMA, CMS, normalize_method

#: provider credential -> (discipline, is an assistant)
PROVIDERS = {
    "PT": ("PT", False), "DPT": ("PT", False), "PTA": ("PT", True),
    "OT": ("OT", False), "OTR": ("OT", False), "OTR/L": ("OT", False), "OTA": ("OT", True), "COTA": ("OT", True),
    "SLP": ("SLP", False), "ST": ("SLP", False), "CCC-SLP": ("SLP", False),
    "MD": ("MD", False), "DO": ("MD", False), "NP": ("NPP", False), "PA": ("NPP", False), "CNS": ("NPP", False),
    "DC": ("DC", False),
    "LMT": ("LMT", False), "MT": ("LMT", False),
    "ATC": ("ATC", False), "AT": ("ATC", False),
}
THERAPISTS = {"PT", "OT", "SLP"}


class ClaimLine(NamedTuple):
    """One coerced row of a log. A NamedTuple, not a dataclass: a 100,000-row log
    builds 100,000 of them, and a frozen dataclass takes over twice as long to build."""

    # ``index`` hides tuple.index(value), which no caller uses; the name is read on every line of
    # every rule, so it stays, and mypy's complaint about the hidden method is silenced.
    index: int  # type: ignore[assignment]  # position in the log's data rows
    patient: str
    dos: dt.date
    payer: str
    provider: str  # credential as typed, upper case
    code: str
    modifiers: tuple[str, ...]
    minutes: int | None
    units: int | None  # billed
    assistant_minutes: int | None = None
    prior_allowed: float | None = None
    has_assistant_column: bool = False

    @property
    def visit(self) -> tuple[str, dt.date, str]:
        """(patient key, date of service, payer key): the lines of one claim."""
        return visit_key(*self[1:4])  # patient, dos, payer

    @property
    def patient_key(self) -> str:
        return person_key(self.patient)

    def has(self, *mods: str) -> bool:
        return any(m in self.modifiers for m in mods)


#: a log's lines share their visit's (patient, date, payer), and a check asks each line for its
#: visit three times (the rules, the units column, the summary): the key is made once per visit.
#: Bounded, so that a long Excel session keeps no log's visits for good.
@functools.lru_cache(maxsize=1 << 16)
def visit_key(patient: str, dos: dt.date, payer: str) -> tuple[str, dt.date, str]:
    """``ClaimLine.visit`` of a line with this patient, date and payer."""
    return (person_key(patient), dos, payer_key(payer))


def person_key(text: str) -> str:
    """How patients (and payers) compare: as typed, with case and outer spaces ignored."""
    return text.strip().casefold()


@functools.lru_cache(maxsize=4096)
def payer_key(payer: str) -> str:
    """Which claim a payer's lines go on: traditional Medicare in any spelling ("MCR", "Medicare B",
    "Medicare Part B") is one payer; any other payer as typed, case and outer spaces ignored."""
    if is_medicare(payer) and not is_medicare_advantage(payer):
        return "medicare"
    return person_key(payer)


_MCR = re.compile(r"\bMCR\b|\bMAPD\b")  # MAPD: a Medicare Advantage prescription drug plan
_ADVANTAGE = re.compile(r"ADVANTAGE|\bADV\b|\bMAPD\b|\bPART\s*C\b|\bHMO\b|\bPPO\b")


def is_medicare(payer: str) -> bool:
    p = payer.upper()
    return "MEDICARE" in p or bool(_MCR.search(p))


def is_medicare_advantage(payer: str) -> bool:
    p = payer.upper()
    return is_medicare(p) and bool(_ADVANTAGE.search(p))


def payer_kind(payer: str) -> str:
    """'Medicare', 'Medicare Advantage' or 'other' (not recognised as Medicare)."""
    if not is_medicare(payer):
        return "other"
    return "Medicare Advantage" if is_medicare_advantage(payer) else "Medicare"


def unit_method(payer: str, method: object = None) -> str:
    """The unit method for a payer: traditional Medicare is always CMS; others follow ``method``.

    ``method`` blank: Medicare and Medicare Advantage CMS, everyone else AMA.
    """
    chosen = None if method is None or (isinstance(method, str) and not method.strip()) else normalize_method(method)
    if is_medicare(payer) and not is_medicare_advantage(payer):
        return CMS
    if chosen:
        return chosen
    return CMS if is_medicare(payer) else AMA


def provider_discipline(provider: str) -> tuple[str | None, bool]:
    """(discipline, is_assistant) of a credential; (None, False) when not recognised."""
    return PROVIDERS.get(provider.replace(" ", ""), (None, False))


_WORDS = re.compile(r"[\s,;()\[\]|]+")
_DOTTED = re.compile(r"^(?:[A-Z]\.){2,}[A-Z]?\.?$")  # P.T., P.T.A.


def provider_credentials(cell: str) -> list[str]:
    """The credentials a provider cell names, in order: 'Lee, Bob PTA' -> ['PTA'];
    'Jane Doe, PT, DPT' -> ['PT', 'DPT']; 'Kim OTR/L' -> ['OTR/L']; 'Bob Lee' -> []."""
    text = cell.strip().upper()
    if text.replace(" ", "") in PROVIDERS:
        return [text.replace(" ", "")]
    out = []
    for word in _WORDS.split(text):
        if _DOTTED.match(word):
            word = word.replace(".", "")
        if word in PROVIDERS:
            out.append(word)
    return out


def provider_credential(cell: str) -> str:
    """The credential of a provider cell as EMR exports write it ('Lee, Bob PTA' -> 'PTA').

    Names are dropped, the credential kept: the rules need only the credential.
    When the cell names none, or credentials of different kinds (a PT who is also
    an ATC: which one furnished the service is not said), it is kept as written
    (upper case) and the provider rule says it could not be recognised.
    """
    found = provider_credentials(cell)
    if found and len({PROVIDERS[c] for c in found}) == 1:
        return found[-1]
    return cell.strip().upper()


def with_article(word: str) -> str:
    """'a PT', 'an OT', 'an SLP', 'a COTA': credentials are said letter by letter (COTA as a word)."""
    return f"{'an' if word[:1].upper() in 'AEFHILMNORSX' else 'a'} {word}"
