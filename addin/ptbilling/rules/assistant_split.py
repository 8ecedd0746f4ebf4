"""Services furnished "in whole or in part" by a PTA/OTA: which units take CQ/CO.

One service's units (a timed code's units by the 8-minute rule, or an untimed
service's one unit) are divided between the assistant (the unit takes CQ for
a PTA, CO for an OTA) and the therapist (no modifier), following
therapy-billing-rules.md section 5 step by step:

1. Whole 15-minute blocks go to whoever furnished them (86 FR 65171: "When any
   of these services, that is, full 15-minute increments, are provided by a
   PTA/OTA, the CQ/CO modifiers apply").
2. The last unit, from 1 January 2022 (42 CFR 410.60(a)(4)(iv) for PT,
   410.59(a)(4)(iv) for OT): no modifier when the therapist furnished 8 or
   more minutes of it, whatever the assistant furnished; the modifier when the
   assistant furnished 8 or more and the therapist fewer; when both furnished
   fewer than 8, the de minimis standard decides.
3. Two remaining units (410.60(a)(4)(v)): therapist and assistant each 9-14
   minutes, 23-28 in all: one unit with the modifier and one without. (Two
   units can remain with fewer minutes only when the 8-minute rule pools other
   codes' leftovers; each then holds part of both people's minutes and (iv)
   applied to each gives one each as well, so the answer is the same.)
4. Different codes compete for units as in the 8-minute rule
   (``service_units.code_units``); that is not decided here. The modifier
   goes on a unit of the code the assistant furnished.
5. Dated (``data/assistant_split.json``): the steps above from 2022; for 2020
   and 2021 dates, CMS's March 2021 guidance: whole blocks as in step 1, the
   remaining unit(s) by the de minimis standard alone, so the same minutes can
   bill differently (CMS's examples #1 and #2). Before 2020 the modifiers were
   not required and nothing is divided.

De minimis (86 FR 65170): portions the assistant furnished independently that
do not exceed 10% of the service (or of the 15-minute unit) are not "in part".
The rule's simple method: total minutes / 10, rounded to the nearest integer,
+ 1 is the assistant's minutes at and above which CQ/CO applies. The rule does
not say how an exact .5 rounds (15 minutes: 1.5); ptbilling rounds it down, the
one choice that agrees there with the rule's percentage method ("greater than
10 percent": 2 of 15 minutes is 13%). Untimed services (evaluations, group
97150, supervised modalities) are one unit, with CQ/CO when the assistant's
independent minutes pass de minimis.

Only the assistant's *independent* minutes count toward the assistant; minutes
spent together count as the therapist's (the front doors read them from a
PTA/OTA or CQ/CO line, or from a therapist line's Assistant Minutes).
"""
from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass

from .errors import BadValue

WHOLE_CITE = "86 FR 65171"
DE_MINIMIS_CITE = "86 FR 65170"


@dataclass(frozen=True)
class Era:
    """One dated rule for dividing units, from ``data/assistant_split.json``."""

    start: dt.date
    end: dt.date | None
    rule: str  # "march-2021" or "cy2022": which steps apply
    citation: str
    status: str
    source: str


@functools.cache
def eras() -> tuple[Era, ...]:
    """The dated rules, oldest first (read once)."""
    from .datasets import SHIPPED_DIR

    raw = json.loads((SHIPPED_DIR / "assistant_split.json").read_text(encoding="utf-8"))
    out = []
    for e in raw["eras"]:
        end = dt.date.fromisoformat(e["to"]) if e["to"] else None
        out.append(Era(dt.date.fromisoformat(e["from"]), end, e["rule"], e["citation"], e["status"], e["source"]))
    return tuple(sorted(out, key=lambda e: e.start))


def modifiers_from() -> dt.date:
    """The first date of service on which CQ/CO are required (1 January 2020)."""
    return eras()[0].start


@functools.lru_cache(maxsize=4096)  # a log has few distinct dates; this runs per assisted service
def era_for(dos: dt.date | None) -> Era | None:
    """The rule in force on ``dos``; None before CQ/CO were required. No date: the newest rule
    (the caller has not said a date; the rules never read today's)."""
    table = eras()
    if dos is None:
        return table[-1]
    for e in table:
        if e.start <= dos and (e.end is None or dos <= e.end):
            return e
    return None


