"""The claim-line scrubber behind PT_VALIDATE and ``ptbilling check``.

It runs every rule family over a log of claim lines and returns, per line, its
findings. Each family lives in its own module with its sources:

- payment_status       Medicare status B/I/N/R and unlisted codes
- therapy_modifiers    GP/GO/GN
- assistant_modifiers  CQ/CO on a line, and each service's CQ/CO split (assistant_split)
- service_units        billed units vs the 8-minute rule / per-code method
- evaluations          one evaluation per discipline per day
- provider_scope       who may bill
- ncci_ptp, mue        NCCI code-pair edits and medically unlikely edits
- kx_modifier          KX threshold and targeted medical review

A visit is one patient on one date with one payer (``ClaimLine.visit``): the
lines of one claim, whatever the order of the rows. Rules never read today's
date; every dated figure comes from the release in force on the line's date of
service. A date no release covers (2100, 1899) is an INPUT finding on its row
and the rest of the log is still checked.

The log is checked in whole-log passes (``_validate``): the per-line rules run
once per distinct kind of line, the MUE sums in one pass over the log, and the
per-visit rules (CQ/CO split, evaluations, NCCI pairs) only on the visits a
screen says can have a finding. tests/oracle keeps the line-by-line, visit-by-
visit version they replaced, as the reference they are tested against.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from decimal import Decimal
from itertools import chain, compress, count, islice, repeat
from operator import itemgetter, ne, sub
from typing import NamedTuple

from . import (
    assistant_modifiers,
    datasets,
    evaluations,
    kx_modifier,
    mue,
    ncci_ptp,
    payment_status,
    provider_scope,
    therapy_modifiers,
)
from .claim_lines import ClaimLine, is_medicare, payer_key, person_key, unit_method
from .code_catalog import Catalog, CodeInfo, catalog_for
from .errors import DamagedStore, UnknownCode, UnsupportedDate
from .findings import ERROR, WARN, Finding
from .service_units import UNIT_RULES, unit_log_findings

INPUT_RULES = {
    "INPUT": (ERROR, "A cell could not be read (patient, date, code, minutes, units, a blank payer...), a date no "
                     "release covers, or a visit over 24 hours; the message names the cell."),
    "MOD-DUPLICATE": (WARN, "A modifier given twice on one line (say in the code cell 97110-GP and in Modifier 1); it is read once."),
}
DATA_RULES = {"DATA-DAMAGED": (ERROR, "The stored release in force on the line's date is damaged; the line is "
                                      "not checked. The message names the file and the repair.")}

#: every rule ID -> (severity, what it checks); docs/rules.md must list exactly these
RULES: dict[str, tuple[str, str]] = {
    **INPUT_RULES,
    **DATA_RULES,
    **payment_status.RULES,
    **therapy_modifiers.RULES,
    **assistant_modifiers.RULES,
    **UNIT_RULES,
    **evaluations.RULES,
    **provider_scope.RULES,
    **ncci_ptp.RULES,
    **mue.RULES,
    **kx_modifier.RULES,
}

_SEVERITY_ORDER = {"ERROR": 0, "WARN": 1}

#: what ``line_signature`` keeps of a line: code, year, on or after the CQ/CO start, Medicare,
#: provider, modifiers, has an assistant column, has assistant minutes
LineSignature = tuple[str, int, bool, bool, str, tuple[str, ...], bool, bool]
#: ``kx_findings``' totals: (patient, year, KX bucket) -> allowed amount
KxTotals = dict[tuple[str, int, str], Decimal]
#: services billed right in total (``unit_findings``): the code, or (code, k) for the k-th
#: application of a per-application code -> (lines, units, timed)
Services = dict[str | tuple[str, int], tuple[list[ClaimLine], int, bool]]


def validate_lines(lines: Sequence[ClaimLine | None], method: object = None,
                   problems: dict[int, Finding] | None = None,
                   kx_totals: KxTotals | None = None) -> list[list[Finding]]:
    """Findings per line (same positions as ``lines``; None lines get only their problems).

    ``kx_totals``, when a dict, receives each Medicare patient's allowed amount
    per year and KX bucket: ``(patient, year, bucket) -> Decimal``.
    """
    with ExitStack() as stack:
        try:
            stack.enter_context(datasets.pinned())  # one read of the release index for the whole log
        except DamagedStore as e:  # no line can be checked against an index that cannot be read
            out = [[f] if (f := (problems or {}).get(i)) else [] for i in range(len(lines))]
            for ln in lines:
                if ln is not None:
                    out[ln.index].append(Finding(ln.index, ERROR, "DATA-DAMAGED", str(e)))
            return out
        return _validate(lines, method, problems, kx_totals)


def _line_rules(ln: ClaimLine, info: CodeInfo, medicare: bool) -> list[Finding]:
    """The rules that look at one line alone."""
    return (payment_status.status_findings(ln, info, medicare)
            + therapy_modifiers.therapy_modifier_findings(ln, info, medicare)
            + assistant_modifiers.assistant_findings(ln, info, medicare)
            + provider_scope.provider_findings(ln, info, medicare))


def line_signature(ln: ClaimLine, medicare: bool) -> LineSignature:
    """Everything ``_line_rules`` reads of a line except its position.

    Lines with equal signatures get the same findings, so a log's thousands of
    "97110 GP by a PT for Medicare" lines are judged once. The date enters
    only as what the line rules use it for: the year (the catalog entry) and
    the CQ/CO start date. Of the minutes, only whether the line has assistant
    minutes (the CQ/CO split, which reads them, is a visit rule).
    ``tests/test_validate.py`` and ``tests/test_equivalence_visits.py`` check
    the memos against calling the rules on every line (tests/oracle).
    """
    return (ln.code, ln.dos.year, ln.dos >= assistant_modifiers.CQ_CO_FROM, medicare, ln.provider, ln.modifiers,
            ln.has_assistant_column, bool(ln.assistant_minutes))


def _ptp_findings(vlines: list[ClaimLine], dos: dt.date) -> list[Finding]:
    """``ncci_ptp.ptp_findings`` for a visit with two codes of some pair of the release in force; most
    visits have at most one, and no pair to look up."""
    if len(vlines) > 1:
        codes = {ln.code for ln in vlines}  # normalised codes (ClaimLine)
        if len(codes) > 1 and len(ncci_ptp.paired_codes_on(dos).intersection(codes)) > 1:
            return ncci_ptp.ptp_findings(vlines, dos)
    return []


#: the dated releases every line's visit rules read (the code catalog is looked up per line)
VISIT_RELEASES = ("ptp", "mue")


def _date_problem(dos: dt.date) -> str | None:
    """Why no visit rule can judge a line of ``dos``: the first dated release that does not cover it."""
    for kind in VISIT_RELEASES:
        try:
            datasets.in_force(kind, dos)
        except UnsupportedDate as e:
            return str(e)
        except DamagedStore:  # not the date's fault: the visit rules say DATA-DAMAGED
            return None
    return None


def _date_finding(i: int, dos: dt.date, why: object) -> Finding:
    return Finding(i, ERROR, "INPUT", _date_message(dos, why))


def _date_message(dos: dt.date, why: object) -> str:
    return f"Date cell: {dos:%Y-%m-%d} is outside the installed data ({why}) — check the date of service"


#: what a line's own rules and the visit screens read of it, by position (``_FACTS``); not its
#: patient, minutes or units, nor its position in the log
Facts = tuple[str, dt.date, str, str, tuple[str, ...], int | None, bool]
_FACT_FIELDS = ("code", "dos", "payer", "provider", "modifiers", "assistant_minutes", "has_assistant_column")
_FACTS = itemgetter(*(ClaimLine._fields.index(name) for name in _FACT_FIELDS))
_INDEX, _PATIENT, _DOS, _CODE, _UNITS = (itemgetter(ClaimLine._fields.index(name))
                                         for name in ("index", "patient", "dos", "code", "units"))
#: a visit: (patient key, date of service, payer key), as ``ClaimLine.visit``
VisitKey = tuple[str, dt.date, str]
_EVALUATION_CODES = frozenset(evaluations.EVALUATIONS) | frozenset(evaluations.REEVALUATIONS)


class _Verdict(NamedTuple):
    """What the per-line steps make of a line's ``Facts``."""

    said: tuple[tuple[str, str, str], ...]  # the line's own findings: (severity, rule, message)
    checked: bool  # its code and date could be judged: it goes on to its visit's rules
    payer_key: str = ""
    evaluation: bool = False  # an evaluation or re-evaluation code
    assisted: bool = False  # ``assistant_took_part``: its visit may have a CQ/CO split to check


