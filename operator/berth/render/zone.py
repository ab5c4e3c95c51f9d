"""The private zone (`<service>.<suffix>` → Service ClusterIP) as an RFC 1035 zone file.

CoreDNS serves it with its `file` plugin, which reloads the file when the SOA serial changes.
"""

import hashlib
import ipaddress
from typing import Any

from berth.api import foreign
from berth.render import labels, names
from berth.settings import Settings

Manifest = dict[str, Any]
# Short, so that a name moving to its next owner or a new ClusterIP is seen within seconds.
TTL_SECONDS = 5


def zone_file(suffix: str, records: dict[str, str]) -> str:
    """`records`: service name → ClusterIP. Sorted, so the same records give the same text.

    The serial is a hash of the records rather than a counter: CoreDNS reloads on any change of
    it, and a serial computed from content lets a reconcile compare without reading a counter.
    """
    origin = f"{suffix.rstrip('.')}."
    lines = [f"{name} IN {_record_type(ip)} {ip}" for name, ip in sorted(records.items())]
    body = "\n".join(lines)
    serial = int(hashlib.sha256(body.encode()).hexdigest()[:8], 16) or 1
    header = [
        f"$ORIGIN {origin}",
        f"$TTL {TTL_SECONDS}",
        f"@ IN SOA ns.{origin} hostmaster.{origin} {serial} 60 30 86400 {TTL_SECONDS}",
    ]
    return "\n".join(header + lines) + "\n"


def _record_type(ip: str) -> str:
    return "AAAA" if ipaddress.ip_address(ip).version == 6 else "A"


def zone_configmap(settings: Settings, records: dict[str, str]) -> Manifest:
    """One ConfigMap for every service's private name, in the operator's namespace."""
    suffix = settings.private_domain_suffix
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": names.PRIVATE_ZONE_CONFIGMAP,
            "namespace": settings.namespace,
            "labels": {
                **labels.MANAGED,
                foreign.COMPONENT_LABEL: "private-zone",
            },
        },
        "data": {names.private_zone_key(suffix): zone_file(suffix, records)},
    }


def is_cluster_ip(value: object) -> bool:
    """A Service's spec.clusterIP that names an address ("None" means headless)."""
    if not isinstance(value, str):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
