"""How the store files Berth's objects, and the lookups a reconcile makes through those indexes."""

from collections.abc import Hashable, Iterable

from berth.api import domains
from berth.kube import resources
from berth.kube.resources import Key, key_of
from berth.render import names
from berth.runtime.store import Body, Indexes, Store


def _namespace(body: Body) -> str:
    return (body.get("metadata") or {}).get("namespace") or ""


def labelled_service(body: Body) -> Key | None:
    """The service an owned object belongs to, by its service label; None without one."""
    service = ((body.get("metadata") or {}).get("labels") or {}).get(names.SERVICE_LABEL)
    return (_namespace(body), service) if service else None


def version_service(body: Body) -> Key:
    """The service a version (or an image) names."""
    return (_namespace(body), (body.get("spec") or {}).get("serviceName") or "")


def _version_service(body: Body) -> Iterable[Hashable]:
    return [version_service(body)]


def _labelled_service(body: Body) -> Iterable[Hashable]:
    key = labelled_service(body)
    return [key] if key else []


def _power(body: Body) -> Iterable[Hashable]:
    return [(body.get("spec") or {}).get("power")]


def _name(body: Body) -> Iterable[Hashable]:
    return [(body.get("metadata") or {}).get("name")]


def public_domains(body: Body) -> set[str]:
    """The custom domains a (raw) service body asks for, lowercased."""
    return set(domains.every((body.get("spec") or {}).get("publicDomainNames")))


def _claim_holder(body: Body) -> Iterable[Hashable]:
    return [((body.get("spec") or {}).get("owner") or {}).get("uid")]


def claim_holder_key(body: Body) -> Key:
    """The (namespace, name) of the service a claim names as its holder."""
    owner = (body.get("spec") or {}).get("owner") or {}
    return (owner.get("namespace") or "", owner.get("name") or "")


def _claim_holder_key(body: Body) -> Iterable[Hashable]:
    return [claim_holder_key(body)]


def _claim_purpose(body: Body) -> Iterable[Hashable]:
    return [(body.get("spec") or {}).get("purpose")]


def _allowed_namespace(body: Body) -> Iterable[Hashable]:
    return [(body.get("spec") or {}).get("namespace")]


# What a reconcile looks up per service, so that no lookup walks every object of a kind
# (thousands at scale, for each reconcile).
INDEXES: Indexes = {
    resources.SERVICE: {"power": _power, "name": _name, "public-domain": public_domains},
    resources.VERSION: {"service": _version_service},
    resources.IMAGE: {"service": _version_service},
    resources.POD: {"service": _labelled_service},
    resources.DOMAIN_CLAIM: {
        "holder": _claim_holder,
        "holder-key": _claim_holder_key,
        "purpose": _claim_purpose,
    },
    resources.DOMAIN_ALLOW_LIST: {"namespace": _allowed_namespace},
}


def versions_of(store: Store, key: Key) -> list[Body]:
    return store.find(resources.VERSION, "service", key)


def images_of(store: Store, key: Key) -> list[Body]:
    return store.find(resources.IMAGE, "service", key)


def pods_of(store: Store, key: Key) -> list[Body]:
    return store.find(resources.POD, "service", key)


def services_using_power(store: Store, power: str) -> list[Key]:
    return [key_of(body) for body in store.find(resources.SERVICE, "power", power)]


def service_keys(store: Store) -> list[Key]:
    return [key_of(body) for body in store.all(resources.SERVICE)]


def services_in(store: Store, namespace: str) -> list[Key]:
    """Every service of `namespace` (a walk over all: only for rare events)."""
    return [key_of(b) for b in store.all(resources.SERVICE) if _namespace(b) == namespace]
