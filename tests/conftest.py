"""Shared test set-up: paths to the seed list and corpora, and a network guard."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEED = SHARED / "seed" / "awesome-llm-serving-papers.md"
CORPORA = SHARED / "corpora"


def shared_path(path: Path) -> Path:
    """A file from ../shared; in CI its absence is a failure, elsewhere a skip."""
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI must run with ../shared beside the checkout")
        pytest.skip(f"{path} is not available on this machine")
    return path


_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address):  # type: ignore[no-untyped-def]
    host = address[0] if isinstance(address, tuple) else None
    if host is not None:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise ConnectionRefusedError(f"tests may only connect to 127.0.0.1, not {host}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every test runs with connections outside loopback refused, so none can leak,
    and with a private response cache, so none reads or fills the user's."""
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)
    monkeypatch.setenv("BIB_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def seed() -> Path:
    return shared_path(SEED)
