"""Times as the Kubernetes API writes them."""

from datetime import datetime


def rfc3339(moment: datetime) -> str:
    """`2026-01-02T03:04:05Z`: whole seconds, UTC (metav1.Time)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
