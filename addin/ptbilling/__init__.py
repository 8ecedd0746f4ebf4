"""ptbilling: outpatient therapy billing rules for Excel (xlwings) and the command line."""
from __future__ import annotations


def __getattr__(name: str):
    # ``__version__`` is looked up when first asked for: importing importlib.metadata and finding
    # the distribution costs ~75 ms of CPU, a tenth of what reading a 100,000-line log costs, and
    # neither ``ptbilling check`` nor the Excel functions need it.
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import metadata

    try:
        # One source for the version: pyproject.toml, as installed (a wheel, pip install -e, Pyodide).
        version = metadata.version("ptbilling")
    except metadata.PackageNotFoundError:  # imported from a source tree that was never installed
        version = "0+unknown"
    globals()["__version__"] = version
    return version
