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
        return Target(HttpRest(server), namespace or server.namespace or "default")
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
    try:
        rest = HttpRest(server)
    except (ValueError, OSError) as error:  # a bad URL, an unreadable CA or key
        raise CliError(f"cannot use kubeconfig {path}: {error}") from error
    return Target(rest, namespace or server.namespace or "default")