_SAID, _CHECKED, _PAYER_KEY, _EVALUATION, _ASSISTED = (itemgetter(k) for k in range(5))


def _refused(rule: str, message: str) -> _Verdict:
    return _Verdict(((ERROR, rule, message),), False)


class _Lines(dict[Facts, _Verdict]):
    """``Facts`` -> ``_Verdict``, judged when a log first shows those facts (``__missing__``), so that
    ``map`` over a log's lines runs the branchy per-line code once per distinct kind of line.

    The memos below it are those a line-by-line loop kept, and fill in the same order (a log's
    first line of a year fixes that year's catalog, as it did)."""

    def __init__(self) -> None:
        super().__init__()
        self.catalogs: dict[int, Catalog] = {}  # by year: the catalog only changes with the year
        self.medicare_of: dict[str, bool] = {}
        self._date_problem: dict[dt.date, str | None] = {}
        self._said: dict[LineSignature, tuple[tuple[str, str, str], ...]] = {}  # line_signature -> findings
        self.pairs_unread: set[dt.date] = set()  # dates whose PTP pairs could not be read (``partnered``)

    def __missing__(self, facts: Facts) -> _Verdict:
        v = self[facts] = self._judge(facts)
        return v

    def _judge(self, facts: Facts) -> _Verdict:
        code, dos, payer, provider, modifiers, assistant_minutes, has_assistant_column = facts
        # the rules read no other field (``line_signature``): the line stands for all lines of these facts
        ln = ClaimLine(0, "", dos, payer, provider, code, modifiers, None, None, assistant_minutes, None,
                       has_assistant_column)
        try:
            catalog = self.catalogs.get(dos.year)
            if catalog is None:
                catalog = self.catalogs[dos.year] = catalog_for(dos)
            info = catalog[code]
        except UnsupportedDate as e:
            return _refused("INPUT", _date_message(dos, e))
        except UnknownCode as e:
            return _refused("CODE-UNKNOWN", f"{e} — correct the code")
        except DamagedStore as e:  # only the lines of the damaged release's dates
            return _refused("DATA-DAMAGED", str(e))
        if dos in self._date_problem:
            why = self._date_problem[dos]
        else:
            why = self._date_problem[dos] = _date_problem(dos)
        if why is not None:
            return _refused("INPUT", _date_message(dos, why))
        medicare = self.medicare_of.get(payer)
        if medicare is None:
            medicare = self.medicare_of[payer] = is_medicare(payer)
        key = line_signature(ln, medicare)
        said = self._said.get(key)
        if said is None:
            said = self._said[key] = tuple((f.severity, f.rule, f.message) for f in _line_rules(ln, info, medicare))
        return _Verdict(said, True, payer_key(payer), code in _EVALUATION_CODES,
                        assistant_modifiers.assistant_took_part(ln))

    def partnered(self) -> set[tuple[str, dt.date]]:
        """(code, date) of the checked lines whose code has a PTP partner (``ncci_ptp.partners_on``) among
        the codes of the log's checked lines of that date: only a visit with two such codes can have a PTP
        finding. Worked out from the kinds of line, not the lines. A date whose pairs cannot be read
        gives every code of it (``pairs_unread``): the PTP step reads them again, meeting the failure on
        the visits it always met it on (those with two codes)."""
        codes_on: dict[dt.date, set[str]] = {}
        for facts, v in self.items():
            if v.checked:
                codes_on.setdefault(facts[1], set()).add(facts[0])
        out: set[tuple[str, dt.date]] = set()
        for dos, codes in codes_on.items():
            try:
                partners = ncci_ptp.partners_on(dos)
            except Exception:  # noqa: BLE001  # not swallowed: see above
                self.pairs_unread.add(dos)
                out.update((code, dos) for code in codes)
                continue
            out.update((code, dos) for code in codes if not partners.get(code, _NO_PARTNER).isdisjoint(codes))
        return out


