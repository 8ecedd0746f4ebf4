"""Packaging: a pure-Python wheel that carries its data, and a pure rules core."""
from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_is_pure_python_and_carries_the_data_files(tmp_path):
    """`pip wheel .` gives ptbilling-*-py3-none-any.whl with the catalog, releases, seeds and workbook data inside."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    wheels = list(tmp_path.glob("ptbilling-*.whl"))
    assert len(wheels) == 1 and wheels[0].name.endswith("-py3-none-any.whl")
    names = set(zipfile.ZipFile(wheels[0]).namelist())
    package = ROOT / "addin" / "ptbilling"
    shipped = {str(p.relative_to(ROOT / "addin")) for folder in (package / "rules" / "data", package / "workbooks" / "data")
               for p in folder.rglob("*") if p.is_file()}
    assert shipped and shipped <= names, f"missing from the wheel: {shipped - names}"
    assert "ptbilling/udfs.py" in names


def test_rules_core_imports_neither_xlwings_nor_openpyxl():
    """No module under ptbilling/rules imports xlwings or openpyxl, and none reads today's date."""
    for path in (ROOT / "addin" / "ptbilling" / "rules").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import|from)\s+(xlwings|openpyxl)\b", text, re.M), path.name
        assert not re.search(r"\b(date\.today|datetime\.now|datetime\.today|time\.time)\(", text), path.name


def test_rules_core_loads_in_a_process_without_xlwings():
    """ptbilling.rules works when xlwings and openpyxl cannot be imported at all."""
    code = ("import sys; sys.modules['xlwings'] = None; sys.modules['openpyxl'] = None\n"
            "from ptbilling.rules import log_units; print(log_units([24, 23], ['97112', '97110']))")
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert got.returncode == 0 and got.stdout.strip() == "[2, 1]", got.stderr


def test_version_comes_from_the_package_metadata():
    """ptbilling.__version__ is the installed distribution's version, i.e. pyproject.toml's."""
    from importlib import metadata

    import ptbilling

    assert ptbilling.__version__ == metadata.version("ptbilling")
    declared = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.M)
    assert declared and ptbilling.__version__ == declared.group(1)
