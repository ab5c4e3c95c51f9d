"""The chart's PrometheusRule and Grafana dashboard ask only for metrics the real operator serves,
with the labels it gives them: a renamed metric breaks this test, not a dashboard in production."""

from __future__ import annotations

import json
import pathlib
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.e2e.chart_support import helm, one, render  # noqa: F401  (helm is a fixture)
from tests.e2e.support import Berth, apply, service_manifest, web_content

from devcluster import KubeCluster
from devcluster.operator_process import OperatorProcess

pytestmark = pytest.mark.e2e
# PromQL's own words, and the series Prometheus makes itself.
KEYWORDS = {"and", "or", "unless", "bool", "offset", "up"}
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}")
NOT_NAMES = re.compile(r'\{[^}]*\}|\[[^\]]*\]|"[^"]*"|\b(?:by|without|on|ignoring)\s*\([^)]*\)')
IDENTIFIER = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def asked_for(expressions: list[str]) -> dict[str, set[str]]:
    """Metric name → label names an expression filters it on (job aside: Prometheus adds it)."""
    found: dict[str, set[str]] = {}
    for expression in expressions:
        bare = NOT_NAMES.sub(" ", expression)
        for match in IDENTIFIER.finditer(bare):
            function = bare[match.end() :].lstrip().startswith("(")
            if not function and match.group() not in KEYWORDS:
                found.setdefault(match.group(), set())
        for name, matchers in SELECTOR.findall(expression):
            labels = {m.split("=")[0].strip().rstrip("!~") for m in matchers.split(",") if m}
            if name not in KEYWORDS:
                found.setdefault(name, set()).update(labels - {"job"})
    return found


def served(operator: OperatorProcess) -> dict[str, set[str]]:
    """Sample name → the label names its samples carry, as the operator serves them now."""
    found: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(operator.metrics()):
        for sample in family.samples:
            found.setdefault(sample.name, set()).update(sample.labels)
    return found


@pytest.fixture
def busy_operator(cluster: KubeCluster, berth: Berth, operator: OperatorProcess) -> OperatorProcess:
    """The operator after a service ran and one waits for a power that does not exist: every
    labelled family has samples (a Stalled service included)."""
    suffix = berth.namespace.rsplit("-", 1)[-1]
    apply(cluster, berth.namespace, service_manifest(f"mon-{suffix}", deployment=web_content()))
    berth.wait_state(f"mon-{suffix}", "RUNNING")
    apply(cluster, berth.namespace, service_manifest(f"stuck-{suffix}", power="no-such-power"))
    berth.wait_state(f"stuck-{suffix}", "PENDING")
    return operator


def test_alerts_and_dashboard_ask_only_for_what_the_operator_serves(
    helm: pathlib.Path,  # noqa: F811
    busy_operator: OperatorProcess,
) -> None:
    docs = render(
        helm,
        "--set",
        "metrics.prometheusRule.enabled=true",
        "--set",
        "metrics.grafanaDashboard.enabled=true",
    )
    rules = one(docs, "PrometheusRule")["spec"]["groups"][0]["rules"]
    dashboard = json.loads(one(docs, "ConfigMap")["data"]["berth.json"])
    expressions = [rule["expr"] for rule in rules] + [
        target["expr"] for panel in dashboard["panels"] for target in panel["targets"]
    ]
    available = served(busy_operator)

    wanted = asked_for(expressions)

    assert {rule["alert"] for rule in rules} == {
        "BerthOperatorDown",
        "BerthNoLeader",
        "BerthReconcileErrors",
        "BerthServicesStalled",
        "BerthQueueBacklog",
        "BerthApiErrors",
    }
    assert len(wanted) >= 10, wanted
    missing = {name for name in wanted if name not in available}
    assert not missing, f"asked for but not served: {sorted(missing)}"
    for name, labels in wanted.items():
        assert labels <= available[name], f"{name} has no label {labels - available[name]}"
    assert "PowerNotFound" in {
        s.labels.get("reason")
        for f in text_string_to_metric_families(busy_operator.metrics())
        for s in f.samples
        if s.name == "berth_services_stalled"
    }
