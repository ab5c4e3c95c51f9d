"""The admin kubeconfig of the embedded control plane."""

from __future__ import annotations

import base64
import pathlib

import yaml

from devcluster.certs import CertPaths

CONTEXT = "berth-devcluster"


def write_kubeconfig(path: pathlib.Path, server: str, certs: CertPaths) -> pathlib.Path:
    """Writes a self-contained kubeconfig (certificates inline) for the admin user."""

    def inline(file: pathlib.Path) -> str:
        return base64.b64encode(file.read_bytes()).decode()

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CONTEXT,
                "cluster": {
                    "server": server,
                    "certificate-authority-data": inline(certs.ca_cert),
                },
            }
        ],
        "users": [
            {
                "name": "berth-admin",
                "user": {
                    "client-certificate-data": inline(certs.admin_cert),
                    "client-key-data": inline(certs.admin_key),
                },
            }
        ],
        "contexts": [
            {
                "name": CONTEXT,
                "context": {"cluster": CONTEXT, "user": "berth-admin", "namespace": "default"},
            }
        ],
        "current-context": CONTEXT,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return path
