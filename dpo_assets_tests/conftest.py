"""Shared fixtures: an isolated data folder and storage per test."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data folder (bundled/, inbox/, runs/) wired through the environment."""
    root = tmp_path / "data"
    for sub in ("bundled", "inbox", "labels"):
        (root / sub).mkdir(parents=True)
    monkeypatch.setenv("DPO_ASSETS_DATA", str(root))
    monkeypatch.setenv("DPO_ASSETS_STORAGE", str(root / "runs"))
    return root
