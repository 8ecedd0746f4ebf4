"""Where this front door keeps imported CMS releases: the user data folder.

The rules core imports only the standard library, so it does not look the
folder up itself; each front door (the Excel functions, the command line) calls
:func:`use_default` once, and ``PTBILLING_DATA_DIR`` still wins over it.

- In xlwings Lite (Pyodide, ``sys.platform == "emscripten"``) files survive a
  restart only under ``/data``: the folder is ``/data/ptbilling`` when it
  exists, else there is none and the functions use the shipped data only.
- Everywhere else it is the OS's user data folder, from platformdirs (a
  dependency of the ``excel`` and ``cli`` extras).
"""
from __future__ import annotations

import sys
from pathlib import Path

from .rules import datasets

LITE_DATA_DIR = Path("/data/ptbilling")


def on_pyodide() -> bool:
    return sys.platform == "emscripten"


def default_user_data_dir() -> Path | None:
    """The user data folder of this platform; None in Lite without /data/ptbilling."""
    if on_pyodide():
        return LITE_DATA_DIR if LITE_DATA_DIR.is_dir() else None
    import platformdirs  # declared by the excel and cli extras; Lite does not need it

    return Path(platformdirs.user_data_dir("ptbilling", appauthor=False))


def use_default() -> Path | None:
    """Tell the rules core this platform's user data folder; returns it."""
    folder = default_user_data_dir()
    datasets.set_user_data_dir(folder)
    return folder
