"""Which cluster and namespace, chosen the way kubectl chooses them."""

import os
import pathlib
from dataclasses import dataclass

from berth.cli import kubeconfig
from berth.cli.errors import CliError
from berth.cli.http_rest import HttpRest
from berth.cli.rest import Rest

DEFAULT_KUBECONFIG = "~/.kube/config"


@dataclass(frozen=True)
class Target:
    rest: Rest
    namespace: str


def kubeconfig_path(flag: str | None) -> str:
    """`--kubeconfig`, else $KUBECONFIG (a list, like kubectl's), else ~/.kube/config."""
    return flag or os.environ.get("KUBECONFIG") or DEFAULT_KUBECONFIG


def in_cluster(flag: str | None) -> bool:
    configured = flag or os.environ.get("KUBECONFIG")
    home_config = pathlib.Path(DEFAULT_KUBECONFIG).expanduser().exists()
    return not configured and not home_config and "KUBERNETES_SERVICE_HOST" in os.environ


def connect(kubeconfig_flag: str | None, context: str | None, namespace: str | None) -> Target:
    """A connection and the namespace: `-n`, else the context's namespace, else `default`."""
    if in_cluster(kubeconfig_flag):
        server = kubeconfig.in_cluster(os.environ)
        rest = _http(server, "the pod's ServiceAccount")
        return Target(rest, namespace or server.namespace or "default")
    path = kubeconfig_path(kubeconfig_flag)
    existing = [p for p in path.split(os.pathsep) if p and pathlib.Path(p).expanduser().exists()]
    if not existing:
        raise CliError(f"no kubeconfig at {path}; pass --kubeconfig or set KUBECONFIG")
    try:
        server = kubeconfig.load(existing, context)
    except kubeconfig.NeedsKubernetes:
        # Exec plugins (EKS, GKE) and auth providers: the kubernetes package runs them.
        from berth.cli import kube_rest

        api, from_context = kube_rest.connect(path, context)
        return Target(kube_rest.KubeRest(api), namespace or from_context or "default")
    return Target(_http(server, f"kubeconfig {path}"), namespace or server.namespace or "default")


def _http(server: kubeconfig.Server, what: str) -> HttpRest:
    try:
        return HttpRest(server)
    except (ValueError, OSError) as error:  # a bad URL, an unreadable CA, certificate or key
        raise CliError(f"cannot use {what}: {error}") from error
