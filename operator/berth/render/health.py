"""The pod status patch that sets Berth's readiness gate from its own health checks."""

from datetime import datetime
from typing import Any

from berth.render import names
from berth.render.timestamps import rfc3339

PASSED = "HealthCheckPassed"
FAILED = "HealthCheckFailed"
MAX_MESSAGE = 512


def gate_patch(healthy: bool, message: str, now: datetime) -> dict[str, Any]:
    """A strategic merge patch of `pods/status`: the list of conditions merges by type, so the
    kubelet's own conditions are left alone (a JSON merge patch would replace them all)."""
    return {
        "status": {
            "conditions": [
                {
                    "type": names.HEALTH_GATE,
                    "status": "True" if healthy else "False",
                    "reason": PASSED if healthy else FAILED,
                    "message": message[:MAX_MESSAGE],
                    "lastProbeTime": None,
                    "lastTransitionTime": rfc3339(now),
                }
            ]
        }
    }
