"""berth_reconcile_total and berth_reconcile_duration_seconds count each reconcile under its
result, as the spec's metrics list says: counts and durations by kind and result."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from berth import metrics


def seen(kind: str, result: str) -> tuple[float, float]:
    """(reconciles counted, durations observed) for `kind` and `result`."""
    labels = {"kind": kind, "result": result}
    count = REGISTRY.get_sample_value("berth_reconcile_total", labels) or 0.0
    durations = REGISTRY.get_sample_value("berth_reconcile_duration_seconds_count", labels) or 0.0
    return count, durations


@pytest.mark.parametrize("result", ["ok", "invalid", "conflict"])
def test_a_reconcile_is_counted_and_timed_under_the_result_it_set(result: str) -> None:
    kind = f"UnitKind{result.title()}"
    with metrics.reconcile_outcome(kind) as outcome:
        outcome.result = result
    assert seen(kind, result) == (1.0, 1.0)
    others = {"ok", "invalid", "conflict", "error"} - {result}
    assert all(seen(kind, other) == (0.0, 0.0) for other in others)


def test_a_reconcile_that_raises_is_an_error() -> None:
    with pytest.raises(RuntimeError), metrics.reconcile_outcome("UnitKindRaise"):
        raise RuntimeError("the API server went away")
    assert seen("UnitKindRaise", "error") == (1.0, 1.0)
