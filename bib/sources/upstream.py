"""What each upstream module declares about its service: name, base URL, and pace."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Upstream:
    """A service, its default base URL (overridden by `env`), and the spacing it asks for."""

    name: str
    env: str
    default_url: str
    interval: float = 0.0  # seconds between two requests, as the service's own rules ask
