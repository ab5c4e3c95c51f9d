"""Which cluster and namespace, chosen the way kubectl chooses them."""

import os
import pathlib
from dataclasses import dataclass
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as k8s_config

from berth.cli.errors import CliError

DEFAULT_KUBECONFIG = "~/.kube/config"
SERVICE_ACCOUNT_NAMESPACE = pathlib.Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


@dataclass(frozen=True)
class Target:
    api: Any  # kubernetes.client.ApiClient
    namespace: str


def kubeconfig_path(flag: str | None) -> str:
    """`--kubeconfig`, else $KUBECONFIG (a list, like kubectl's), else ~/.kube/config."""
    return flag or os.environ.get("KUBECONFIG") or DEFAULT_KUBECONFIG


def _in_cluster(flag: str | None) -> bool:
    configured = flag or os.environ.get("KUBECONFIG")
    home_config = pathlib.Path(DEFAULT_KUBECONFIG).expanduser().exists()
    return not configured and not home_config and "KUBERNETES_SERVICE_HOST" in os.environ


def connect(kubeconfig: str | None, context: str | None, namespace: str | None) -> Target:
    """An API client and the namespace: `-n`, else the context's namespace, else `default`."""
    if _in_cluster(kubeconfig):
        configuration = k8s.Configuration()
        k8s_config.load_incluster_config(client_configuration=configuration)
        own = (
            SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
            if SERVICE_ACCOUNT_NAMESPACE.exists()
            else ""
        )
        return Target(k8s.ApiClient(configuration), namespace or own or "default")
    path = kubeconfig_path(kubeconfig)
    paths = [p for p in path.split(os.pathsep) if p]
    if not any(pathlib.Path(p).expanduser().exists() for p in paths):
        raise CliError(f"no kubeconfig at {path}; pass --kubeconfig or set KUBECONFIG")
    try:
        contexts, active = k8s_config.list_kube_config_contexts(config_file=path)
        chosen = active
        if context is not None:
            chosen = next((c for c in contexts if c["name"] == context), None)
            if chosen is None:
                raise CliError(f"context {context!r} not found in {path}")
        api = k8s_config.new_client_from_config(
            config_file=path, context=context, persist_config=False
        )
    except k8s_config.ConfigException as error:
        raise CliError(f"cannot use kubeconfig {path}: {error}") from error
    from_context = (chosen or {}).get("context", {}).get("namespace")
    return Target(api, namespace or from_context or "default")
