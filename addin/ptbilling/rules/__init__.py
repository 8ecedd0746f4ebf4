"""The pure rules core of ptbilling: no Excel, no workbook library, no clock.

Find a rule by its CMS name:

- ``code_catalog``   what each HCPCS/CPT code is (timed, family, discipline, status)
- ``service_units``  the 8-minute rule (CMS) and the per-code (AMA) unit method
- ``assistant_split`` which units take CQ/CO (42 CFR 410.59/410.60(a)(4), the CY 2022 rule)
- ``datasets``       which dated release (RVU, GPCI, NCCI, MUE) is in force on a date
- ``rvu_file``       importer for CMS's PPRRVU relative value file

Each module's docstring lists its references.
"""
from .code_catalog import CodeInfo, catalog_for, lookup, normalize_code
from .errors import BadValue, PtBillingError, UnknownCode, UnknownMethod, UnsupportedDate
from .service_units import AMA, CMS, METHODS, LineProblem, chart_units, explain_visit, log_units, visit_units

__all__ = [
    "AMA", "CMS", "METHODS", "BadValue", "CodeInfo", "LineProblem", "PtBillingError",
    "UnknownCode", "UnknownMethod", "UnsupportedDate", "catalog_for", "chart_units",
    "explain_visit", "log_units", "lookup", "normalize_code", "visit_units",
]
