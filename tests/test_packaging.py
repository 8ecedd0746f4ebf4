"""Packaging: a pure-Python wheel that carries its data, and a pure rules core."""
from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built once for this module as `pip wheel --no-deps .` builds it."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True)
    wheels = list(out.glob("ptbilling-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def test_wheel_is_pure_python_and_carries_the_data_files(wheel):
    """`pip wheel .` gives ptbilling-*-py3-none-any.whl with the catalog, releases, seeds and workbook data inside."""
    assert wheel.name.endswith("-py3-none-any.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
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


def test_runtime_dependencies_are_none_and_each_front_door_has_its_extra(wheel):
    """The wheel requires nothing at run time; xlwings is in the excel extra, the CLI's packages in cli."""
    meta = zipfile.ZipFile(wheel).read("ptbilling-0.1.0.dist-info/METADATA").decode()
    requires = [line.split(":", 1)[1].strip() for line in meta.splitlines() if line.startswith("Requires-Dist:")]
    unconditional = [r for r in requires if "extra ==" not in r]
    assert unconditional == [], unconditional
    by_extra = {}
    for r in requires:
        name, extra = re.match(r"([A-Za-z0-9_.-]+).*extra == \"(\w+)\"", r).groups()
        by_extra.setdefault(extra, set()).add(name.lower())
    assert {"xlwings", "platformdirs"} <= by_extra["excel"]
    assert {"openpyxl", "defusedxml", "python-calamine", "platformdirs", "rich", "xlsxwriter"} <= by_extra["cli"]
    assert "xlwings" not in by_extra["cli"]


def test_rules_core_imports_only_the_standard_library():
    """Every import under ptbilling/rules is the standard library's or the package's own (relative)."""
    import ast

    for path in (ROOT / "addin" / "ptbilling" / "rules").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                tops = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                assert top in sys.stdlib_module_names or top == "__future__", f"{path.name} imports {top}"


def test_the_bare_wheel_computes_all_four_functions_in_a_fresh_environment(wheel, tmp_path):
    """`pip install WHEEL` with no index into a new venv (nothing else installed): the four functions answer."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    py = venv / ("Scripts" if sys.platform == "win32" else "bin") / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-index", str(wheel)], check=True, capture_output=True)
    code = ("from ptbilling import excel_functions as f\n"
            "print(f.PT_UNITS([[24.0], [23.0]], [['97112'], ['97110']]), f.PT_FEE(97110.0, 1.0, None, 45719.0),\n"
            "      f.PT_EXPLAIN(38.0)[:22], f.PT_VALIDATE([['Code'], [97110.0]])[:20])")
    got = subprocess.run([str(py), "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={"PATH": "", "PTBILLING_DATA_DIR": str(tmp_path / "data")})
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == "[[2], [1]] 28.79 38 timed min → 3 units PT_VALIDATE: missing", got.stdout


def test_lite_main_imports_the_four_functions_and_requirements_name_the_package():
    """addin/lite/main.py holds exactly PT_UNITS, PT_VALIDATE, PT_FEE, PT_EXPLAIN; requirements.txt adds ptbilling."""
    namespace: dict = {}
    exec(compile((ROOT / "addin" / "lite" / "main.py").read_text(encoding="utf-8"), "main.py", "exec"), namespace)
    import ptbilling.udfs

    funcs = {k for k, v in namespace.items() if k.startswith("PT_")}
    assert funcs == {"PT_UNITS", "PT_VALIDATE", "PT_FEE", "PT_EXPLAIN"}
    assert all(namespace[k] is getattr(ptbilling.udfs, k) for k in funcs)
    lines = [ln.strip() for ln in (ROOT / "addin" / "lite" / "requirements.txt").read_text(encoding="utf-8")
             .splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert len(lines) == 1 and lines[0].startswith("ptbilling @ ") and lines[0].endswith("-py3-none-any.whl")


def test_every_install_line_in_the_readme_names_extras_the_wheel_provides(wheel):
    """Each `pip install "...[extras]"` in the README asks only for extras the package declares."""
    meta = zipfile.ZipFile(wheel).read("ptbilling-0.1.0.dist-info/METADATA").decode()
    provided = {line.split(":", 1)[1].strip() for line in meta.splitlines() if line.startswith("Provides-Extra:")}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    asked = re.findall(r"pip install (?:-\S+ )*[\"']?[^\s\"'`]*\[([a-z,]+)\]", readme)
    assert len(asked) >= 4, asked  # the Quick start, the Installing table, Windows, the wheel
    for extras in asked:
        assert set(extras.split(",")) <= provided, f"README asks for [{extras}]; the package provides {provided}"
    assert "pip install ptbilling-0.1.0-py3-none-any.whl" not in readme  # a wheel nobody has, with no way to make it
