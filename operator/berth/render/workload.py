"""The apps/v1 Deployment that runs the served version of a service."""

from collections.abc import Mapping
from typing import Any

from berth.api.content import Container, DeploymentContent, HealthCheck, HealthTarget, Protocol
from berth.api.objects import ContainerServiceObject
from berth.api.power import PowerSpec
from berth.render import labels, names
from berth.render.owner import owned_metadata
from berth.settings import HealthChecks, ResourcesMode, Settings

Manifest = dict[str, Any]


def deployment(
    service: ContainerServiceObject,
    version: int,
    content: DeploymentContent,
    power: PowerSpec,
    settings: Settings,
    running: bool = True,
    images: Mapping[str, str] | None = None,
    registry_secret: str | None = None,
) -> Manifest:
    """The Deployment serving version `version`; `running=False` keeps it at zero replicas.

    `images` maps registered names (`:web.site.1`) to what the pods pull; `registry_secret` is
    the pull secret of that registry, attached when a container uses one of them."""
    replicas = service.spec.scale if running and not service.spec.is_disabled else 0
    template_labels = {**labels.standard(service.name), names.VERSION_LABEL: str(version)}
    pod_spec: Manifest = {
        "containers": _containers(content, power, settings, images or {}),
        "enableServiceLinks": False,
    }
    if settings.resources_mode != ResourcesMode.CONTAINER:
        pod_spec["resources"] = _resources(
            power.cpu_millicores(), power.memory_mebibytes(), settings.overcommit_ratio
        )
    template_meta: Manifest = {"labels": template_labels}
    target = health_target(content)
    if target is not None and settings.health_checks == HealthChecks.OPERATOR:
        # Ready only once Berth's own check passes: Services and the Ingress route by it.
        pod_spec["readinessGates"] = [{"conditionType": names.HEALTH_GATE}]
        template_meta["annotations"] = {
            names.HEALTH_TARGET_ANNOTATION: target.model_dump_json(by_alias=True)
        }
    access = service.spec.private_registry_access
    secrets = list(access.image_pull_secrets or []) if access else []
    if registry_secret and any(c.image in (images or {}) for c in content.containers.values()):
        secrets.append(registry_secret)
    if secrets:
        pod_spec["imagePullSecrets"] = [{"name": s} for s in secrets]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": owned_metadata(service, names.deployment(service.name)),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels.selector(service.name)},
            "progressDeadlineSeconds": settings.progress_deadline_seconds,
            "strategy": {
                "type": "RollingUpdate",
                # Never below the serving capacity: new pods come first, old ones go after.
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"},
            },
            "template": {"metadata": template_meta, "spec": pod_spec},
        },
    }


