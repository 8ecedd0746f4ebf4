"""``python -m ptbilling check`` ends without freeing the checked log (``cli.main.exit_process``).

The process writes what ``main`` in-process writes, with the same status, its
notes on stderr included; a command run in-process keeps nothing for the exit;
any other command ends through ``sys.exit`` as before.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ptbilling.cli import main as cli
from test_check import ADDIN, CLEAN, HEADER, WITH_ERROR, write_xlsx


def _process(*argv: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ADDIN))
    return subprocess.run([sys.executable, "-m", "ptbilling", *argv], env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("fmt", ["json", "text"])
@pytest.mark.parametrize("rows", [CLEAN, WITH_ERROR], ids=["clean", "errors"])
def test_the_process_writes_what_main_writes(tmp_path, capsys, fmt, rows):
    path = write_xlsx(tmp_path / "log.xlsx", HEADER, rows)
    code = cli.main(["check", str(path), "--format", fmt])
    out, err = capsys.readouterr()
    assert not cli.AT_EXIT  # in-process: nothing kept
    got = _process("check", str(path), "--format", fmt)
    assert (got.returncode, got.stdout, got.stderr) == (code, out, err)


def test_notes_on_stderr_and_a_refusal_come_out_whole(tmp_path):
    csv = tmp_path / "log.csv"
    csv.write_bytes((";".join(HEADER) + "\nP1;2025-03-03;Médicare;PT;97110;GP;23;2\n").encode("cp1252"))
    got = _process("check", str(csv), "--format", "json")
    assert got.returncode == 0 and "read it as Windows-1252" in got.stderr and got.stdout.endswith("}\n")
    got = _process("check", str(tmp_path / "none.xlsx"))
    assert got.returncode == 2 and got.stdout == "" and "no such file" in got.stderr


def test_exit_process_without_kept_results_is_sys_exit(monkeypatch):
    monkeypatch.setattr(cli, "AT_EXIT", [])
    with pytest.raises(SystemExit) as e:
        cli.exit_process(3)
    assert e.value.code == 3


def test_the_installed_command_ends_as_python_m_does():
    """The ``ptbilling`` console script and ``python -m ptbilling`` both go through ``run``."""
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "ptbilling"]
    assert script.value == "ptbilling.cli:run"
    assert (ADDIN / "ptbilling" / "__main__.py").read_text().strip().endswith("run()")


@pytest.mark.parametrize("closed", [1, 2], ids=["stdout", "stderr"])
def test_a_closed_standard_stream_keeps_the_status_of_sys_exit(tmp_path, closed):
    """``2>&-`` (or ``>&-``): Python sets that stream to None; the fast exit must end with the
    status the usual ``sys.exit`` gives, not an AttributeError's 1 from flushing None."""
    path = write_xlsx(tmp_path / "log.xlsx", HEADER, CLEAN)
    env = dict(os.environ, PYTHONPATH=str(ADDIN))
    argv = [sys.executable, "-m", "ptbilling", "check", str(path), "--format", "json"]
    kept = subprocess.run(argv, env=env, capture_output=True, timeout=120, preexec_fn=lambda: os.close(closed))
    usual = subprocess.run([sys.executable, "-c", "import sys; from ptbilling.cli.main import main; sys.exit(main())",
                            *argv[3:]], env=env, capture_output=True, timeout=120, preexec_fn=lambda: os.close(closed))
    assert (kept.returncode, kept.stdout) == (usual.returncode, usual.stdout)
    if closed == 2:
        assert kept.returncode == 0 and kept.stdout.endswith(b"}\n")


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_a_reader_of_stderr_that_left_changes_neither_the_status_nor_stdout(tmp_path, fmt):
    """`ptbilling check log.csv 2>&1 >out | head -c0`: the note on stderr meets a closed pipe. The
    check still writes its output and ends with its own status (1: an error), not 0 with no output."""
    csv = tmp_path / "log.csv"
    csv.write_bytes((";".join(HEADER) + "\nP1;2025-03-03;Médicare;PT;97110;GP;20;3\n").encode("cp1252"))
    env = dict(os.environ, PYTHONPATH=str(ADDIN))
    argv = [sys.executable, "-m", "ptbilling", "check", str(csv), "--format", fmt]
    usual = subprocess.run(argv, env=env, capture_output=True, timeout=120)
    assert usual.returncode == 1 and b"read it as Windows-1252" in usual.stderr
    read, write = os.pipe()
    os.close(read)  # the reader has left before the first note
    try:
        got = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=write, timeout=120)
    finally:
        os.close(write)
    assert (got.returncode, got.stdout) == (usual.returncode, usual.stdout)


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_a_stdout_that_cannot_write_the_logs_characters_still_gets_the_output(tmp_path, capsys, fmt):
    """PYTHONIOENCODING=ascii (as redirected output on Windows has cp1252): JSON comes out as UTF-8,
    the text summary with '?' for what the stream cannot show; never an internal error."""
    rows = [["Zoë Ñandú 😀", "2025-03-03", "Medicare", "PT", "97110", "GP", 23, 2]]
    path = write_xlsx(tmp_path / "log.xlsx", HEADER, rows)
    code = cli.main(["check", str(path), "--format", "json"])
    want = capsys.readouterr().out
    env = dict(os.environ, PYTHONPATH=str(ADDIN), PYTHONIOENCODING="ascii")
    got = subprocess.run([sys.executable, "-m", "ptbilling", "check", str(path), "--format", fmt], env=env,
                         capture_output=True, timeout=120)
    assert got.returncode == code and b"internal error" not in got.stderr
    if fmt == "json":
        assert got.stdout.decode("utf-8") == want
    else:
        assert "Zo? ?and?" in got.stdout.decode("ascii")


def test_ctrl_c_while_the_rules_load_is_interrupted_not_a_traceback():
    """Ctrl+C in the first tenth of a second (the rules importing) ends as it does later: one line, 130."""
    script = ("import sys\n"
              "class Interrupt:\n"
              "    def find_spec(self, name, path=None, target=None):\n"
              "        if name == 'ptbilling.rules':\n"
              "            raise KeyboardInterrupt\n"
              "sys.meta_path.insert(0, Interrupt())\n"
              "sys.argv = ['ptbilling', 'data', 'list']\n"
              "from ptbilling.cli import run\n"
              "run()\n")
    got = subprocess.run([sys.executable, "-c", script], env=dict(os.environ, PYTHONPATH=str(ADDIN)),
                         capture_output=True, text=True, timeout=60)
    assert (got.returncode, got.stderr) == (130, "ptbilling: interrupted\n")


def test_a_closed_stdout_is_one_line_on_stderr(tmp_path):
    """Started with >&- there is nowhere to write the answer: say so, exit 2, no internal error."""
    path = write_xlsx(tmp_path / "log.xlsx", HEADER, CLEAN)
    got = subprocess.run([sys.executable, "-m", "ptbilling", "check", str(path)], env=dict(os.environ, PYTHONPATH=str(ADDIN)),
                         capture_output=False, stdout=None, stderr=subprocess.PIPE, text=True, timeout=60,
                         preexec_fn=lambda: os.close(1))
    assert got.returncode == 2 and got.stderr == (
        "ptbilling: standard output is closed; run it with its output to a file or a pipe\n")
