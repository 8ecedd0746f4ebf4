"""Shared fixtures: the CMS reference files and an isolated user data folder."""
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
    return folder


@pytest.fixture(scope="session")
def cms_dir() -> Path:
    assert CMS_DIR.is_dir(), f"the shared CMS files are expected at {CMS_DIR}"
    return CMS_DIR


def pytest_configure(config):
    os.environ.setdefault("HYPOTHESIS_PROFILE", "ci")
