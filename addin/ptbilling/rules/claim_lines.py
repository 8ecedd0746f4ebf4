"""A claim line as the rules see it, visits, payers and providers.

A visit is one patient on one date of service with one payer: the lines that go
on one claim. Pub. 100-04 ch.5 §20.2 counts units per day, and a claim is sent to
one payer, so the 8-minute rule (and every rule judged per visit: evaluations,
NCCI pairs, MUEs) looks at each payer's lines of the patient-day on their own. A
patient-day with an Aetna line and two Medicare lines is two visits; the answer
never depends on the order of the rows. Patients and payers compare as the office
types them, with case and outer spaces ignored ("P01 " and "p01" are one patient),
``visit_key`` below. Which payer rules apply:

- Traditional Medicare always gets the CMS 8-minute rule and the Medicare edits.
- "Medicare Advantage" plans get the Medicare edits; their unit method follows
  the ``method`` argument (the office's contract) and is CMS by default.
- Any payer whose name mentions Medicare (e.g. "BCBS / Medicare secondary") is
  treated as Medicare, as one EMR does when Medicare is primary or secondary.
- Other payers get the per-code (AMA) method unless ``method`` says otherwise.

References: therapy-billing-rules.md sections 1, 2 and 9.
"""
from __future__ import annotations

import datetime as dt
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

    index: int  # position in the log's data rows
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
        return (person_key(self.patient), self.dos, person_key(self.payer))

    @property
    def patient_key(self) -> str:
        return person_key(self.patient)

    def has(self, *mods: str) -> bool:
        return any(m in self.modifiers for m in mods)


def person_key(text: str) -> str:
    """How patients (and payers) compare: as typed, with case and outer spaces ignored."""
    return text.strip().casefold()


def is_medicare(payer: str) -> bool:
    return "MEDICARE" in payer.upper()


def is_medicare_advantage(payer: str) -> bool:
    p = payer.upper()
    return "MEDICARE" in p and ("ADVANTAGE" in p or "MAPD" in p or "PART C" in p)


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
