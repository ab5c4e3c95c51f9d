"""Helpers for the networking end-to-end tests: the zone mirror, DNS lookups, Ingress reads."""

from __future__ import annotations

import threading
from typing import Any

import dns.exception
import dns.rdatatype
import dns.resolver
import kubernetes

from berth.devcluster.addons import CoreDNS
from berth.render import names, zone

SUFFIX = "service.local"
OPERATOR_NAMESPACE = "berth-system"


class ZoneMirror:
    """Copies the zone ConfigMap into CoreDNS's zone file, as a kubelet updates a mounted ConfigMap."""

    def __init__(self, api: kubernetes.client.ApiClient, server: CoreDNS, interval: float = 0.2):
        self.core = kubernetes.client.CoreV1Api(api)
        self.server, self.interval = server, interval
        self.written: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="zone-mirror")

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                found = self.core.read_namespaced_config_map(
                    names.PRIVATE_ZONE_CONFIGMAP, OPERATOR_NAMESPACE
                )
            except kubernetes.client.ApiException:
                continue  # not written yet, or being restored
            text = (found.data or {}).get(names.private_zone_key(SUFFIX))
            if text and text != self.written:
                self.server.write_zone(text)
                self.written = text

    def start(self) -> ZoneMirror:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


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
