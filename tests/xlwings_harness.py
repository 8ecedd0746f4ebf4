"""Run xlwings' own Windows UDF machinery on Linux, with no Excel.

On Windows, ``xlwings/__init__.py`` binds ``xw.func``/``xw.arg``/``xw.ret`` to
``xlwings.udfs.xlfunc``/``xlarg``/``xlret`` and converts every argument with
``conversion.read`` through the Excel engine of ``xlwings._xlwindows``. Those
modules import pywin32 (and ctypes' Windows DLL loaders) at import time, but the
code paths we exercise (wrapper generation, value conversion) never call into
them. So we install inert stand-ins for exactly those modules, import the real
xlwings code, bind the decorators the way Windows does, and reload
``ptbilling.udfs`` so its functions carry the real ``__xlfunc__`` metadata.
"""
from __future__ import annotations

import ctypes
import importlib
import io
import sys
import types

PYWIN32_MODULES = (
    "pythoncom", "pywintypes", "win32api", "win32con", "win32gui", "win32process",
    "win32timezone", "win32com", "win32com.client",
)


class Inert:
    """Accepts any call or attribute and does nothing: never reached by the code we test."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return Inert()

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return Inert()


class InertModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        cls = type(name, (Inert,), {})  # a class, so isinstance() checks work
        setattr(self, name, cls)
        return cls


_loaded = None


def load():
    """Return (xlwings.udfs, xlwings.conversion, ptbilling.udfs) wired as on Windows."""
    global _loaded
    if _loaded is not None:
        return _loaded
    for name in PYWIN32_MODULES:
        sys.modules.setdefault(name, InertModule(name))
    sys.modules["win32com"].client = sys.modules["win32com.client"]
    sys.modules["pythoncom"].__file__ = "pythoncom-inert"
    sys.modules["pywintypes"].com_error = type("com_error", (Exception,), {})
    for name in ("windll", "oledll"):
        if not hasattr(ctypes, name):
            setattr(ctypes, name, Inert())
    real_pydll = ctypes.PyDLL
    ctypes.PyDLL = Inert  # _xlwindows loads a symbol from pythoncom's DLL at import
    try:
        import xlwings
        from xlwings import _xlwindows
    finally:
        ctypes.PyDLL = real_pydll
    from xlwings.main import Engine

    if "excel" not in [e.name for e in xlwings.engines]:
        xlwings.engines.add(Engine(impl=_xlwindows.engine))
    xlwings.engines.active = xlwings.engines["excel"]

    import xlwings.udfs as xl_udfs
    from xlwings import conversion

    # What xlwings/__init__.py binds on Windows.
    xlwings.func, xlwings.arg, xlwings.ret = xl_udfs.xlfunc, xl_udfs.xlarg, xl_udfs.xlret
    import ptbilling.udfs

    pt_udfs = importlib.reload(ptbilling.udfs)
    _loaded = (xl_udfs, conversion, pt_udfs)
    return _loaded


class FakeWorkbook:
    """What generate_vba_wrapper reads of the workbook: only its name."""

    def __init__(self, name="session_log.xlsm"):
        self.Name = name


def vba_wrapper(module_name="ptbilling.udfs") -> str:
    xl_udfs, _, pt_udfs = load()
    buf = io.StringIO()
    xl_udfs.generate_vba_wrapper(module_name, pt_udfs, buf, FakeWorkbook())
    return buf.getvalue()


MISSING = -2147352572  # what VBA passes for an omitted Optional argument


def call_as_excel(func_name: str, *excel_args):
    """Call a UDF the way xlwings' call_udf does: missing args -> defaults,
    every other value through conversion.read with the argument's options,
    and the result through conversion.write."""
    xl_udfs, conversion, pt_udfs = load()
    func = getattr(pt_udfs, func_name)
    info = func.__xlfunc__
    args_info = info["args"]
    args = list(excel_args) + [MISSING] * (len(args_info) - len(excel_args))
    for i, arg in enumerate(args):
        arg_info = args_info[min(i, len(args_info) - 1)]
        if isinstance(arg, int) and not isinstance(arg, bool) and arg == MISSING:
            args[i] = arg_info.get("optional", None)
        else:
            args[i] = conversion.read(None, arg, arg_info["options"])
    ret = func(*args)
    return conversion.write(ret, None, info["ret"]["options"])
