"""End to end: `berth` with the kinds of credentials kubeconfigs carry, against the real API
server. Certificates (the admin kubeconfig of the other CLI tests), a ServiceAccount token,
inline or in a file, with the CA in a file beside the kubeconfig; and an exec plugin, which
the CLI hands to the kubernetes package."""

from __future__ import annotations

import base64
import json
import os
import pathlib
import subprocess
import sys
from typing import Any

import pytest
import yaml
from tests.e2e.support import apply, service_manifest

from devcluster import KubeCluster
from devcluster.certs import write_certs

pytestmark = pytest.mark.e2e

ACCOUNT = "cli-reader"


def berth(kubeconfig: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "berth.cli.main", "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "KUBECONFIG"},
    )


@pytest.fixture
def reader_token(berth_api: KubeCluster, namespace: str) -> str:
    """A ServiceAccount that may list container services in `namespace`, and nothing else."""
    manifests: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": ACCOUNT}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": ACCOUNT},
            "rules": [
                {
                    "apiGroups": ["berth.dev"],
                    "resources": ["containerservices"],
                    "verbs": ["get", "list"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": ACCOUNT},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ACCOUNT},
            "subjects": [{"kind": "ServiceAccount", "name": ACCOUNT, "namespace": namespace}],
        },
    ]
    apply(berth_api, namespace, *manifests, service_manifest("shop", scale=1))
    made = berth_api.kubectl("create", "token", ACCOUNT, "-n", namespace, "--duration=1h")
    return made.stdout.strip()


def token_kubeconfig(
    cluster: KubeCluster, directory: pathlib.Path, namespace: str, user: dict[str, Any]
) -> pathlib.Path:
    """The cluster of the admin kubeconfig with `user`; its CA in a file named relatively."""
    admin = yaml.safe_load(cluster.kubeconfig.read_text())
    server = admin["clusters"][0]["cluster"]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ca.crt").write_bytes(base64.b64decode(server["certificate-authority-data"]))
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "c",
                "cluster": {"server": server["server"], "certificate-authority": "ca.crt"},
            }
        ],
        "users": [{"name": "u", "user": user}],
        "contexts": [
            {"name": "reader", "context": {"cluster": "c", "user": "u", "namespace": namespace}}
        ],
        "current-context": "reader",
    }
    path = directory / "config"
    path.write_text(yaml.safe_dump(config))
    return path


def listed(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [s["containerServiceName"] for s in json.loads(result.stdout)["containerServices"]]


def test_a_service_account_token_inline_or_in_a_file_lists_and_rbac_still_decides(
    cluster: KubeCluster, namespace: str, reader_token: str, tmp_path: pathlib.Path
) -> None:
    inline = token_kubeconfig(cluster, tmp_path / "inline", namespace, {"token": reader_token})
    assert listed(berth(inline, "get-container-services", "-o", "json")) == ["shop"]

    (tmp_path / "file").mkdir()
    (tmp_path / "file" / "token").write_text(reader_token + "\n")
    in_file = token_kubeconfig(cluster, tmp_path / "file", namespace, {"tokenFile": "token"})
    assert listed(berth(in_file, "get-container-services", "-o", "json")) == ["shop"]

    refused = berth(inline, "get-container-service-deployments", "--service-name", "shop")
    assert refused.returncode == 1
    assert "forbidden" in refused.stderr and ACCOUNT in refused.stderr


def test_a_wrong_ca_is_refused_before_anything_is_sent(
    cluster: KubeCluster, namespace: str, reader_token: str, tmp_path: pathlib.Path
) -> None:
    path = token_kubeconfig(cluster, tmp_path / "kube", namespace, {"token": reader_token})
    other_ca = yaml.safe_load(path.read_text())
    strange = write_certs(tmp_path / "other").ca_cert
    other_ca["clusters"][0]["cluster"]["certificate-authority"] = str(strange)
    path.write_text(yaml.safe_dump(other_ca))
    result = berth(path, "ls")
    assert result.returncode == 1
    assert "cannot reach the Kubernetes API server" in result.stderr
    assert "CERTIFICATE_VERIFY_FAILED" in result.stderr


def test_an_exec_plugin_kubeconfig_is_served_through_the_kubernetes_package(
    cluster: KubeCluster, namespace: str, reader_token: str, tmp_path: pathlib.Path
) -> None:
    credential = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {"token": reader_token},
    }
    plugin = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": sys.executable,
        "args": ["-c", f"import json; print(json.dumps({credential!r}))"],
        "interactiveMode": "Never",
    }
    path = token_kubeconfig(cluster, tmp_path, namespace, {"exec": plugin})
    assert listed(berth(path, "get-container-services", "-o", "json")) == ["shop"]
    refused = berth(path, "get-container-service-deployments", "--service-name", "shop")
    assert refused.returncode == 1 and "forbidden" in refused.stderr
