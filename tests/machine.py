"""What a test needs from the machine: on a laptop a missing piece skips with the reason; in CI it
fails, so that a skip never hides coverage that CI is meant to give."""

from __future__ import annotations

import os

import pytest

# What CI services and people set; anything else (unset, empty, "0", "false") is a laptop.
TRUE_VALUES = frozenset({"1", "true", "yes", "on"})


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in TRUE_VALUES


def skip_or_fail(reason: str) -> None:
    """Skip with `reason`, or fail with it when CI is set to a true value."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set: this machine must provide it)", pytrace=False)
    pytest.skip(reason)


def needs(missing: list[str], what: str) -> pytest.MarkDecorator:
    """A mark for a module or test; `missing` lists what this machine lacks for `what`.
    tests/conftest.py acts on it before any fixture starts, so a skip starts no cluster."""
    return pytest.mark.needs(missing=tuple(missing), what=what)
