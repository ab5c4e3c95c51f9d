"""Helpers for the networking end-to-end tests: the zone mirror, DNS lookups, Ingress reads."""

from __future__ import annotations

import json
from typing import Any

import dns.exception
import dns.rdatatype
import dns.resolver
import kubernetes

from berth.render import zone
from devcluster.addons import CoreDNS

SUFFIX = "service.local"
OPERATOR_NAMESPACE = "berth-system"


class PrivateDns:
    """CoreDNS serving the operator's zone, and lookups against it."""

    def __init__(self, server: CoreDNS) -> None:
        self.server = server
        self.resolver = dns.resolver.Resolver(configure=False)
        self.resolver.nameservers = ["127.0.0.1"]
        self.resolver.port = server.port
        self.resolver.lifetime = 2.0

    def lookup(self, name: str) -> list[str] | None:
        """The A records of `name`; None when CoreDNS says the name does not exist."""
        try:
            answer = self.resolver.resolve(name, dns.rdatatype.A)
        except dns.resolver.NXDOMAIN:
            return None
        except (dns.resolver.NoAnswer, dns.exception.Timeout):
            return []
        return sorted(record.to_text() for record in answer)


def empty_zone() -> str:
    return zone.zone_file(SUFFIX, {})


def ingress(api: kubernetes.client.ApiClient, namespace: str, name: str) -> Any:
    try:
        return kubernetes.client.NetworkingV1Api(api).read_namespaced_ingress(name, namespace)
    except kubernetes.client.ApiException as error:
        if error.status == 404:
            return None
        raise


def ingress_hosts(found: Any) -> list[str]:
    return [rule.host for rule in found.spec.rules] if found is not None else []


def condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in status.get("conditions") or [] if c["type"] == kind), {})


def claims(api: kubernetes.client.ApiClient, domain: str) -> list[dict[str, Any]]:
    """DomainClaims of `domain` (of either purpose)."""
    listed = kubernetes.client.CustomObjectsApi(api).list_cluster_custom_object(
        "berth.dev", "v1alpha1", "domainclaims"
    )
    return [c for c in listed["items"] if c["spec"]["domain"] == domain]


def allow_list(name: str, namespace: str, patterns: list[str]) -> str:
    """A DomainAllowList granting `namespace` the domains `patterns`, as JSON for kubectl."""
    return json.dumps(
        {
            "apiVersion": "berth.dev/v1alpha1",
            "kind": "DomainAllowList",
            "metadata": {"name": name},
            "spec": {"namespace": namespace, "domains": patterns},
        }
    )
