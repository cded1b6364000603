"""Shared fixtures. Offline by default: HF_HUB_OFFLINE is set before any hub library loads,
and every test gets its own workspace (ORACLE_HOME) in a temp dir. The model cache (converted
bundled models) is the user's, shared on purpose: slow tests convert each model once, not per test."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _workspace_env(tmp_path, monkeypatch):
    """Point ORACLE_HOME at a fresh temp dir for every test; language defaults to pt."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("ORACLE_HOME", str(home))
    monkeypatch.setenv("ORACLE_LANG", "pt")
    yield


@pytest.fixture(autouse=True)
def _generator_registry(monkeypatch):
    """Generators registered by a test (``register_generator("fake", ...)``) end with the test."""
    from oracle import llm

    monkeypatch.setattr(llm, "_FACTORIES", dict(llm._FACTORIES))


@pytest.fixture
def workspace(tmp_path):
    from oracle.config import Workspace

    return Workspace(tmp_path / "home")
