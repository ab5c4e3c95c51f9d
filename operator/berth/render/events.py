"""core/v1 Events, as `kubectl describe` shows them: Berth posts one per transition."""

from datetime import datetime
from typing import Any

from berth.render.timestamps import rfc3339

Body = dict[str, Any]
MAX_MESSAGE = 1024


def event(regarding: Body, warning: bool, reason: str, message: str, now: datetime) -> Body:
    """The Event Berth posts on `regarding` (a body with apiVersion, kind and metadata)."""
    meta = regarding["metadata"]
    namespace = meta.get("namespace") or "default"
    stamp = rfc3339(now)
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{meta['name']}.", "namespace": namespace},
        "involvedObject": {
            "apiVersion": regarding.get("apiVersion"),
            "kind": regarding.get("kind"),
            "name": meta["name"],
            "namespace": namespace,
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
        },
        "type": "Warning" if warning else "Normal",
        "reason": reason,
        "message": message[:MAX_MESSAGE],
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
        "source": {"component": "berth"},
        "reportingComponent": "berth.dev/operator",
        "reportingInstance": "berth",
    }
