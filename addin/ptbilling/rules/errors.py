"""Exceptions of the rules core.

Each subclasses the built-in it refines, so a caller that only knows Python
(``except ValueError``) still catches it, and each message names the bad value
and what would have been accepted.
"""
from __future__ import annotations


class PtBillingError(Exception):
    """Base of every error the rules core raises on purpose."""


class UnknownCode(PtBillingError, ValueError):
    """A CPT/HCPCS code that is not in the catalog."""

    def __init__(self, code: object, hint: str = ""):
        self.code = code
        msg = f"unknown code {code!s}"
        if hint:
            msg += f" ({hint})"
        super().__init__(msg)


class UnsupportedDate(PtBillingError, ValueError):
    """A date of service for which a dataset or rule has no figures."""

    def __init__(self, what: str, year: int, available: str = ""):
        self.what = what
        self.year = year
        msg = f"no {what} for {year}"
        if available:
            msg += f"; available: {available}"
        super().__init__(msg)


class BadValue(PtBillingError, ValueError):
    """An input value (minutes, method, modifier...) that cannot be used."""


class UnknownMethod(BadValue):
    """A unit method other than the ones the core implements."""

    def __init__(self, method: object, valid: tuple[str, ...]):
        self.method = method
        super().__init__(f"unknown method {method!r}; use one of {', '.join(valid)}")


class DataImportError(PtBillingError, ValueError):
    """A CMS file whose layout the importer does not recognise."""


class UnknownLocality(PtBillingError, ValueError):
    """A Medicare payment locality that is not in the GPCI release in force."""

    def __init__(self, locality: object, examples: tuple[str, ...] = (), hint: str = ""):
        self.locality = locality
        msg = f"unknown Medicare locality {locality!s}; write it as <MAC>-<locality number>"
        if examples:
            msg += ", e.g. " + ", ".join(examples)
        if hint:
            msg += f" ({hint})"
        super().__init__(msg)


class DamagedStore(PtBillingError, ValueError):
    """A stored release index or release file that cannot be read as written.

    The message names the file (and line) and the repair: ``ptbilling data
    repair``, or importing the CMS file again; ``reason`` is what is wrong alone.
    """

    def __init__(self, message: str, reason: str = ""):
        self.reason = reason or message
        super().__init__(message)


class StoreBusy(PtBillingError, TimeoutError):
    """Another process holds the user data folder's lock for longer than an import waits."""
