"""Shared fixtures: CMS-layout files (small fixtures, or the full shared ones) and an isolated user data folder."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CMS_DIR = SHARED / "data" / "cms"
sys.path.insert(0, str(Path(__file__).parent))  # the harness modules beside the tests


@pytest.fixture(autouse=True)
def isolated_user_data(tmp_path_factory, monkeypatch):
    """No test sees the developer's real imported releases."""
    folder = tmp_path_factory.mktemp("userdata")
    monkeypatch.setenv("PTBILLING_DATA_DIR", str(folder))
    from ptbilling import data_folder
    from ptbilling.rules import datasets

    datasets.set_store_lock(data_folder.file_lock)  # as every front door does (tests call the core directly)
    return folder


@pytest.fixture(scope="session")
def cms_dir(tmp_path_factory) -> Path:
    """A folder with the four CMS files under their shared names, as small fixtures (tests/cms_files.py)."""
    from cms_files import write_cms_dir

    return write_cms_dir(tmp_path_factory.mktemp("cms"))


@pytest.fixture(scope="session")
def shared_cms_dir() -> Path:
    """The full CMS files of ../shared/data/cms; tests of whole files skip where it is absent (a fresh clone)."""
    if not CMS_DIR.is_dir():
        pytest.skip(f"full CMS files not here ({CMS_DIR} is absent, as on a fresh clone)")
    return CMS_DIR


def pytest_configure(config):
    os.environ.setdefault("HYPOTHESIS_PROFILE", "ci")
