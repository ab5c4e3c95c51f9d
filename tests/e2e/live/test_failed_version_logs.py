"""On the real node: a version that fails is rolled back, and its log lines outlive its pods."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import kubernetes
import pytest
from tests.e2e.live.manifests import HELLO, hello_service
from tests.e2e.live.traffic import Live
from tests.e2e.support import version_manifest, wait_for

from berth.render import failure_logs, names

pytestmark = pytest.mark.e2e


def content(image: str, environment: dict[str, str] | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"image": image, "ports": {"80": "HTTP"}}
    if environment:
        container["environment"] = environment
    return {
        "containers": {"web": container},
        "publicEndpoint": {
            "containerName": "web",
            "containerPort": 80,
            "healthCheck": {"path": "/healthz", "intervalSeconds": 5},
        },
    }


def log_events(live: Live, namespace: str, service: str, *args: str) -> dict[str, Any]:
    result = live.cli(
        namespace,
        "get-container-log",
        "--service-name",
        service,
        "--container-name",
        "web",
        *args,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def version_pods(live: Live, namespace: str, service: str, number: int) -> list[Any]:
    selector = f"{names.SERVICE_LABEL}={service},{names.VERSION_LABEL}={number}"
    core = kubernetes.client.CoreV1Api(live.api)
    return list(core.list_namespaced_pod(namespace, label_selector=selector).items)


def fail_version_2(
    live: Live, namespace: str, service: str, version: dict[str, Any]
) -> dict[str, Any]:
    """Serves hello v1, deploys `version` as version 2, waits for FAILED and for its pods to
    be gone; answers the FAILED version."""
    live.apply(namespace, hello_service(service))
    live.wait_running(namespace, service)
    live.apply(namespace, version_manifest(f"{service}-next", service, version))
    berth = live.berth(namespace)
    wait_for(lambda: berth.version_states(service).get(2) == "FAILED", 120, "version 2 FAILED")
    wait_for(lambda: not version_pods(live, namespace, service, 2), 90, "version 2's pods deleted")
    assert berth.version_states(service) == {1: "ACTIVE", 2: "FAILED"}
    (failed,) = [v for v in berth.versions(service).values() if v["status"].get("version") == 2]
    return failed


def kept_size(live: Live, namespace: str, version: str) -> int:
    core = kubernetes.client.CoreV1Api(live.api)
    kept = core.read_namespaced_config_map(names.failure_logs(version), namespace)
    size = sum(len(text.encode()) for text in (kept.data or {}).values())
    print(f"kept logs of {version}: {len(kept.data or {})} logs, {size} bytes")
    return size


def test_a_crashing_version_says_why_and_its_last_lines_are_read_after_the_rollback(
    live: Live, live_namespace: str
) -> None:
    # nc cannot listen on a port named "nope": the app prints why and exits 1.
    crash = content(f"{HELLO}:v2", {"PORT": "nope"})

    failed = fail_version_2(live, live_namespace, "crashy", crash)

    message = failed["status"]["message"]
    assert "container web: CrashLoopBackOff" in message
    assert "last line: hello v2: the server on :nope exited with status" in message
    assert kept_size(live, live_namespace, failed["metadata"]["name"]) > 0
    assert kept_size(live, live_namespace, failed["metadata"]["name"]) <= (failure_logs.TOTAL_BYTES)

    messages = [e["message"] for e in log_events(live, live_namespace, "crashy")["logEvents"]]
    assert any(m.startswith("hello v2: the server on :nope exited") for m in messages)
    assert any("hello v1 listening on :80" in m for m in messages)  # the live pod's, merged

    only = log_events(live, live_namespace, "crashy", "--filter-pattern", "nope")["logEvents"]
    assert only and all("nope" in e["message"] for e in only)


def test_pages_of_a_failed_versions_log_follow_each_other_without_gaps(
    live: Live, live_namespace: str
) -> None:
    failed = fail_version_2(live, live_namespace, "paged", content(f"{HELLO}:v2", {"PORT": "x"}))
    assert failed["status"]["state"] == "FAILED"
    # The live pod logs a probe every 5 s: pages of a window that is over stay the same.
    until = ("--end-time", datetime.now(UTC).isoformat())
    everything = log_events(live, live_namespace, "paged", *until)
    assert "nextPageToken" not in everything

    pages: list[list[dict[str, Any]]] = []
    token: str | None = None
    for _ in range(len(everything["logEvents"]) + 1):
        more = ("--page-token", token) if token else ()
        answer = log_events(live, live_namespace, "paged", "--page-size", "2", *until, *more)
        pages.append(answer["logEvents"])
        token = answer.get("nextPageToken")
        if token is None:
            break

    assert [e for page in pages for e in page] == everything["logEvents"]
    assert len(pages) > 1


def test_an_unhealthy_version_keeps_the_lines_it_wrote_while_it_failed_its_checks(
    live: Live, live_namespace: str
) -> None:
    failed = fail_version_2(live, live_namespace, "sick", content(f"{HELLO}:unhealthy"))

    assert "progress deadline" in failed["status"]["message"]
    messages = [e["message"] for e in log_events(live, live_namespace, "sick")["logEvents"]]
    assert any(m.startswith("hello unhealthy: GET /healthz 500") for m in messages)
