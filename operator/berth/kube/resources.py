"""Where each kind lives in the API: group/version, plural, scope."""

from dataclasses import dataclass
from typing import Any

from berth.api import foreign, limits

Key = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped kinds


def key_of(body: dict[str, Any]) -> Key:
    """Where an object is: its namespace ("" when cluster-scoped) and name."""
    meta = body.get("metadata") or {}
    return meta.get("namespace") or "", meta.get("name") or ""


@dataclass(frozen=True)
class Resource:
    kind: str
    api_version: str
    plural: str
    namespaced: bool = True

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        base = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        if self.namespaced and namespace is not None:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        return f"{base}/{name}" if name else base

    def stamp(self, body: dict[str, Any]) -> None:
        """Lists and watch events leave out each item's apiVersion and kind: put them back."""
        body.setdefault("apiVersion", self.api_version)
        body.setdefault("kind", self.kind)


SERVICE = Resource("ContainerService", limits.API_VERSION, "containerservices")
VERSION = Resource("ContainerServiceDeployment", limits.API_VERSION, "containerservicedeployments")
POWER = Resource("ContainerServicePower", limits.API_VERSION, "containerservicepowers", False)
DEPLOYMENT = Resource("Deployment", "apps/v1", "deployments")
KUBE_SERVICE = Resource("Service", "v1", "services")
POD = Resource("Pod", "v1", "pods")
EVENT = Resource("Event", "v1", "events")
INGRESS = Resource("Ingress", "networking.k8s.io/v1", "ingresses")
CONFIG_MAP = Resource("ConfigMap", "v1", "configmaps")
SECRET = Resource("Secret", "v1", "secrets")
IMAGE = Resource("ContainerImage", limits.API_VERSION, "containerimages")
DOMAIN_CLAIM = Resource("DomainClaim", limits.API_VERSION, "domainclaims", False)
DOMAIN_ALLOW_LIST = Resource("DomainAllowList", limits.API_VERSION, "domainallowlists", False)
SECRET = Resource("Secret", "v1", "secrets")
CERTIFICATE = Resource(
    foreign.CERTIFICATE_KIND,
    f"{foreign.CERT_MANAGER_GROUP}/{foreign.CERT_MANAGER_VERSION}",
    foreign.CERTIFICATES,
)
# Only listed, never written (so not in BY_KIND): a full quota of Certificates is the limit.
RESOURCE_QUOTA = Resource("ResourceQuota", "v1", "resourcequotas")
# Leader election's lease: the operator's own bookkeeping, neither fenced nor counted as a write.
LEASE = Resource("Lease", "coordination.k8s.io/v1", "leases")
CRD = Resource(
    "CustomResourceDefinition", "apiextensions.k8s.io/v1", "customresourcedefinitions", False
)

BY_KIND = {
    r.kind: r
    for r in (
        SERVICE,
        VERSION,
        POWER,
        DEPLOYMENT,
        KUBE_SERVICE,
        POD,
        EVENT,
        INGRESS,
        CONFIG_MAP,
        SECRET,
        IMAGE,
        DOMAIN_CLAIM,
        DOMAIN_ALLOW_LIST,
        SECRET,
        CERTIFICATE,
        CRD,
        LEASE,
    )
}
