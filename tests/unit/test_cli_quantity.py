"""Kubernetes quantities as exact numbers: the CPU and memory of PodMetrics."""

from __future__ import annotations

from decimal import Decimal

import pytest

from berth.cli.quantity import parse_quantity


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("250m", "0.25"),
        ("12345n", "0.000012345"),
        ("5u", "0.000005"),
        ("2", "2"),
        ("1.5", "1.5"),
        (".5", "0.5"),
        ("2k", "2000"),
        ("1M", "1000000"),
        ("1G", "1000000000"),
        ("128974848", "128974848"),
        ("129e6", "129000000"),
        ("129E-3", "0.129"),
        ("1Ki", "1024"),
        ("123Mi", str(123 * 1024**2)),
        ("1.5Gi", str(3 * 1024**3 // 2)),
        ("1Ei", str(1024**6)),
        ("-1m", "-0.001"),
        ("+4", "4"),
    ],
)
def test_quantities_read_as_their_exact_value(text: str, value: str) -> None:
    assert parse_quantity(text) == Decimal(value)


@pytest.mark.parametrize("text", ["", "Mi", "1.2.3", "1KiB", "1 Mi", "abc", "1e"])
def test_what_is_not_a_quantity_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_quantity(text)