def de_minimis_minutes(total: int) -> int:
    """The assistant's minutes at and above which CQ/CO applies, of ``total`` minutes (simple method).

    round(total / 10) + 1, an exact .5 rounded down: 11 -> 2, 15 -> 2, 16 -> 3, 25 -> 3, 40 -> 5.
    """
    return (total + 4) // 10 + 1


def passes_de_minimis(assistant: int, therapist: int) -> bool:
    """The assistant's independent minutes exceed 10% of the service (or unit): CQ/CO applies."""
    return assistant > 0 and assistant >= de_minimis_minutes(assistant + therapist)


@dataclass(frozen=True)
class Split:
    """How one service's units divide: ``assistant_units`` take CQ/CO, ``therapist_units`` none.

    ``case`` names the step that decided the remaining unit(s); the words of
    ``steps`` are built only when asked for (a log's thousands of splits in
    Excel never are).
    """

    code: str
    modifier: str  # "CQ" (PTA, physical therapy) or "CO" (OTA, occupational therapy)
    timed: bool
    assistant_minutes: int
    therapist_minutes: int
    units: int
    assistant_units: int
    therapist_units: int
    case: str  # see _STEPS
    citation: str = ""  # the dated rule's citation (the March 2021 guidance)

    @property
    def assistant(self) -> str:
        return "OTA" if self.modifier == "CO" else "PTA"

    @property
    def therapist(self) -> str:
        return "OT" if self.modifier == "CO" else "PT"

    @property
    def steps(self) -> tuple[str, ...]:
        """How the units were assigned, each step with its citation."""
        asst, ther, mod = self.assistant, self.therapist, self.modifier
        a_min, t_min = self.assistant_minutes, self.therapist_minutes
        if not self.timed:
            need = de_minimis_minutes(a_min + t_min)
            return {
                "before": (f"before {modifiers_from().isoformat()} {mod} was not required",),
                "unmeasured": (f"no minutes to test: the {asst}'s line says the {asst} furnished it → {mod}",),
                "therapist": (),
                "de minimis": (f"{asst} {a_min} ≥ {need} (de minimis) → {mod} ({DE_MINIMIS_CITE})",),
                "under": (f"{asst} {a_min} < {need} (de minimis) → no {mod} ({DE_MINIMIS_CITE})",),
            }[self.case]
        if self.case == "before":
            return (f"before {modifiers_from().isoformat()} {mod} was not required: no unit divided",)
        whole_a, left_a = divmod(a_min, 15)
        whole_t, left_t = divmod(t_min, 15)
        out = []
        if whole_a or whole_t:
            out.append(f"whole 15 min: {asst} {whole_a} {mod}, {ther} {whole_t} ({WHOLE_CITE})")
        need = de_minimis_minutes(left_a + left_t)
        remaining = self.units - whole_a - whole_t
        gave = self.assistant_units > whole_a
        case = self.case
        if case == "none left":
            if left_a or left_t:
                out.append(f"remaining {asst} {left_a} + {ther} {left_t} min: no further unit by the 8-minute rule")
        elif case == "march-2021":
            what = "remaining unit" if remaining == 1 else "2 remaining units"
            verdict = f"{asst} {left_a} ≥ {need} → {mod}" if gave else f"{asst} {left_a} < {need} → no {mod}"
            out.append(f"{what} ({asst} {left_a} + {ther} {left_t} min) by de minimis alone: {verdict} "
                       f"({self.citation}; dates before 2022)")
        elif case == "two units":
            out.append(f"two remaining units, {asst} {left_a} + {ther} {left_t} min (9-14 each, 23-28 in all) "
                       f"→ 1 {mod}, 1 without ({_cfr(mod, 'v')})")
        elif case == "two pooled":
            out.append(f"two remaining units, {asst} {left_a} + {ther} {left_t} min → 1 {mod}, 1 without "
                       f"(each unit by {_cfr(mod, 'iv')})")
        elif case == "therapist 8":
            out.append(f"last unit: therapist {left_t} min ≥ 8 → no {mod} ({_cfr(mod, 'iv')})")
        elif case == "assistant 8":
            out.append(f"last unit: assistant {left_a} min ≥ 8, therapist {left_t} < 8 → {mod} ({_cfr(mod, 'iv')})")
        else:  # "de minimis": both under 8
            verdict = f"assistant {left_a} ≥ {need} → {mod}" if gave else f"assistant {left_a} < {need} → no {mod}"
            out.append(f"last unit: both under 8 min, de minimis ({left_a}+{left_t})/10 rounded + 1 = {need}: "
                       f"{verdict} ({_cfr(mod, 'iv')}; {DE_MINIMIS_CITE})")
        return tuple(out)

    def explain(self) -> str:
        """E.g. '97110: PTA 10 + PT 8 min → 1 unit; last unit: therapist 8 min ≥ 8 → no CQ (42 CFR 410.60(a)(4)(iv))'."""
        name = self.code or "timed"
        head = f"{name}: {self.assistant} {self.assistant_minutes} + {self.therapist} {self.therapist_minutes} min"
        if self.timed:
            head += f" → {self.units} unit{'s' if self.units != 1 else ''}"
            if self.units > 1:
                head += f" ({self.assistant_units} {self.modifier}, {self.therapist_units} without)"
        else:
            head += " → 1 unit (untimed)"
        return "; ".join((head,) + self.steps)