_NO_PARTNER: frozenset[str] = frozenset()


class _PersonKeys(dict[str, str]):
    """Patient as typed -> ``person_key``, once per distinct spelling."""

    def __missing__(self, text: str) -> str:
        key = self[text] = person_key(text)
        return key


def _validate(lines: Sequence[ClaimLine | None], method: object, problems: dict[int, Finding] | None,
              kx_totals: KxTotals | None = None) -> list[list[Finding]]:
    """The rules as whole-log passes: columns of the lines, the branchy code once per distinct key
    (``_Lines``), and the per-visit scalar rules only for the visits a screen says can have a finding.

    The findings of each family (units, CQ/CO split, evaluations, PTP, MUE) are added family after
    family; a line is in one visit, so each line gets them in the order a visit-by-visit loop gave."""
    out: list[list[Finding]] = [[] for _ in lines]
    for i, f in (problems or {}).items():
        out[i].append(f)
    present = [ln for ln in lines if ln is not None]
    judged = _Lines()
    verdicts = list(map(judged.__getitem__, map(_FACTS, present)))
    kinds = judged.values()  # a log has a few hundred kinds of line: ask them first, the lines only if need be
    if any(v.said for v in kinds):
        saids = list(map(_SAID, verdicts))
        for ln, said in compress(zip(present, saids), saids):
            i = ln.index
            out[i] += [Finding(i, *f) for f in said]
    known = present
    if not all(v.checked for v in kinds):
        checked = list(map(_CHECKED, verdicts))
        known = list(compress(present, checked))
        verdicts = list(compress(verdicts, checked))
    dates = list(map(_DOS, known))
    vkeys: list[VisitKey] = list(zip(map(_PersonKeys().__getitem__, map(_PATIENT, known)), dates,
                                     map(_PAYER_KEY, verdicts)))
    visits = _Visits(known, vkeys)
    del vkeys
    vids = visits.of_line
    failed: dict[int, UnsupportedDate] = {}  # visit -> a figure missing for its date: its rows say so
    codes = list(map(_CODE, known))
    # the screens' columns, each skipped when no kind of line can need it: (visit, code) of the lines
    # whose code has a PTP partner on their date, the visit of each evaluation and each assisted line
    partnered = judged.partnered()
    paired = compress(zip(vids, codes), map(partnered.__contains__, zip(codes, dates))) if partnered else ()
    evaluated = compress(vids, map(_EVALUATION, verdicts)) if any(v.evaluation for v in kinds) else ()
    assisted = compress(vids, map(_ASSISTED, verdicts)) if any(v.assisted for v in kinds) else ()
    # the unit step: the one call per visit that PT_UNITS' rule makes; the rest are screened
    units_found, services_of = _unit_step(visits, method, judged, failed)
    families = (
        units_found,
        _split_step(visits, services_of, assisted, failed),
        _evaluation_step(visits, evaluated, failed),
        _ptp_step(visits, paired, judged, failed),
        _mue_step(visits, known, codes, dates, failed),
    )
    dropped = {ln.index for v in failed for ln in visits.lines[v]}  # the steps ran on; the date finding replaces them
    for found in families:
        for f in found:
            if f.line not in dropped:
                out[f.line].append(f)
    for v, e in failed.items():
        dos = visits.keys[v][1]
        for ln in visits.lines[v]:
            out[ln.index].append(_date_finding(ln.index, dos, e))
    for f in kx_modifier.kx_findings(known, kx_totals):
        out[f.line].append(f)
    for row in out:
        if len(row) > 1:
            row.sort(key=_finding_order)
    return out


