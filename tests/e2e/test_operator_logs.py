"""The operator's own log, as a log collector reads it: JSON lines when asked, and a SIGTERM
(every rollout of the operator's Deployment sends one) ends it without a stack trace."""

from __future__ import annotations

import json
import pathlib

import pytest

from devcluster import KubeCluster
from devcluster.operator_process import OperatorProcess

pytestmark = pytest.mark.e2e


def test_json_logs_and_a_quiet_sigterm(
    berth_api: KubeCluster, namespace: str, tmp_path: pathlib.Path
) -> None:
    log = tmp_path / "operator.log"
    # Its own empty namespace: it starts, lists, and has nothing to fight the shared operator for.
    operator = OperatorProcess(
        berth_api.kubeconfig,
        log,
        env={"BERTH_WATCH_NAMESPACES": f'["{namespace}"]', "BERTH_LOG_FORMAT": "json"},
    )
    operator.start()
    operator.stop()

    text = log.read_text()
    assert "Traceback" not in text, text
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert not [line for line in lines if "exception" in line or line["level"] == "ERROR"]
    messages = [line["message"] for line in lines]
    assert any(m.startswith("berth started: 0 services known") for m in messages), messages
    assert any("SIGTERM" in m for m in messages), messages
