"""Awesome-list catalog to resolved, reproducible bibliography."""

__version__ = "0.1.0"
