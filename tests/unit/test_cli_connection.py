"""Cluster and namespace chosen like kubectl: flags, $KUBECONFIG, the context's namespace."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from berth.cli.connection import connect
from berth.cli.errors import CliError


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
    assert target.api.configuration.host == "https://127.0.0.1:6443"


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
