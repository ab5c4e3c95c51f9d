"""Hooks for the whole suite: the `needs` mark (tests/machine.py) is decided before fixtures."""

from __future__ import annotations

import pytest
from tests.machine import skip_or_fail


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("needs"):
        missing = mark.kwargs["missing"]
        if missing:
            skip_or_fail(f"{mark.kwargs['what']} needs: {', '.join(missing)}")
