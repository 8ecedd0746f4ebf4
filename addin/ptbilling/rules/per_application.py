"""Per-application codes (strapping): one unit per application, applications told apart by site modifiers.

Most untimed codes are one unit per visit however many lines record them
(``service_units``). Strapping is billed per application
(therapy-billing-rules.md section 3: "strapping: 29200-29280 and 29520-29584,
per application"): strapping both ankles in one visit is two applications and
two units, one a line. Which codes are per application is data, not code: the
catalog's ``timing_source`` says "per application" (``CodeInfo.per_application``):
the strapping codes of the reference, and the splints 29505 and 29515, which
the catalog marks "per application (unverified)".

Two lines of the same per-application code in one visit are two applications
when their modifiers tell the sites apart; otherwise they are one (and a second
unit is the ``UNITS-UNTIMED`` error, as for any untimed code). The rule, kept
simple and the same for ``PT_UNITS``, ``PT_EXPLAIN``, ``PT_VALIDATE`` and
``ptbilling check``:

- A line's *site* is its anatomic modifiers: RT, LT, and the finger and toe
  modifiers FA, F1-F9, TA, T1-T9. Its *distinct mark* is its NCCI-associated
  modifiers 59, XE, XS, XP, XU.
- Lines with different distinct marks are different applications (59 or XS on
  the second line of two: CMS's modifier for a different site or session when
  no more descriptive modifier fits).
- Among lines with the same distinct mark: lines with different sites (RT and
  LT; F1 and F2) are different applications; lines with the same site are one
  application recorded on several lines (say a PT's and a PTA's line: the
  CQ/CO split divides that one unit). A line with no site modifier beside a
  line with one cannot be told apart from it: it bills nothing and, billed, is
  an error asking for RT/LT (or 59/XS).
- Modifier 50 (bilateral) on a line bills both sides on that one line, 1 unit
  (Medicare's instruction for bilateral procedures: one line, modifier 50, one
  unit; the fee schedule's BILAT SURG indicator sets the 150% payment, which
  is pricing, not units). An RT or LT line beside a 50 line of the same code
  and distinct mark repeats a side the 50 line already bills.
- More than 1 unit on one line stays an error: a second application goes on
  its own line with its site modifier.
- Without modifiers (``PT_UNITS`` with no Modifiers range) sites cannot be
  told apart, so a per-application code is one unit per visit, as before.

References (how each was read is said; nothing here was checked against the
primary text unless it says so):
- therapy-billing-rules.md section 3: strapping 29200-29280 and 29520-29584,
  "per application" (the catalog rows cite it as "rules ref s3").
- CMS MLN Matters SE0715, "Proper Use of Modifier 59" (read as republished by
  Empire Medicare, empiremedicare.com/mir_combined/2007-7ab/SE0715.htm, and in
  a MAC article on the CMS Medicare Coverage Database, article 53399): for the
  NCCI the primary purpose of 59 "is to indicate that two or more procedures
  are performed at different anatomic sites or during different patient
  encounters", and it is used only when no more descriptive modifier fits.
  XE/XS/XP/XU are its subsets (``ncci_ptp.NCCI_MODIFIERS``). [secondary copy
  of an official text]
- The NCCI-associated anatomic modifiers E1-E4, FA, F1-F9, TA, T1-T9, LT, RT
  and the coronary ones, as listed in republications of the NCCI Policy
  Manual, chapter I (findacode.com, "NCCI Edit associated modifiers"); the
  manual itself was not opened. [unverified]
- Bilateral procedures: Medicare bills them "with one unit on one line with
  the 50 CPT modifier"; a procedure done twice on one day at different
  sites may carry RT/LT (Palmetto GBA, "Bilateral Procedures and Modifiers",
  2021). BILAT SURG indicator 1 pays 150% of one side whether billed with 50,
  with RT and LT, or with 2 units (a summary of CMS Pub. 100-04 ch. 12
  §40.7; the manual section itself was not opened). [unverified] The CMS
  files in ``../shared/data/cms/PPRRVU*.csv`` give BILAT SURG 1 for the
  strapping codes except 29200 (chest, 0) [official, read]. That payment
  adjustment is pricing, not units, and is not applied here.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .code_catalog import PER_APPLICATION  # noqa: F401  (the catalog's marker, named here for readers)
from .ncci_ptp import NCCI_MODIFIERS

#: anatomic (site) modifiers that tell two applications apart: sides, fingers, toes
SIDES = ("RT", "LT")
DIGITS = ("FA",) + tuple(f"F{n}" for n in range(1, 10)) + ("TA",) + tuple(f"T{n}" for n in range(1, 10))
SITE_MODIFIERS = frozenset(SIDES + DIGITS)
DISTINCT_MODIFIERS = frozenset(NCCI_MODIFIERS)  # 59, XE, XS, XP, XU
BILATERAL = "50"


@dataclass(frozen=True)
class Site:
    """What a line's modifiers say about where the application was: its sites, 50, its 59/X marks."""

    sites: frozenset[str] = frozenset()
    bilateral: bool = False
    distinct: frozenset[str] = frozenset()

    def label(self) -> str:
        mods = sorted(self.sites) + ([BILATERAL] if self.bilateral else []) + sorted(self.distinct)
        return "-".join(mods) if mods else "no site modifier"


