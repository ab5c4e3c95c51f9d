"""DomainClaims: the cluster-wide object that says which service holds a name."""

from typing import Any

from berth.api import limits
from berth.api.claim import ClaimOwner, ClaimPurpose
from berth.api.objects import ContainerServiceObject
from berth.render import labels, names

KIND = "DomainClaim"


def domain_claim(
    domain: str, purpose: ClaimPurpose, service: ContainerServiceObject
) -> dict[str, Any]:
    owner = ClaimOwner(namespace=service.namespace, name=service.name, uid=service.metadata.uid)
    return {
        "apiVersion": limits.API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": names.domain_claim(purpose, domain),
            # Cluster-scoped objects cannot have a namespaced owner: these labels and the service's
            # finalizer stand in for an owner reference.
            "labels": {
                **labels.MANAGED,
                names.SERVICE_LABEL: service.name,
                names.SERVICE_NAMESPACE_LABEL: service.namespace,
            },
        },
        "spec": {"domain": domain, "purpose": purpose.value, "owner": owner.to_wire()},
    }
