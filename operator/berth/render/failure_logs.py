"""The ConfigMap that keeps a failed version's last log lines once the rollback deleted its pods.

Why a ConfigMap and not the version's status: every replica of the operator lists and watches
versions and holds them in memory, and `berth` lists them for every command, so kilobytes of
log in each FAILED version would be paid on every read of every version. The ConfigMap is
written once (a create, when the version fails), read only by get-container-log, watched by
nobody, and goes with its version (owner reference). Bounds keep it far under the 1 MiB that
etcd takes for one object: at most MAX_PODS pods, each container's last TAIL_LINES lines, and
TOTAL_BYTES in all.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from berth.api import limits
from berth.api.objects import ContainerServiceObject, VersionObject
from berth.render import labels, names
from berth.render.timestamps import rfc3339

Manifest = dict[str, Any]
MAX_PODS = 3  # enough to see why a version fails; all 20 replicas usually say the same
TAIL_LINES = 200
STREAM_BYTES = 16 * 1024
TOTAL_BYTES = 256 * 1024
CAPTURED_AT_ANNOTATION = f"{limits.GROUP}/captured-at"
_PREVIOUS = "previous"


@dataclass(frozen=True)
class Source:
    """One container log to read: `previous` is the instance that ran before (and crashed)."""

    pod: str
    container: str
    previous: bool = False


def key(source: Source) -> str:
    """`<container>_<pod>[_previous]`: neither a container nor a pod name holds `_`."""
    parts = [source.container, source.pod, *([_PREVIOUS] if source.previous else [])]
    return "_".join(parts)


def parse_key(text: str) -> Source | None:
    parts = text.split("_")
    if len(parts) == 2 and all(parts):
        return Source(parts[1], parts[0])
    if len(parts) == 3 and all(parts[:2]) and parts[2] == _PREVIOUS:
        return Source(parts[1], parts[0], True)
    return None


def _restarts(pod: Manifest) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return sum(int(s.get("restartCount") or 0) for s in statuses)


def sources(pods: list[Manifest], version: int, version_label: str) -> list[Source]:
    """The logs worth keeping of `version`'s pods: those that restarted most first, at most
    MAX_PODS of them; each container's current log, and its previous one if it restarted."""
    mine = [
        p
        for p in pods
        if ((p.get("metadata") or {}).get("labels") or {}).get(version_label) == str(version)
    ]
    mine.sort(key=lambda p: (-_restarts(p), p["metadata"]["name"]))
    found: list[Source] = []
    for pod in mine[:MAX_PODS]:
        name = pod["metadata"]["name"]
        # The statuses name every container the kubelet started; one never started has no log.
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            found.append(Source(name, status["name"]))
            if int(status.get("restartCount") or 0) > 0:
                found.append(Source(name, status["name"], True))
    return found


def stream_budget(streams: int) -> int:
    """Bytes each log may keep so that all of them together stay within TOTAL_BYTES."""
    return min(STREAM_BYTES, TOTAL_BYTES // max(1, streams))


def tail(text: str, limit: int) -> str:
    """The last whole lines of `text` that fit in `limit` bytes of UTF-8."""
    data = text.encode()
    if len(data) <= limit:
        return text
    start = len(data) - limit
    if data[start - 1 : start] != b"\n":  # the cut falls inside a line: drop that line
        newline = data.find(b"\n", start)
        start = newline + 1 if newline >= 0 else len(data)
    return data[start:].decode()


def config_map(
    service: ContainerServiceObject,
    version: VersionObject,
    logs: dict[Source, str],
    now: datetime,
) -> Manifest:
    """The ConfigMap holding `logs` (as `kubectl logs --timestamps` gives them), bounded."""
    budget = stream_budget(len(logs))
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": names.failure_logs(version.name),
            "namespace": service.namespace,
            "labels": {
                **labels.standard(service.name),
                names.FAILURE_LOGS_LABEL: version.name,
            },
            "annotations": {CAPTURED_AT_ANNOTATION: rfc3339(now)},
            # Deleted with its version; blocks nothing (no finalizers permission needed).
            "ownerReferences": [
                {
                    "apiVersion": limits.API_VERSION,
                    "kind": "ContainerServiceDeployment",
                    "name": version.name,
                    "uid": version.metadata.uid,
                }
            ],
        },
        "data": {key(source): tail(text, budget) for source, text in sorted_logs(logs)},
    }


def sorted_logs(logs: dict[Source, str]) -> list[tuple[Source, str]]:
    return sorted(logs.items(), key=lambda item: key(item[0]))


def selector(service: str) -> str:
    """The label selector of a service's kept logs."""
    return f"{names.SERVICE_LABEL}={service},{names.FAILURE_LOGS_LABEL}"
