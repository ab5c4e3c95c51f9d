"""The API server and credentials a kubeconfig names, read the way kubectl reads it.

This reader knows certificates, keys and tokens, inline or in files. What it does not know
(exec plugins, auth providers, proxies) it names with NeedsKubernetes, and the caller hands
the kubeconfig to the kubernetes package instead.
"""

import base64
import os
import pathlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from berth.cli.errors import CliError

IN_CLUSTER_DIR = pathlib.Path("/var/run/secrets/kubernetes.io/serviceaccount")
# Paths in a kubeconfig are relative to the file that holds them.
_PATH_KEYS = {
    "cluster": ("certificate-authority",),
    "user": ("client-certificate", "client-key", "tokenFile"),
}
# What only the kubernetes package does: run a program or a provider for a token, or proxy.
_UNSUPPORTED = {
    "user": ("exec", "auth-provider", "username", "password"),
    "cluster": ("proxy-url", "tls-server-name"),
}


class NeedsKubernetes(Exception):
    """The kubeconfig uses something only the kubernetes package can do."""


@dataclass(frozen=True)
class Server:
    """Where to send requests and how to prove who is sending them."""

    url: str
    namespace: str | None = None
    ca_file: str | None = None
    ca_pem: str | None = None
    cert_file: str | None = None
    cert_pem: str | None = None
    key_file: str | None = None
    key_pem: str | None = None
    token: str | None = None
    token_file: str | None = None
    insecure: bool = False


def load(paths: Sequence[str], context: str | None) -> Server:
    """The server of `context` (else current-context) in the merged files; CliError when the
    files do not say, NeedsKubernetes when they say something this reader cannot do."""
    where = os.pathsep.join(paths)
    merged = merge([(p, _read(p)) for p in paths])
    name = context or merged["current-context"]
    if not name:
        raise CliError(f"cannot use kubeconfig {where}: no current-context; pass --context")
    chosen = merged["contexts"].get(name)
    if chosen is None:
        raise CliError(f"context {name!r} not found in {where}")
    cluster = merged["clusters"].get(chosen.get("cluster"))
    if cluster is None:
        raise CliError(f"cannot use kubeconfig {where}: context {name!r} names no known cluster")
    user = merged["users"].get(chosen.get("user"), {}) if chosen.get("user") else {}
    return server(cluster, user, chosen.get("namespace"))


def _read(path: str) -> dict[str, Any]:
    import yaml  # here, not at the top: `berth --help` needs no kubeconfig

    try:
        text = pathlib.Path(path).expanduser().read_text()
        loaded = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as error:
        raise CliError(f"cannot use kubeconfig {path}: {error}") from error
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise CliError(f"cannot use kubeconfig {path}: not a kubeconfig")
    return loaded


def merge(files: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """kubectl's rule for a list of files: the first file to name a cluster, user or context,
    or to set current-context, wins. Relative paths are made absolute here, per file."""
    merged: dict[str, Any] = {"clusters": {}, "users": {}, "contexts": {}, "current-context": ""}
    for path, config in files:
        base = pathlib.Path(path).expanduser().parent
        merged["current-context"] = merged["current-context"] or config.get("current-context")
        for section, key in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
            for entry in config.get(section) or []:
                name = entry.get("name")
                if name is None or name in merged[section]:
                    continue
                merged[section][name] = _absolute(dict(entry.get(key) or {}), key, base)
    return merged


def _absolute(entry: dict[str, Any], kind: str, base: pathlib.Path) -> dict[str, Any]:
    for key in _PATH_KEYS.get(kind, ()):
        if entry.get(key):
            entry[key] = str(base / pathlib.Path(entry[key]).expanduser())
    return entry


def unsupported(cluster: Mapping[str, Any], user: Mapping[str, Any]) -> str | None:
    """What of this cluster and user only the kubernetes package can do, if anything."""
    for kind, entry in (("user", user), ("cluster", cluster)):
        for key in _UNSUPPORTED[kind]:
            if entry.get(key):
                return f"{kind} {key}"
    return None


def server(cluster: Mapping[str, Any], user: Mapping[str, Any], namespace: str | None) -> Server:
    reason = unsupported(cluster, user)
    if reason is not None:
        raise NeedsKubernetes(reason)
    url = str(cluster.get("server") or "")
    if not url:
        raise CliError("cannot use kubeconfig: the cluster has no server")
    return Server(
        url=url if "://" in url else f"https://{url}",
        namespace=namespace or None,
        ca_file=cluster.get("certificate-authority"),
        ca_pem=_pem(cluster.get("certificate-authority-data")),
        cert_file=user.get("client-certificate"),
        cert_pem=_pem(user.get("client-certificate-data")),
        key_file=user.get("client-key"),
        key_pem=_pem(user.get("client-key-data")),
        token=user.get("token") or None,
        token_file=user.get("tokenFile") or None,
        insecure=bool(cluster.get("insecure-skip-tls-verify")),
    )


def _pem(data: str | None) -> str | None:
    if not data:
        return None
    try:
        return base64.b64decode(data).decode()
    except ValueError as error:
        raise CliError(f"cannot use kubeconfig: a *-data field is not base64: {error}") from error


def in_cluster(environ: Mapping[str, str], secrets: pathlib.Path | None = None) -> Server:
    """The pod's own ServiceAccount: the API server's Service, its CA, its rotated token."""
    secrets = secrets or IN_CLUSTER_DIR
    host, port = environ["KUBERNETES_SERVICE_HOST"], environ.get("KUBERNETES_SERVICE_PORT", "443")
    if ":" in host:  # IPv6
        host = f"[{host}]"
    namespace_file = secrets / "namespace"
    namespace = namespace_file.read_text().strip() if namespace_file.exists() else None
    return Server(
        url=f"https://{host}:{port}",
        namespace=namespace or None,
        ca_file=str(secrets / "ca.crt"),
        token_file=str(secrets / "token"),
    )
