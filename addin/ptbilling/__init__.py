"""ptbilling: outpatient therapy billing rules for Excel (xlwings) and the command line."""
from __future__ import annotations

from importlib import metadata as _metadata

try:
    # One source for the version: pyproject.toml, as installed (a wheel, pip install -e, Pyodide).
    __version__ = _metadata.version("ptbilling")
except _metadata.PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
