"""Kubeconfigs that authenticate as ServiceAccounts: the audit policy of the dev cluster logs the
writes of service accounts only, so each side of the side-by-side benchmark runs as its own."""

from __future__ import annotations

import copy
import json
import pathlib

import yaml

from devcluster.cluster import Cluster

# Longer than any bench run; the API server may shorten it, never below an hour.
TOKEN_DURATION = "6h"


def username(account: str, namespace: str) -> str:
    return f"system:serviceaccount:{namespace}:{account}"


def service_account_kubeconfig(
    cluster: Cluster, account: str, namespace: str, path: pathlib.Path
) -> pathlib.Path:
    """`account` in `namespace`, bound to cluster-admin (both sides may do anything: the
    benchmark compares work, not permissions), and a kubeconfig with its token at `path`."""
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": f"bench-{namespace}-{account}"},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "cluster-admin",
        },
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
    }
    account_manifest = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": account, "namespace": namespace},
    }
    manifests = {"apiVersion": "v1", "kind": "List", "items": [account_manifest, binding]}
    cluster.kubectl("apply", "-f", "-", input=json.dumps(manifests))
    token = cluster.kubectl(
        "create", "token", account, "-n", namespace, f"--duration={TOKEN_DURATION}"
    ).stdout.strip()
    config = copy.deepcopy(yaml.safe_load(cluster.kubeconfig.read_text()))
    config["users"] = [{"name": account, "user": {"token": token}}]
    for context in config["contexts"]:
        context["context"]["user"] = account
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path
