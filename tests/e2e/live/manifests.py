"""The services the real-node tests deploy: the hello image behind a public endpoint."""

from __future__ import annotations

from typing import Any

HELLO = "berth.local/hello"
HEALTH_CHECK = {"path": "/healthz", "intervalSeconds": 5}


def hello_service(
    name: str,
    image: str = f"{HELLO}:v1",
    health_check: dict[str, Any] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    """A ContainerService of one `web` container on port 80, public; `spec` adds or overrides
    top-level fields (scale, power, publicDomainNames...)."""
    return {
        "apiVersion": "berth.dev/v1alpha1",
        "kind": "ContainerService",
        "metadata": {"name": name},
        "spec": {
            "power": "nano",
            "scale": 1,
            **spec,
            "deployment": {
                "containers": {"web": {"image": image, "ports": {"80": "HTTP"}}},
                "publicEndpoint": {
                    "containerName": "web",
                    "containerPort": 80,
                    "healthCheck": HEALTH_CHECK if health_check is None else health_check,
                },
            },
        },
    }
