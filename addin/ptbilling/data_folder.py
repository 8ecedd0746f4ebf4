"""Where this front door keeps imported CMS releases: the user data folder.

The rules core imports only the standard library, so it does not look the
folder up itself, nor open the lock file an import holds (filelock); each front
door (the Excel functions, the command line) calls :func:`use_default` once,
and ``PTBILLING_DATA_DIR`` still wins over it.

- In xlwings Lite (Pyodide, ``sys.platform == "emscripten"``) files survive a
  restart only under ``/data`` (Lite's Files > Import/Export): the folder is
  ``/data/ptbilling``. While it holds no ``releases.json`` the functions use the
  shipped data only; a folder dropped in later is seen at the next
  recalculation, as an import is on the desktop.
- Everywhere else it is the OS's user data folder, from platformdirs (a
  dependency of the ``excel`` and ``cli`` extras).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from .rules import datasets

LITE_DATA_DIR = Path("/data/ptbilling")


def on_pyodide() -> bool:
    return sys.platform == "emscripten"


def default_user_data_dir() -> Path | None:
    """The user data folder of this platform (in Lite, /data/ptbilling, present or not).

    ``PTBILLING_DATA_DIR`` wins, and then platformdirs is not needed.
    """
    env = os.environ.get("PTBILLING_DATA_DIR")
    if env:
        return Path(env)
    if on_pyodide():
        return LITE_DATA_DIR
    import platformdirs  # declared by the excel and cli extras; Lite does not need it

    return Path(platformdirs.user_data_dir("ptbilling", appauthor=False))


def file_lock(path: Path, timeout: float):
    """The lock file every import holds while it changes the user data folder.

    filelock (a dependency of the ``cli`` extra) is imported only when an import
    takes the lock: the Excel functions and Lite never need it. The OS releases
    the lock when its process dies, so a killed import never leaves it held.
    """
    import filelock

    return filelock.FileLock(str(path), timeout=timeout)


def use_default() -> Path | None:
    """Tell the rules core this platform's user data folder and how to lock it; returns the folder."""
    folder = default_user_data_dir()
    datasets.set_user_data_dir(folder)
    datasets.set_store_lock(file_lock)
    return folder
