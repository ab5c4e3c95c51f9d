"""End to end: the chart's RBAC, rendered from its templates and loaded into the real API server,
allows each thing the operator and the Lightsail endpoint do, asked of the API server's own
authorizer (SubjectAccessReview). A rule taken out of a template fails the question it answers.

The operator's full lifecycle under its ServiceAccount is test_chart_rbac.py; this one names the
permissions of paths that lifecycle does not walk: a failed version's logs kept in a ConfigMap,
Berth's own health checks, the certificate limit, and the endpoint's key reads and impersonation.
"""

from __future__ import annotations

import pathlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import kubernetes
import pytest
import yaml
from tests.e2e.chart_support import Manifest, find, helm, render

from berth.lightsail.keys import DEFAULT_SERVICE_ACCOUNT
from devcluster import KubeCluster

__all__ = ["helm"]  # the fixture
pytestmark = pytest.mark.e2e

RBAC_KINDS = ("ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")


@dataclass(frozen=True)
class Install:
    release: str
    namespace: str
    tenant: str
    operator: str  # the ServiceAccounts' user names
    lightsail: str


@dataclass(frozen=True)
class Ask:
    verb: str
    resource: str
    group: str = ""
    subresource: str = ""
    name: str = ""
    namespace: str | None = "tenant"  # "tenant", "release", or None (cluster-wide)

    def __str__(self) -> str:
        what = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        group = f".{self.group}" if self.group else ""
        where = f" in {self.namespace}" if self.namespace else " cluster-wide"
        return f"{self.verb} {what}{group}{f' {self.name}' if self.name else ''}{where}"


def user(namespace: str, account: str) -> str:
    return f"system:serviceaccount:{namespace}:{account}"


@pytest.fixture(scope="module")
def installed(
    cluster: KubeCluster, helm: pathlib.Path, kube_api: kubernetes.client.ApiClient
) -> Iterator[Install]:
    """Only the RBAC objects of `helm template`, applied: nothing runs as these accounts, so no
    operator of this chart competes with the session's."""
    suffix = uuid.uuid4().hex[:6]
    # Cluster-scoped names of their own, beside any other release in the session's cluster.
    release, namespace, tenant = f"rbac-{suffix}", f"rbac-sys-{suffix}", f"rbac-tenant-{suffix}"
    for name in (namespace, tenant):
        cluster.kubectl("create", "namespace", name)
    rendered = render(helm, "--set", f"fullnameOverride={release}", namespace=namespace)
    docs = [doc for doc in rendered if doc["kind"] in RBAC_KINDS]
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(docs))
    accounts = {d["metadata"]["name"] for d in find(docs, "ServiceAccount")}
    assert accounts == {release, f"{release}-lightsail"}, accounts
    yield Install(
        release,
        namespace,
        tenant,
        user(namespace, release),
        user(namespace, f"{release}-lightsail"),
    )
    cluster_scoped: list[Manifest] = [
        d for d in docs if d["kind"] in ("ClusterRole", "ClusterRoleBinding")
    ]
    for doc in cluster_scoped:
        cluster.kubectl("delete", doc["kind"], doc["metadata"]["name"], "--wait=false", check=False)
    for name in (namespace, tenant):
        cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def allowed(api: kubernetes.client.ApiClient, install: Install, who: str, ask: Ask) -> bool:
    namespace = {"tenant": install.tenant, "release": install.namespace}.get(ask.namespace or "")
    _, account_namespace, _ = who.rsplit(":", 2)
    review = kubernetes.client.V1SubjectAccessReview(
        spec=kubernetes.client.V1SubjectAccessReviewSpec(
            user=who,
            groups=[
                "system:serviceaccounts",
                f"system:serviceaccounts:{account_namespace}",
                "system:authenticated",
            ],
            resource_attributes=kubernetes.client.V1ResourceAttributes(
                verb=ask.verb,
                group=ask.group,
                resource=ask.resource,
                subresource=ask.subresource or None,
                name=ask.name or None,
                namespace=namespace,
            ),
        )
    )
    answer = kubernetes.client.AuthorizationV1Api(api).create_subject_access_review(review)
    return bool(answer.status.allowed)