class _Visits:
    """The visits of a log: numbered in the order of their first line, each with its key and its
    lines in the log's order, and the number of each line's visit (``of_line``, a column the screens
    count in C: ints hash faster than the keys).

    A log's rows mostly come a visit at a time: the runs of equal keys are found in C (``ne`` over
    the key column and its shift) and joined per run, so Python steps once per run, not per line;
    a visit whose rows are spread over the log gets each run added in order."""

    def __init__(self, known: list[ClaimLine], vkeys: list[VisitKey]) -> None:
        n = len(vkeys)
        starts = [0, *compress(range(1, n), map(ne, islice(vkeys, 1, None), vkeys))] if n else []
        ends = [*islice(starts, 1, None), n] if n else []
        run_keys = list(map(vkeys.__getitem__, starts))
        first_run: dict[VisitKey, int] = {}
        run_of = list(map(first_run.setdefault, run_keys, count()))  # each run -> its visit's first run
        runs = list(map(known.__getitem__, map(slice, starts, ends)))
        #: each visit's key (patient key, date, payer key) and lines, in the order of its first line
        self.keys: list[VisitKey] = run_keys
        self.lines: list[list[ClaimLine]] = runs
        if len(first_run) < len(run_of):  # a visit's rows spread over the log: its runs are joined, in order
            self.keys, self.lines = [], []
            number: dict[int, int] = {}  # first run -> visit number
            for r, first in enumerate(run_of):
                v = number.get(first)
                if v is None:
                    v = number[first] = len(self.keys)
                    self.keys.append(run_keys[r])
                    self.lines.append(runs[r])
                else:
                    self.lines[v] += runs[r]
                run_of[r] = v
        self.of_line: list[int] = list(chain.from_iterable(map(repeat, run_of, map(sub, ends, starts))))


