"""The benchmark's services: 3 containers, a public endpoint, 2 custom domains each."""

from __future__ import annotations

from typing import Any

GROUP_VERSION = "berth.dev/v1alpha1"


def content(index: int) -> dict[str, Any]:
    return {
        "containers": {
            "web": {
                "image": "nginx:1.27",
                "ports": {"80": "HTTP"},
                "environment": {"INDEX": str(index)},
            },
            "api": {"image": "example/api:1", "ports": {"8080": "HTTP"}},
            "cache": {"image": "redis:7", "ports": {"6379": "TCP"}},
        },
        "publicEndpoint": {"containerName": "web", "containerPort": 80},
    }


def service(index: int, namespace: str, prefix: str = "svc") -> dict[str, Any]:
    name = f"{prefix}-{index:04d}"
    return {
        "apiVersion": GROUP_VERSION,
        "kind": "ContainerService",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "power": "nano",
            "scale": 1,
            "publicDomainNames": {
                "main": [f"{name}.example.com", f"www.{name}.example.com"],
            },
            "deployment": content(index),
        },
    }