NO_SITE = Site()


def site_of(modifiers: Iterable[str]) -> Site:
    """A line's modifiers (upper case, as ``parse_modifiers`` gives them) -> its Site."""
    sites = []
    distinct = []
    bilateral = False
    for m in modifiers:
        if m in SITE_MODIFIERS:
            sites.append(m)
        elif m in DISTINCT_MODIFIERS:
            distinct.append(m)
        elif m == BILATERAL:
            bilateral = True
    if not sites and not distinct and not bilateral:
        return NO_SITE
    return Site(frozenset(sites), bilateral, frozenset(distinct))


@dataclass(frozen=True)
class Unplaced:
    """A line that is no application of its own: ``beside`` is the line it cannot be told from."""

    line: int  # position in the input
    beside: int  # position of the first line of the application it repeats
    why: str  # how a message says it


def applications(sites: Sequence[Site | None]) -> tuple[list[list[int]], list[Unplaced]]:
    """THE per-application rule: the lines of ONE per-application code of ONE visit -> applications.

    ``sites`` per line (None reads as no site modifier). Returns the
    applications, each the positions of its lines (in input order; the first
    carries the unit unless the CQ/CO split says otherwise), ordered by their
    first line, and the lines that are no application of their own. The
    grouping depends only on each line's Site, never on the order of lines.
    """
    classes: dict[frozenset[str], dict[Site, list[int]]] = {}
    for i, s in enumerate(sites):
        s = s if s is not None else NO_SITE
        classes.setdefault(s.distinct, {}).setdefault(s, []).append(i)
    apps: list[list[int]] = []
    unplaced: list[Unplaced] = []
    for distinct, groups in classes.items():
        both = sorted((i for s, g in groups.items() if s.bilateral for i in g))
        if both:  # a 50 line bills both sides: the lines with 50 are one application, the rest repeat it
            apps.append(both)
            for s, g in groups.items():
                if not s.bilateral:
                    unplaced += [Unplaced(i, both[0], "50 on another line already bills both sides") for i in g]
            continue
        sided = [g for s, g in groups.items() if s.sites]
        if not sided:
            apps += list(groups.values())  # one group: all lines without a site modifier, one application
            continue
        apps += sided
        bare = groups.get(Site(distinct=distinct), [])
        first = min(g[0] for g in sided)
        unplaced += [Unplaced(i, first, "no RT/LT (or finger/toe) modifier to tell it from the other line")
                     for i in bare]
    apps.sort(key=lambda g: g[0])
    unplaced.sort(key=lambda u: u.line)
    return apps, unplaced


def fix_hint(code: str) -> str:
    """What to do when two lines of a per-application code cannot be told apart."""
    return f"if these {code} lines are different sites, add RT/LT (or 59/XS on the second line); else bill 0 here"