def _unit_step(visits: _Visits, method: object, judged: _Lines,
               failed: dict[int, UnsupportedDate]) -> tuple[list[Finding], dict[int, Services]]:
    """Billed units of every visit (``service_units.unit_log_findings``: the unit kernel once over the
    log), each visit with its payer's method; and, per Medicare visit, the services billed right in
    total, whose CQ/CO split is checked next."""
    method_of: dict[str, str] = {}  # payer -> unit method: a log has a handful of payers, thousands of visits
    args = []
    for (_, dos, _), vlines in zip(visits.keys, visits.lines):
        payer = vlines[0].payer  # every line of the visit has this payer, up to case and spaces
        medicare = judged.medicare_of[payer]
        m = method_of.get(payer)
        if m is None:
            m = method_of[payer] = unit_method(payer, method)
        args.append((vlines, m, judged.catalogs[dos.year], medicare,
                     assistant_modifiers.untimed_keeper if medicare else None))
    try:
        results = unit_log_findings(args)
    except UnsupportedDate:
        # No unit check reads a dated figure today; should one, only its visits fail (their rows say
        # so) and the log goes on: the visits are then checked one at a time to find them.
        results = []
        for v, one in enumerate(args):
            try:
                results += unit_log_findings([one])
            except UnsupportedDate as e:
                failed[v] = e
                results.append(([], {}))
    found: list[Finding] = []
    services_of: dict[int, Services] = {}
    for v, (unit_found, services) in enumerate(results):
        found += unit_found
        if args[v][3] and services:
            services_of[v] = services
    return found, services_of


