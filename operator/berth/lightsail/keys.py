"""Access keys of the Lightsail endpoint: one Secret each, naming the namespace it acts in and
the ServiceAccount it impersonates there, so that Kubernetes RBAC decides what a key may do.

SigV4 needs the secret itself to check a signature (a hash would not do), so the Secret holds
it as Kubernetes holds every credential; encryption at rest is the API server's to configure.
"""

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from berth.api import foreign, limits
from berth.cli.rest import MERGE_PATCH, ApiError, Rest, apis_path, core_path

KEY_LABEL = f"{limits.GROUP}/lightsail-access-key"
NAMESPACE_LABEL = f"{limits.GROUP}/lightsail-namespace"
SECRET_PREFIX = "lightsail-key-"
DEFAULT_SERVICE_ACCOUNT = "berth-lightsail"
TENANT_ROLE = "berth-lightsail-tenant"
# What a key may do in its namespace: Berth's kinds, and the pods' logs and metrics. The logs
# of failed versions are ConfigMaps (render/failure_logs.py); RBAC cannot narrow a list to some
# of them, so a key reads its namespace's ConfigMaps (Secrets stay out of reach).
TENANT_RULES: list[dict[str, Any]] = [
    {
        "apiGroups": [limits.GROUP],
        "resources": ["containerservices", "containerservicedeployments", "containerimages"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {"apiGroups": [""], "resources": ["pods", "pods/log", "configmaps"], "verbs": ["get", "list"]},
    {"apiGroups": ["metrics.k8s.io"], "resources": ["pods"], "verbs": ["get", "list"]},
]
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str
    secret_access_key: str
    namespace: str
    service_account: str
    created_at: datetime | None = None

    @property
    def user(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.service_account}"


def new_key_id() -> str:
    """20 characters like AWS's, with a prefix of Berth's own (AWS keys start with AKIA)."""
    return "BKIA" + "".join(secrets.choice(_ALPHABET) for _ in range(16))


def secret_name(key_id: str) -> str:
    return SECRET_PREFIX + key_id.lower()


def _decoded(data: dict[str, str] | None, key: str) -> str:
    return base64.b64decode((data or {}).get(key, "")).decode()


def _key(secret: dict[str, Any]) -> AccessKey:
    data = secret.get("data")
    created = secret["metadata"].get("creationTimestamp")
    return AccessKey(
        access_key_id=_decoded(data, "accessKeyId"),
        secret_access_key=_decoded(data, "secretAccessKey"),
        namespace=_decoded(data, "namespace"),
        service_account=_decoded(data, "serviceAccount"),
        created_at=datetime.fromisoformat(created) if created else None,
    )


def _create_if_absent(rest: Rest, path: str, body: dict[str, Any]) -> None:
    try:
        rest.request("POST", path, body=body)
    except ApiError as error:
        if error.status != 409:
            raise


def _rbac_path(namespace: str | None, plural: str, name: str | None = None) -> str:
    return apis_path("rbac.authorization.k8s.io", "v1", namespace, plural, name)


def ensure_tenant(rest: Rest, namespace: str, service_account: str) -> None:
    """The ServiceAccount a key impersonates, bound to the tenant role in its namespace."""
    managed = {foreign.MANAGED_BY_LABEL: "berth"}
    role = {"metadata": {"name": TENANT_ROLE, "labels": managed}, "rules": TENANT_RULES}
    _create_if_absent(rest, _rbac_path(None, "clusterroles"), role)
    # A role made by an older Berth lacks newer kinds (containerimages): its rules are Berth's.
    # A merge patch replaces the list whole.
    rest.request(
        "PATCH",
        _rbac_path(None, "clusterroles", TENANT_ROLE),
        body={"rules": TENANT_RULES},
        content_type=MERGE_PATCH,
    )
    account = {"metadata": {"name": service_account, "labels": managed}}
    _create_if_absent(rest, core_path(namespace, "serviceaccounts"), account)
    binding = {
        "metadata": {"name": f"{TENANT_ROLE}-{service_account}", "labels": managed},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": TENANT_ROLE,
        },
        "subjects": [{"kind": "ServiceAccount", "name": service_account, "namespace": namespace}],
    }
    _create_if_absent(rest, _rbac_path(namespace, "rolebindings"), binding)


def create(rest: Rest, keys_namespace: str, namespace: str, service_account: str) -> AccessKey:
    ensure_tenant(rest, namespace, service_account)
    key_id = new_key_id()
    key = AccessKey(key_id, secrets.token_urlsafe(30), namespace, service_account)
    body = {
        "metadata": {
            "name": secret_name(key_id),
            "labels": {KEY_LABEL: "true", NAMESPACE_LABEL: namespace},
        },
        "type": "Opaque",
        "stringData": {
            "accessKeyId": key.access_key_id,
            "secretAccessKey": key.secret_access_key,
            "namespace": namespace,
            "serviceAccount": service_account,
        },
    }
    created = rest.request("POST", core_path(keys_namespace, "secrets"), body=body)
    return _key(created)


def find(rest: Rest, keys_namespace: str, key_id: str) -> AccessKey | None:
    if not key_id.isalnum():
        return None
    try:
        found = rest.request("GET", core_path(keys_namespace, "secrets", secret_name(key_id)))
    except ApiError as error:
        if error.status == 404:
            return None
        raise
    if (found["metadata"].get("labels") or {}).get(KEY_LABEL) != "true":
        return None
    key = _key(found)
    return key if key.access_key_id == key_id else None


def listed(rest: Rest, keys_namespace: str, namespace: str | None) -> list[AccessKey]:
    selector = f"{KEY_LABEL}=true" + (f",{NAMESPACE_LABEL}={namespace}" if namespace else "")
    found = rest.request("GET", core_path(keys_namespace, "secrets"), [("labelSelector", selector)])
    return sorted((_key(s) for s in found["items"]), key=lambda k: k.access_key_id)


def delete(rest: Rest, keys_namespace: str, key_id: str) -> bool:
    """Whether there was such a key."""
    if find(rest, keys_namespace, key_id) is None:
        return False
    try:
        rest.request("DELETE", core_path(keys_namespace, "secrets", secret_name(key_id)))
    except ApiError as error:
        if error.status == 404:
            return False
        raise
    return True


def iam_shape(key: AccessKey, with_secret: bool) -> dict[str, Any]:
    """As `aws iam create-access-key` / `list-access-keys` print a key."""
    shape: dict[str, Any] = {
        "UserName": key.user,
        "AccessKeyId": key.access_key_id,
        "Status": "Active",
    }
    if with_secret:
        shape["SecretAccessKey"] = key.secret_access_key
    if key.created_at is not None:
        shape["CreateDate"] = key.created_at.isoformat()
    return shape
