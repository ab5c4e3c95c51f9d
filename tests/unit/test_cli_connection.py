"""Cluster and namespace chosen like kubectl: flags, $KUBECONFIG, the context's namespace."""

from __future__ import annotations

import pathlib
import sys

import pytest
import yaml

from berth.cli import kubeconfig as kubeconfig_module
from berth.cli.connection import connect
from berth.cli.errors import CliError
from berth.cli.http_rest import HttpRest
from devcluster.certs import write_certs


def kubeconfig(path: pathlib.Path, current: str = "dev", **namespaces: str | None) -> pathlib.Path:
    contexts = []
    for name, namespace in namespaces.items():
        context = {"cluster": "c", "user": "u"}
        if namespace:
            context["namespace"] = namespace
        contexts.append({"name": name, "context": context})
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": contexts,
        "current-context": current,
    }
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(autouse=True)
def no_ambient_config(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def test_the_current_contexts_namespace_is_used(tmp_path: pathlib.Path) -> None:
    path = kubeconfig(tmp_path / "config", dev="team-a", prod="team-b")
    target = connect(str(path), None, None)
    assert target.namespace == "team-a"
    assert isinstance(target.rest, HttpRest)
    assert target.rest.url == "https://127.0.0.1:6443"


def test_a_namespace_flag_wins_over_the_context(tmp_path: pathlib.Path) -> None:
    path = kubeconfig(tmp_path / "config", dev="team-a")
    assert connect(str(path), None, "mine").namespace == "mine"


def test_another_context_brings_its_namespace(tmp_path: pathlib.Path) -> None:
    path = kubeconfig(tmp_path / "config", dev="team-a", prod="team-b")
    assert connect(str(path), "prod", None).namespace == "team-b"


def test_a_context_without_a_namespace_means_default(tmp_path: pathlib.Path) -> None:
    path = kubeconfig(tmp_path / "config", dev=None)
    assert connect(str(path), None, None).namespace == "default"


def test_kubeconfig_comes_from_the_environment_as_a_list(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = kubeconfig(tmp_path / "config", dev="from-env")
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path}/missing:{path}")
    assert connect(None, None, None).namespace == "from-env"


def test_an_unknown_context_is_an_error(tmp_path: pathlib.Path) -> None:
    path = kubeconfig(tmp_path / "config", dev="team-a")
    with pytest.raises(CliError, match="context 'nope' not found"):
        connect(str(path), "nope", None)


def test_no_kubeconfig_anywhere_is_an_error_that_says_what_to_do() -> None:
    with pytest.raises(CliError, match="pass --kubeconfig or set KUBECONFIG"):
        connect(None, None, None)


def exec_kubeconfig(path: pathlib.Path) -> pathlib.Path:
    """A user whose token comes from a program, as EKS's and GKE's kubeconfigs do."""
    credential = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {"token": "from-exec"},
    }
    program = f"import json; print(json.dumps({credential!r}))"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "users": [
            {
                "name": "u",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1",
                        "command": sys.executable,
                        "args": ["-c", program],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
        "contexts": [{"name": "eks", "context": {"cluster": "c", "user": "u", "namespace": "x"}}],
        "current-context": "eks",
    }
    path.write_text(yaml.safe_dump(config))
    return path


def test_an_exec_plugin_user_is_handed_to_the_kubernetes_package(tmp_path: pathlib.Path) -> None:
    from berth.cli.kube_rest import KubeRest

    target = connect(str(exec_kubeconfig(tmp_path / "config")), None, None)
    assert isinstance(target.rest, KubeRest)
    assert target.namespace == "x"
    configuration = target.rest.api.configuration
    assert configuration.host == "https://127.0.0.1:6443"
    token = configuration.get_api_key_with_prefix("BearerToken", alias="authorization")
    assert token == "Bearer from-exec"


def test_a_token_user_stays_with_the_clis_own_client(tmp_path: pathlib.Path) -> None:
    target = connect(str(kubeconfig(tmp_path / "config", dev="a")), None, None)
    assert isinstance(target.rest, HttpRest)
    assert target.rest.server.token == "t"


def test_in_a_pod_without_a_kubeconfig_the_service_account_is_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "ca.crt").write_text(write_certs(tmp_path / "pki").ca_cert.read_text())
    (account / "token").write_text("sa-token\n")
    (account / "namespace").write_text("tenant")
    monkeypatch.setattr(kubeconfig_module, "IN_CLUSTER_DIR", account)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    target = connect(None, None, None)
    assert isinstance(target.rest, HttpRest)
    assert (target.rest.url, target.namespace) == ("https://10.96.0.1:443", "tenant")
    assert target.rest.server.token_file == str(account / "token")


def test_a_pod_without_its_service_account_files_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    monkeypatch.setattr(kubeconfig_module, "IN_CLUSTER_DIR", tmp_path / "none")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    with pytest.raises(CliError, match="cannot use the pod's ServiceAccount"):
        connect(None, None, None)