def _split_step(visits: _Visits, services_of: dict[int, Services], assisted: Iterable[int],
                failed: dict[int, UnsupportedDate]) -> list[Finding]:
    """The CQ/CO split of each service billed right in total, for the visits with a line an assistant
    may have taken part in (``assisted``: the visit of each such line): without one no service has a
    split. (The split reads no dated release, only the shipped rule's dates: it cannot fail a visit.)"""
    return assistant_modifiers.log_split_findings(
        (services_of[v], visits.keys[v][1]) for v in dict.fromkeys(assisted) if v in services_of and v not in failed)


def _evaluation_step(visits: _Visits, evaluated: Iterable[int], failed: dict[int, UnsupportedDate]) -> list[Finding]:
    """Evaluations per visit, for the visits with two or more evaluation lines (``evaluated``: the visit of
    each evaluation or re-evaluation line): one alone breaks no rule."""
    found: list[Finding] = []
    for v, n in Counter(evaluated).items():
        if n > 1 and v not in failed:
            found += evaluations.evaluation_findings(visits.lines[v])
    return found


def _ptp_step(visits: _Visits, paired: Iterable[tuple[int, str]], judged: _Lines,
              failed: dict[int, UnsupportedDate]) -> list[Finding]:
    """NCCI pairs per visit, for the visits with two codes paired in the release in force on their date
    (``paired``: (visit, code) of each line whose code has a partner on that date, ``_Lines.partnered``;
    every line where the pairs could not be read, so that ``_ptp_findings`` meets the failure on the
    visits it always met it on)."""
    codes_of: dict[int, list[str]] = {}  # visit -> its distinct paired codes
    for v, code in dict.fromkeys(paired):
        g = codes_of.get(v)
        if g is None:
            codes_of[v] = [code]
        else:
            g.append(code)
    found: list[Finding] = []
    has_pair: dict[tuple[dt.date, frozenset[str]], bool] = {}  # a log's visits share a few sets of codes
    for v, codes in codes_of.items():
        if len(codes) < 2 or v in failed:
            continue
        dos = visits.keys[v][1]
        if dos not in judged.pairs_unread:
            among = (dos, frozenset(codes))
            has = has_pair.get(among)
            if has is None:
                has = has_pair[among] = ncci_ptp.pair_among_on(dos, among[1])
            if not has:
                continue
        vlines = visits.lines[v]
        try:
            found += _ptp_findings(vlines, dos)
        except DamagedStore as e:  # the visit's lines say so; other visits are checked
            found += [Finding(ln.index, ERROR, "DATA-DAMAGED", str(e)) for ln in vlines]
        except UnsupportedDate as e:
            failed[v] = e
    return found


def _mue_step(visits: _Visits, known: list[ClaimLine], codes: list[str], dates: list[dt.date],
              failed: dict[int, UnsupportedDate]) -> list[Finding]:
    """MUEs of the whole log in one pass (``mue.log_mue_findings``; catalog codes are as the MUE table
    keys them). A date whose table cannot be read: its visits' lines say DATA-DAMAGED, or the date is
    outside the data."""
    found, unread = mue.log_mue_findings(list(map(_INDEX, known)), codes, list(map(_UNITS, known)),
                                         visits.of_line, dates)
    if unread:
        for v, ((_, dos, _), vlines) in enumerate(zip(visits.keys, visits.lines)):
            e = unread.get(dos)
            if e is None or v in failed:
                continue
            if isinstance(e, UnsupportedDate):
                failed[v] = e
            else:
                found += [Finding(ln.index, ERROR, "DATA-DAMAGED", str(e)) for ln in vlines]
    return found


def _finding_order(f: Finding) -> tuple[int, str]:
    return (_SEVERITY_ORDER.get(f.severity, 9), f.rule)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """A row's findings in the order PT_VALIDATE shows them: errors first, then by rule ID."""
    return sorted(findings, key=_finding_order)


def check_text(findings: list[Finding]) -> str:
    """The text PT_VALIDATE puts in a row: OK, or the findings joined by '; '."""
    return "; ".join(str(f) for f in findings) if findings else "OK"
