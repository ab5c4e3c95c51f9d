"""The benchmark's workload as Knative Serving objects, and the settings Knative runs with here.

One Berth service of bench/workload.py is one Knative Service (scale 1, the same three containers,
one of them with the public port) and one DomainMapping per custom domain. Knative allows a port on
one container only: the other two run without theirs. The webhook, which would fill in defaults,
is not run, so each object is sent fully specified, as the webhook would have left it.
"""

from __future__ import annotations

from typing import Any

from bench import workload

SERVING = "serving.knative.dev"
NAMESPACE = "knative-serving"
INGRESS_CLASS = "stub.ingress.networking.knative.dev"
# Where the workload's images come from: Knative resolves tags to digests unless told not to.
IMAGE_REGISTRIES = ("index.docker.io", "docker.io")
# Never pulled (kwok runs no container), but the revision's Deployment must name one.
QUEUE_IMAGE = "docker.io/knative/queue:bench"

# Data merged into the ConfigMaps from Knative's config/ (which carry only `_example`).
CONFIG: dict[str, dict[str, str]] = {
    "config-network": {
        "ingress-class": INGRESS_CLASS,
        "external-domain-tls": "Disabled",
        # A DomainMapping waits for a ClusterDomainClaim of its name; the controller makes it.
        "autocreate-cluster-domain-claims": "true",
    },
    "config-deployment": {
        "queue-sidecar-image": QUEUE_IMAGE,
        "registries-skipping-tag-resolving": ",".join(IMAGE_REGISTRIES),
    },
}


def containers(index: int) -> list[dict[str, Any]]:
    """The three containers of workload.content(index), the public one first and alone with a
    port; the serving container's probe is the one the webhook would default (TCP, its port)."""
    spec = workload.content(index)
    public = spec["publicEndpoint"]["containerName"]
    found: list[dict[str, Any]] = []
    for name, container in spec["containers"].items():
        item: dict[str, Any] = {"name": name, "image": container["image"]}
        env = container.get("environment") or {}
        if env:
            item["env"] = [{"name": key, "value": value} for key, value in env.items()]
        if name == public:
            port = spec["publicEndpoint"]["containerPort"]
            item["ports"] = [{"containerPort": port, "protocol": "TCP"}]
            item["readinessProbe"] = {"successThreshold": 1, "tcpSocket": {"port": 0}}
            found.insert(0, item)
        else:
            found.append(item)
    return found


def knative_service(index: int, namespace: str) -> dict[str, Any]:
    name = f"svc-{index:04d}"
    # The class and metric are what the webhook defaults: without the class the autoscaler
    # ignores the revision's PodAutoscaler and the revision never becomes Active.
    scale = {
        "autoscaling.knative.dev/class": "kpa.autoscaling.knative.dev",
        "autoscaling.knative.dev/metric": "concurrency",
        "autoscaling.knative.dev/min-scale": "1",
        "autoscaling.knative.dev/max-scale": "1",
    }
    return {
        "apiVersion": f"{SERVING}/v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "template": {
                "metadata": {"annotations": scale},
                "spec": {
                    "containerConcurrency": 0,
                    "timeoutSeconds": 300,
                    "containers": containers(index),
                },
            },
            "traffic": [{"latestRevision": True, "percent": 100}],
        },
    }


def domain_names(index: int) -> list[str]:
    """The custom domains of workload.service(index)."""
    body = workload.service(index, "bench")
    return [d for names in body["spec"]["publicDomainNames"].values() for d in names]


def domain_mapping(domain: str, service: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{SERVING}/v1beta1",
        "kind": "DomainMapping",
        "metadata": {"name": domain, "namespace": namespace},
        "spec": {
            "ref": {
                "apiVersion": f"{SERVING}/v1",
                "kind": "Service",
                "name": service,
                "namespace": namespace,
            }
        },
    }


def bodies(index: int, namespace: str) -> list[dict[str, Any]]:
    """What a user submits for service `index`: the Service, then its DomainMappings."""
    service = knative_service(index, namespace)
    name = service["metadata"]["name"]
    return [service, *(domain_mapping(d, name, namespace) for d in domain_names(index))]


def is_ready(body: dict[str, Any]) -> bool:
    """Condition Ready is True, for the generation the object has now."""
    status = body.get("status") or {}
    if status.get("observedGeneration") != body["metadata"].get("generation"):
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


def done_times(
    services: dict[str, float], mappings: dict[str, float], owner: dict[str, str]
) -> dict[str, float]:
    """When each Knative Service was done: it and all its DomainMappings (owner: mapping →
    service) Ready, the latest of their moments. A service with a mapping not yet Ready is not
    done and left out."""
    done = dict(services)
    for mapping, service in owner.items():
        if service not in done:
            continue
        if mapping in mappings:
            done[service] = max(done[service], mappings[mapping])
        else:
            del done[service]
    return done