def _containers(
    content: DeploymentContent, power: PowerSpec, settings: Settings, images: Mapping[str, str]
) -> list[Manifest]:
    endpoint = content.public_endpoint
    split = settings.resources_mode == ResourcesMode.CONTAINER
    count = len(content.containers)
    rendered = []
    for name, container in content.containers.items():
        manifest = _container(name, container, images.get(container.image, container.image))
        if container.ports and settings.drain_seconds:
            # Endpoints, kube-proxy and the ingress controller drop a stopping pod a moment after
            # it is told to stop; serving on meanwhile is what makes scale-in and rollouts lossless.
            # The sleep action needs no shell or `sleep` binary in the image.
            manifest["lifecycle"] = {"preStop": {"sleep": {"seconds": settings.drain_seconds}}}
        if split:
            cpu = max(1, power.cpu_millicores() // count)
            memory = max(1, power.memory_mebibytes() // count)
            manifest["resources"] = _resources(cpu, memory, settings.overcommit_ratio)
        if endpoint is not None and endpoint.container_name == name:
            protocol = (container.ports or {})[str(endpoint.container_port)]
            if settings.health_checks == HealthChecks.OPERATOR:
                manifest["readinessProbe"] = port_probe(
                    endpoint.health_check, endpoint.container_port
                )
            else:
                manifest["readinessProbe"] = readiness_probe(
                    endpoint.health_check, endpoint.container_port, protocol
                )
        rendered.append(manifest)
    return rendered


def _container(name: str, container: Container, image: str) -> Manifest:
    # A container that fails without writing /dev/termination-log leaves its last log lines
    # (at most 80 lines or 2 KiB) in the pod's status, where the failed version's reason finds them.
    manifest: Manifest = {
        "name": name,
        "image": image,
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    if container.command:
        manifest["args"] = list(container.command)
    if container.environment:
        manifest["env"] = [
            {"name": key, "value": value} for key, value in sorted(container.environment.items())
        ]
    if container.ports:
        manifest["ports"] = [
            {"containerPort": int(port), "protocol": _kube_protocol(protocol)}
            for port, protocol in sorted(container.ports.items(), key=lambda p: int(p[0]))
        ]
    return manifest


def _kube_protocol(protocol: Protocol) -> str:
    return "UDP" if protocol == Protocol.UDP else "TCP"


def _resources(cpu_millicores: int, memory_mebibytes: int, ratio: float = 1.0) -> Manifest:
    """The power as limits; requests are `ratio` of them (the overcommit of the chart's values),
    at least 1m and 1Mi. At 1 the pod is Guaranteed and the node reserves the whole power."""
    limits = {"cpu": cpu_quantity(cpu_millicores), "memory": memory_quantity(memory_mebibytes)}
    requests = {
        "cpu": cpu_quantity(max(1, int(cpu_millicores * ratio))),
        "memory": memory_quantity(max(1, int(memory_mebibytes * ratio))),
    }
    return {"requests": requests, "limits": limits}


# The API server stores quantities in canonical form; rendering them the same way keeps
# the compare-before-write exact ("1000m" would come back as "1" and look like drift).
def cpu_quantity(millicores: int) -> str:
    return _canonical(millicores, 1000, ("m", "", "k", "M"))


def memory_quantity(mebibytes: int) -> str:
    return _canonical(mebibytes, 1024, ("Mi", "Gi", "Ti", "Pi"))


def _canonical(amount: int, base: int, suffixes: tuple[str, ...]) -> str:
    """The largest suffix that still gives a whole number, as the API server writes it."""
    if amount == 0:
        return "0"
    for suffix in suffixes[:-1]:
        if amount % base:
            return f"{amount}{suffix}"
        amount //= base
    return f"{amount}{suffixes[-1]}"


def health_target(content: DeploymentContent) -> HealthTarget | None:
    """What Berth's checker checks on each pod of `content`: None without a public endpoint."""
    endpoint = content.public_endpoint
    protocol = content.endpoint_protocol()
    if endpoint is None or protocol is None:
        return None
    return HealthTarget(
        port=endpoint.container_port, scheme=protocol, health_check=endpoint.health_check
    )


def port_probe(check: HealthCheck, port: int) -> Manifest:
    """Beside the readiness gate: the container is ready while its port takes connections.

    Any HTTP answer needs an open port, so this never disagrees with Lightsail's check; it keeps
    the kubelet taking a pod whose process stopped listening out of rotation while the operator
    is away (a leader changing), and it keeps the checker from sending requests to a pod whose
    server has not started yet (the checker starts with the containers ready).
    """
    return {
        "tcpSocket": {"port": port},
        "periodSeconds": check.interval_seconds,
        "timeoutSeconds": check.timeout_seconds,
        "successThreshold": 1,
        "failureThreshold": check.unhealthy_threshold,
    }


def readiness_probe(check: HealthCheck, port: int, protocol: Protocol) -> Manifest:
    """Lightsail's health check as a readinessProbe (`health_checks: kubelet`). Kubernetes
    counts 200-399 as healthy: an approximation, which the HealthCheckExact condition reports."""
    return {
        "httpGet": {
            "path": check.path,
            "port": port,
            "scheme": "HTTPS" if protocol == Protocol.HTTPS else "HTTP",
        },
        "periodSeconds": check.interval_seconds,
        "timeoutSeconds": check.timeout_seconds,
        "successThreshold": check.healthy_threshold,
        "failureThreshold": check.unhealthy_threshold,
    }
