"""Knative Serving as the benchmark's peer: the workload's objects and the KIngress stub."""

from __future__ import annotations

import datetime
import pathlib
from typing import Any

from bench import kingress_stub, knative, knative_objects, peers, workload

NOW = datetime.datetime(2026, 11, 30, 1, 0, tzinfo=datetime.UTC)
CLASS = knative_objects.INGRESS_CLASS


def kingress(generation: int = 1, cls: str = CLASS, status: Any = None) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "svc-0000",
            "namespace": "bench",
            "generation": generation,
            "annotations": {"networking.knative.dev/ingress.class": cls},
        },
        "status": status,
    }


def test_the_stub_marks_its_class_ready_with_both_balancers() -> None:
    status = kingress_stub.wanted_status(kingress(generation=3), CLASS, NOW)
    assert status is not None
    assert status["observedGeneration"] == 3
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "Ready": "True",
        "LoadBalancerReady": "True",
        "NetworkConfigured": "True",
    }
    assert status["publicLoadBalancer"]["ingress"][0]["domainInternal"]
    assert status["privateLoadBalancer"]["ingress"][0]["domainInternal"]


def test_the_stub_leaves_other_classes_and_ready_ingresses_alone() -> None:
    assert kingress_stub.wanted_status(kingress(cls="kourier.ingress"), CLASS, NOW) is None
    ready = kingress_stub.wanted_status(kingress(generation=2), CLASS, NOW)
    assert kingress_stub.wanted_status(kingress(2, status=ready), CLASS, NOW) is None


def test_a_new_generation_is_answered_again() -> None:
    ready = kingress_stub.wanted_status(kingress(generation=1), CLASS, NOW)
    again = kingress_stub.wanted_status(kingress(2, status=ready), CLASS, NOW)
    assert again is not None and again["observedGeneration"] == 2


def test_a_knative_service_is_the_berth_workload_with_one_port() -> None:
    service = knative_objects.knative_service(7, "bench")
    spec = service["spec"]["template"]["spec"]
    names = [c["name"] for c in spec["containers"]]
    assert sorted(names) == sorted(workload.content(7)["containers"])
    assert [c["name"] for c in spec["containers"] if "ports" in c] == ["web"] == names[:1]
    assert spec["containers"][0]["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    scale = service["spec"]["template"]["metadata"]["annotations"]
    assert scale["autoscaling.knative.dev/min-scale"] == scale["autoscaling.knative.dev/max-scale"]
    assert service["spec"]["traffic"] == [{"latestRevision": True, "percent": 100}]


def test_each_custom_domain_is_one_domain_mapping_of_the_service() -> None:
    service, *mappings = knative_objects.bodies(3, "bench")
    domains = workload.service(3, "bench")["spec"]["publicDomainNames"]["main"]
    assert [m["metadata"]["name"] for m in mappings] == domains
    assert {m["spec"]["ref"]["name"] for m in mappings} == {service["metadata"]["name"]}


def test_ready_means_ready_for_the_current_generation() -> None:
    def body(generation: int, observed: int, ready: str) -> dict[str, Any]:
        conditions = [{"type": "Ready", "status": ready}]
        status = {"observedGeneration": observed, "conditions": conditions}
        return {"metadata": {"generation": generation}, "status": status}

    assert knative_objects.is_ready(body(1, 1, "True"))
    assert not knative_objects.is_ready(body(2, 1, "True"))
    assert not knative_objects.is_ready(body(1, 1, "Unknown"))
    assert not knative_objects.is_ready({"metadata": {"generation": 1}})


def test_a_service_is_done_when_it_and_all_its_mappings_are() -> None:
    owner = {"a.example.com": "a", "www.a.example.com": "a", "b.example.com": "b"}
    services = {"a": 1.0, "b": 2.0}
    mappings = {"a.example.com": 3.0, "www.a.example.com": 0.5}
    assert knative_objects.done_times(services, mappings, owner) == {"a": 3.0}


def test_only_the_unthrottled_variant_lifts_only_the_controllers_rate_limit() -> None:
    config = pathlib.Path("k")
    throttled = knative.binary_env("controller", config, [1, 2, 3], throttled=True)
    lifted = knative.binary_env("controller", config, [1, 2, 3], throttled=False)
    autoscaler = knative.binary_env("autoscaler", config, [1, 2, 3], throttled=False)

    assert "KUBE_API_QPS" not in throttled and "KUBE_API_QPS" not in autoscaler
    assert float(lifted["KUBE_API_QPS"]) >= 10_000 and int(lifted["KUBE_API_BURST"]) >= 10_000
    assert peers.SIDES["knative-unthrottled"].THROTTLED is False
    assert peers.SIDES["knative"].THROTTLED is True


def test_the_webhook_serves_where_its_service_and_endpoints_send_the_api_server() -> None:
    env = knative.binary_env("webhook", pathlib.Path("k"), [1, 2, 9443], throttled=True)
    service, endpoints = knative.webhook_manifests("192.0.2.7", 9443)

    assert env["WEBHOOK_PORT"] == "9443" and env["WEBHOOK_NAME"] == service["metadata"]["name"]
    assert "WEBHOOK_PORT" not in knative.binary_env(
        "controller", pathlib.Path("k"), [1, 2, 3], True
    )
    (port,) = service["spec"]["ports"]
    (subset,) = endpoints["subsets"]
    # The API server matches the Service's port to the Endpoints' by name, then dials that port.
    assert subset["ports"] == [{"name": port["name"], "port": 9443}]
    assert subset["addresses"] == [{"ip": "192.0.2.7"}]
    assert peers.SIDES["knative-webhook"].WEBHOOK is True
    assert peers.SIDES["knative"].WEBHOOK is False