def _cfr(modifier: str, paragraph: str) -> str:
    return f"42 CFR {'410.59' if modifier == 'CO' else '410.60'}(a)(4)({paragraph})"


def split_timed(code: str, assistant_minutes: int, therapist_minutes: int, units: int,
                dos: dt.date | None = None, modifier: str = "CQ") -> Split:
    """Divide a timed code's ``units`` (from the 8-minute rule) between assistant and therapist.

    Raises BadValue when the minutes cannot carry ``units`` (fewer than the whole
    blocks, or more than two beyond them: the 8-minute rule never gives those).
    Example: PTA 23 + PT 13 min with 2 units on 2022-03-01 -> 1 CQ, 1 without.
    """
    a_min, t_min = assistant_minutes, therapist_minutes
    whole_a, left_a = divmod(a_min, 15)
    whole_t, left_t = divmod(t_min, 15)
    remaining = units - whole_a - whole_t
    if not 0 <= remaining <= 2:
        raise BadValue(f"{units} units of {code or 'a timed code'} cannot come from "
                       f"{a_min} + {t_min} minutes")
    era = era_for(dos)
    if era is None:
        return Split(code, modifier, True, a_min, t_min, units, 0, units, "before")
    a_units, t_units = whole_a, whole_t
    if remaining == 0:
        case = "none left"
    elif era.rule == "march-2021":
        case = "march-2021"
        if passes_de_minimis(left_a, left_t):
            a_units += remaining
        else:
            t_units += remaining
    elif remaining == 2:
        # 23-28 in all means 9-14 each (each leftover is at most 14): the rule's case. Fewer minutes
        # (other codes' pooled leftovers) still hold part of both people's time in each unit.
        case = "two units" if 23 <= left_a + left_t <= 28 else "two pooled"
        a_units += 1
        t_units += 1
    elif left_t >= 8:
        case = "therapist 8"
        t_units += 1
    elif left_a >= 8:
        case = "assistant 8"
        a_units += 1
    else:
        case = "de minimis"
        if passes_de_minimis(left_a, left_t):
            a_units += 1
        else:
            t_units += 1
    return Split(code, modifier, True, a_min, t_min, units, a_units, t_units, case, era.citation)


def split_untimed(code: str, assistant_minutes: int, therapist_minutes: int, dos: dt.date | None = None,
                  modifier: str = "CQ", assistant_line: bool = False) -> Split:
    """The one unit of an untimed service: CQ/CO when the assistant's independent minutes pass de minimis.

    ``assistant_line``: an assistant's line records the service. With no
    minutes on any line the share cannot be measured; the assistant's line
    then says the assistant furnished it (CQ/CO: the claim never asks too much).
    """
    a_min, t_min = assistant_minutes, therapist_minutes
    if era_for(dos) is None:
        return Split(code, modifier, False, a_min, t_min, 1, 0, 1, "before")
    if a_min + t_min == 0:
        if assistant_line:
            return Split(code, modifier, False, 0, 0, 1, 1, 0, "unmeasured")
        return Split(code, modifier, False, 0, 0, 1, 0, 1, "therapist")
    if passes_de_minimis(a_min, t_min):
        return Split(code, modifier, False, a_min, t_min, 1, 1, 0, "de minimis")
    return Split(code, modifier, False, a_min, t_min, 1, 0, 1, "under")
