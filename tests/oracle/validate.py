"""``validate._validate`` as it was before the whole-log passes (the oracle of
tests/test_equivalence_visits.py): one loop over the lines, then every rule family called on
every visit, one visit at a time.

Two simplifications make it a plainer reference than the code it replaced, and answer the same:
the line rules run on every line (the production memo by line signature is what is under
test), and ``ncci_ptp.ptp_findings`` is called on every visit (the screen it had, two codes of
some pair, is what ``ptp_findings`` checks first, loading the release at the same point).
Visit keys are made afresh from ``person_key`` and ``payer_key``.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import ExitStack

from ptbilling.rules import assistant_modifiers, datasets, evaluations, kx_modifier, ncci_ptp
from ptbilling.rules.claim_lines import ClaimLine, is_medicare, payer_key, person_key, unit_method
from ptbilling.rules.code_catalog import Catalog, catalog_for
from ptbilling.rules.errors import DamagedStore, UnknownCode, UnsupportedDate
from ptbilling.rules.findings import ERROR, Finding
from ptbilling.rules.validate import KxTotals, Services, _finding_order, _line_rules

from . import assistant_modifiers as oracle_assistant
from . import mue
from .service_units import unit_findings  # the per-visit unit check that unit_log_findings replaced

VISIT_RELEASES = ("ptp", "mue")


def validate_lines(lines: Sequence[ClaimLine | None], method: object = None,
                   problems: dict[int, Finding] | None = None,
                   kx_totals: KxTotals | None = None) -> list[list[Finding]]:
    with ExitStack() as stack:
        try:
            stack.enter_context(datasets.pinned())
        except DamagedStore as e:
            out = [[f] if (f := (problems or {}).get(i)) else [] for i in range(len(lines))]
            for ln in lines:
                if ln is not None:
                    out[ln.index].append(Finding(ln.index, ERROR, "DATA-DAMAGED", str(e)))
            return out
        return _validate(lines, method, problems, kx_totals)


def _date_problem(dos: dt.date) -> str | None:
    for kind in VISIT_RELEASES:
        try:
            datasets.in_force(kind, dos)
        except UnsupportedDate as e:
            return str(e)
        except DamagedStore:
            return None
    return None


def _date_finding(i: int, dos: dt.date, why: object) -> Finding:
    return Finding(i, ERROR, "INPUT", f"Date cell: {dos:%Y-%m-%d} is outside the installed data ({why}) "
                                      "— check the date of service")


def _validate(lines: Sequence[ClaimLine | None], method: object, problems: dict[int, Finding] | None,
              kx_totals: KxTotals | None = None) -> list[list[Finding]]:
    out: list[list[Finding]] = [[] for _ in lines]
    for i, f in (problems or {}).items():
        out[i].append(f)
    visits: dict[tuple[str, dt.date, str], list[ClaimLine]] = {}
    known: list[ClaimLine] = []
    catalogs: dict[int, Catalog] = {}  # by year, from the year's first line, as the code it replaced
    for ln in lines:
        if ln is None:
            continue
        try:
            catalog = catalogs.get(ln.dos.year)
            if catalog is None:
                catalog = catalogs[ln.dos.year] = catalog_for(ln.dos)
            info = catalog[ln.code]
        except UnsupportedDate as e:
            out[ln.index].append(_date_finding(ln.index, ln.dos, e))
            continue
        except UnknownCode as e:
            out[ln.index].append(Finding(ln.index, ERROR, "CODE-UNKNOWN", f"{e} — correct the code"))
            continue
        except DamagedStore as e:
            out[ln.index].append(Finding(ln.index, ERROR, "DATA-DAMAGED", str(e)))
            continue
        why = _date_problem(ln.dos)
        if why is not None:
            out[ln.index].append(_date_finding(ln.index, ln.dos, why))
            continue
        out[ln.index] += _line_rules(ln, info, is_medicare(ln.payer))
        visits.setdefault((person_key(ln.patient), ln.dos, payer_key(ln.payer)), []).append(ln)
        known.append(ln)
    for (_, dos, _), vlines in visits.items():
        payer = vlines[0].payer
        medicare = is_medicare(payer)
        catalog = catalogs[dos.year]
        m = unit_method(payer, method)
        found: list[Finding] = []
        services: Services = {}
        try:
            found += unit_findings(vlines, m, catalog, medicare, services,
                                   assistant_modifiers.untimed_keeper if medicare else None)
            if medicare and services:
                found += oracle_assistant.split_findings(services, dos)
            found += evaluations.evaluation_findings(vlines)
            for visit_rule in (ncci_ptp.ptp_findings, mue.mue_findings):
                try:
                    found += visit_rule(vlines, dos)
                except DamagedStore as e:
                    found += [Finding(ln.index, ERROR, "DATA-DAMAGED", str(e)) for ln in vlines]
        except UnsupportedDate as e:
            found = [_date_finding(ln.index, dos, e) for ln in vlines]
        for f in found:
            out[f.line].append(f)
    for f in kx_modifier.kx_findings(known, kx_totals):
        out[f.line].append(f)
    for row in out:
        if len(row) > 1:
            row.sort(key=_finding_order)
    return out
