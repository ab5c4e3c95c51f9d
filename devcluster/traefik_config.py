"""Traefik's static configuration (traefik.yml) and command line, as pure functions."""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any

import yaml

from devcluster.components import LOOPBACK


@dataclasses.dataclass(frozen=True)
class TraefikConfig:
    """What the static configuration depends on."""

    endpoint: str
    """The API server, https://host:port."""
    token_file: pathlib.Path
    ca_file: pathlib.Path
    ingress_class: str
    http_port: int
    https_port: int
    ping_port: int
    access_log: pathlib.Path
    host: str = LOOPBACK


# Drop request headers whose names alias others (X_Auth_User for X-Auth-User) instead of Traefik's
# default of passing them on, which it warns about at every start.
_ALIAS_HEADERS = {"aliasHeadersStrategy": "delete"}


def static_config(config: TraefikConfig) -> dict[str, Any]:
    """Traefik's static configuration (the traefik.yml document) for `config`."""
    return {
        # Nothing leaves the machine: no release check, no usage statistics. (Traefik Pilot, the
        # third thing that used to call home, is gone from v3 along with its settings.)
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        # To stdout, which the process helpers write to <work dir>/traefik.log.
        "log": {"level": "INFO", "noColor": True},
        "accessLog": {"filePath": str(config.access_log)},
        "entryPoints": {
            "web": {
                "address": f"{config.host}:{config.http_port}",
                "asDefault": True,
                "http": {
                    "redirections": {
                        "entryPoint": {"to": "websecure", "scheme": "https", "permanent": True}
                    },
                    **_ALIAS_HEADERS,
                },
            },
            "websecure": {
                "address": f"{config.host}:{config.https_port}",
                "asDefault": True,
                # Every router here serves TLS, as Berth's Ingresses are HTTPS-only; each host gets
                # the certificate of the Ingress TLS entry naming it, others Traefik's own.
                "http": {"tls": {}, **_ALIAS_HEADERS},
            },
            # Only for /ping; declared so Traefik does not open its default :8080 on all addresses.
            "traefik": {
                "address": f"{config.host}:{config.ping_port}",
                "http": dict(_ALIAS_HEADERS),
            },
        },
        "ping": {"entryPoint": "traefik"},
        # An HTTPS container port answers with a certificate of its own making; Lightsail's load
        # balancer takes it unverified, and so does this one (docs/install.md).
        "serversTransport": {"insecureSkipVerify": True},
        "providers": {
            "kubernetesIngress": {
                "endpoint": config.endpoint,
                # A path: Traefik reads the file when its value names one.
                "token": str(config.token_file),
                "certAuthFilePath": str(config.ca_file),
                "ingressClass": config.ingress_class,
            }
        },
    }


def write_config(path: pathlib.Path, config: TraefikConfig) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(static_config(config), sort_keys=False))
    return path


def traefik_argv(bin_dir: pathlib.Path, config_file: pathlib.Path) -> list[str]:
    # Traefik would prefer KUBECONFIG, or the in-cluster account, over endpoint and token when
    # it finds their variables; `env -u` keeps whatever this process has from reaching it.
    return [
        "env",
        "-u",
        "KUBECONFIG",
        "-u",
        "KUBERNETES_SERVICE_HOST",
        "-u",
        "KUBERNETES_SERVICE_PORT",
        str(bin_dir / "traefik"),
        f"--configFile={config_file}",
    ]