# What the operator does outside the lifecycle test_chart_rbac.py runs, each with where it is done.
OPERATOR_NEEDS = [
    # A version marked FAILED: its pods' last lines (reconcile/failure_logs.py) ...
    Ask("get", "pods", subresource="log"),
    # ... kept in a ConfigMap per version, created once and never updated.
    Ask("create", "configmaps"),
    # Berth's own health checks: the readiness gate's condition, on the status subresource.
    Ask("patch", "pods", subresource="status"),
    # CERTIFICATE_LIMIT_EXCEEDED: the namespace's quotas of Certificates.
    Ask("list", "resourcequotas"),
    # cert-manager's Certificates of each Ingress: their Ready condition.
    Ask("list", "certificates", group="cert-manager.io"),
    Ask("watch", "certificates", group="cert-manager.io"),
    # The private zone, one ConfigMap of the release namespace, by name.
    Ask("patch", "configmaps", name="berth-private-zone", namespace="release"),
    # Registered images' finalizer: a deleted one's manifest leaves the registry first.
    Ask("patch", "containerimages", group="berth.dev"),
]
# Least privilege: what the operator never does, so the chart must not grant it.
OPERATOR_NEVER = [
    Ask("get", "secrets"),  # no registry configured: no pull secrets to write either
    Ask("update", "configmaps"),  # failure logs are written once
    Ask("patch", "pods"),  # only the status subresource
    Ask("patch", "configmaps", name="another", namespace="release"),
    Ask("get", "pods", group="metrics.k8s.io"),  # metrics are read as the tenant, not by Berth
]
# The Lightsail endpoint reads keys and the power catalogue itself, and acts as a key's
# ServiceAccount for everything else (its rights are the tenant's, given by create-access-key).
LIGHTSAIL_NEEDS = [
    Ask("get", "secrets", namespace="release", name="lightsail-key-bkiaexample"),
    Ask("list", "containerservicepowers", group="berth.dev", namespace=None),
    Ask("impersonate", "serviceaccounts", name=DEFAULT_SERVICE_ACCOUNT),
]
LIGHTSAIL_NEVER = [
    Ask("get", "secrets"),  # keys live in the release namespace only
    Ask("impersonate", "serviceaccounts", name="default"),  # only the accounts the chart names
    Ask("impersonate", "users", name="system:admin", namespace=None),
    Ask("get", "pods", subresource="log"),  # the tenant's right, not the endpoint's own
]


@pytest.mark.parametrize("ask", OPERATOR_NEEDS, ids=str)
def test_the_operator_account_may(
    kube_api: kubernetes.client.ApiClient, installed: Install, ask: Ask
) -> None:
    assert allowed(kube_api, installed, installed.operator, ask), f"the chart denies: {ask}"


@pytest.mark.parametrize("ask", OPERATOR_NEVER, ids=str)
def test_the_operator_account_may_not(
    kube_api: kubernetes.client.ApiClient, installed: Install, ask: Ask
) -> None:
    assert not allowed(kube_api, installed, installed.operator, ask), f"the chart grants: {ask}"


@pytest.mark.parametrize("ask", LIGHTSAIL_NEEDS, ids=str)
def test_the_lightsail_endpoint_account_may(
    kube_api: kubernetes.client.ApiClient, installed: Install, ask: Ask
) -> None:
    assert allowed(kube_api, installed, installed.lightsail, ask), f"the chart denies: {ask}"


@pytest.mark.parametrize("ask", LIGHTSAIL_NEVER, ids=str)
def test_the_lightsail_endpoint_account_may_not(
    kube_api: kubernetes.client.ApiClient, installed: Install, ask: Ask
) -> None:
    assert not allowed(kube_api, installed, installed.lightsail, ask), f"the chart grants: {ask}"
